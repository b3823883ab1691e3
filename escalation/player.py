"""The trial player: a scripted study played through the real services (docs/trial-player.md).

`play_trial(script)` loads the protocol file as a study of its own (a fresh protocol number, so
no other study is touched), creates a site, a coordinator, an investigator and a medical monitor, and plays the
script with the clock moved forward (time-machine) the way `escalation.rules.play` does with the
rules alone: screen, consent, eligibility, enroll into the open cohort (or as a replacement),
dose; at the end of the DLT windows, the AEs and the ends of treatment; the monitor confirms each
step the evaluation asks, signing with their password. The two paths must agree
(tests/integration/escalation/test_trial_player.py).

The play starts far enough in the past that its last day is at most today: no record is dated in
the future. The monitor has no e-mail address, so nothing is e-mailed.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, User
from accounts.roles import Role
from dosing.services import dose_record
from safety.ctcae import import_terms, read_starter_set
from safety.models import CtcaeTerm
from safety.services import adverse_event_report
from subjects.models import Subject
from subjects.selectors import occupied_places
from subjects.services import (
    subject_end_study,
    subject_enroll,
    subject_record_consent,
    subject_record_eligibility,
    subject_screen,
)
from trial.models import Cohort, EscalationTrack, Site, Study
from trial.services import load_study

from . import rules
from .committee import committee_confirm
from .models import Recommendation
from .rules import play as pure
from .tasks import evaluate_and_notify

DLT_TERM = "Neutrophil count decreased"  # grade 3, the T subject's DLT
GRADE2_TERM = "Nausea"  # grade 2, the G subject's related AE


@dataclass
class PlayedStep:
    step: pure.SignedStep
    on: date
    sequence: int  # the recommendation's number on the track


@dataclass
class PlayedTrial:
    study: Study
    track: EscalationTrack
    result: pure.PlayResult
    played: list[PlayedStep]
    started_on: date
    ended_on: date
    monitor_name: str


class _Clock:
    """The play's day: time-machine holds the clock at noon UTC of that day."""

    def __init__(self, day: date):
        import time_machine

        self._travel = time_machine.travel
        self._traveller = None
        self.day = day
        self.move(day)

    def move(self, day: date) -> None:
        self.stop()
        self.day = day
        self._traveller = self._travel(datetime.combine(day, time(12), UTC), tick=False)
        self._traveller.start()

    def stop(self) -> None:
        if self._traveller is not None:
            self._traveller.stop()
            self._traveller = None


def play_trial(
    script: pure.Script, *, protocol: str = "mil97", protocol_number: str | None = None
) -> PlayedTrial:
    from config.celery import app

    try:
        import time_machine  # noqa: F401
    except ImportError as error:  # a development dependency
        raise RuntimeError(
            "play_trial moves the clock with the time-machine package: pip install '.[dev]'"
        ) from error
    _ensure_terms()
    number = protocol_number or f"PLAY-{uuid.uuid4().hex[:10].upper()}"
    study = load_study(protocol, protocol_number=number, design=dict(script.settings)).study
    track = (
        EscalationTrack.objects.filter(
            study=study,
            phase=EscalationTrack.Phase.ESCALATION,
            status=EscalationTrack.Status.ACTIVE,
        )
        .select_related("regimen")
        .order_by("display_order", "code")
        .first()
    )
    if track is None:
        raise ValueError(f"{protocol}: no active escalation track to play")
    window = track.regimen.dlt_window_days
    # Every follow-up moves the clock by at most a window and a day; each subject is followed up
    # once. Starting this far back, the play ends today at the latest.
    span = (len(script.subjects) + 1) * (window + 2) + 1
    started_on = timezone.now().astimezone(UTC).date() - timedelta(days=span)
    previous_eager = app.conf.task_always_eager, app.conf.task_eager_propagates
    # The evaluation must run in this process, on the play's clock, not on a worker's.
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    clock = _Clock(started_on)
    try:
        player = _Player(study, track, script, clock)
        result = player.run()
    finally:
        clock.stop()
        app.conf.task_always_eager, app.conf.task_eager_propagates = previous_eager
    return PlayedTrial(
        study=study,
        track=track,
        result=result,
        played=player.played,
        started_on=started_on,
        ended_on=clock.day,
        monitor_name=player.monitor.get_full_name(),
    )


def _ensure_terms() -> None:
    """The two CTCAE terms the outcomes use, from the starter set when the dictionary lacks them
    (terms already there are left as they are)."""
    missing = {DLT_TERM, GRADE2_TERM} - set(
        CtcaeTerm.objects.filter(term__in=[DLT_TERM, GRADE2_TERM]).values_list("term", flat=True)
    )
    if missing:
        import_terms([t for t in read_starter_set() if t["term"] in missing])


class _Player:
    def __init__(self, study: Study, track: EscalationTrack, script: pure.Script, clock: _Clock):
        self.study = study
        self.track = track
        self.clock = clock
        self.queue = list(script.subjects)
        self.played: list[PlayedStep] = []
        self.codes: dict[int, str] = {}  # subject pk -> outcome code
        self.followed_up: set[int] = set()
        self.password = secrets.token_urlsafe(24)
        with transaction.atomic():
            self.site = Site(
                study=study,
                number="900",
                name="Trial player site",
                country="US",
                timezone="UTC",
                principal_investigator="Trial player",
                is_active=True,
                activated_on=clock.day - timedelta(days=1),
            )
            self.site.full_clean()
            self.site._change_reason = "Created by the trial player"
            self.site.save()
            suffix = study.protocol_number.lower()
            self.coordinator = self._user(f"{suffix}-coordinator", "Player", "Coordinator")
            self._member(self.coordinator, Role.COORDINATOR, site=self.site)
            # The investigator makes the DLT calls: their own entry is attested at once
            # (docs/safety.md §8), so the committee can sign on them.
            self.investigator = self._user(f"{suffix}-investigator", "Player", "Investigator")
            self._member(self.investigator, Role.INVESTIGATOR, site=self.site)
            self.monitor = self._user(f"{suffix}-monitor", "Player", "Monitor")
            self._member(self.monitor, Role.MEDICAL_MONITOR)

    def _user(self, username: str, first: str, last: str) -> User:
        # No e-mail address: the play's notifications are recorded, not sent.
        return User.objects.create_user(
            username=username, password=self.password, first_name=first, last_name=last, email=""
        )

    def _member(self, user: User, role: Role, *, site: Site | None = None) -> None:
        membership = Membership.objects.create(user=user, study=self.study, role=role)
        if site is not None:
            membership.sites.set([site])

    # --- the loop, as escalation.rules.play.play ---------------------------------------------

    def run(self) -> pure.PlayResult:
        for _ in range(10_000):
            current = self._confirm_pending()
            self.track.refresh_from_db()
            if self.queue and self.track.status == EscalationTrack.Status.ACTIVE:
                cohort, replaces = self._where_to_enroll(current)
                if cohort is not None:
                    self._enroll(self.queue.pop(0), cohort, replaces)
                    continue
            waiting = [
                s
                for s in self._subjects()
                if s.pk not in self.followed_up
                and self.codes[s.pk] != "P"
                and len(s.dose_administrations.all()) > 0
            ]
            if waiting:
                ends = [self._window_end(s) for s in waiting]
                self.clock.move(max(ends) + timedelta(days=1))
                for subject in waiting:
                    self._follow_up(subject)
                continue
            break
        else:
            raise AssertionError("the play did not end")
        for subject in self._subjects():
            if self.codes[subject.pk] == "P" and not subject.dose_administrations.exists():
                self._dose(subject, self.clock.day)
        current = self._confirm_pending()
        self.track.refresh_from_db()
        steps = tuple(p.step for p in self.played)
        return pure.PlayResult(
            steps=steps,
            outcome=pure.outcome_of(
                rules.TrackStatus(self.track.status),
                steps,
                _as_rules(current, self.track),
                self.track.regimen.code,
            ),
            enrolled=len(self.codes),
            not_enrolled=len(self.queue),
        )

    def _confirm_pending(self) -> Recommendation:
        for _ in range(1000):
            evaluate_and_notify(self.track.pk)
            current = Recommendation.objects.get(
                track=self.track, status__in=Recommendation.CURRENT
            )
            if not current.needs_decision:
                return current
            committee_confirm(by=self.monitor, recommendation=current, password=self.password)
            self.played.append(
                PlayedStep(
                    step=pure.signed_step(_as_rules(current, self.track), self.track.regimen.code),
                    on=self.clock.day,
                    sequence=current.sequence,
                )
            )
        raise AssertionError("the committee was asked 1000 steps in a row")

    def _subjects(self) -> list[Subject]:
        return list(
            Subject.objects.filter(cohort__track=self.track)
            .prefetch_related("dose_administrations")
            .order_by("pk")
        )

    def _where_to_enroll(self, current: Recommendation):
        for number in current.data.get("subjects_to_replace", []):
            replaced = Subject.objects.filter(
                study=self.study, subject_number=number, replaced_by__isnull=True
            ).first()
            if replaced is not None and replaced.cohort.status != Cohort.Status.CLOSED:
                return replaced.cohort, replaced
            break
        for cohort in Cohort.objects.filter(track=self.track, status=Cohort.Status.OPEN).order_by(
            "number"
        ):
            if occupied_places(cohort) < cohort.planned_size:
                return cohort, None
        return None, None

    def _enroll(self, code: str, cohort: Cohort, replaces: Subject | None) -> None:
        by, day = self.coordinator, self.clock.day
        n = len(self.codes) + 1
        subject = subject_screen(
            by=by,
            site=self.site,
            screening_number=f"SCR-{n:03d}",
            sex="F",
            year_of_birth=1960,
            screening_date=day,
        )
        subject = subject_record_consent(
            by=by, subject=subject, consent_date=day, consent_version="v1.0", expected_version=None
        )
        answers = {c: True for c in self.study.inclusion_criteria()} | {
            c: False for c in self.study.exclusion_criteria()
        }
        subject = subject_record_eligibility(
            by=by, subject=subject, answers=answers, assessed_on=day, expected_version=None
        )
        subject = subject_enroll(
            by=by, subject=subject, cohort=cohort, enrollment_date=day, replaces=replaces
        )
        self.codes[subject.pk] = code
        if code != "P":
            self._dose(subject, day)

    def _dose(self, subject: Subject, day: date, *, cycle: int = 1, slot_day: int = 1) -> None:
        subject = Subject.objects.select_related("cohort__dose_level", "site").get(pk=subject.pk)
        start = datetime.combine(day, time(9), UTC)
        dose_record(
            by=self.coordinator,
            subject=subject,
            cycle=cycle,
            day=slot_day,
            actual_dose_per_kg=subject.cohort.dose_level.amount,
            body_weight_kg=Decimal("70"),
            infusion_start=start,
            infusion_end=start + timedelta(minutes=90),
            lot_number="PLAY-1",
        )

    def _window_end(self, subject: Subject) -> date:
        first = min(d.administered_on for d in subject.dose_administrations.all())
        return rules.dlt_window(
            first, self.track.regimen.dlt_window_days, self.study.dlt_window_convention
        ).end

    def _follow_up(self, subject: Subject) -> None:
        """At the end of the window: the outcome the script gives the subject."""
        code = self.codes[subject.pk]
        first = min(d.administered_on for d in subject.dose_administrations.all())
        by = self.coordinator
        if code == "X":
            subject_end_study(
                by=by,
                subject=Subject.objects.get(pk=subject.pk),
                end_date=first + timedelta(days=pure.LEFT_ON_DAY - 1),
                reason_code="WITHDRAWAL OF CONSENT",
                reason="Withdrew consent (trial player)",
                expected_version=None,
            )
        else:
            # The window's other planned infusions (Q2W: C1D15).
            for cycle, day in self.track.regimen.dlt_window_infusions()[1:]:
                study_day = self.track.regimen.study_day(cycle, day)
                self._dose(
                    subject, first + timedelta(days=study_day - 1), cycle=cycle, slot_day=day
                )
        if code == "T":
            self._adverse_event(subject, DLT_TERM, 3, first, pure.DLT_ONSET_DAY, dlt=True)
        elif code == "G":
            self._adverse_event(subject, GRADE2_TERM, 2, first, pure.GRADE2_ONSET_DAY, dlt=False)
        self.followed_up.add(subject.pk)

    def _adverse_event(self, subject, term, grade, first, study_day, *, dlt) -> None:
        adverse_event_report(
            by=self.investigator if dlt else self.coordinator,
            subject=Subject.objects.select_related("site").get(pk=subject.pk),
            ctcae_term=CtcaeTerm.objects.filter(term=term).order_by("-version").first(),
            verbatim_term=term.lower(),
            grade=grade,
            onset_date=first + timedelta(days=study_day - 1),
            relationship="probable" if dlt else "possible",
            action_taken="delayed" if dlt else "none",
            outcome="not_recovered",
            dlt_investigator=dlt,
        )


def _as_rules(recommendation: Recommendation, track: EscalationTrack) -> rules.Recommendation:
    """The stored recommendation as the rules' value, for the fields a play compares."""
    data = recommendation.data or {}

    def level(name: str) -> rules.DoseLevel | None:
        value = data.get(name)
        return rules.DoseLevel(value["id"], value["label"]) if value else None

    return rules.Recommendation(
        track=track.name,
        action=rules.Action(recommendation.action),
        rule=rules.Rule(recommendation.rule)
        if recommendation.rule in rules.Rule._value2member_map_
        else recommendation.rule,
        text=data.get("text", recommendation.text),
        dose_level=level("dose_level"),
        n_subjects=recommendation.n_subjects,
        subjects_to_replace=tuple(data.get("subjects_to_replace", [])),
        mtd_level=level("mtd_level"),
        mad_level=level("mad_level"),
    )
