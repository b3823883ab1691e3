"""The home page and the casebook: what they show, to whom, and a stated number of SQL queries
that does not grow with the number of subjects on a site (or records of a subject)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.dates import site_today
from escalation.models import SubjectDltStatus
from safety.models import CtcaeTerm
from subjects.services import subject_enroll
from tests.factories import dosed, enrolled_subject, reported_ae, screened_subject
from tests.integration.portal.portal_data import populate_site, under_dosed_subject

pytestmark = pytest.mark.django_db


def test_home_lists_status_cohort_dose_level_dlt_window_and_open_tasks(
    signed_in, coordinator_a, site_a, cohort1, ctcae
):
    today = site_today(site_a.timezone)
    enrolled = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=10)
    dosed(coordinator_a, enrolled, on=today - timedelta(days=5))
    reported_ae(
        coordinator_a,
        enrolled,
        "Nausea",
        verbatim_term="nausea",
        grade=1,
        onset_date=today - timedelta(days=3),
        relationship="possible",
        action_taken="none",
        outcome="not_recovered",
    )
    screened_subject(coordinator_a, site_a, "S-2", consent=False)
    page = signed_in.get(reverse("home")).content.decode()
    assert "101-001" in page and "Enrolled, on treatment" in page
    assert "Cohort 1 · Q3W" in page and "0.01 mg/kg" in page
    window_end = today - timedelta(days=5) + timedelta(days=20)  # Day 1..Day 21 inclusive
    assert f"Open until {window_end:%Y-%m-%d}" in page
    assert "1 adverse event without a resolution date" in page
    assert "Next: C2D1 on" in page
    assert "Record informed consent" in page  # the screening subject's task
    assert "Dose escalation, Q3W" in page and "Full" in page


def test_home_shows_only_the_users_sites(client, coordinator_b, coordinator_a, site_a, site_b):
    screened_subject(coordinator_a, site_a, "A-1")
    screened_subject(coordinator_b, site_b, "B-1")
    client.force_login(coordinator_b)
    page = client.get(reverse("home"), {"show": "all"}).content.decode()
    assert "B-1" in page and "A-1" not in page and "Site A" not in page


def test_no_asset_comes_from_another_origin(signed_in):
    page = signed_in.get(reverse("home")).content.decode()
    assert "htmx.min.js" in page
    assert (
        "//" not in "".join(part.split('"')[1] for part in page.split("src=")[1:])
        and "https://" not in page.split("<body")[0]
    )


def test_keepalive_slides_the_session_and_ends_with_it(client, coordinator_a):
    assert client.post(reverse("keepalive")).status_code == 302  # not signed in
    client.force_login(coordinator_a)
    assert client.post(reverse("keepalive")).status_code == 204


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


# Every request: 4 queries to know who asks (the session, the user, their memberships and the
# memberships' sites) and 3 to slide the session (savepoint, session save, release: the test runs
# inside a transaction); the pages with a subject read it first (with its site, cohort, DLT status
# and the subject it replaces). The page's own reads are listed beside each.
EXPECTED_QUERIES = {
    # the user's sites; subjects with their AE counts (subqueries), their doses, who replaced
    # them; tracks, cohorts with their places, current recommendations, and the subject numbers
    # of other sites (taken out of the recommendations' texts for a site role)
    "home": 15,
    "home (active)": 15,
    # the subject; its doses, adverse events, who replaced it; the history rows of the subject,
    # its doses and adverse events, with one query per kind of related row they name; who was
    # notified of its adverse events (one more for the subjects it replaces or is replaced by);
    # its data quality line: open queries, the investigator's casebook signature, the lock
    "casebook": 23,
    "casebook (replaced)": 23,
    "casebook (replacement)": 22,
    # the subject, the doses given (for the next slot), the last dose (its body weight)
    "dose form": 10,
    "adverse event form": 8,  # the subject
    "demographics": 8,  # the subject
    "screening": 8,  # the subject
    # the subject; cohorts with their places, current recommendations, the replacement
    # candidates and the redaction's subject numbers
    "enrollment": 13,
    # the subject and its last dose
    "end of treatment": 9,
    "end of study": 9,
    "death": 9,
}


def test_page_queries_do_not_grow_with_the_number_of_subjects(
    client,
    coordinator_a,
    site_a,
    roomy_cohort,
    ctcae,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    # The escalation evaluation runs after each commit, so DLT statuses and recommendations
    # exist as they would in production.
    with django_capture_on_commit_callbacks(execute=True):
        subjects = populate_site(coordinator_a, site_a, roomy_cohort, 5)
        # Not-evaluable subjects: one replaced, the other listed on the enrollment page as a
        # place to take.
        not_evaluable = [
            under_dosed_subject(coordinator_a, site_a, f"X-{index:03d}", roomy_cohort)
            for index in range(2)
        ]
    assert SubjectDltStatus.objects.filter(status="not_evaluable").count() == 2
    replacement = subject_enroll(
        by=coordinator_a,
        subject=screened_subject(coordinator_a, site_a, "R-000"),
        cohort=roomy_cohort,
        enrollment_date=site_today(site_a.timezone),
        replaces=not_evaluable[0],
    )
    dosed_subject = next(s for s in subjects if s.dose_administrations.exists())
    screening = next(s for s in subjects if s.status == "screening")
    client.force_login(coordinator_a)
    pages = {
        "home": reverse("home") + "?show=all",
        "home (active)": reverse("home"),
        "casebook": reverse("subject_detail", args=[dosed_subject.pk]),
        "casebook (replaced)": reverse("subject_detail", args=[not_evaluable[0].pk]),
        "casebook (replacement)": reverse("subject_detail", args=[replacement.pk]),
        "dose form": reverse("dose_new", args=[dosed_subject.pk]),
        "adverse event form": reverse("ae_new", args=[dosed_subject.pk]),
        "demographics": reverse("demographics", args=[dosed_subject.pk]),
        "screening": reverse("screening", args=[screening.pk]),
        "enrollment": reverse("enroll", args=[screening.pk]),
        "end of treatment": reverse("end_treatment", args=[dosed_subject.pk]),
        "end of study": reverse("end_study", args=[dosed_subject.pk]),
        "death": reverse("record_death", args=[dosed_subject.pk]),
    }
    for url in pages.values():
        client.get(url)  # warm caches (content types, sessions) that are not per-page work
    with_5 = {name: _queries(client, url) for name, url in pages.items()}

    with django_capture_on_commit_callbacks(execute=True):
        populate_site(coordinator_a, site_a, roomy_cohort, 45, start=5)
        for index in range(2, 6):
            under_dosed_subject(coordinator_a, site_a, f"X-{index:03d}", roomy_cohort)
    enrollment = client.get(pages["enrollment"]).content.decode()
    assert enrollment.count("data-replacement=") == 5
    with_50 = {name: _queries(client, url) for name, url in pages.items()}
    print(
        f"\nSQL queries per page, 5 subjects: {with_5}\nSQL queries per page, 50 subjects: {with_50}"
    )
    assert with_5 == with_50
    for name, url in pages.items():  # a failure lists the queries the page ran
        with django_assert_num_queries(EXPECTED_QUERIES[name], info=name):
            client.get(url)


def test_casebook_queries_do_not_grow_with_the_subjects_records(
    client, coordinator_a, site_a, cohort1, ctcae
):
    today = site_today(site_a.timezone)
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=60)
    dosed(coordinator_a, subject, on=today - timedelta(days=50))
    nausea = CtcaeTerm.objects.get(term="Nausea")
    client.force_login(coordinator_a)
    url = reverse("subject_detail", args=[subject.pk])

    def report(days_ago):
        reported_ae(
            coordinator_a,
            subject,
            nausea,
            verbatim_term="nausea",
            grade=1,
            onset_date=today - timedelta(days=days_ago),
            relationship="unlikely",
            action_taken="none",
            outcome="not_recovered",
        )

    report(40)
    client.get(url)
    one = _queries(client, url)
    for days_ago in (35, 30, 25, 20, 15):
        report(days_ago)
    dosed(coordinator_a, subject, on=today - timedelta(days=29), cycle=2)
    six = _queries(client, url)
    assert one == six


def test_the_screening_link_is_offered_only_to_those_who_enter_data(client, coordinator_a, sponsor):
    client.force_login(coordinator_a)
    assert "Screen a subject" in client.get(reverse("home")).content.decode()
    client.force_login(sponsor)
    page = client.get(reverse("home")).content.decode()
    assert "Screen a subject" not in page
    assert client.get(reverse("subject_new")).status_code == 403


def test_a_window_that_ended_since_the_last_evaluation_is_not_shown_as_open(
    signed_in, coordinator_a, site_a, cohort1, time_machine, django_capture_on_commit_callbacks
):
    today = site_today(site_a.timezone)
    with django_capture_on_commit_callbacks(execute=True):  # the evaluation runs after commit
        subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=5)
        dosed(coordinator_a, subject, on=today - timedelta(days=3))
    assert subject.__class__.objects.get(pk=subject.pk).dlt_status.status == "pending"
    time_machine.move_to(timedelta(days=30))  # no evaluation has run since
    signed_in.force_login(coordinator_a)  # the earlier session has expired meanwhile
    page = signed_in.get(reverse("home")).content.decode()
    assert f"Closed {today - timedelta(days=3) + timedelta(days=20):%Y-%m-%d}" in page
    assert "Window complete, evaluation due" in page
