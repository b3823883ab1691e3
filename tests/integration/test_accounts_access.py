"""Access comes from study roles only (a superuser has no clinical powers); a locked-out or
deactivated account loses its sessions and API tokens at once; signing in writes no audit-history
row."""

from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Membership, User
from accounts.roles import Capability, Role
from accounts.scoping import can, has_study_role, monitoring_studies, restrict
from api.models import ApiToken
from api.tokens import token_create
from subjects.models import Subject
from tests.conftest import PASSWORD
from tests.factories import screened_subject

pytestmark = pytest.mark.django_db


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(by=user, name='t').secret}")
    return client


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.org", PASSWORD)


# --- A superuser is no clinical user ---


def test_a_superuser_without_a_role_sees_and_does_nothing_clinical(
    root, study, site_a, coordinator_a
):
    subject = screened_subject(coordinator_a, site_a, "S-1")
    assert not restrict(Subject.objects.all(), root).exists()
    for capability in Capability:
        assert not can(root, capability, study_id=study.pk, site_id=site_a.pk)
        assert not can(root, capability, study_id=study.pk)
    assert not has_study_role(root) and monitoring_studies(root) == []
    client = bearer(root)
    assert client.get("/api/v1/subjects/").json()["results"] == []
    assert client.get(f"/api/v1/subjects/{subject.pk}/").status_code == 404
    created = client.post(
        "/api/v1/subjects/",
        {
            "site": site_a.pk,
            "screening_number": "X-root",
            "sex": "F",
            "year_of_birth": 1960,
            "screening_date": subject.screening_date.isoformat(),
        },
        format="json",
    )
    assert created.status_code == 403
    assert Subject.all_objects.count() == 1


def test_a_superuser_with_a_read_only_role_only_reads(root, study, site_a, coordinator_a):
    Membership.objects.create(user=root, study=study, role=Role.SPONSOR)
    subject = screened_subject(coordinator_a, site_a, "S-1")
    client = bearer(root)
    assert [s["id"] for s in client.get("/api/v1/subjects/").json()["results"]] == [subject.pk]
    response = client.patch(
        f"/api/v1/subjects/{subject.pk}/",
        {"year_of_birth": 1961, "reason": "x"},
        format="json",
        HTTP_IF_MATCH=f'"{subject.pk}.{subject.version}"',
    )
    assert response.status_code == 403
    assert not can(root, Capability.SIGN_COMMITTEE_DECISION, study_id=study.pk)
    assert not can(root, Capability.ADJUDICATE_DLT, study_id=study.pk)


def test_the_demo_administrator_configures_but_is_no_superuser(study, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", stdout=StringIO())
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser
    assert admin.has_perm("trial.change_site") and admin.has_perm("accounts.change_membership")
    assert not admin.has_perm("subjects.add_subject")
    assert not admin.has_perm("trial.delete_site")
    site = study.sites.first()
    for capability in (Capability.ENTER_DATA, Capability.EDIT_DATA):
        assert not can(admin, capability, study_id=study.pk, site_id=site.pk)
    response = bearer(admin).post(
        "/api/v1/subjects/",
        {
            "site": site.pk,
            "screening_number": "X-admin",
            "sex": "F",
            "year_of_birth": 1960,
            "screening_date": "2026-01-01",
        },
        format="json",
    )
    assert response.status_code == 403


def test_a_staff_administrator_cannot_make_anyone_superuser(client, study, coordinator_a):
    from accounts.admin_rights import configuration_group

    staff = User.objects.create_user("cfg", password=PASSWORD, is_staff=True)
    staff.groups.add(configuration_group())
    client.force_login(staff)
    url = reverse("admin:accounts_user_change", args=[staff.pk])
    form = client.get(url).context["adminform"].form
    assert "is_superuser" not in form.fields and "user_permissions" not in form.fields
    assert "groups" not in form.fields


# --- A locked-out or deactivated account loses sessions and tokens at once ---


def signed_in_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    assert client.get(reverse("home")).status_code == 200
    return client


def test_a_locked_out_account_loses_its_sessions_and_tokens(
    client, settings, coordinator_a, coordinator_b
):
    browser = signed_in_client(coordinator_a)
    other = signed_in_client(coordinator_b)
    secret = token_create(by=coordinator_a, name="lab feed").secret
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/sites/").status_code == 200

    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": coordinator_a.username, "password": "wrong"})

    response = browser.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert api.get("/api/v1/sites/").status_code == 401
    token = ApiToken.objects.get(user=coordinator_a)
    assert token.revoked_at is not None
    assert "locked" in token.history.order_by("-history_id").first().history_change_reason
    # Someone else's session is untouched.
    assert other.get(reverse("home")).status_code == 200


def test_a_deactivated_account_loses_its_sessions_and_tokens(coordinator_a, coordinator_b):
    browser = signed_in_client(coordinator_a)
    other = signed_in_client(coordinator_b)
    token_create(by=coordinator_a, name="lab feed")
    coordinator_a.is_active = False
    coordinator_a._change_reason = "Left the site"
    coordinator_a.save()
    assert not any(
        s.get_decoded().get("_auth_user_id") == str(coordinator_a.pk) for s in Session.objects.all()
    )
    assert browser.get(reverse("home")).status_code == 302
    assert ApiToken.objects.get(user=coordinator_a).revoked_at is not None
    assert other.get(reverse("home")).status_code == 200


# --- Signing in is not an audited change ---


def test_signing_in_writes_no_history_row(client, coordinator_a):
    rows = coordinator_a.history.count()
    response = client.post(
        reverse("login"), {"username": coordinator_a.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    coordinator_a.refresh_from_db()
    assert coordinator_a.last_login is not None
    assert coordinator_a.history.count() == rows
