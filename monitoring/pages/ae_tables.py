"""The treatment-emergent adverse event tables (all and related), by dose group."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Min, Q, Value, When

from accounts.scoping import restrict
from dosing.models import DoseAdministration
from monitoring import tables
from monitoring.models import AeTableCount, AeTableRecount
from safety.models import AdverseEvent, CtcaeTerm
from safety.selectors import first_dose_local
from subjects.models import Subject
from trial.models import Cohort, EscalationTrack, Site

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


# The table counted by the database, so that the page reads a row per term and column group
# whatever the number of events (docs/operations.md §6). `pair`: per subject and
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
#
# Counting every event on each request still grows with the study, so without an onset range the
# page reads stored counts instead (`counts_stored`): the same statement grouped by block (a
# site's subjects on one dose level of one track) instead of column group, kept in
# `AeTableCount` and summed into the selection's column groups at each request (STORED_SQL, a
# few thousand rows at most). A database trigger marks a block (`AeTableRecount`) in the
# transaction of any change to what it counts; the next request recounts the marked blocks
# (`recount_marked_blocks`) before it reads.
_BY_GRADE = ", ".join(
    f"SUM(CASE WHEN {worst} = {grade} THEN 1 ELSE 0 END)"
    for worst in ("worst", "worst_related")
    for grade in tables.GRADES
)
_NO_GRADES = ", ".join("0" for _worst in ("worst", "worst_related") for _grade in tables.GRADES)
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
# Each pair carries its subject's block (site, track, dose level) and column group (dose level,
# regimen): the statement groups by one or the other (`{{group}}`).
_PAIR_KEYS = "ev_site, ev_track, ev_level, ev_regimen"
PAIR_JOINED = f"""
ev AS ({{events}}), fd AS ({_FIRST_DOSES}),
pair AS (
    SELECT ev_term, ev_subject, {_PAIR_KEYS}, {_JOINED_COUNTS}
    FROM ev LEFT JOIN fd ON fd.fd_subject = ev.ev_subject
    GROUP BY ev_term, ev_subject, {_PAIR_KEYS}
)"""
PAIR_PER_SUBJECT = f"""
fd AS ({_FIRST_DOSES}), subj AS ({{subjects}}),
pair AS (
    SELECT ev_term, s_subject AS ev_subject, s_site AS ev_site, s_track AS ev_track,
        s_level AS ev_level, s_regimen AS ev_regimen,
        worst, worst_related, counted, not_emergent, undosed, counted_related,
        not_emergent_related, undosed_related
    FROM subj LEFT JOIN fd ON fd.fd_subject = subj.s_subject
    CROSS JOIN LATERAL (
        SELECT ev_term, {_PER_SUBJECT_COUNTS}
        FROM ({{events}}) AS ev WHERE ev.ev_subject = subj.s_subject
        GROUP BY ev_term
    ) AS per_term
)"""
# The table's rows per `{group}`: (kind, term, class, *group, subjects at each worst grade (all,
# then related), the events' fates (all, then related; on the `events` rows only)). The columns
# are those of `AeTableCount` after its block.
COUNTS_SQL = f"""
WITH {{pair}},
per_soc AS (
    SELECT term.{{soc}} AS soc, {{group}}, {_WORST}
    FROM pair JOIN {{terms}} AS term ON term.{{id}} = pair.ev_term
    WHERE worst IS NOT NULL GROUP BY term.{{soc}}, ev_subject, {{group}}
),
per_subject AS (
    SELECT {{group}}, {_WORST}
    FROM pair WHERE worst IS NOT NULL GROUP BY ev_subject, {{group}}
),
counted AS (
    SELECT 'term' AS kind, ev_term AS term_id, '' AS soc, {{group}}, {_BY_GRADE},
        0, 0, 0, 0, 0, 0
    FROM pair WHERE worst IS NOT NULL GROUP BY ev_term, {{group}}
    UNION ALL
    SELECT 'soc', NULL, soc, {{group}}, {_BY_GRADE}, 0, 0, 0, 0, 0, 0
    FROM per_soc GROUP BY soc, {{group}}
    UNION ALL
    SELECT 'any', NULL, '', {{group}}, {_BY_GRADE}, 0, 0, 0, 0, 0, 0
    FROM per_subject GROUP BY {{group}}
    UNION ALL
    SELECT 'events', NULL, '', {{group}}, {_NO_GRADES}, SUM(counted), SUM(not_emergent),
        SUM(undosed), SUM(counted_related), SUM(not_emergent_related), SUM(undosed_related)
    FROM pair GROUP BY {{group}}
)"""
BY_GROUP = "ev_level, ev_regimen"
BY_BLOCK = "ev_site, ev_track, ev_level"
# Counted for the request (an onset range, or SQLite's joined form on PostgreSQL in the tests):
# by column group, the names joined at the end.
WORST_GRADES_SQL = (
    COUNTS_SQL.replace("{group}", BY_GROUP)
    + """
SELECT counted.*, term.{soc}, term.{term}
FROM counted LEFT JOIN {terms} AS term ON term.{id} = counted.term_id
"""
)
_COUNT_COLUMNS = [
    *(f"grade_{g}" for g in tables.GRADES),
    *(f"related_grade_{g}" for g in tables.GRADES),
    "counted",
    "not_emergent",
    "undosed",
    "counted_related",
    "not_emergent_related",
    "undosed_related",
]
# Recounted blocks, stored (docs/operations.md §6), stamped with the rule that counted them.
RECOUNT_SQL = (
    "INSERT INTO {table} (rule, kind, term_id, soc, site_id, track_id, dose_level_id, "
    + ", ".join(_COUNT_COLUMNS)
    + ")\n"
    + COUNTS_SQL.replace("{group}", BY_BLOCK)
    + "\nSELECT '{rule}', counted.* FROM counted"
)
# The stored blocks of the selection summed into its column groups: the same rows as
# WORST_GRADES_SQL.
STORED_SQL = (
    "SELECT c.kind, c.term_id, c.soc, c.dose_level_id, track.regimen_id, "
    + ", ".join(f"SUM(c.{column})" for column in _COUNT_COLUMNS)
    + """, term.{soc}, term.{term}
FROM {table} AS c JOIN {tracks} AS track ON track.{id} = c.track_id
LEFT JOIN {terms} AS term ON term.{id} = c.term_id
WHERE (c.site_id, c.track_id, c.dose_level_id) IN ({blocks})
GROUP BY c.kind, c.term_id, c.soc, c.dose_level_id, track.regimen_id, term.{soc}, term.{term}
"""
)
# The counting rule's digest, stamped on each stored row: a release that changes how the table
# counts (the statement, the treatment-emergent condition in it, the assessments counted as
# related) recounts every block counted before it, at its study's next request.
COUNTING_RULE = hashlib.sha256(
    "\n".join([PAIR_PER_SUBJECT, PAIR_JOINED, COUNTS_SQL, *sorted(AdverseEvent.RELATED)]).encode()
).hexdigest()[:16]
# Recounts of a study run one at a time (a transaction-level advisory lock on the study: two at
# once could each replace a block's rows unseen by the other, and count it twice); writers never
# take it; the triggers of changes that move subjects between blocks hold it until they commit
# (monitoring/migrations/0002). The first key names the lock's use, the second is the study.
RECOUNT_LOCK = 0x41455442  # "AETB", 1095062594 in the triggers
# The study's marks, by the subject's study or the block's site's.
_STUDY_MARKS = """
    SELECT mark.{id} FROM {recount} AS mark JOIN {subjects} AS s ON s.{id} = mark.subject_id
    WHERE s.study_id = %(study)s
    UNION ALL
    SELECT mark.{id} FROM {recount} AS mark JOIN {sites} AS site ON site.{id} = mark.site_id
    WHERE site.study_id = %(study)s"""
# The study's stored rows counted by another rule (before a release changed it).
_OTHER_RULE = """
    SELECT c.site_id, c.track_id, c.dose_level_id FROM {table} AS c
    JOIN {sites} AS site ON site.{id} = c.site_id
    WHERE site.study_id = %(study)s AND c.rule <> %(rule)s"""
# Anything to recount in the study? (One query per request; none in the steady state.)
PENDING_SQL = f"SELECT EXISTS ({_STUDY_MARKS}) OR EXISTS ({_OTHER_RULE})"
# Take the study's marks this statement sees (committed ones; a mark committing meanwhile is left
# for the next recount) and the blocks to recount: those named, the blocks the marked subjects
# are in now (in this statement's snapshot), and those counted by another rule.
CLAIM_SQL = f"""
WITH taken AS (
    DELETE FROM {{recount}} WHERE {{id}} IN ({_STUDY_MARKS})
    RETURNING subject_id, site_id, track_id, dose_level_id
)
SELECT site_id, track_id, dose_level_id FROM taken WHERE subject_id IS NULL
UNION
SELECT s.site_id, c.track_id, c.dose_level_id
FROM taken JOIN {{subjects}} AS s ON s.{{id}} = taken.subject_id
JOIN {{cohorts}} AS c ON c.{{id}} = s.cohort_id
UNION
{_OTHER_RULE}"""


def counted_in_database(vendor: str) -> bool:
    """Does the database count the table (WORST_GRADES_SQL)? PostgreSQL does; SQLite, which
    cannot convert the first infusion's start to the site's local time in SQL, does not: there
    the page counts event by event with `tables.build_ae_table`."""
    return vendor == "postgresql"


def per_subject_supported(vendor: str) -> bool:
    """Does the database run PAIR_PER_SUBJECT (LATERAL)? PostgreSQL does; SQLite does not."""
    return vendor == "postgresql"


def counts_stored(vendor: str, scope: Scope) -> bool:
    """Does the page read the stored block counts (`AeTableCount`, docs/operations.md §6)? On
    PostgreSQL without an onset range; an onset range selects events, which the blocks do not
    keep apart, so the page counts the range's events for the request."""
    return vendor == "postgresql" and not (scope.date_from or scope.date_to)


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


def _pair(subjects, events) -> tuple[str, list]:
    """The `pair` rows (per subject and term) of `subjects` (a queryset of enrolled subjects)
    counting `events` (a queryset of their adverse events): SQL and parameters."""
    events = events.values(
        ev_subject=F("subject_id"),
        ev_site=F("subject__site_id"),
        ev_track=F("subject__cohort__track_id"),
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
        DoseAdministration.objects.filter(subject__in=subjects.values("pk"))
        .order_by()
        .values(fd_subject=F("subject_id"), fd_tz=F("subject__site__timezone"))
        .annotate(fd_first=Min("administered_on"), fd_start=Min("infusion_start"))
    )
    events_sql, events_params = events.query.sql_with_params()
    doses_sql, doses_params = first_doses.query.sql_with_params()
    if not per_subject_supported(connection.vendor):
        pair = PAIR_JOINED.format(events=events_sql, first_doses=doses_sql)
        return pair, [*events_params, *doses_params]
    subjects_sql, subjects_params = (
        subjects.order_by()
        .values(
            s_subject=F("pk"),
            s_site=F("site_id"),
            s_track=F("cohort__track_id"),
            s_level=F("cohort__dose_level_id"),
            s_regimen=F("cohort__track__regimen_id"),
        )
        .query.sql_with_params()
    )
    pair = PAIR_PER_SUBJECT.format(first_doses=doses_sql, subjects=subjects_sql, events=events_sql)
    return pair, [*doses_params, *subjects_params, *events_params]


def _names() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "terms": quote(CtcaeTerm._meta.db_table),
        "id": quote(CtcaeTerm._meta.pk.column),
        "soc": quote(CtcaeTerm._meta.get_field("soc").column),
        "term": quote(CtcaeTerm._meta.get_field("term").column),
        "table": quote(AeTableCount._meta.db_table),
        "tracks": quote(EscalationTrack._meta.db_table),
        "recount": quote(AeTableRecount._meta.db_table),
        "sites": quote(Site._meta.db_table),
        "subjects": quote(Subject._meta.db_table),
        "cohorts": quote(Cohort._meta.db_table),
    }


def recount_marked_blocks(study_id: int) -> int:
    """Recount the study's blocks that changed since they were counted (marked, or counted by
    another rule) and store their rows; the number of blocks recounted. One query when there is
    none. In one transaction, one recount of a study at a time: the marks are taken and their
    blocks' rows replaced together, so every committed change is either counted or still marked
    (docs/operations.md §6)."""
    names = _names()
    keys = {"study": study_id, "rule": COUNTING_RULE}
    with connection.cursor() as cursor:
        cursor.execute(PENDING_SQL.format(**names), keys)
        if not cursor.fetchone()[0]:
            return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s::int, %s::int)", [RECOUNT_LOCK, study_id])
        cursor.execute(CLAIM_SQL.format(**names), keys)
        blocks = sorted(cursor.fetchall())
        if not blocks:  # a recount that held the lock took them, and has committed its counts
            return 0
        values = ", ".join(["(%s, %s, %s)"] * len(blocks))
        flat = [key for block in blocks for key in block]
        cursor.execute(
            f"DELETE FROM {names['table']} "
            f"WHERE (site_id, track_id, dose_level_id) IN (VALUES {values})",
            flat,
        )
        in_blocks = Q(pk__in=[])
        for site_id, track_id, level_id in blocks:
            in_blocks |= Q(
                site_id=site_id, cohort__track_id=track_id, cohort__dose_level_id=level_id
            )
        # The subjects `scoped_subjects` gives the page: of the study, enrolled, not voided.
        subjects = Subject.objects.filter(in_blocks, study_id=study_id, cohort__isnull=False)
        events = AdverseEvent.objects.filter(subject__in=subjects.values("pk")).order_by()
        pair, params = _pair(subjects, events)
        cursor.execute(RECOUNT_SQL.format(pair=pair, rule=COUNTING_RULE, **names), params)
    return len(blocks)


def _decode(rows, groups) -> tuple[_Counted, _Counted]:
    """(all TEAEs, related TEAEs) from the statement's rows (WORST_GRADES_SQL, STORED_SQL)."""
    every, related = _Counted(), _Counted()
    width = len(tables.GRADES)
    for kind, _term_id, soc, level_id, regimen_id, *numbers, term_soc, term in rows:
        if kind == "events":
            for counted, fates in ((every, numbers[2 * width :][:3]), (related, numbers[-3:])):
                counted.counted += int(fates[0] or 0)
                counted.not_emergent += int(fates[1] or 0)
                counted.undosed += int(fates[2] or 0)
            continue
        group = groups[(level_id, regimen_id)]
        soc = term_soc if kind == "term" else soc
        for counted, by_grade in ((every, numbers[:width]), (related, numbers[width : 2 * width])):
            counted.worst.extend(
                tables.WorstGrade(kind, soc, term or "", group, grade, int(n))
                for grade, n in zip(tables.GRADES, by_grade, strict=True)
                if n
            )
    return every, related


def _worst_grades(user, scope: Scope, subjects, groups) -> tuple[_Counted, _Counted]:
    """(all TEAEs, related TEAEs): the subjects at each worst grade, and the events' fates,
    counted for this request. `groups`: the column group of each (dose level, regimen)."""
    pair, params = _pair(subjects, _events(user, scope, subjects))
    with connection.cursor() as cursor:
        cursor.execute(WORST_GRADES_SQL.format(pair=pair, **_names()), params)
        return _decode(cursor.fetchall(), groups)


def _stored_worst_grades(scope: Scope, subjects, groups) -> tuple[_Counted, _Counted]:
    """As `_worst_grades`, from the stored counts of the blocks the selection's subjects are
    in (each of the user's sites, tracks and dose levels chosen), recounting marked ones first.
    A block is one site's subjects on one dose level of one track, so the filters (site, track,
    dose level) and the user's sites select whole blocks. The marked blocks are recounted
    before (`ae_tables`)."""
    blocks_sql, blocks_params = (
        subjects.order_by()
        .values_list("site_id", "cohort__track_id", "cohort__dose_level_id")
        .distinct()
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(STORED_SQL.format(blocks=blocks_sql, **_names()), blocks_params)
        return _decode(cursor.fetchall(), groups)


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
    stored = counts_stored(connection.vendor, scope)
    if stored:
        # Before the population is read, so that the two reads stay a moment apart (a subject
        # enrolled between them could bring a column group the population does not have).
        recount_marked_blocks(scope.study.pk)
    population, groups = _population(user, scope)
    subjects = scoped_subjects(user, scope)
    if not counted_in_database(connection.vendor):
        events = _event_by_event(user, scope, subjects)
        return AeTablesPage(
            all_events=tables.build_ae_table(population, events),
            related=tables.build_ae_table(population, events, related_only=True),
            related_only=related_only,
        )
    if stored:
        every, related = _stored_worst_grades(scope, subjects, groups)
    else:
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
