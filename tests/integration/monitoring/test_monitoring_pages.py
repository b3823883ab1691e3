"""Who sees the dashboards, what the overview and the timeline show, filters and CSV downloads."""

from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import Membership
from accounts.roles import Role
from core.dates import site_today
from tests.conftest import make_user
from tests.factories import dosed, enrolled_subject, reported_ae
from trial.models import Study

pytestmark = pytest.mark.django_db

PAGES = ["overview", "timeline", "adverse_events", "listings", "committee"]


@pytest.fixture
def dosed_subject(coordinator_a, site_a, cohort1, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    return subject


def report(by, subject, term="Nausea", grade=2, day=2, **extra):
    return reported_ae(by, subject, term, grade=grade, days_after_first_dose=day, **extra)


@pytest.mark.parametrize("page", PAGES)
def test_study_wide_roles_see_the_dashboards(client, page, monitor, data_manager, sponsor):
    for user in (monitor, data_manager, sponsor):
        client.force_login(user)
        response = client.get(reverse(f"monitoring:{page}"))
        assert response.status_code == 200, (user, page)


@pytest.mark.parametrize("page", PAGES)
def test_site_roles_and_strangers_do_not(client, page, coordinator_a, investigator_a):
    url = reverse(f"monitoring:{page}")
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user in (coordinator_a, investigator_a):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_another_studys_dashboard_is_refused_not_shown(client, monitor, study):
    other = Study.objects.create(
        protocol_number="OTHER-1", title="Other", sponsor="X", investigational_product="Y"
    )
    client.force_login(monitor)
    response = client.get(reverse("monitoring:overview"), {"study": other.pk})
    assert response.status_code == 400
    assert response.context["page"] is None
    assert "Select a valid choice" in response.content.decode()
    # A monitor of both studies may switch.
    Membership.objects.create(user=monitor, study=other, role=Role.MEDICAL_MONITOR)
    monitor.__dict__.pop("_memberships", None)
    response = client.get(reverse("monitoring:overview"), {"study": other.pk})
    assert response.status_code == 200 and response.context["scope"].study == other


def test_invalid_filters_show_errors_and_no_figures(client, monitor, study):
    client.force_login(monitor)
    response = client.get(
        reverse("monitoring:adverse_events"), {"date_from": "2026-02-10", "date_to": "2026-01-01"}
    )
    assert response.status_code == 400 and response.context["page"] is None
    assert "before its start" in response.content.decode()
    response = client.get(reverse("monitoring:timeline"), {"site": "999999"})
    assert response.status_code == 400


def test_the_overview_counts_subjects_by_dlt_status(
    client, monitor, coordinator_a, dosed_subject, cohort1
):
    # Evaluations run on commit, which this (non-transactional) test never reaches: the page
    # says "not evaluated yet" rather than guessing.
    client.force_login(monitor)
    response = client.get(reverse("monitoring:overview"))
    assert "data-evaluation-owed" in response.content.decode()  # the figures may lag: said
    page = response.context["page"]
    q3w = next(t for t in page.tracks if t.track.code == "Q3W-ESC")
    level = next(line for line in q3w.levels if line.level.pk == cohort1.dose_level_id)
    assert (level.enrolled, level.evaluable, level.dlts, level.not_dosed) == (1, 0, 0, 1)
    from escalation.services import evaluate_track

    evaluate_track(cohort1.track_id)
    response = client.get(reverse("monitoring:overview"))
    q3w = next(t for t in response.context["page"].tracks if t.track.code == "Q3W-ESC")
    level = next(line for line in q3w.levels if line.level.pk == cohort1.dose_level_id)
    assert (level.enrolled, level.evaluable, len(level.pending)) == (1, 0, 1)
    window_end = dosed_subject.dlt_status.window_end
    assert level.pending_until == f"{dosed_subject.subject_number} until {window_end:%Y-%m-%d}"
    html = response.content.decode()
    assert "data-evaluation-owed" not in html and "DLT statuses as of the evaluation" in html
    assert f"until {window_end:%Y-%m-%d}" in html
    assert reverse("subject_detail", args=[dosed_subject.pk]) in html
    assert 'data-status="pending"' in html  # the ladder's marker
    # The Q2W track is planned: said so, no empty ladder.
    q2w = next(t for t in response.context["page"].tracks if t.track.code == "Q2W-ESC")
    assert q2w.ladder is None and "Not opened yet" in html


def test_the_timeline_shows_windows_doses_and_graded_events(
    client, monitor, coordinator_a, dosed_subject, cohort1
):
    from escalation.services import evaluate_track

    report(coordinator_a, dosed_subject, "Nausea", 2, 1)
    report(
        coordinator_a,
        dosed_subject,
        "Neutrophil count decreased",
        3,
        4,
        relationship="probable",
        dlt_investigator=True,
    )
    evaluate_track(cohort1.track_id)
    client.force_login(monitor)
    response = client.get(reverse("monitoring:timeline"))
    page = response.context["page"]
    (group,) = page.groups
    (row,) = group.subjects
    assert row.status == "dlt" and [e.grade for e in row.events] == [2, 3]
    assert [e.is_dlt for e in row.events] == [False, True]
    line = next(x for x in page.chart.lines if x["kind"] == "subject")
    assert line["band"] is not None and len(line["doses"]) == 1
    assert [e["grade"] for e in line["events"]] == [2, 3]
    assert "Grade 3 (severe)" in line["events"][1]["title"]
    html = response.content.decode()
    assert "<title" in html and 'role="img"' in html and "data-dlt" in html
    # Dates outside the range leave the subject out; CSV has a row per subject.
    far = site_today("UTC") + timedelta(days=200)
    response = client.get(
        reverse("monitoring:timeline"), {"date_from": far.isoformat(), "date_to": far.isoformat()}
    )
    assert response.context["page"].groups == []
    csv = client.get(reverse("monitoring:timeline"), {"format": "csv", "table": "windows"})
    text = csv.content.decode()
    assert text.splitlines()[0].startswith("Cohort,Subject,Site,DLT status")
    assert "Neutrophil count decreased G3" in text


def test_listings_and_their_csv_neutralise_formula_cells(
    client, monitor, coordinator_a, dosed_subject
):
    report(
        coordinator_a,
        dosed_subject,
        "Febrile neutropenia",
        3,
        3,
        verbatim_term='=HYPERLINK("http://x","click")',
        serious=True,
        seriousness=("serious_hospitalisation",),
    )
    report(coordinator_a, dosed_subject, "Nausea", 1, 2, verbatim_term="@SUM(A1)")
    client.force_login(monitor)
    page = client.get(reverse("monitoring:listings")).context["page"]
    assert [r.event.ctcae_term.term for r in page.saes] == ["Febrile neutropenia"]
    assert page.saes[0].study_day == 4 and page.saes[0].treatment_emergent
    assert page.dlts == []
    csv = client.get(reverse("monitoring:listings"), {"format": "csv", "table": "sae"})
    assert csv.status_code == 200
    text = csv.content.decode()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert (
        client.get(reverse("monitoring:listings"), {"format": "csv", "table": "x"}).status_code
        == 404
    )


def test_dlt_listing_uses_the_adjudicated_call_when_there_is_one(
    client, monitor, coordinator_a, dosed_subject
):
    from safety.services import adverse_event_adjudicate

    called = report(
        coordinator_a,
        dosed_subject,
        "Neutrophil count decreased",
        3,
        4,
        relationship="probable",
        dlt_investigator=True,
    )
    report(coordinator_a, dosed_subject, "Platelet count decreased", 3, 5, relationship="probable")
    client.force_login(monitor)
    page = client.get(reverse("monitoring:listings")).context["page"]
    assert [r.event.pk for r in page.dlts] == [called.pk]
    adverse_event_adjudicate(
        by=monitor, adverse_event=called, is_dlt=False, note="Transient", expected_version=1
    )
    page = client.get(reverse("monitoring:listings")).context["page"]
    assert page.dlts == []


def test_a_voided_adverse_event_leaves_every_table(client, monitor, coordinator_a, dosed_subject):
    from safety.services import adverse_event_void

    event = report(coordinator_a, dosed_subject, "Nausea", 2, 1, serious=True,
                   seriousness=("serious_hospitalisation",))  # fmt: skip
    client.force_login(monitor)
    assert (
        client.get(reverse("monitoring:adverse_events")).context["page"].table.events_counted == 1
    )
    adverse_event_void(
        by=coordinator_a, adverse_event=event, reason="entered twice", expected_version=1
    )
    assert (
        client.get(reverse("monitoring:adverse_events")).context["page"].table.events_counted == 0
    )
    assert client.get(reverse("monitoring:listings")).context["page"].saes == []


def test_a_membership_per_site_does_not_open_the_dashboards(client, study, site_a):
    user = make_user("site_monitor", study, Role.INVESTIGATOR, [site_a])
    client.force_login(user)
    assert client.get(reverse("monitoring:overview")).status_code == 403
