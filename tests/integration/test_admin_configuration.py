"""The Django admin cannot change the escalation of a study under way (dose levels, regimens,
tracks, cohorts, design settings: those go through the protocol file or a signed committee
decision), never edits a track's status, and keeps a reason for every change it may still make."""

import pytest
from django.urls import reverse

from accounts.models import Membership, User
from accounts.roles import Role
from tests.conftest import PASSWORD
from tests.factories import screened_subject
from trial.models import Cohort, DoseLevel, EscalationTrack, Regimen

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, study, site_a):
    admin = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(admin)
    return client


@pytest.fixture
def under_way(study, site_a, coordinator_a):
    return screened_subject(coordinator_a, site_a, "S-1")


def form_data(client, url) -> dict:
    form = client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list) else value
    return data


def test_a_track_status_is_never_edited_in_the_admin(admin_client, study):
    track = EscalationTrack.objects.get(study=study, code="Q3W-ESC")
    url = reverse("admin:trial_escalationtrack_change", args=[track.pk])
    data = form_data(admin_client, url)
    assert "status" not in data  # read-only on the page
    data.update(status="stopped", change_reason="trying to stop the track")
    admin_client.post(url, data)
    track.refresh_from_db()
    assert track.status == EscalationTrack.Status.ACTIVE


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (DoseLevel, "amount", "0.0350"),
        (EscalationTrack, "name", "Renamed track"),
        (Cohort, "planned_size", "6"),
        (Regimen, "dlt_window_days", "28"),
    ],
)
def test_the_escalation_of_a_study_under_way_is_read_only(
    admin_client, study, under_way, model, field, value
):
    instance = model.objects.filter(study=study).first()
    meta = model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[instance.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert field not in page.context["adminform"].form.fields  # shown, not editable
    before = getattr(model.objects.get(pk=instance.pk), field)
    response = admin_client.post(url, {field: value, "change_reason": "amendment"})
    assert response.status_code == 403
    assert getattr(model.objects.get(pk=instance.pk), field) == before
    add = admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    assert add.status_code == 403


def test_a_dose_level_saved_after_the_study_started_is_refused(
    admin_client, study, coordinator_a, site_a
):
    level = DoseLevel.objects.filter(study=study).first()
    url = reverse("admin:trial_doselevel_change", args=[level.pk])
    data = form_data(admin_client, url)  # opened before the first subject
    screened_subject(coordinator_a, site_a, "S-1")
    data.update(amount="0.0350", change_reason="typo")
    assert admin_client.post(url, data).status_code == 403
    level.refresh_from_db()
    assert str(level.amount) != "0.0350"


def test_design_settings_are_read_only_once_under_way(admin_client, study, under_way):
    url = reverse("admin:trial_study_change", args=[study.pk])
    form = admin_client.get(url).context["adminform"].form
    for field in ("titration_trigger", "exceeded_variant", "cohort_size", "eligibility_criteria"):
        assert field not in form.fields
    assert "title" in form.fields and "change_reason" in form.fields


def test_before_the_first_subject_a_dose_level_is_corrected_with_its_reason(admin_client, study):
    level = DoseLevel.objects.filter(study=study).order_by("number").first()
    url = reverse("admin:trial_doselevel_change", args=[level.pk])
    data = form_data(admin_client, url)
    data.update(amount="0.0150")
    assert admin_client.post(url, data).status_code == 200  # no reason: refused on the form
    data["change_reason"] = "Protocol v1.1 starting dose"
    assert admin_client.post(url, data).status_code == 302
    last = level.history.order_by("-history_id").first()
    assert str(last.amount) == "0.0150"
    assert last.history_change_reason == "Protocol v1.1 starting dose"


def test_a_membership_change_keeps_its_reason(admin_client, study, coordinator_a, site_b):
    membership = Membership.objects.get(user=coordinator_a)
    url = reverse("admin:accounts_membership_change", args=[membership.pk])
    data = form_data(admin_client, url)
    data.update(role=Role.INVESTIGATOR.value, change_reason="Now the sub-investigator")
    assert admin_client.post(url, data).status_code == 302
    last = membership.history.order_by("-history_id").first()
    assert last.role == Role.INVESTIGATOR and last.history_change_reason == (
        "Now the sub-investigator"
    )
