"""Two-factor sign-in for the roles the study names (docs/quality.md §7): TOTP set up at the
first sign-in, its code at later ones, single-use recovery codes; other roles are not asked."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from quality.models import QualitySettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_factor_for_investigators(study):
    settings = QualitySettings.objects.get(study=study)
    settings.two_factor_roles = ["investigator", "medical_monitor", "data_manager"]
    settings._change_reason = "Test: two-factor sign-in for the roles that sign"
    settings.save()


def _code(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_setup_then_code_then_recovery_code(client, investigator_a, two_factor_for_investigators):
    client.force_login(investigator_a)
    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith("/quality/two-factor/?next=")
    setup = client.get(home["Location"])
    assert "Set up two-factor sign-in" in setup.content.decode()
    wrong = client.post(reverse("quality:two_factor"), {"code": "000000", "next": "/"})
    assert wrong.status_code == 400
    # django-otp slows down guessing: a failure holds the next try back for a second.
    TOTPDevice.objects.get(user=investigator_a).throttle_reset()
    done = client.post(reverse("quality:two_factor"), {"code": _code(investigator_a), "next": "/"})
    html = done.content.decode()
    codes = re.findall(r"<li><code>([0-9a-f]{10})</code></li>", html)
    assert len(codes) == 10, (done.status_code, html[-3000:])
    assert client.get("/").status_code == 200

    # A new session: the code again (now a recovery code), once only.
    client.logout()
    client.force_login(investigator_a)
    assert client.get("/").status_code == 302
    page = client.get(reverse("quality:two_factor")).content.decode()
    assert "Enter the code your authenticator app shows" in page
    assert client.post(reverse("quality:two_factor"), {"code": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    client.logout()
    client.force_login(investigator_a)
    assert client.post(reverse("quality:two_factor"), {"code": codes[0]}).status_code == 400


def test_roles_not_named_are_not_asked(client, coordinator_a, two_factor_for_investigators):
    client.force_login(coordinator_a)
    assert client.get("/").status_code == 200


def test_off_by_default(client, investigator_a, study):
    assert QualitySettings.objects.get(study=study).two_factor_roles == []
    client.force_login(investigator_a)
    assert client.get("/").status_code == 200
