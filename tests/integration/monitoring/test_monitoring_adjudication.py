"""The committee's DLT call from the review evidence and the listings: both calls kept and shown,
the evaluation re-run after commit (the recommendation may change, and the page says so), a stale
view refused with what changed, and only the medical monitor may adjudicate.

Transactional: the escalation evaluation runs on commit, as in production (tasks in process)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.roles import Role
from core.dates import site_today
from escalation.models import Recommendation
from safety.models import AdverseEvent
from safety.services import adverse_event_update
from tests.conftest import make_user
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt
from trial.models import Study

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def grade1_dlt(coordinator_a, investigator_a, site_a, cohort1, ctcae):
    """Cohort 1's subject dosed 30 days ago; the investigator calls a grade 1 nausea a DLT, so
    the titration trigger fires on the DLT alone: 'enroll 2 more at 0.01' awaits."""
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    event = report_dlt(investigator_a, subject, term="Nausea", grade=1)
    recommendation = Recommendation.objects.get(
        track=cohort1.track, status=Recommendation.Status.PENDING
    )
    assert recommendation.action == "enroll"
    return event, recommendation


def adjudicate_url(event):
    return reverse("monitoring:adjudicate", args=[event.pk])


def review_url(recommendation):
    return reverse("monitoring:review", args=[recommendation.pk])


def test_the_review_evidence_shows_both_calls_and_the_form(client, monitor, grade1_dlt):
    event, recommendation = grade1_dlt
    client.force_login(monitor)
    html = client.get(review_url(recommendation)).content.decode()
    assert f'data-dlt-calls="{event.pk}"' in html
    assert "Investigator: <strong>DLT</strong>" in html
    assert "Committee: <strong>not adjudicated</strong>" in html
    assert f'data-adjudicate-form="{event.pk}"' in html
    assert f'action="{adjudicate_url(event)}"' in html
    assert f'name="version" value="{event.version}"' in html


def test_adjudicating_keeps_the_investigators_call_and_reruns_the_evaluation(
    client, monitor, grade1_dlt, cohort1
):
    event, recommendation = grade1_dlt
    client.force_login(monitor)
    response = client.post(
        adjudicate_url(event),
        {
            "version": event.version,
            "call": "not_dlt",
            "note": "Grade 1 nausea is not a DLT under the protocol.",
            "next": review_url(recommendation),
        },
    )
    assert response.status_code == 302 and response["Location"] == review_url(recommendation)
    event = AdverseEvent.objects.get(pk=event.pk)
    assert (event.dlt_investigator, event.dlt_adjudicated, event.is_dlt) == (True, False, False)
    assert event.dlt_adjudication_note.startswith("Grade 1 nausea")
    last = event.history.order_by("-history_id").first()
    assert last.history_user == monitor and last.history_change_reason.startswith(
        "DLT adjudicated: not a DLT."
    )
    # The evaluation re-ran after the commit: no DLT, no trigger -> escalate; the page says so.
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.SUPERSEDED
    current = Recommendation.objects.get(track=cohort1.track, status__in=Recommendation.CURRENT)
    assert current.action == "escalate"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "The committee&#x27;s DLT call is saved" in html
    assert "the recommendation on" in html and "changed: now" in html
    assert escape(current.text) in html
    assert "Committee: <strong>not a DLT</strong>" in html
    assert "Investigator: <strong>DLT</strong>" in html
    assert "Monitor Tester" in html  # who adjudicated, from the audit trail
    # The investigator's DLT now sits apart on the listings, with both calls and the note.
    listings = client.get(reverse("monitoring:listings"))
    assert listings.context["page"].dlts == []
    assert [r.event.pk for r in listings.context["page"].not_upheld] == [event.pk]
    text = listings.content.decode()
    assert "Investigator's DLT calls the committee did not uphold (1)" in text
    assert "Grade 1 nausea is not a DLT" in text
    csv = client.get(
        reverse("monitoring:listings"), {"format": "csv", "table": "dlt_not_upheld"}
    ).content.decode()
    header, row = csv.splitlines()[:2]
    assert "DLT adjudicated by" in header and "Adjudication note" in header
    assert "Monitor Tester" in row and "Grade 1 nausea is not a DLT" in row
    # The timeline lists both calls too, on the page and in its CSV.
    timeline = client.get(reverse("monitoring:timeline")).content.decode()
    assert "(DLT calls: investigator: DLT; committee: not a DLT)" in timeline
    csv = client.get(reverse("monitoring:timeline"), {"format": "csv", "table": "windows"})
    assert "Nausea G1: investigator: DLT; committee: not a DLT" in csv.content.decode()


def test_the_committee_can_make_a_dlt_the_investigator_did_not_call(
    client, monitor, coordinator_a, site_a, cohort1, ctcae
):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    event = report_dlt(coordinator_a, subject, term="Nausea", grade=1, dlt_investigator=False)
    before = Recommendation.objects.get(track=cohort1.track, status__in=Recommendation.CURRENT)
    assert before.action == "escalate"
    client.force_login(monitor)
    response = client.post(
        adjudicate_url(event),
        {"version": event.version, "call": "dlt", "note": "Protocol DLT: dose delayed > 7 days"},
        follow=True,
    )
    assert response.status_code == 200
    event.refresh_from_db()
    assert (event.dlt_investigator, event.dlt_adjudicated) == (False, True)
    # Without `next`, back to the listings, where the event is a DLT with both calls shown.
    assert response.redirect_chain[-1][0].startswith(reverse("monitoring:listings"))
    assert [r.event.pk for r in response.context["page"].dlts] == [event.pk]
    html = response.content.decode()
    assert "changed: now" in html and "enroll 2 more" in html


def test_a_stale_view_is_refused_with_what_changed(client, monitor, coordinator_a, grade1_dlt):
    event, recommendation = grade1_dlt
    seen = event.version
    adverse_event_update(  # the site corrects the grade meanwhile
        by=coordinator_a,
        adverse_event=event,
        changes={"grade": 2},
        reason="per source document",
        expected_version=seen,
    )
    client.force_login(monitor)
    data = {"version": seen, "call": "not_dlt", "note": "Transient, resolved"}
    response = client.post(adjudicate_url(event), data)
    assert response.status_code == 409
    event.refresh_from_db()
    assert event.dlt_adjudicated is None and event.version == seen + 1  # nothing saved
    html = response.content.decode()
    assert "data-stale" in html and "Nothing was saved" in html
    stale = response.context["stale"]
    assert {"field": "Grade", "old": "Grade 1", "new": "Grade 2"} in stale["changes"]
    assert stale["reason"] == "per source document" and stale["user"] == coordinator_a
    form = response.context["form"]
    assert form["version"].value() == str(seen + 1)  # saving again is a deliberate act
    assert "Transient, resolved" in html  # the monitor's note is kept
    data["version"] = seen + 1
    response = client.post(adjudicate_url(event), data)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.dlt_adjudicated is False and event.grade == 2


def test_refusals_name_their_field_and_save_nothing(client, monitor, coordinator_a, grade1_dlt):
    event, _ = grade1_dlt
    client.force_login(monitor)
    response = client.post(adjudicate_url(event), {"version": event.version, "call": "dlt"})
    assert response.status_code == 400 and "note" in response.context["form"].errors
    response = client.post(adjudicate_url(event), {"version": event.version, "note": "x"})
    assert response.status_code == 400 and "call" in response.context["form"].errors
    # A DLT must be at least possibly related: the service's refusal lands on the call.
    adverse_event_update(
        by=coordinator_a,
        adverse_event=event,
        changes={"relationship": "unlikely", "dlt_investigator": False},
        reason="reassessed",
        expected_version=event.version,
    )
    event.refresh_from_db()
    response = client.post(
        adjudicate_url(event), {"version": event.version, "call": "dlt", "note": "x"}
    )
    assert response.status_code == 400
    assert "possibly related" in " ".join(response.context["form"].errors["call"])
    event.refresh_from_db()
    assert event.dlt_adjudicated is None


def test_the_return_address_stays_on_this_site(client, monitor, grade1_dlt):
    event, _ = grade1_dlt
    client.force_login(monitor)
    response = client.post(
        adjudicate_url(event),
        {
            "version": event.version,
            "call": "not_dlt",
            "note": "x",
            "next": "https://elsewhere.example/phish",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("monitoring:listings"))


@pytest.mark.parametrize("persona", ["sponsor", "data_manager"])
def test_read_only_study_roles_see_both_calls_but_cannot_adjudicate(
    client, persona, request, grade1_dlt
):
    event, recommendation = grade1_dlt
    client.force_login(request.getfixturevalue(persona))
    html = client.get(review_url(recommendation)).content.decode()
    assert f'data-dlt-calls="{event.pk}"' in html and "data-adjudicate-form" not in html
    listing = client.get(reverse("monitoring:listings")).content.decode()
    assert "Not adjudicated" in listing and "data-adjudicate-form" not in listing
    page = client.get(adjudicate_url(event))
    assert page.status_code == 200 and "data-adjudicate-form" not in page.content.decode()
    response = client.post(
        adjudicate_url(event), {"version": event.version, "call": "not_dlt", "note": "x"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.dlt_adjudicated is None


def test_site_roles_and_other_studies_cannot_adjudicate(
    client, coordinator_a, investigator_a, grade1_dlt, study
):
    event, _ = grade1_dlt
    data = {"version": event.version, "call": "not_dlt", "note": "x"}
    for user in (coordinator_a, investigator_a):
        client.force_login(user)
        assert client.post(adjudicate_url(event), data).status_code == 403
    other = Study.objects.create(
        protocol_number="OTHER-1", title="Other", sponsor="X", investigational_product="Y"
    )
    client.force_login(make_user("other_monitor", other, Role.MEDICAL_MONITOR))
    assert client.post(adjudicate_url(event), data).status_code == 404
    assert client.get(adjudicate_url(event)).status_code == 404
    event.refresh_from_db()
    assert event.dlt_adjudicated is None
