"""The AE table's counts, kept by the database between requests (docs/operations.md §6).

Derived data, not clinical data: every row can be recounted from the adverse events, doses and
subjects, and is deleted and recounted whenever they change. No history, no signatures. Their
references are not foreign-key constraints in the database: a constraint's check would lock the
site, track, dose level or term row (FOR KEY SHARE) from inside a recount or a trigger, and the
rows they name are never deleted.
"""

from django.db import models


def _reference(to: str, *, null: bool = False) -> models.ForeignKey:
    """A reference to a row the counts are about: no reverse accessor, no constraint (see the
    module's docstring), and nothing done when that row goes (it never does)."""
    return models.ForeignKey(
        to, null=null, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )


class AeTableCount(models.Model):
    """One row of the AE table (`kind`: any TEAE, a system organ class or a CTCAE term; or the
    row of the events' fates, `events`) counted over one block: the enrolled subjects of one site
    on one dose level of one track. A subject is in one block, so the table of any selection of
    sites, tracks and dose levels is the sum of its blocks' rows.

    `grade_N`: subjects whose worst treatment-emergent grade on the row is N (`related_grade_N`:
    of the related events). `counted`, `not_emergent`, `undosed` (and their related twins): the
    block's events counted, left out as not treatment-emergent, left out as of subjects never
    dosed; set on the `events` row only."""

    class Kind(models.TextChoices):
        ANY = "any", "Any TEAE"
        SOC = "soc", "System organ class"
        TERM = "term", "CTCAE term"
        EVENTS = "events", "Events' fates"

    site = _reference("trial.Site")
    track = _reference("trial.EscalationTrack")
    dose_level = _reference("trial.DoseLevel")
    # What counted the row: a digest of the counting statement and of the assessments counted as
    # related (`ae_tables.COUNTING_RULE`). A row counted by other code (before a release changed
    # the rule) is recounted at the next request.
    rule = models.CharField(max_length=16)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    term = _reference("safety.CtcaeTerm", null=True)
    soc = models.CharField(max_length=200, blank=True)
    grade_1 = models.IntegerField(default=0)
    grade_2 = models.IntegerField(default=0)
    grade_3 = models.IntegerField(default=0)
    grade_4 = models.IntegerField(default=0)
    grade_5 = models.IntegerField(default=0)
    related_grade_1 = models.IntegerField(default=0)
    related_grade_2 = models.IntegerField(default=0)
    related_grade_3 = models.IntegerField(default=0)
    related_grade_4 = models.IntegerField(default=0)
    related_grade_5 = models.IntegerField(default=0)
    counted = models.IntegerField(default=0)
    not_emergent = models.IntegerField(default=0)
    undosed = models.IntegerField(default=0)
    counted_related = models.IntegerField(default=0)
    not_emergent_related = models.IntegerField(default=0)
    undosed_related = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["site", "track", "dose_level"], name="ae_table_count_block_idx")
        ]
        # One row per block and table row: a recount that ran twice over a block would fail here
        # rather than count its subjects twice.
        constraints = [
            models.UniqueConstraint(
                fields=["site", "track", "dose_level", "kind", "term"],
                condition=models.Q(term__isnull=False),
                name="ae_table_count_one_term_row",
            ),
            models.UniqueConstraint(
                fields=["site", "track", "dose_level", "kind", "soc"],
                condition=models.Q(term__isnull=True),
                name="ae_table_count_one_row",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.term_id or self.soc} site {self.site_id} level {self.dose_level_id}"
        )


class AeTableRecount(models.Model):
    """A change to what the AE table counts, not counted yet. Database triggers add marks in the
    transaction of the change, new rows each time (a writer waits neither for another writer nor
    for a recount; monitoring/migrations/0002): the subject whose adverse event, dose, study,
    site, cohort or voiding changed, or whose site's time zone, cohort's dose level or event's
    term's class changed; and, when a subject leaves a block, that block (site, track, dose
    level). The next AE table request of the study takes the marks it sees, finds the subjects'
    blocks as they are then, and recounts those blocks, in one transaction (docs/operations.md
    §6)."""

    subject = _reference("subjects.Subject", null=True)
    site = _reference("trial.Site", null=True)
    track = _reference("trial.EscalationTrack", null=True)
    dose_level = _reference("trial.DoseLevel", null=True)

    def __str__(self) -> str:
        if self.subject_id is not None:
            return f"recount subject {self.subject_id}"
        return f"recount site {self.site_id} track {self.track_id} level {self.dose_level_id}"
