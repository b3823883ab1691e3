"""A large study built fast, for query counts and the benchmark (not for rule tests).

Rows are inserted with `bulk_create`: no audit history and no service validation, which the
read-only pages do not need (the services are tested elsewhere). The rows still satisfy every
database constraint. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from core.models import Signature
from dosing.models import DoseAdministration
from escalation.models import CommitteeDecision, Notification, Recommendation, SubjectDltStatus
from safety.models import AdverseEvent, CtcaeTerm
from subjects.models import Subject
from trial.models import Cohort, DoseLevel, EscalationTrack

RELATIONSHIPS = ["not_related", "unlikely", "possible", "probable", "definite"]


def _events(rng, subjects, terms, first_dose, n_events: int, today, user):
    """`n_events` adverse events over the subjects in turn, at most one DLT each; returns the
    events (not saved) and each subject's DLT event."""
    events, dlt_of = [], {}
    for n in range(n_events):
        subject = subjects[n % len(subjects)]
        term = terms[rng.randrange(len(terms))]
        grade = rng.choice([g for g in term.grades if g < 5] or term.grades)
        onset = min(first_dose[subject.pk] + timedelta(days=rng.randint(-3, 40)), today)
        onset = max(onset, subject.consent_date)
        relationship = rng.choice(RELATIONSHIPS)
        related = relationship in ("possible", "probable", "definite")
        window_end = first_dose[subject.pk] + timedelta(
            days=subject.cohort.track.regimen.dlt_window_days - 1
        )
        dlt = (
            related
            and rng.random() < 0.3
            and grade >= 3
            and first_dose[subject.pk] <= onset <= window_end
            and subject.pk not in dlt_of
        )
        serious = grade >= 4 or grade == 5
        resolved = rng.random() < 0.6 and onset + timedelta(days=5) <= today
        event = AdverseEvent(
            subject=subject,
            ctcae_term=term,
            verbatim_term=f"{term.term.lower()} {n}",
            grade=grade,
            onset_date=onset,
            resolution_date=onset + timedelta(days=5) if resolved and grade < 5 else None,
            serious=serious,
            serious_hospitalisation=serious and grade < 5,
            serious_death=grade == 5,
            relationship=relationship,
            action_taken="none",
            outcome="fatal" if grade == 5 else ("recovered" if resolved else "not_recovered"),
            dlt_investigator=dlt,
            created_by=user,
        )
        events.append(event)
        if dlt:
            dlt_of[subject.pk] = event
    return events, dlt_of


def _dlt_statuses(subjects, first_dose, dlt_of, today) -> list:
    """Each subject's DLT status: a DLT, pending while the window runs, else evaluable."""
    now = timezone.now()
    statuses = []
    for subject in subjects:
        first = first_dose[subject.pk]
        end = first + timedelta(days=subject.cohort.track.regimen.dlt_window_days - 1)
        dlt = dlt_of.get(subject.pk)
        if dlt is not None:
            status = SubjectDltStatus.Status.DLT
        elif end >= today:
            status = SubjectDltStatus.Status.PENDING
        else:
            status = SubjectDltStatus.Status.EVALUABLE_NO_DLT
        statuses.append(
            SubjectDltStatus(
                subject=subject,
                track=subject.cohort.track,
                status=status,
                window_start=first,
                window_end=end,
                dlt_adverse_event=dlt,
                qualifying_infusions=1,
                required_infusions=1,
                evaluated_at=now,
                rules_version="bulk",
            )
        )
    return statuses


def _event_notifications(events, study, user, now) -> list:
    """A notification to `user` per SAE and per DLT, some sent, some failed."""
    notifications = []
    for event in events:
        for kind, wanted in (("sae", event.serious), ("new_dlt", event.is_dlt)):
            if wanted:
                notifications.append(
                    Notification(
                        kind=kind,
                        key=f"ae:{event.pk}",
                        recipient=user,
                        study=study,
                        subject=event.subject,
                        title=f"{kind} {event.subject.subject_number} {event.ctcae_term.term}",
                        body="bulk",
                        created_at=now - timedelta(minutes=len(notifications)),
                        sent_at=now if len(notifications) % 2 else None,
                        error="" if len(notifications) % 3 else "bulk: SMTP refused",
                    )
                )
    return notifications


def build(study, sites, user, *, n_subjects: int, n_events: int, seed: int = 7) -> dict:
    """`n_subjects` enrolled and dosed subjects in cohorts of 3 over the Q3W and Q2W tracks,
    `n_events` adverse events among them (some DLT calls adjudicated by the committee), DLT
    statuses, recommendations and signed decisions, and a notification to `user` per DLT, SAE
    and recommendation."""
    rng = random.Random(seed)
    today = timezone.now().date()
    levels = list(DoseLevel.objects.filter(study=study, number__isnull=False).order_by("amount"))
    q3w = EscalationTrack.objects.get(study=study, code="Q3W-ESC")
    q2w = EscalationTrack.objects.get(study=study, code="Q2W-ESC")
    q2w.status = EscalationTrack.Status.ACTIVE
    q2w.lowest_dose_level, q2w.highest_dose_level = levels[0], levels[1]
    q2w._change_reason = "bulk test data"
    q2w.save()
    terms = list(CtcaeTerm.objects.all())
    assert terms, "load the CTCAE dictionary first"

    # Cohorts: Q3W climbs the levels, every fourth cohort is Q2W at levels 1-2.
    n_cohorts = -(-n_subjects // 3)
    start = today - timedelta(days=15 * n_cohorts + 40)
    cohorts, q3w_step, q2w_step = [], 0, 0
    for i in range(n_cohorts):
        if i % 4 == 3:
            track, level = q2w, levels[min(q2w_step // 2, 1)]
            q2w_step += 1
        else:
            track, level = q3w, levels[min(q3w_step // 2, len(levels) - 1)]
            q3w_step += 1
        opened = datetime.combine(start + timedelta(days=15 * i), time(12), UTC)
        last = i == n_cohorts - 1
        cohorts.append(
            Cohort(
                study=study,
                track=track,
                number=100 + i,
                dose_level=level,
                planned_size=3,
                status=Cohort.Status.FULL if last else Cohort.Status.CLOSED,
                opened_at=opened,
                closed_at=None if last else opened + timedelta(days=14),
            )
        )
    cohorts = Cohort.objects.bulk_create(cohorts)

    subjects = []
    for n in range(n_subjects):
        cohort = cohorts[n // 3]
        site = sites[n % len(sites)]
        enrolled = cohort.opened_at.date() + timedelta(days=1)
        subjects.append(
            Subject(
                study=study,
                site=site,
                screening_number=f"BULK-{n:04d}",
                subject_number=f"{site.number}-{n + 500:03d}",
                sex=rng.choice("FM"),
                year_of_birth=rng.randint(1945, 1990),
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
    subjects = Subject.objects.bulk_create(subjects)

    doses, first_dose = [], {}
    for subject in subjects:
        cohort = subject.cohort
        regimen = cohort.track.regimen
        first = subject.enrollment_date + timedelta(days=1)
        first_dose[subject.pk] = first
        slots = [(1, d) for d in regimen.infusion_days] + [(2, regimen.infusion_days[0])]
        for cycle, day in slots:
            on = first + timedelta(days=(cycle - 1) * regimen.cycle_length_days + day - 1)
            if on > today:
                continue
            begin = datetime.combine(on, time(14), UTC)
            amount = cohort.dose_level.amount
            doses.append(
                DoseAdministration(
                    subject=subject,
                    cohort=cohort,
                    cycle=cycle,
                    day=day,
                    planned_dose_level=cohort.dose_level,
                    planned_dose_per_kg=amount,
                    actual_dose_per_kg=amount,
                    body_weight_kg=Decimal("70.0"),
                    total_dose_mg=(amount * Decimal("70")).quantize(Decimal("0.001")),
                    administered_on=on,
                    infusion_start=begin,
                    infusion_end=begin + timedelta(minutes=90),
                    lot_number="LOT-B",
                    created_by=user,
                )
            )
    DoseAdministration.objects.bulk_create(doses)

    events, dlt_of = _events(rng, subjects, terms, first_dose, n_events, today, user)
    # The committee upheld every other DLT call, and found a few related events not DLTs.
    adjudicated = []
    for n, event in enumerate(events):
        if (event.dlt_investigator and n % 2) or (
            event.relationship in ("possible", "probable", "definite") and n % 97 == 0
        ):
            event.dlt_adjudicated = event.dlt_investigator
            event.dlt_adjudicated_at = timezone.now()
            event.dlt_adjudication_note = "bulk adjudication"
            adjudicated.append(event)
    events = AdverseEvent.objects.bulk_create(events)
    AdverseEvent.history.bulk_history_create(adjudicated, default_user=user)

    now = timezone.now()
    statuses = _dlt_statuses(subjects, first_dose, dlt_of, today)
    SubjectDltStatus.objects.bulk_create(statuses)

    # Every cohort after a track's first was opened by a signed committee decision on a
    # recommendation; each track has one pending recommendation now.
    content_type = ContentType.objects.get_for_model(Recommendation)
    recommendations, decided = [], []
    sequence = {q3w.pk: 0, q2w.pk: 0}
    previous_on_track: dict[int, Cohort] = {}
    for cohort in cohorts:
        if cohort.track_id in previous_on_track:
            sequence[cohort.track_id] += 1
            recommendations.append(
                _recommendation(cohort.track, sequence[cohort.track_id], cohort, "confirmed")
            )
            decided.append(cohort)
        previous_on_track[cohort.track_id] = cohort
    for track in (q3w, q2w):
        sequence[track.pk] += 1
        last = previous_on_track.get(track.pk)
        recommendations.append(_recommendation(track, sequence[track.pk], last, "pending"))
    for recommendation in recommendations:  # the pending ones show every subject of the track
        if recommendation.status == "pending":
            recommendation.data["levels"] = [
                {
                    "dose_level": {"label": "bulk"},
                    "subjects": [
                        {
                            "number": s.subject_number,
                            "status": "evaluable_no_dlt",
                            "window_start": first_dose[s.pk].isoformat(),
                            "window_end": (
                                first_dose[s.pk]
                                + timedelta(days=s.cohort.track.regimen.dlt_window_days - 1)
                            ).isoformat(),
                        }
                        for s in subjects
                        if s.cohort.track_id == recommendation.track_id
                    ],
                }
            ]
    recommendations = Recommendation.objects.bulk_create(recommendations)
    signatures = Signature.objects.bulk_create(
        [
            Signature(
                signer=user,
                printed_name="Bulk Monitor",
                meaning=Signature.Meaning.APPROVED,
                signed_at=cohort.opened_at,
                content_type=content_type,
                object_id=recommendation.pk,
                record_version=1,
                record_digest="0" * 64,
            )
            for recommendation, cohort in zip(recommendations, decided, strict=False)
        ]
    )
    CommitteeDecision.objects.bulk_create(
        [
            CommitteeDecision(
                recommendation=recommendation,
                track=cohort.track,
                outcome=CommitteeDecision.Outcome.CONFIRMED,
                step=CommitteeDecision.Step.OPEN_COHORT,
                dose_level=cohort.dose_level,
                n_subjects=3,
                decided_by=user,
                decided_at=cohort.opened_at,
                signature=signature,
                opened_cohort=cohort,
            )
            for recommendation, cohort, signature in zip(
                recommendations, decided, signatures, strict=False
            )
        ]
    )
    notifications = _event_notifications(events, study, user, now)
    notifications += [
        Notification(
            kind="recommendation",
            key=f"recommendation:{r.pk}",
            recipient=user,
            study=study,
            title=r.text,
            body="bulk",
            created_at=r.created_at,
            sent_at=r.created_at,
        )
        for r in recommendations
    ]
    Notification.objects.bulk_create(notifications)
    return {
        "subjects": subjects,
        "events": events,
        "cohorts": cohorts,
        "today": today,
        "pending": [r for r in recommendations if r.status == "pending"],
        "notifications": notifications,
    }


def _recommendation(track, sequence: int, cohort: Cohort | None, status: str) -> Recommendation:
    level = cohort.dose_level if cohort else None
    text = f"escalate to {level.label} {track.regimen.code} with 3 subjects" if level else "start"
    return Recommendation(
        track=track,
        sequence=sequence,
        created_at=cohort.opened_at if cohort and status != "pending" else timezone.now(),
        evaluated_on=date.today(),
        action="escalate",
        rule="3+3: 0/3 -> escalate",
        text=text,
        dose_level=level,
        n_subjects=3,
        data={"levels": [], "flags": [], "notes": []},
        inputs={},
        input_digest="0" * 64,
        rules_version="bulk",
        status=status,
    )
