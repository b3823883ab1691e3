"""The AE table against a fixture counted by hand.

Four column groups: 0.01, 0.03 and 0.1 mg/kg on Q3W, 0.03 mg/kg on Q2W (3 dose levels, 2
regimens), entered through the services at two sites. Days are counted from each subject's
first dose (F), 50 days ago.

    group        subject  adverse events (term grade relationship, onset)
    Q3W 0.01     A1       Nausea 1 not related F+1; Nausea 3 possible F+9; Fatigue 2 probable F+2
                 A2       Nausea 2 probable F-3 (before the first dose: not a TEAE);
                          Headache 1 unlikely F+4
                 A3       never dosed (in no denominator); Nausea 1 not related
    Q3W 0.03     B1       Neutrophil count decreased 4 definite F+5 (DLT); Nausea 1 not related F
                 B2       Fatigue 1 possible F+3; Fatigue 2 possible F+7
    Q3W 0.1      C1       Nausea 2 probable F+1
                 C2       Anemia 3 not related F+6
                 C3       Sepsis 5 not related F+18 (died F+20)
    Q2W 0.03     D1       Nausea 3 definite F+2; Diarrhea 1 not related F+2      (site B)
                 D2       Nausea 1 possible F+1; Nausea 1 possible F+19          (site B)

N: 2, 2, 3, 2; total 9. Nausea, all TEAEs: Q3W 0.01 one subject at grade 3 (A1, twice: once, at
its worst); Q3W 0.03 B1 grade 1; Q3W 0.1 C1 grade 2; Q2W D1 grade 3, D2 grade 1 (twice: once);
total 5 = grade 1: 2, grade 2: 1, grade 3: 2, >= 3: 2, 5/9 = 55.6%.

`timed_and_baseline` adds, on top, onset times and baseline grades (docs/safety.md §3): subject
E1 (Q3W 0.03, site A), first infusion at 10:30 site time on F.

    E1  Vomiting 2 possible F 09:00 (before the infusion started: not a TEAE)
        Chills 1 possible F 10:30 (as the infusion started: a TEAE)
        Fever 1 not related F, no onset time (cannot be shown to precede the dose: a TEAE)
        Hypertension 2 possible F+4, baseline grade 2 (not worse than the baseline: not a TEAE)
        Hypertension 3 not related F+6, baseline grade 2 (worse: a TEAE)
"""

from datetime import time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse

from core.dates import site_today
from monitoring import tables
from monitoring.pages import ae_tables as ae_tables_page
from subjects.services import subject_record_death
from tests.conftest import needs_postgresql
from tests.factories import dosed, enrolled_subject, infusion, reported_ae
from trial.models import Cohort, DoseLevel, EscalationTrack

pytestmark = pytest.mark.django_db

Q3W_1, Q3W_2, Q3W_3, Q2W_2 = "Q3W:0.01", "Q3W:0.03", "Q3W:0.1", "Q2W:0.03"
GI = "Gastrointestinal disorders"


def by_grade(cell) -> tuple:
    """(any, g1, g2, g3, g4, g5, >=3, N)"""
    return (
        cell.any,
        *(cell.by_grade[g] for g in (1, 2, 3, 4, 5)),
        cell.grade3_or_more,
        cell.denominator,
    )


@pytest.fixture
def hand_counted(study, site_a, site_b, coordinator_a, coordinator_b, ctcae):
    q3w = EscalationTrack.objects.get(study=study, code="Q3W-ESC")
    q2w = EscalationTrack.objects.get(study=study, code="Q2W-ESC")
    q2w.status = EscalationTrack.Status.ACTIVE
    q2w._change_reason = "test: open the Q2W track"
    q2w.save()
    levels = {lv.number: lv for lv in DoseLevel.objects.filter(study=study)}

    def cohort(number, track, level):
        from django.utils import timezone

        return Cohort.objects.create(
            study=study,
            track=track,
            number=number,
            dose_level=levels[level],
            planned_size=3,
            status=Cohort.Status.OPEN,
            opened_at=timezone.now(),
        )

    cohorts = {
        Q3W_1: cohort(11, q3w, 1),
        Q3W_2: cohort(12, q3w, 2),
        Q3W_3: cohort(13, q3w, 3),
        Q2W_2: cohort(14, q2w, 2),
    }
    subjects = {}

    def subject(key, group, *, dose=True):
        by, site = (coordinator_b, site_b) if group == Q2W_2 else (coordinator_a, site_a)
        s = enrolled_subject(by, site, key, cohorts[group], days_ago=60)
        if dose:
            dosed(by, s, on=site_today(site.timezone) - timedelta(days=50))
        subjects[key] = s
        return s

    def ae(key, term, grade, day, relationship, **extra):
        s = subjects[key]
        by = coordinator_b if s.site_id == site_b.pk else coordinator_a
        first = site_today(s.site.timezone) - timedelta(days=50)
        return reported_ae(
            by,
            s,
            term,
            grade=grade,
            onset_date=first + timedelta(days=day),
            relationship=relationship,
            **extra,
        )

    for key, group in [("A1", Q3W_1), ("A2", Q3W_1), ("B1", Q3W_2), ("B2", Q3W_2)]:
        subject(key, group)
    subject("A3", Q3W_1, dose=False)
    for key, group in [("C1", Q3W_3), ("C2", Q3W_3), ("C3", Q3W_3), ("D1", Q2W_2), ("D2", Q2W_2)]:
        subject(key, group)

    ae("A1", "Nausea", 1, 1, "not_related")
    ae("A1", "Nausea", 3, 9, "possible")
    ae("A1", "Fatigue", 2, 2, "probable")
    ae("A2", "Nausea", 2, -3, "probable")
    ae("A2", "Headache", 1, 4, "unlikely")
    ae("A3", "Nausea", 1, -5, "not_related")
    ae("B1", "Neutrophil count decreased", 4, 5, "definite", dlt_investigator=True)
    ae("B1", "Nausea", 1, 0, "not_related")
    ae("B2", "Fatigue", 1, 3, "possible")
    ae("B2", "Fatigue", 2, 7, "possible")
    ae("C1", "Nausea", 2, 1, "probable")
    ae("C2", "Anemia", 3, 6, "not_related")
    c3 = subjects["C3"]
    subject_record_death(
        by=coordinator_a,
        subject=c3,
        death_date=site_today(site_a.timezone) - timedelta(days=30),
        expected_version=c3.version,
    )
    subjects["C3"].refresh_from_db()
    ae(
        "C3",
        "Sepsis",
        5,
        18,
        "not_related",
        outcome="fatal",
        serious=True,
        seriousness=("serious_death",),
    )
    ae("D1", "Nausea", 3, 2, "definite")
    ae("D1", "Diarrhea", 1, 2, "not_related")
    ae("D2", "Nausea", 1, 1, "possible")
    ae("D2", "Nausea", 1, 19, "possible")
    return subjects


@pytest.fixture
def timed_and_baseline(hand_counted, coordinator_a, site_a):
    """The hand-counted fixture and E1's events, which onset times and baseline grades decide."""
    first = site_today(site_a.timezone) - timedelta(days=50)
    e1 = enrolled_subject(coordinator_a, site_a, "E1", hand_counted["B1"].cohort, days_ago=60)
    dosed(coordinator_a, e1, on=first, hour=10, minute=30)
    for term, grade, day, relationship, extra in [
        ("Vomiting", 2, 0, "possible", {"onset_time": time(9, 0)}),
        ("Chills", 1, 0, "possible", {"onset_time": time(10, 30)}),
        ("Fever", 1, 0, "not_related", {}),
        ("Hypertension", 2, 4, "possible", {"baseline_grade": 2}),
        ("Hypertension", 3, 6, "not_related", {"baseline_grade": 2}),
    ]:
        reported_ae(
            coordinator_a,
            e1,
            term,
            grade=grade,
            onset_date=first + timedelta(days=day),
            relationship=relationship,
            **extra,
        )
    return {**hand_counted, "E1": e1}


def ae_page(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("monitoring:adverse_events"), params)
    assert response.status_code == 200
    return response.context["page"]


def test_the_ae_table_matches_the_hand_counted_fixture(client, monitor, hand_counted):
    table = ae_page(client, monitor).all_events
    assert [g.key for g in table.groups] == [Q3W_1, Q3W_2, Q3W_3, Q2W_2, "total"]
    assert [g.label for g in table.groups] == [
        "0.01 mg/kg Q3W",
        "0.03 mg/kg Q3W",
        "0.1 mg/kg Q3W",
        "0.03 mg/kg Q2W",
        "Total",
    ]
    assert table.denominators == [2, 2, 3, 2, 9]
    # 17 reported: A2's pre-dose nausea and A3's (never dosed) are not TEAEs.
    assert (table.events_counted, table.events_not_emergent, table.events_undosed) == (
        15,
        1,
        1,
    )

    def cell(level, group, soc="", term=""):
        return by_grade(table.cell(level, group, soc, term))

    #                                          any g1 g2 g3 g4 g5 >=3 N
    assert cell("term", Q3W_1, GI, "Nausea") == (1, 0, 0, 1, 0, 0, 1, 2)  # A1 twice: at G3
    assert cell("term", Q3W_2, GI, "Nausea") == (1, 1, 0, 0, 0, 0, 0, 2)
    assert cell("term", Q3W_3, GI, "Nausea") == (1, 0, 1, 0, 0, 0, 0, 3)
    assert cell("term", Q2W_2, GI, "Nausea") == (2, 1, 0, 1, 0, 0, 1, 2)  # D2 twice: once
    assert cell("term", "total", GI, "Nausea") == (5, 2, 1, 2, 0, 0, 2, 9)
    assert cell("term", "total", GI, "Diarrhea") == (1, 1, 0, 0, 0, 0, 0, 9)
    assert cell("soc", "total", GI) == (5, 2, 1, 2, 0, 0, 2, 9)  # D1: nausea G3 + diarrhea G1
    fatigue = ("General disorders and administration site conditions", "Fatigue")
    assert cell("term", Q3W_1, *fatigue) == (1, 0, 1, 0, 0, 0, 0, 2)
    assert cell("term", Q3W_2, *fatigue) == (1, 0, 1, 0, 0, 0, 0, 2)  # B2: G1 then G2
    assert cell("term", "total", *fatigue) == (2, 0, 2, 0, 0, 0, 0, 9)
    neutrophils = ("Investigations", "Neutrophil count decreased")
    assert cell("term", Q3W_2, *neutrophils) == (1, 0, 0, 0, 1, 0, 1, 2)
    assert cell("term", "total", "Nervous system disorders", "Headache") == (
        1, 1, 0, 0, 0, 0, 0, 9,
    )  # fmt: skip
    assert cell("term", Q3W_3, "Infections and infestations", "Sepsis") == (
        1, 0, 0, 0, 0, 1, 1, 3,
    )  # fmt: skip
    assert cell("term", Q3W_3, "Blood and lymphatic system disorders", "Anemia") == (
        1, 0, 0, 1, 0, 0, 1, 3,
    )  # fmt: skip
    # Any TEAE, each subject at their worst grade over every term.
    assert cell("any", Q3W_1) == (2, 1, 0, 1, 0, 0, 1, 2)  # A1 G3, A2 G1
    assert cell("any", Q3W_2) == (2, 0, 1, 0, 1, 0, 1, 2)  # B1 G4, B2 G2
    assert cell("any", Q3W_3) == (3, 0, 1, 1, 0, 1, 2, 3)  # C1 G2, C2 G3, C3 G5
    assert cell("any", Q2W_2) == (2, 1, 0, 1, 0, 0, 1, 2)  # D1 G3, D2 G1
    assert cell("any", "total") == (9, 2, 2, 3, 1, 1, 5, 9)
    # Percentages of the dosed subjects of the group.
    assert tables.format_cell(5, table.cell("term", "total", GI, "Nausea").percent("any")) == (
        "5 (55.6%)"
    )
    assert table.cell("any", Q3W_3).percent("ge3") == Decimal("66.7")  # 2 of 3, one decimal


def test_the_related_only_table(client, monitor, hand_counted):
    page = ae_page(client, monitor, view="related")
    assert page.related_only and page.table is page.related
    table = page.related

    def cell(level, group, soc="", term=""):
        return by_grade(table.cell(level, group, soc, term))

    # Related: possible, probable, definite. B1's nausea is not related; A1's first is not.
    assert cell("term", Q3W_1, GI, "Nausea") == (1, 0, 0, 1, 0, 0, 1, 2)
    assert cell("term", Q3W_2, GI, "Nausea") == (0, 0, 0, 0, 0, 0, 0, 2)
    assert cell("term", "total", GI, "Nausea") == (4, 1, 1, 2, 0, 0, 2, 9)
    assert cell("any", "total") == (6, 1, 2, 2, 1, 0, 3, 9)
    terms = {row.term for row in table.rows if row.level == "term"}
    assert terms == {"Nausea", "Fatigue", "Neutrophil count decreased"}


def test_filters_narrow_the_columns_and_the_events(client, monitor, site_a, hand_counted):
    site_only = ae_page(client, monitor, site=site_a.pk).all_events
    assert [g.key for g in site_only.groups] == [Q3W_1, Q3W_2, Q3W_3, "total"]
    assert site_only.denominators == [2, 2, 3, 7]
    level = DoseLevel.objects.get(study=hand_counted["A1"].study, number=2)
    by_level = ae_page(client, monitor, dose_level=level.pk).all_events
    assert [g.key for g in by_level.groups] == [Q3W_2, Q2W_2, "total"]
    # The date range selects events by onset; the denominators stay the dosed subjects.
    first = site_today(site_a.timezone) - timedelta(days=50)
    late = ae_page(client, monitor, date_from=(first + timedelta(days=8)).isoformat()).all_events
    assert late.denominators == [2, 2, 3, 2, 9]
    nausea = late.cell("term", "total", GI, "Nausea")
    assert by_grade(nausea) == (2, 1, 0, 1, 0, 0, 1, 9)  # A1 G3 on F+9, D2 G1 on F+19


def _as_counted_by_definition(page, site_a, **window):
    """Both tables recounted event by event with `tables.build_ae_table` (the definition) from
    the same subjects and events the page counted in the database."""
    from django.db.models import Min, Q

    from safety.models import AdverseEvent
    from subjects.models import Subject

    active = Q(dose_administrations__voided_at__isnull=True)
    subjects = Subject.objects.filter(study=site_a.study, cohort__isnull=False).annotate(
        first=Min("dose_administrations__administered_on", filter=active),
        first_start=Min("dose_administrations__infusion_start", filter=active),
    )

    def local_minute(subject):
        if subject.first_start is None:
            return None
        local = subject.first_start.astimezone(ZoneInfo(subject.site.timezone))
        return local.time().replace(second=0, microsecond=0)

    group_of = {
        g.key: g for table in (page.all_events, page.related) for g in table.groups
    }  # the groups as the page made them
    population = [
        tables.Exposure(
            s.pk,
            group_of.get(
                f"{s.cohort.track.regimen.code}:{s.cohort.dose_level.amount.normalize():f}"
            )
            or tables.TOTAL,
            s.first,
            local_minute(s),
        )
        for s in subjects.select_related("cohort__track__regimen", "cohort__dose_level", "site")
    ]
    events = [
        tables.Event(
            e.subject_id,
            e.ctcae_term.soc,
            e.ctcae_term.term,
            e.grade,
            e.onset_date,
            e.relationship in AdverseEvent.RELATED,
            e.onset_time,
            e.baseline_grade,
        )
        for e in AdverseEvent.objects.filter(subject__in=subjects).select_related("ctcae_term")
    ]
    return (
        tables.build_ae_table(population, events, **window),
        tables.build_ae_table(population, events, related_only=True, **window),
    )


def _assert_as_defined(page, expected) -> None:
    """The page's two tables are the definition's: groups, rows in order, cells, events' fates."""
    for counted, defined in zip((page.all_events, page.related), expected, strict=True):
        assert counted.groups == defined.groups
        assert [(r.level, r.soc, r.term) for r in counted.rows] == [
            (r.level, r.soc, r.term) for r in defined.rows
        ]
        assert [[(c.denominator, c.by_grade) for c in r.cells] for r in counted.rows] == [
            [(c.denominator, c.by_grade) for c in r.cells] for r in defined.rows
        ]
        assert (
            counted.events_counted,
            counted.events_not_emergent,
            counted.events_undosed,
        ) == (defined.events_counted, defined.events_not_emergent, defined.events_undosed)


def _use(form: str, monkeypatch) -> None:
    """Count the table one of the ways the page can: the stored block counts (the page's way on
    PostgreSQL without an onset range), counted for the request per subject (LATERAL, with an
    onset range), or joined (SQLite's statement, run on PostgreSQL)."""
    if form != "stored":
        monkeypatch.setattr(ae_tables_page, "counts_stored", lambda vendor, scope: False)
    if form == "joined":
        monkeypatch.setattr(ae_tables_page, "per_subject_supported", lambda vendor: False)


@pytest.mark.parametrize(
    "form, days_from",
    [
        ("stored", None),
        ("per_subject", None),
        ("per_subject", 2),
        ("per_subject", 8),
        ("joined", None),
        ("joined", 2),
        ("joined", 8),
    ],
)
def test_the_database_counts_as_the_definition_does(
    client, monitor, site_a, timed_and_baseline, days_from, form, monkeypatch
):
    """The page counts in SQL; `build_ae_table` counts event by event: the same tables, rows,
    order and cells, with and without an onset range, onset times and baseline grades included.
    Every way the page can count on PostgreSQL: stored block counts, per subject (LATERAL) and
    joined (an onset range is always counted for the request). On SQLite the page counts with
    the definition itself (no time zones in its SQL), so this checks that it reads the same
    events and first doses."""
    _use(form, monkeypatch)
    first = site_today(site_a.timezone) - timedelta(days=50)
    onset_from = first + timedelta(days=days_from) if days_from is not None else None
    params = {"date_from": onset_from.isoformat()} if onset_from else {}
    page = ae_page(client, monitor, **params)
    _assert_as_defined(page, _as_counted_by_definition(page, site_a, onset_from=onset_from))
    assert page.all_events.events_counted > 0
    if days_from is None:  # E1's five events are in the data compared, decided both ways
        assert page.all_events.events_not_emergent == 3  # A2's, E1's vomiting and hypertension 2
        assert {"Chills", "Fever", "Hypertension"} <= {r.term for r in page.all_events.rows}


@pytest.mark.parametrize("form", ["stored", "per_subject", "joined"])
def test_onset_times_and_baseline_grades_decide_as_the_rule_does(
    client, monitor, site_a, timed_and_baseline, form, monkeypatch
):
    """E1 (first infusion 10:30, site time): the 09:00 vomiting is before it, the 10:30 chills
    and the untimed fever count; hypertension at its baseline grade 2 does not, at grade 3 it
    does. The page (the database's count on PostgreSQL, every form) and the definition agree."""
    _use(form, monkeypatch)
    page = ae_page(client, monitor)
    defined = _as_counted_by_definition(page, site_a)
    general = "General disorders and administration site conditions"
    for table in (page.all_events, defined[0]):
        terms = {r.term for r in table.rows if r.level == "term"}
        assert "Vomiting" not in terms
        # 20 reported: 18 TEAEs; A2's pre-dose nausea, E1's 09:00 vomiting and hypertension at
        # its baseline grade left out; A3's never dosed.
        assert (table.events_counted, table.events_not_emergent, table.events_undosed) == (
            18,
            3,
            1,
        )
        assert table.denominators == [2, 3, 3, 2, 10]
        #                                                           any g1 g2 g3 g4 g5 >=3 N
        assert by_grade(table.cell("term", Q3W_2, general, "Chills")) == (1, 1, 0, 0, 0, 0, 0, 3)
        assert by_grade(table.cell("term", Q3W_2, general, "Fever")) == (1, 1, 0, 0, 0, 0, 0, 3)
        hypertension = table.cell("term", Q3W_2, "Vascular disorders", "Hypertension")
        assert by_grade(hypertension) == (1, 0, 0, 1, 0, 0, 1, 3)  # grade 3 only
    for table in (page.related, defined[1]):
        terms = {r.term for r in table.rows if r.level == "term"}
        # Related: the possible vomiting (before the infusion) and hypertension 2 (at baseline)
        # are not TEAEs, the related chills is.
        assert "Vomiting" not in terms and "Hypertension" not in terms and "Chills" in terms
        assert table.events_not_emergent == 3  # A2's nausea, E1's vomiting and hypertension 2
    html = client.get(reverse("monitoring:adverse_events")).content.decode()
    assert (
        "3 not treatment-emergent (before the first infusion, or not worse than the baseline "
        "grade) left out"
    ) in html


def test_the_statement_counts_each_subject_from_the_covering_index_on_postgresql(
    client, monitor, hand_counted
):
    """On PostgreSQL the first request after a change recounts the changed blocks with one
    statement that counts per subject (LATERAL), converting the first infusion's start to the
    site's time zone, and stores the rows; the next request reads the stored rows and counts no
    event. SQLite, which cannot convert, reads the events in one query and counts them with the
    definition."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def counting_events(queries):
        return [q["sql"] for q in queries.captured_queries if "worst_related" in q["sql"]]

    with CaptureQueriesContext(connection) as first:
        ae_page(client, monitor)
    with CaptureQueriesContext(connection) as second:
        ae_page(client, monitor)
    on_postgresql = connection.vendor == "postgresql"
    assert ae_tables_page.counted_in_database(connection.vendor) == on_postgresql
    assert ae_tables_page.per_subject_supported(connection.vendor) == on_postgresql
    if on_postgresql:
        (recount,) = counting_events(first)
        assert recount.startswith("INSERT INTO")
        assert "LATERAL" in recount and "AT TIME ZONE" in recount
        assert counting_events(second) == []
        assert any("monitoring_aetablecount" in q["sql"] for q in second.captured_queries)
    else:
        assert counting_events(first) == counting_events(second) == []


def _marked_blocks() -> set[tuple[int, int, int]]:
    """The blocks the marks name, a marked subject's as it is now (as a recount finds it)."""
    from monitoring.models import AeTableRecount
    from subjects.models import Subject

    blocks = set()
    for mark in AeTableRecount.objects.all():
        if mark.subject_id is None:
            blocks.add((mark.site_id, mark.track_id, mark.dose_level_id))
            continue
        subject = Subject.all_objects.select_related("cohort").get(pk=mark.subject_id)
        if subject.cohort_id is not None:
            blocks.add(_block(subject))
    return blocks


def _block(subject) -> tuple[int, int, int]:
    subject.refresh_from_db()
    return (subject.site_id, subject.cohort.track_id, subject.cohort.dose_level_id)


def test_the_stored_counts_follow_every_change_to_what_they_count(
    client, monitor, coordinator_a, coordinator_b, site_a, site_b, timed_and_baseline
):
    """Each change to what the table counts marks the blocks (site, track, dose level) it
    touches, in its own transaction, whatever made it (a service, or an update of the row as the
    admin or a bulk load makes it); the next request recounts those blocks only and shows the
    same table as the definition counting every event."""
    from django.db import connection

    from dosing.models import DoseAdministration
    from dosing.services import dose_update, dose_void
    from monitoring.models import AeTableCount
    from safety.models import AdverseEvent, CtcaeTerm
    from safety.services import adverse_event_update, adverse_event_void
    from subjects.models import Subject
    from trial.models import Site

    needs_postgresql()  # the triggers that mark the blocks are PostgreSQL's
    subjects = timed_and_baseline
    page = ae_page(client, monitor)
    _assert_as_defined(page, _as_counted_by_definition(page, site_a))
    assert _marked_blocks() == set() and AeTableCount.objects.exists()

    def after(change, *subjects_touched, blocks=None):
        """Make the change, check what it marked, and the page's table against the
        definition's."""
        change()
        assert _marked_blocks() == (blocks or {_block(s) for s in subjects_touched})
        page = ae_page(client, monitor)
        assert _marked_blocks() == set()
        _assert_as_defined(page, _as_counted_by_definition(page, site_a))
        return page

    a1_nausea = AdverseEvent.objects.get(subject=subjects["A1"], grade=3)
    page = after(
        lambda: adverse_event_update(
            by=coordinator_a,
            adverse_event=a1_nausea,
            changes={"grade": 2},
            reason="source verified: grade 2",
            expected_version=a1_nausea.version,
        ),
        subjects["A1"],
    )
    nausea = page.all_events.cell("term", Q3W_1, GI, "Nausea")
    assert nausea.by_grade[2] == 1 and nausea.by_grade[3] == 0  # A1's worst is grade 2 now
    c1_nausea = AdverseEvent.objects.get(subject=subjects["C1"])
    after(
        lambda: adverse_event_void(
            by=coordinator_a,
            adverse_event=c1_nausea,
            reason="entered for the wrong subject",
            expected_version=c1_nausea.version,
        ),
        subjects["C1"],
    )
    after(lambda: reported_ae(coordinator_b, subjects["D2"], "Fatigue", grade=2), subjects["D2"])
    # B2's only dose voided: never dosed now, its events left out as of an undosed subject.
    b2_dose = DoseAdministration.objects.get(subject=subjects["B2"])
    page = after(
        lambda: dose_void(
            by=coordinator_a, dose=b2_dose, reason="entered in error", expected_version=1
        ),
        subjects["B2"],
    )
    assert page.all_events.events_undosed == 3  # A3's nausea and B2's two fatigue events
    # Changes to the rows themselves, whatever makes them: A2 moved to the 0.1 mg/kg cohort in
    # SQL (both blocks are recounted), a site's time zone (when its first infusions started), a
    # term's system organ class.
    old_block = _block(subjects["A2"])

    def move_a2():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Subject._meta.db_table} SET cohort_id = %s WHERE id = %s",
                [subjects["C1"].cohort_id, subjects["A2"].pk],
            )

    after(move_a2, blocks={old_block, _block(subjects["C1"])})
    at_site_a = [s for s in subjects.values() if s.site_id == site_a.pk]
    after(
        lambda: Site.objects.filter(pk=site_a.pk).update(timezone="Pacific/Auckland"),
        *at_site_a,
    )
    fatigue = CtcaeTerm.objects.get(term="Fatigue")
    with_fatigue = [s for s in subjects.values() if s.adverse_events.filter(ctcae_term=fatigue)]
    after(
        lambda: CtcaeTerm.objects.filter(pk=fatigue.pk).update(soc="Investigations"),
        *with_fatigue,
    )
    # A bulk insert (the study generator's) marks each block it touches once.
    event = AdverseEvent.objects.filter(subject=subjects["D1"]).first()
    event.pk = None
    event.grade = 3
    after(lambda: AdverseEvent.objects.bulk_create([event]), subjects["D1"])

    # F1 at site A in the Q2W cohort (D1 and D2 are at site B): that column group now sums two
    # blocks. Enrolled, dosed at 09:00 site time, a vomiting at 08:30 that day (before the
    # infusion: not a TEAE), then the infusion's start corrected to 08:00 (a TEAE now).
    site_a.refresh_from_db()  # in Auckland's time now
    q2w_cohort = subjects["D1"].cohort
    block_a = (site_a.pk, q2w_cohort.track_id, q2w_cohort.dose_level_id)
    day = site_today(site_a.timezone) - timedelta(days=20)
    made = {}

    def enrol():
        made["F1"] = enrolled_subject(coordinator_a, site_a, "F1", q2w_cohort, days_ago=30)

    def dose():
        made["dose"] = dosed(coordinator_a, made["F1"], on=day, hour=9)

    def report():
        reported_ae(
            coordinator_a, made["F1"], "Vomiting", grade=3, onset_date=day, onset_time=time(8, 30)
        )

    def earlier_start():
        start, end = infusion(site_a, day, hour=8)
        dose_update(
            by=coordinator_a,
            dose=made["dose"],
            changes={"infusion_start": start, "infusion_end": end},
            reason="source: the infusion started at 08:00",
            expected_version=made["dose"].version,
        )

    after(enrol, blocks={block_a})
    after(dose, blocks={block_a})
    page = after(report, blocks={block_a})

    def f1_vomiting(page) -> int:
        """Subjects of the Q2W column group with a grade 3 vomiting TEAE (F1's)."""
        rows = [r for r in page.all_events.rows if r.term == "Vomiting"]  # E1's may be there
        return rows and page.all_events.cell("term", Q2W_2, GI, "Vomiting").by_grade[3] or 0

    assert f1_vomiting(page) == 0
    page = after(earlier_start, blocks={block_a})
    assert f1_vomiting(page) == 1
    nausea = page.all_events.cell("term", Q2W_2, GI, "Nausea")  # D1's and D2's, at site B
    assert (nausea.by_grade[1], nausea.by_grade[3], nausea.denominator) == (1, 1, 3)

    # In SQL: B1 moved to site B (the block it left and the one it joined), and the 0.1 mg/kg
    # cohort placed on 0.03 mg/kg (its subjects' blocks before and after).
    b1_before = _block(subjects["B1"])

    def move_b1():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Subject._meta.db_table} SET site_id = %s WHERE id = %s",
                [site_b.pk, subjects["B1"].pk],
            )

    after(move_b1, blocks={b1_before, (site_b.pk, *b1_before[1:])})
    c_cohort = subjects["C2"].cohort
    in_c = {s.site_id for s in Subject.objects.filter(cohort=c_cohort)}

    def relevel():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Cohort._meta.db_table} SET dose_level_id = %s WHERE id = %s",
                [subjects["B2"].cohort.dose_level_id, c_cohort.pk],
            )

    after(
        relevel,
        blocks={
            (site, c_cohort.track_id, level)
            for site in in_c
            for level in (c_cohort.dose_level_id, subjects["B2"].cohort.dose_level_id)
        },
    )


def test_the_filters_select_whole_blocks(
    client, monitor, site_a, site_b, hand_counted, monkeypatch
):
    """A site, track or dose level chosen selects whole blocks of the stored counts: the same
    table as counted for the request from the selection's own events."""
    from trial.models import EscalationTrack

    q3w = EscalationTrack.objects.get(study=site_a.study, code="Q3W-ESC")
    level = hand_counted["B1"].cohort.dose_level
    for params in ({"site": site_b.pk}, {"track": q3w.pk}, {"dose_level": level.pk}):
        stored = ae_page(client, monitor, **params)
        with monkeypatch.context() as patched:
            _use("per_subject", patched)
            counted = ae_page(client, monitor, **params)
        _assert_as_defined(stored, (counted.all_events, counted.related))
        assert stored.all_events.events_counted > 0


def test_database_connections_run_without_jit_on_postgresql():
    """The app's PostgreSQL connections turn JIT compilation off (config/settings.py,
    docs/operations.md §6); the tests' also commit without waiting for the disk. Both options
    reach the server. SQLite connections are given neither (it takes no such option)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        assert "options" not in settings.DATABASES["default"].get("OPTIONS", {})
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"


def test_the_csv_download_mirrors_the_table(client, monitor, hand_counted):
    client.force_login(monitor)
    response = client.get(reverse("monitoring:adverse_events"), {"format": "csv", "table": "teae"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["Row", "System organ class", "CTCAE term"]
    assert header[3] == "0.01 mg/kg Q3W (N=2) Any grade n"
    assert header[-1] == "Total (N=9) Grade \u2265 3 %"
    nausea = next(
        line for line in lines if line.startswith("term,Gastrointestinal disorders,Nausea")
    )
    cells = nausea.split(",")
    total = cells[3 + 4 * 14 :]  # the total group's 14 cells: n and % per grade column
    assert total == [
        "5",
        "55.6",
        "2",
        "22.2",
        "1",
        "11.1",
        "2",
        "22.2",
        "0",
        "0.0",
        "0",
        "0.0",
        "2",
        "22.2",
    ]
    related = client.get(
        reverse("monitoring:adverse_events"), {"format": "csv", "table": "teae_related"}
    )
    assert "Headache" not in related.content.decode()


def test_pure_table_same_term_twice_counts_once_at_the_worst_grade():
    from datetime import date

    group = tables.dose_group(regimen="Q3W", regimen_order=0, amount=1, unit="mg/kg")
    day = date(2026, 1, 10)
    population = [
        tables.Exposure(1, group, date(2026, 1, 1)),
        tables.Exposure(2, group, date(2026, 1, 1)),
        tables.Exposure(3, group, None),
    ]
    events = [
        tables.Event(1, "GI", "Nausea", 1, day),
        tables.Event(1, "GI", "Nausea", 3, day),
        tables.Event(1, "GI", "Nausea", 2, day),
        tables.Event(2, "GI", "Vomiting", 2, day),
        tables.Event(3, "GI", "Nausea", 4, day),  # never dosed
        tables.Event(2, "GI", "Nausea", 1, date(2025, 12, 31)),  # before the first dose
    ]
    table = tables.build_ae_table(population, events)
    nausea = table.cell("term", "total", "GI", "Nausea")
    assert (nausea.any, nausea.by_grade[3], nausea.denominator) == (1, 1, 2)
    gi = table.cell("soc", "total", "GI")
    assert (gi.any, gi.by_grade[3], gi.by_grade[2]) == (2, 1, 1)
    assert (table.events_counted, table.events_not_emergent, table.events_undosed) == (4, 1, 1)
    assert tables.format_cell(0, None) == "\u2014" and tables.format_cell(0, 0.0) == "0"
