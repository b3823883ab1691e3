"""The treatment-emergent adverse event tables (all and related), by dose group."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, F, IntegerField, Min, Q, Value, When

from accounts.scoping import restrict
from dosing.models import DoseAdministration
from monitoring import tables
from safety.models import AdverseEvent, CtcaeTerm
from safety.selectors import first_dose_local

from .scope import (
    Scope,
    regimen_order,
    scoped_subjects,
)


def _population(user, scope: Scope):
    """Each subject of the filters with their column group and first (non-voided) dose, its day
    and the minute its infusion started at the site; and the column group of each (dose level,
    regimen)."""
    active = Q(dose_administrations__voided_at__isnull=True)
    rows = (
        scoped_subjects(user, scope)
        .select_related(None)
        .annotate(
            first_dose=Min("dose_administrations__administered_on", filter=active),
            first_start=Min("dose_administrations__infusion_start", filter=active),
        )
        .values(
            "pk",
            "cohort__dose_level_id",
            "first_dose",
            "first_start",
            "site__timezone",
            "cohort__dose_level__amount",
            "cohort__dose_level__unit",
            "cohort__track__regimen_id",
            "cohort__track__regimen__code",
        )
    )
    order = regimen_order(scope.tracks)
    population, groups = [], {}
    for row in rows:
        group = tables.dose_group(
            regimen=row["cohort__track__regimen__code"],
            regimen_order=order.get(row["cohort__track__regimen_id"], 99),
            amount=row["cohort__dose_level__amount"],
            unit=row["cohort__dose_level__unit"],
        )
        groups[(row["cohort__dose_level_id"], row["cohort__track__regimen_id"])] = group
        _day, minute = first_dose_local(row["first_start"], row["site__timezone"])
        population.append(
            tables.Exposure(
                subject_id=row["pk"],
                group=group,
                first_dose=row["first_dose"],
                first_dose_time=minute,
            )
        )
    return population, groups


# The table counted by the database in one statement, so that the page reads a row per term and
# column group whatever the number of events (docs/operations.md §6). `pair`: per subject and
# term, the worst grade of the treatment-emergent events (`_TEAE`, docs/safety.md §3), of the
# related ones (NULL without one), and the events by what the table does with them (counted, not
# treatment-emergent, subject never dosed), all and related. Then, per row of the table (term,
# system organ class, any event) and column group (a dose level on a regimen), the subjects at
# each worst grade, all then related; and one row of the events' totals. Grouped on integers, the
# names joined at the end.
#
# PostgreSQL only: the rule compares the onset time with the first infusion's start in the site's
# local time, and SQLite has no conversion to a named time zone in SQL. On SQLite (the demo of
# `make run`) the page counts event by event with the definition instead (`counted_in_database`).
#
# `pair` is made one of two ways, the same rows either way (a test runs both):
# - PAIR_JOINED: `ev`, the events of the filters with their subject's column group, joined to
#   `fd`, each subject's first dose (none: never dosed), and grouped. PostgreSQL reads every
#   event, then sorts or hashes them all on (term, subject) (0.5 s at 100,000 events on a 2-vCPU
#   machine; the sort spills to disk).
# - PAIR_PER_SUBJECT (LATERAL): for each subject of the filters (`subj`, with its column group and
#   first dose), its events grouped by term. With the covering index on the events (subject, term,
#   grade, onset date, relationship, onset time, baseline grade; safety/migrations/0010) each
#   subject's events are a range of the index read without the table (an index-only scan) and
#   grouped in memory on the subject's few terms: no sort or hash of every event of the study,
#   nothing spilled to disk. What is left grows with the (subject, term) pairs, at most subjects x
#   terms.
_BY_GRADE = ", ".join(
    f"SUM(CASE WHEN {worst} = {grade} THEN 1 ELSE 0 END)"
    for worst in ("worst", "worst_related")
    for grade in tables.GRADES
)
_WORST = "MAX(worst) AS worst, MAX(worst_related) AS worst_related"
# `fd`: each dosed subject's first dose: its day at the site (`fd_first`, administered_on) and the
# minute its infusion started there (`fd_time`), as `safety.selectors.first_dose_local` gives it
# to the rule. The earliest start is the first dose's: a subject's doses are at one site.
_FIRST_DOSES = """SELECT fd_subject, fd_first,
        CAST(date_trunc('minute', fd_start AT TIME ZONE fd_tz) AS time) AS fd_time
    FROM ({first_doses}) AS dose"""
# `safety.rules.treatment_emergence` in SQL (docs/safety.md §3): onset after the first dose day,
# or on it and not before the infusion started (an unknown time on either side counts); and, with
# a baseline grade, worse than it. NULL when never dosed.
_TEAE = """(ev_onset > fd_first OR (ev_onset = fd_first
            AND (ev_time IS NULL OR fd_time IS NULL OR ev_time >= fd_time)))
        AND (ev_baseline IS NULL OR ev_grade > ev_baseline)"""
_PAIR_COUNTS = f"""
        MAX(CASE WHEN {_TEAE} THEN ev_grade END) AS worst,
        MAX(CASE WHEN {_TEAE} AND ev_related = 1 THEN ev_grade END) AS worst_related,
        SUM(CASE WHEN {_TEAE} THEN 1 ELSE 0 END) AS counted,
        SUM(CASE WHEN {_TEAE} THEN 0 WHEN fd_first IS NOT NULL THEN 1 ELSE 0 END) AS not_emergent,
        {{undosed}} AS undosed,
        SUM(CASE WHEN {_TEAE} THEN ev_related ELSE 0 END) AS counted_related,
        SUM(CASE WHEN {_TEAE} THEN 0 WHEN fd_first IS NOT NULL THEN ev_related ELSE 0 END)
            AS not_emergent_related,
        {{undosed_related}} AS undosed_related"""
_JOINED_COUNTS = _PAIR_COUNTS.format(
    undosed="SUM(CASE WHEN fd_first IS NULL THEN 1 ELSE 0 END)",
    undosed_related="SUM(CASE WHEN fd_first IS NULL THEN ev_related ELSE 0 END)",
)
# In the LATERAL subquery `fd_first` is the subject's, a constant: an aggregate of it alone would
# be the outer query's, so the never-dosed counts are the group's counts when it is NULL.
_PER_SUBJECT_COUNTS = _PAIR_COUNTS.format(
    undosed="CASE WHEN fd_first IS NULL THEN COUNT(*) ELSE 0 END",
    undosed_related="CASE WHEN fd_first IS NULL THEN SUM(ev_related) ELSE 0 END",
)
PAIR_JOINED = f"""
ev AS ({{events}}), fd AS ({_FIRST_DOSES}),
pair AS (
    SELECT ev_term, ev_subject, ev_level, ev_regimen, {_JOINED_COUNTS}
    FROM ev LEFT JOIN fd ON fd.fd_subject = ev.ev_subject
    GROUP BY ev_term, ev_subject, ev_level, ev_regimen
)"""
PAIR_PER_SUBJECT = f"""
fd AS ({_FIRST_DOSES}), subj AS ({{subjects}}),
pair AS (
    SELECT ev_term, s_subject AS ev_subject, s_level AS ev_level, s_regimen AS ev_regimen,
        worst, worst_related, counted, not_emergent, undosed, counted_related,
        not_emergent_related, undosed_related
    FROM subj LEFT JOIN fd ON fd.fd_subject = subj.s_subject
    CROSS JOIN LATERAL (
        SELECT ev_term, {_PER_SUBJECT_COUNTS}
        FROM ({{events}}) AS ev WHERE ev.ev_subject = subj.s_subject
        GROUP BY ev_term
    ) AS per_term
)"""
WORST_GRADES_SQL = f"""
WITH {{pair}},
per_soc AS (
    SELECT term.{{soc}} AS soc, ev_level, ev_regimen, {_WORST}
    FROM pair JOIN {{terms}} AS term ON term.{{id}} = pair.ev_term
    WHERE worst IS NOT NULL GROUP BY term.{{soc}}, ev_subject, ev_level, ev_regimen
),
per_subject AS (
    SELECT ev_level, ev_regimen, {_WORST}
    FROM pair WHERE worst IS NOT NULL GROUP BY ev_subject, ev_level, ev_regimen
),
counted AS (
    SELECT 'term' AS lvl, ev_term AS term_id, '' AS soc, ev_level, ev_regimen, {_BY_GRADE}
    FROM pair WHERE worst IS NOT NULL GROUP BY ev_term, ev_level, ev_regimen
    UNION ALL
    SELECT 'soc', NULL, soc, ev_level, ev_regimen, {_BY_GRADE}
    FROM per_soc GROUP BY soc, ev_level, ev_regimen
    UNION ALL
    SELECT 'any', NULL, '', ev_level, ev_regimen, {_BY_GRADE}
    FROM per_subject GROUP BY ev_level, ev_regimen
    UNION ALL
    SELECT 'events', NULL, '', NULL, NULL, SUM(counted), SUM(not_emergent), SUM(undosed), 0, 0,
        SUM(counted_related), SUM(not_emergent_related), SUM(undosed_related), 0, 0
    FROM pair
)
SELECT counted.*, term.{{soc}}, term.{{term}}
FROM counted LEFT JOIN {{terms}} AS term ON term.{{id}} = counted.term_id
"""


def counted_in_database(vendor: str) -> bool:
    """Does the database count the table (WORST_GRADES_SQL)? PostgreSQL does; SQLite, which
    cannot convert the first infusion's start to the site's local time in SQL, does not: there
    the page counts event by event with `tables.build_ae_table`."""
    return vendor == "postgresql"


def per_subject_supported(vendor: str) -> bool:
    """Does the database run PAIR_PER_SUBJECT (LATERAL)? PostgreSQL does; SQLite does not."""
    return vendor == "postgresql"


@dataclass
class _Counted:
    worst: list[tables.WorstGrade] = field(default_factory=list)
    counted: int = 0
    not_emergent: int = 0
    undosed: int = 0


def _events(user, scope: Scope, subjects):
    """The adverse events the tables count: of the subjects of the filters, within the onset
    range."""
    events = restrict(AdverseEvent.objects.filter(subject__in=subjects.values("pk")), user)
    if scope.date_from:
        events = events.filter(onset_date__gte=scope.date_from)
    if scope.date_to:
        events = events.filter(onset_date__lte=scope.date_to)
    return events.order_by()


def _event_by_event(user, scope: Scope, subjects) -> list[tables.Event]:
    """The events as the definition reads them (SQLite, see `counted_in_database`): one query."""
    rows = _events(user, scope, subjects).values_list(
        "subject_id",
        "ctcae_term__soc",
        "ctcae_term__term",
        "grade",
        "onset_date",
        "relationship",
        "onset_time",
        "baseline_grade",
    )
    return [
        tables.Event(
            subject_id=subject_id,
            soc=soc,
            term=term,
            grade=grade,
            onset=onset,
            related=relationship in AdverseEvent.RELATED,
            onset_time=onset_time,
            baseline_grade=baseline_grade,
        )
        for subject_id, soc, term, grade, onset, relationship, onset_time, baseline_grade in rows
    ]


def _worst_grades(user, scope: Scope, subjects, groups) -> tuple[_Counted, _Counted]:
    """(all TEAEs, related TEAEs): the subjects at each worst grade, and the events' fates.
    `groups`: the column group of each (dose level, regimen)."""
    in_scope = subjects.values("pk")
    events = _events(user, scope, subjects).values(
        ev_subject=F("subject_id"),
        ev_level=F("subject__cohort__dose_level_id"),
        ev_regimen=F("subject__cohort__track__regimen_id"),
        ev_term=F("ctcae_term_id"),
        ev_grade=F("grade"),
        ev_onset=F("onset_date"),
        ev_time=F("onset_time"),
        ev_baseline=F("baseline_grade"),
        ev_related=Case(
            When(relationship__in=AdverseEvent.RELATED, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
    )
    first_doses = (
        DoseAdministration.objects.filter(subject__in=in_scope)
        .order_by()
        .values(fd_subject=F("subject_id"), fd_tz=F("subject__site__timezone"))
        .annotate(fd_first=Min("administered_on"), fd_start=Min("infusion_start"))
    )
    events_sql, events_params = events.query.sql_with_params()
    doses_sql, doses_params = first_doses.query.sql_with_params()
    if per_subject_supported(connection.vendor):
        subjects_sql, subjects_params = (
            subjects.order_by()
            .values(
                s_subject=F("pk"),
                s_level=F("cohort__dose_level_id"),
                s_regimen=F("cohort__track__regimen_id"),
            )
            .query.sql_with_params()
        )
        pair = PAIR_PER_SUBJECT.format(
            first_doses=doses_sql, subjects=subjects_sql, events=events_sql
        )
        params = [*doses_params, *subjects_params, *events_params]
    else:
        pair = PAIR_JOINED.format(events=events_sql, first_doses=doses_sql)
        params = [*events_params, *doses_params]
    quote = connection.ops.quote_name
    sql = WORST_GRADES_SQL.format(
        pair=pair,
        terms=quote(CtcaeTerm._meta.db_table),
        id=quote(CtcaeTerm._meta.pk.column),
        soc=quote(CtcaeTerm._meta.get_field("soc").column),
        term=quote(CtcaeTerm._meta.get_field("term").column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    every, related = _Counted(), _Counted()
    width = len(tables.GRADES)
    for level, _term_id, soc, level_id, regimen_id, *numbers, term_soc, term in rows:
        if level == "events":
            for counted, fates in ((every, numbers[:3]), (related, numbers[width : width + 3])):
                counted.counted, counted.not_emergent, counted.undosed = (
                    int(n or 0) for n in fates
                )
            continue
        group = groups[(level_id, regimen_id)]
        soc = term_soc if level == "term" else soc
        for counted, by_grade in ((every, numbers[:width]), (related, numbers[width:])):
            counted.worst.extend(
                tables.WorstGrade(level, soc, term or "", group, grade, int(n))
                for grade, n in zip(tables.GRADES, by_grade, strict=True)
                if n
            )
    return every, related


@dataclass
class AeTablesPage:
    all_events: tables.AeTable
    related: tables.AeTable
    related_only: bool

    @property
    def table(self) -> tables.AeTable:
        return self.related if self.related_only else self.all_events

    def csv(self, table: str):
        chosen = {"teae": self.all_events, "teae_related": self.related}[table]
        return tables.ae_table_csv(chosen)


def ae_tables(user, scope: Scope, *, related_only: bool = False) -> AeTablesPage:
    """Both tables (all TEAEs, related TEAEs) from one read of the population and one count of
    the events in the database (on SQLite, one read of the events, counted by the definition)."""
    population, groups = _population(user, scope)
    subjects = scoped_subjects(user, scope)
    if not counted_in_database(connection.vendor):
        events = _event_by_event(user, scope, subjects)
        return AeTablesPage(
            all_events=tables.build_ae_table(population, events),
            related=tables.build_ae_table(population, events, related_only=True),
            related_only=related_only,
        )
    every, related = _worst_grades(user, scope, subjects, groups)

    def table(counted: _Counted, related_only: bool) -> tables.AeTable:
        return tables.ae_table_of(
            population,
            counted.worst,
            related_only=related_only,
            events_counted=counted.counted,
            events_not_emergent=counted.not_emergent,
            events_undosed=counted.undosed,
        )

    return AeTablesPage(
        all_events=table(every, False),
        related=table(related, True),
        related_only=related_only,
    )
