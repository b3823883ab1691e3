"""A study at scale, built fast (docs/operations.md §6): sites, subjects enrolled in cohorts of
three over the escalation tracks, doses on schedule and adverse events, for measuring pages,
exports and evaluations at the size of a large multi-site study.

Rows are written with `bulk_create`, not through the services (validating and auditing 100,000
adverse events one by one takes most of an hour); every row still satisfies the database's
constraints, and each gets its audit history row ("+", created, by the given user, with the
reason "Generated study at scale") through django-simple-history's `bulk_history_create`, so the
history pages and the audit trail are the same shape as for entered data. Deterministic for a
seed. Never for a study with real data: the command refuses a study that has subjects not made
here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from dosing.models import DoseAdministration
from safety.models import AdverseEvent, CtcaeTerm
from subjects.models import Subject
from trial.models import Cohort, DoseLevel, EscalationTrack, Site, Study

REASON = "Generated study at scale"
PREFIX = "GEN-"
RELATIONSHIPS = ["not_related", "unlikely", "possible", "probable", "definite"]
BATCH = 5000


@dataclass
class Generated:
    sites: int
    subjects: int
    doses: int
    adverse_events: int


class RefusedError(Exception):
    pass


def _history(model, rows, user) -> None:
    for start in range(0, len(rows), BATCH):
        model.history.bulk_history_create(
            rows[start : start + BATCH], default_user=user, default_change_reason=REASON
        )


def _insert(model, rows, user) -> list:
    saved = []
    for start in range(0, len(rows), BATCH):
        saved += model.objects.bulk_create(rows[start : start + BATCH])
    _history(model, saved, user)
    return saved


@transaction.atomic
def generate(
    study: Study, user, *, subjects: int, doses: int, adverse_events: int, sites: int = 6,
    seed: int = 97,
) -> Generated:  # fmt: skip
    """Sites, `subjects` enrolled subjects, `doses` doses and `adverse_events` AEs."""
    if Subject.all_objects.filter(study=study).exclude(screening_number__startswith=PREFIX):
        raise RefusedError(f"{study} has subjects not generated here: generate into a new study")
    rng = random.Random(seed)
    today = timezone.now().date()
    levels = list(DoseLevel.objects.filter(study=study, number__isnull=False).order_by("amount"))
    tracks = list(
        EscalationTrack.objects.filter(study=study, phase=EscalationTrack.Phase.ESCALATION)
        .select_related("regimen")
        .order_by("pk")
    )
    for track in tracks:
        if track.status == EscalationTrack.Status.PLANNED:
            track.status = EscalationTrack.Status.ACTIVE
            track.lowest_dose_level, track.highest_dose_level = levels[0], levels[-1]
            track._change_reason = REASON
            track.save()
    n_cohorts = -(-subjects // 3)
    per_subject = -(-doses // subjects) if subjects else 0
    longest = max(t.regimen.cycle_length_days for t in tracks)
    start = today - timedelta(days=3 * n_cohorts + per_subject * longest + 30)
    made_sites = _insert(
        Site,
        [
            Site(
                study=study,
                number=f"9{n:02d}",
                name=f"Generated site {n + 1}",
                country="US",
                timezone="America/New_York",
                principal_investigator="PI",
                is_active=True,
                activated_on=start - timedelta(days=30),
            )
            for n in range(sites)
        ],
        user,
    )
    first_number = (
        Cohort.objects.filter(study=study).order_by("-number").first() or Cohort()
    ).number
    cohorts = []
    for i in range(n_cohorts):
        track = tracks[i % len(tracks)]
        opened = datetime.combine(start + timedelta(days=3 * i), time(12), UTC)
        cohorts.append(
            Cohort(
                study=study,
                track=track,
                number=(first_number or 0) + 1 + i,
                dose_level=levels[min(i // (2 * len(tracks)), len(levels) - 1)],
                planned_size=3,
                status=Cohort.Status.CLOSED,
                opened_at=opened,
                closed_at=opened + timedelta(days=2),
            )
        )
    cohorts = _insert(Cohort, cohorts, user)
    rows = []
    for n in range(subjects):
        cohort, site = cohorts[n // 3], made_sites[n % len(made_sites)]
        enrolled = cohort.opened_at.date() + timedelta(days=1)
        rows.append(
            Subject(
                study=study,
                site=site,
                screening_number=f"{PREFIX}{n:06d}",
                subject_number=f"{site.number}-{n:05d}",
                sex=rng.choice("FM"),
                year_of_birth=rng.randint(1945, 1995),
                screening_date=enrolled - timedelta(days=7),
                consent_date=enrolled - timedelta(days=7),
                consent_version="v1.0",
                eligibility_outcome=Subject.Eligibility.ELIGIBLE,
                eligibility_assessed_on=enrolled - timedelta(days=6),
                enrollment_date=enrolled,
                cohort=cohort,
                status=Subject.Status.ENROLLED,
                created_by=user,
            )
        )
    made_subjects = _insert(Subject, rows, user)
    cohort_of = {c.pk: c for c in cohorts}

    # Doses: each subject's cycles in turn (Day 1 of each cycle), until `doses` are recorded.
    rows, last_dose = [], {}
    for cycle in range(1, per_subject + 1):
        for subject in made_subjects:
            if len(rows) == doses:
                break
            cohort = cohort_of[subject.cohort_id]
            regimen = cohort.track.regimen
            on = subject.enrollment_date + timedelta(
                days=1 + (cycle - 1) * regimen.cycle_length_days
            )
            begin = datetime.combine(on, time(14), UTC)
            amount = cohort.dose_level.amount
            last_dose[subject.pk] = on
            rows.append(
                DoseAdministration(
                    subject=subject,
                    cohort=cohort,
                    cycle=cycle,
                    day=1,
                    planned_dose_level=cohort.dose_level,
                    planned_dose_per_kg=amount,
                    actual_dose_per_kg=amount,
                    body_weight_kg=Decimal("70.0"),
                    total_dose_mg=(amount * Decimal("70")).quantize(Decimal("0.001")),
                    administered_on=on,
                    infusion_start=begin,
                    infusion_end=begin + timedelta(minutes=90),
                    lot_number="LOT-GEN",
                    created_by=user,
                )
            )
    made_doses = _insert(DoseAdministration, rows, user)
    add_adverse_events(made_subjects, user, adverse_events, last_dose=last_dose, seed=seed)
    return Generated(len(made_sites), len(made_subjects), len(made_doses), adverse_events)


def add_adverse_events(
    subjects: list[Subject], user, count: int, *, last_dose: dict | None = None, seed: int = 97
) -> int:
    """`count` adverse events spread over the subjects (mostly grade 1-2, a few grade 3-4 and
    serious; none called a DLT, so the escalation decisions stay those of the doses)."""
    rng = random.Random(seed + count)
    terms = [t for t in CtcaeTerm.objects.all() if 1 in t.grades and 2 in t.grades]
    if not terms:
        raise RefusedError("load the CTCAE dictionary first (manage.py import_ctcae)")
    today = timezone.now().date()
    rows = []
    for n in range(count):
        subject = subjects[n % len(subjects)]
        first = subject.enrollment_date + timedelta(days=1)
        last = (last_dose or {}).get(subject.pk, first) + timedelta(days=20)
        onset = min(first + timedelta(days=rng.randint(0, max(0, (last - first).days))), today)
        term = terms[rng.randrange(len(terms))]
        grade = rng.choices([1, 2, 3, 4], weights=[60, 32, 7, 1])[0]
        grade = grade if grade in term.grades else 2
        resolved = rng.random() < 0.7 and onset + timedelta(days=7) <= today
        rows.append(
            AdverseEvent(
                subject=subject,
                ctcae_term=term,
                verbatim_term=f"{term.term.lower()} {n}",
                grade=grade,
                onset_date=onset,
                resolution_date=onset + timedelta(days=7) if resolved else None,
                serious=grade >= 4,
                serious_hospitalisation=grade >= 4,
                relationship=rng.choice(RELATIONSHIPS),
                action_taken="none",
                outcome="recovered" if resolved else "not_recovered",
                created_by=user,
            )
        )
    _insert(AdverseEvent, rows, user)
    return count
