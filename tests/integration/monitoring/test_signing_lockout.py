"""21 CFR 11.300(d): a wrong password at the signing prompt counts as a failed sign-in. After
LOGIN_FAILURE_LIMIT of them the account is locked: nothing is signed, signing is refused on the
field, and signing in is refused too. The refused passwords are never stored.

Transactional: the recommendation comes from the evaluation that runs on commit."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from core.dates import site_today
from core.models import Signature
from core.records import sign_record
from escalation.models import CommitteeDecision, Recommendation
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt
from trial.models import Cohort

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pending(coordinator_a, investigator_a, site_a, cohort1, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    report_dlt(investigator_a, subject)  # the investigator's own call: attested
    return Recommendation.objects.get(track=cohort1.track, status=Recommendation.Status.PENDING)


def nothing_signed(recommendation, study) -> bool:
    recommendation.refresh_from_db()
    return (
        recommendation.status == Recommendation.Status.PENDING
        and not CommitteeDecision.objects.exists()
        and not Signature.objects.exists()
        and Cohort.objects.filter(study=study).count() == 1
    )


def test_wrong_signing_passwords_lock_the_account(client, monitor, pending, study, settings):
    limit = settings.AXES_FAILURE_LIMIT
    url = reverse("monitoring:review", args=[pending.pk])
    client.force_login(monitor)
    for attempt in range(1, limit + 1):
        if attempt % 2:
            data = {"decision": "confirm", "confirm-password": f"guess-{attempt}"}
            form_name = "confirm_form"
        else:
            data = {
                "decision": "override",
                "override-step": "open_cohort",
                "override-dose_level": "",
                "override-new_dose_amount": "0.02",
                "override-n_subjects": "3",
                "override-rationale": "smaller step",
                "override-password": f"guess-{attempt}",
            }
            form_name = "override_form"
        response = client.post(url, data)
        assert response.status_code == 400, attempt
        errors = " ".join(response.context[form_name].errors["password"])
        assert "The password is not correct; nothing was signed." in errors
        assert ("now locked" in errors) == (attempt == limit), (attempt, errors)
        assert sum(a.failures_since_start for a in AccessAttempt.objects.all()) == attempt
    assert nothing_signed(pending, study)

    # Locked: the session ended with the lockout (accounts/access.py), so even the right
    # password signs nothing: the page asks to sign in again.
    response = client.post(url, {"decision": "confirm", "confirm-password": PASSWORD})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert nothing_signed(pending, study)

    # Reported as failed sign-ins of this account, on the signing page, without the passwords.
    attempt = AccessAttempt.objects.get()
    assert attempt.username == monitor.username
    assert attempt.path_info == url
    assert "guess-" not in attempt.post_data and "guess-" not in attempt.get_data

    # Signing in is refused too.
    client.logout()
    response = client.post(reverse("login"), {"username": monitor.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_right_password_below_the_limit_still_signs(client, monitor, pending, settings):
    url = reverse("monitoring:review", args=[pending.pk])
    client.force_login(monitor)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(url, {"decision": "confirm", "confirm-password": "wrong"})
    response = client.post(url, {"decision": "confirm", "confirm-password": PASSWORD})
    assert response.status_code == 302
    assert CommitteeDecision.objects.get().signature.printed_name == "Monitor Tester"


def test_the_committees_own_decision_counts_too(client, monitor, pending, study, settings):
    url = reverse("monitoring:track_decision", args=[pending.track_id])
    client.force_login(monitor)
    data = {
        "override-step": "pause_track",
        "override-rationale": "A pause to review the PK data.",
        "override-password": "wrong",
    }
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(url, data)
        assert response.status_code == 400
        errors = " ".join(response.context["form"].errors["password"])
        assert ("now locked" in errors) == (attempt == settings.AXES_FAILURE_LIMIT)
    data["override-password"] = PASSWORD
    response = client.post(url, data)  # the session ended with the lockout
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not CommitteeDecision.objects.exists() and not Signature.objects.exists()


def test_signing_without_a_request_checks_the_password_only(monitor, pending, settings):
    """Tasks and tests sign without a request: no lockout bookkeeping (there is no client)."""
    from core.errors import ValidationError

    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        with pytest.raises(ValidationError):
            sign_record(pending, by=monitor, password="wrong", meaning="approved")
    assert not AccessAttempt.objects.exists()
    assert sign_record(pending, by=monitor, password=PASSWORD, meaning="approved").pk
