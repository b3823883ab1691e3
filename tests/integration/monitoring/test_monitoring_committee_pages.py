"""The committee review page: the evidence, confirming or overriding with the password, and
nothing changing when the password is wrong or the recommendation has moved on.

Transactional: the escalation evaluation runs on commit, as in production (tasks in process)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.html import escape

from core.dates import site_today
from core.models import Signature
from escalation.models import CommitteeDecision, Recommendation
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt
from trial.models import Cohort, DoseLevel, EscalationTrack

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pending(coordinator_a, investigator_a, site_a, cohort1, ctcae):
    """Cohort 1's subject dosed 30 days ago with a DLT: 'enroll 2 more at 0.01' awaits."""
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    report_dlt(investigator_a, subject)  # the investigator's own call: attested
    recommendation = Recommendation.objects.get(
        track=cohort1.track, status=Recommendation.Status.PENDING
    )
    return recommendation, subject


def review_url(recommendation):
    return reverse("monitoring:review", args=[recommendation.pk])


def nothing_changed(recommendation, study):
    recommendation.refresh_from_db()
    return (
        recommendation.status == Recommendation.Status.PENDING
        and not CommitteeDecision.objects.exists()
        and not Signature.objects.exists()
        and Cohort.objects.filter(study=study).count() == 1
    )


def test_the_review_page_shows_the_evidence(client, monitor, pending):
    recommendation, subject = pending
    client.force_login(monitor)
    response = client.get(review_url(recommendation))
    assert response.status_code == 200
    review = response.context["review"]
    (row,) = review.subjects
    assert row.number == subject.subject_number and row.status == "dlt"
    assert row.window_start and row.window_end
    assert [e.ctcae_term.term for e in row.events_in_window] == ["Neutrophil count decreased"]
    assert [float(d.fraction_of_planned) for d in row.doses] == [1.0]
    assert review.trigger is not None and review.confirm_step == "open_cohort"
    html = response.content.decode()
    assert escape(recommendation.text) in html and escape(recommendation.rule) in html
    assert "data-confirm-form" in html and "data-override-form" in html
    assert reverse("subject_detail", args=[subject.pk]) in html
    assert "Meaning of the signature: <strong>Approved</strong>" in html


def test_a_wrong_password_is_refused_and_nothing_changes(client, monitor, pending, study):
    recommendation, _ = pending
    client.force_login(monitor)
    response = client.post(
        review_url(recommendation), {"decision": "confirm", "confirm-password": "wrong"}
    )
    assert response.status_code == 400
    form = response.context["confirm_form"]
    assert "The password is not correct" in " ".join(form.errors["password"])
    assert 'value="wrong"' not in response.content.decode()
    assert nothing_changed(recommendation, study)
    response = client.post(
        review_url(recommendation),
        {
            "decision": "override",
            "override-step": "open_cohort",
            "override-new_dose_amount": "0.02",
            "override-n_subjects": "3",
            "override-rationale": "smaller step",
            "override-password": "wrong",
        },
    )
    assert response.status_code == 400
    assert "password" in response.context["override_form"].errors
    assert not DoseLevel.objects.filter(study=study, number__isnull=True).exists()
    assert nothing_changed(recommendation, study)
    # What the monitor typed is kept, except the password.
    assert 'value="0.02"' in response.content.decode()


def test_confirming_signs_and_opens_the_next_cohort(client, monitor, pending, study):
    recommendation, _ = pending
    client.force_login(monitor)
    response = client.post(
        review_url(recommendation), {"decision": "confirm", "confirm-password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == review_url(recommendation)
    decision = CommitteeDecision.objects.get()
    assert decision.recommendation == recommendation and decision.outcome == "confirmed"
    assert decision.signature.printed_name == "Monitor Tester"
    assert decision.signature.meaning == Signature.Meaning.APPROVED
    cohort = decision.opened_cohort
    assert (cohort.status, cohort.planned_size, cohort.dose_level.number) == ("open", 2, 1)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Decision signed" in html and "data-decided" in html
    assert "data-confirm-form" not in html  # decided: no form any more
    overview = client.get(reverse("monitoring:overview")).content.decode()
    assert f'data-open-cohort="{cohort.number}"' in overview
    history = client.get(reverse("monitoring:committee"))
    assert list(history.context["decisions"]) == [decision]
    csv = client.get(reverse("monitoring:committee"), {"format": "csv", "table": "decisions"})
    assert "Monitor Tester" in csv.content.decode() and "Approved" in csv.content.decode()
    # Deciding again is refused (the recommendation is no longer pending).
    again = client.post(
        review_url(recommendation), {"decision": "confirm", "confirm-password": PASSWORD}
    )
    assert again.status_code == 400 and CommitteeDecision.objects.count() == 1


def test_overriding_with_an_intermediate_dose_needs_a_rationale(client, monitor, pending, study):
    recommendation, _ = pending
    client.force_login(monitor)
    data = {
        "decision": "override",
        "override-step": "open_cohort",
        "override-new_dose_amount": "0.02",
        "override-n_subjects": "3",
        "override-rationale": "",
        "override-password": PASSWORD,
    }
    response = client.post(review_url(recommendation), data)
    assert response.status_code == 400
    assert "rationale" in response.context["override_form"].errors
    assert nothing_changed(recommendation, study)
    data["override-rationale"] = "Exposure above prediction: a smaller step."
    response = client.post(review_url(recommendation), data)
    assert response.status_code == 302
    decision = CommitteeDecision.objects.get()
    assert decision.outcome == "overridden" and decision.rationale.startswith("Exposure")
    assert decision.dose_level.number is None and decision.opened_cohort.planned_size == 3


def test_service_errors_land_on_their_fields(client, monitor, pending, study):
    recommendation, _ = pending
    client.force_login(monitor)
    response = client.post(
        review_url(recommendation),
        {
            "decision": "override",
            "override-step": "open_cohort",
            "override-rationale": "no size given",
            "override-password": PASSWORD,
        },
    )
    assert response.status_code == 400
    errors = response.context["override_form"].errors
    assert "dose_level" in errors and "n_subjects" in errors
    assert nothing_changed(recommendation, study)


@pytest.mark.parametrize("persona", ["sponsor", "data_manager"])
def test_read_only_roles_see_the_evidence_but_cannot_sign(client, persona, request, pending, study):
    recommendation, _ = pending
    user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.get(review_url(recommendation))
    assert response.status_code == 200
    assert "data-confirm-form" not in response.content.decode()
    response = client.post(
        review_url(recommendation), {"decision": "confirm", "confirm-password": PASSWORD}
    )
    assert response.status_code == 403
    assert nothing_changed(recommendation, study)


def test_a_superseded_recommendation_cannot_be_confirmed(
    client, monitor, coordinator_a, site_a, cohort1, ctcae, study
):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    escalate = Recommendation.objects.get(track=cohort1.track, status="pending")
    assert escalate.action == "escalate"
    client.force_login(monitor)
    page = client.get(review_url(escalate))  # the monitor opens the page...
    assert page.status_code == 200
    report_dlt(coordinator_a, subject)  # ...and a DLT arrives meanwhile
    response = client.post(
        review_url(escalate), {"decision": "confirm", "confirm-password": PASSWORD}
    )
    assert response.status_code == 400
    assert "superseded" in " ".join(response.context["confirm_form"].non_field_errors())
    assert not CommitteeDecision.objects.exists()
    assert Cohort.objects.filter(study=study).count() == 1
    current = response.context["review"].current
    assert current is not None and current.action == "enroll"
    assert review_url(current) in response.content.decode()


def test_opening_the_q2w_track_on_the_committees_initiative(
    client, monitor, coordinator_a, site_a, cohort1, ctcae, study
):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    q3w = cohort1.track
    q2w = EscalationTrack.objects.get(study=study, code="Q2W-ESC")
    level1, level2 = (DoseLevel.objects.get(study=study, number=n) for n in (1, 2))
    client.force_login(monitor)
    url = reverse("monitoring:track_decision", args=[q3w.pk])
    assert client.get(url).status_code == 200
    data = {
        "override-step": "open_track",
        "override-target_track": q2w.pk,
        "override-dose_level": level2.pk,
        "override-n_subjects": "3",
        "override-rationale": "Explore Q2W",
        "override-password": PASSWORD,
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "has not been cleared" in " ".join(response.context["form"].errors["dose_level"])
    assert not CommitteeDecision.objects.exists()
    data["override-dose_level"] = level1.pk
    response = client.post(url, data)
    assert response.status_code == 302
    decision = CommitteeDecision.objects.get()
    assert decision.recommendation is None and decision.target_track == q2w
    q2w.refresh_from_db()
    assert q2w.status == "active" and decision.opened_cohort.track == q2w
    # The sponsor may not reach the page at all.
    from accounts.roles import Role
    from tests.conftest import make_user

    client.force_login(make_user("sponsor2", study, Role.SPONSOR))
    assert client.get(url).status_code == 403
