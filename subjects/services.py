"""Every write to a subject: screening, consent, eligibility, demographics, screen failure,
enrollment, replacement, corrections, end of treatment, end of study, death, void.

Each service checks the caller's access, validates the docs/safety.md §5 rules with messages
that name the field, and saves through `core.records` (audited) inside one transaction, so a
refused request leaves nothing behind.
"""

import unicodedata
from collections.abc import Sequence
from datetime import date

from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.roles import Capability
from accounts.scoping import require
from core import events
from core.dates import refuse_future, site_today
from core.errors import FieldErrors, ValidationError, field_error
from core.records import (
    REASON_MAX_LENGTH,
    create_record,
    require_reason,
    retry_on_conflict,
    update_record,
    void_record,
)
from trial.models import Cohort, EscalationTrack, Site

from . import rules
from .models import Subject
from .rules import Refused, Step, cohort_takes, eligible
from .rules import refusal as step_refusal
from .selectors import cohort_closed_reason, occupied_places, places_text

MAX_AGE_YEARS = 120


def _announce(subject: Subject, action: str, by: User) -> None:
    events.clinical_data_changed(
        subject_id=subject.pk, record="subject", record_id=subject.pk, action=action, by=by
    )


SCREENING_NUMBER_MAX_LENGTH = 30


def normalise_screening_number(raw: str | None) -> str:
    """The screening number as stored and compared: Unicode NFKC (full-width and compatibility
    forms become their plain letters and digits, UAX #15), surrounding spaces removed; invisible
    characters refused. Uniqueness ignores case (the check below and a database constraint), so
    "s102-002" and "S102-002" cannot be two people.

    Format characters (Unicode category Cf: zero-width spaces and joiners, bidirectional marks,
    embeddings, overrides and isolates) and control characters (Cc) would make two numbers that
    look the same different, or reorder what is displayed (Unicode TR #36 section 2; UAX #9).
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise field_error("screening_number", "A screening number is required.", "required")
    hidden = sorted({f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in ("Cf", "Cc")})
    if hidden:
        raise field_error(
            "screening_number",
            "Invisible or control characters are not allowed in a screening number "
            f"(found {', '.join(hidden)}).",
            "invisible_characters",
        )
    if len(text) > SCREENING_NUMBER_MAX_LENGTH:
        raise field_error(
            "screening_number",
            f"Keep the screening number to {SCREENING_NUMBER_MAX_LENGTH} characters.",
            "max_length",
        )
    return text


@retry_on_conflict
def subject_screen(
    *,
    by: User,
    site: Site,
    screening_number: str,
    sex: str,
    year_of_birth: int,
    screening_date: date,
) -> Subject:
    """Register a person at screening, under a screening number unique in the study."""
    require(by, Capability.ENTER_DATA, study_id=site.study_id, site_id=site.pk)
    if not site.is_active:
        raise field_error(
            "site", f"Site {site.number} is not active for enrollment yet.", "inactive_site"
        )
    screening_number = normalise_screening_number(screening_number)
    refuse_future(screening_date, field="screening_date", tz_name=site.timezone)
    this_year = site_today(site.timezone).year
    if year_of_birth is None or not (this_year - MAX_AGE_YEARS <= year_of_birth <= this_year):
        raise field_error(
            "year_of_birth",
            f"Year of birth must be between {this_year - MAX_AGE_YEARS} and {this_year}.",
            "implausible",
        )
    if Subject.all_objects.filter(
        study_id=site.study_id, screening_number__iexact=screening_number
    ).exists():
        raise field_error(
            "screening_number",
            f"Screening number {screening_number} is already used in this study.",
            "duplicate",
        )
    subject = Subject(
        study_id=site.study_id,
        site=site,
        screening_number=screening_number,
        sex=sex,
        year_of_birth=year_of_birth,
        screening_date=screening_date,
    )
    with transaction.atomic():
        try:
            create_record(subject, by=by, reason="Screening registration")
        except IntegrityError as error:  # a concurrent registration took the number first
            raise field_error(
                "screening_number",
                f"Screening number {screening_number} is already used in this study.",
                "duplicate",
            ) from error
        _announce(subject, "created", by)
    return subject


def age_range(year_of_birth: int, on: date) -> tuple[int, int]:
    """With only the year of birth, the age on a date is one of two: before that year's birthday,
    or on or after it."""
    return on.year - year_of_birth - 1, on.year - year_of_birth


def _age_words(year_of_birth: int, on: date) -> str:
    low, high = age_range(year_of_birth, on)
    return f"born in {year_of_birth}, the subject is {low} or {high} on {on:%Y-%m-%d}"


def age_at_consent_refusal(study, year_of_birth: int, consent_date: date) -> str | None:
    """Why the protocol's age criterion cannot be met at this consent date, when the year of
    birth rules it out (the subject is under the minimum age whatever their birthday)."""
    minimum = study.min_age_years
    if not minimum or year_of_birth is None or consent_date is None:
        return None
    if age_range(year_of_birth, consent_date)[1] >= minimum:
        return None
    return (
        f"{_age_words(year_of_birth, consent_date).capitalize()} (informed consent), and the "
        f"protocol requires {minimum} years or older at consent. Correct the year of birth if "
        "it is wrong; otherwise the subject cannot take part: record a screen failure."
    )


def age_at_consent_uncertain(study, year_of_birth: int, consent_date: date) -> str | None:
    """The question to confirm when the year of birth allows either side of the minimum age at
    consent (the subject turns that age in the consent year), or None."""
    minimum = study.min_age_years
    if not minimum or year_of_birth is None or consent_date is None:
        return None
    low, high = age_range(year_of_birth, consent_date)
    if not (low < minimum <= high):
        return None
    return (
        f"{_age_words(year_of_birth, consent_date).capitalize()}, depending on the birthday: "
        f"confirm from the source documents that they were {minimum} or older at consent."
    )


@retry_on_conflict
def subject_record_consent(
    *,
    by: User,
    subject: Subject,
    consent_date: date,
    consent_version: str,
    expected_version: int | None,
    age_confirmed: bool = False,
) -> Subject:
    """Record informed consent. The age at consent is checked against the year of birth and the
    protocol's minimum age: refused when certainly under it, confirmed (`age_confirmed`, kept in
    the audit trail's reason) when the birthday decides."""
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    consent_version = (consent_version or "").strip()
    if not consent_version:
        raise field_error(
            "consent_version", "The version of the consent form signed is required.", "required"
        )
    if consent_date is None:
        raise field_error("consent_date", "The date of informed consent is required.", "required")
    refuse_future(consent_date, field="consent_date", tz_name=subject.site.timezone)
    if step_refusal(Step.SCREENING, subject.rule_state):
        raise field_error("__all__", "Consent is recorded during screening.", "wrong_status")
    study = subject.study
    refusal = age_at_consent_refusal(study, subject.year_of_birth, consent_date)
    if refusal:
        raise field_error("year_of_birth", refusal, "under_age")
    question = age_at_consent_uncertain(study, subject.year_of_birth, consent_date)
    if question and not age_confirmed:
        raise field_error("age_confirmed", question, "confirm_age")
    reason = "Informed consent recorded" if subject.consent_date is None else "Consent corrected"
    if question:
        reason += (
            f"; age at consent confirmed {study.min_age_years} or older (born "
            f"{subject.year_of_birth})"
        )
    with transaction.atomic():
        subject = update_record(
            subject,
            by=by,
            changes={"consent_date": consent_date, "consent_version": consent_version},
            reason=reason,
            expected_version=expected_version,
        )
        _announce(subject, "updated", by)
    return subject


def eligibility_outcome(study, answers: dict[str, bool]) -> str:
    """Eligible when every inclusion criterion is met and no exclusion criterion applies."""
    return (
        Subject.Eligibility.ELIGIBLE
        if eligible(study.inclusion_criteria(), study.exclusion_criteria(), answers)
        else Subject.Eligibility.INELIGIBLE
    )


@retry_on_conflict
def subject_record_eligibility(
    *,
    by: User,
    subject: Subject,
    answers: dict[str, bool],
    assessed_on: date,
    expected_version: int | None,
) -> Subject:
    """Record the checklist: each protocol criterion answered yes or no."""
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    study = subject.study
    if step_refusal(Step.SCREENING, subject.rule_state):
        raise field_error("__all__", "Eligibility is assessed during screening.", "wrong_status")
    if subject.consent_date is None:
        raise field_error(
            "assessed_on", "Record informed consent before assessing eligibility.", "no_consent"
        )
    criteria = study.inclusion_criteria() + study.exclusion_criteria()
    missing = [c for c in criteria if not isinstance(answers.get(c), bool)]
    if missing:
        raise field_error(
            "answers", f"Answer every criterion; unanswered: {'; '.join(missing)}.", "incomplete"
        )
    extra = set(answers) - set(criteria)
    if extra:
        raise field_error(
            "answers", f"Not a criterion of this study: {'; '.join(sorted(extra))}.", "unknown"
        )
    _check_age_answer(study, subject, answers)
    refuse_future(assessed_on, field="assessed_on", tz_name=subject.site.timezone)
    if assessed_on < subject.consent_date:
        raise field_error(
            "assessed_on",
            "Eligibility cannot be assessed before informed consent.",
            "before_consent",
        )
    with transaction.atomic():
        subject = update_record(
            subject,
            by=by,
            changes={
                "eligibility_answers": answers,
                "eligibility_outcome": eligibility_outcome(study, answers),
                "eligibility_assessed_on": assessed_on,
            },
            reason="Eligibility assessed",
            expected_version=expected_version,
        )
        _announce(subject, "updated", by)
    return subject


def _check_age_answer(study, subject: Subject, answers: dict[str, bool]) -> None:
    """The age criterion's answer must agree with the year of birth at consent: "yes" when the
    subject is certainly under the minimum age is refused, and so is "no" when they are
    certainly over it. The error is keyed by the criterion's text."""
    criterion = study.age_criterion()
    if criterion is None or not study.min_age_years or subject.consent_date is None:
        return
    low, high = age_range(subject.year_of_birth, subject.consent_date)
    answer = answers.get(criterion)
    words = _age_words(subject.year_of_birth, subject.consent_date)
    if answer is True and high < study.min_age_years:
        raise field_error(
            criterion,
            f"Answered yes, but {words} (informed consent): under {study.min_age_years}. Answer "
            "no, or correct the year of birth if it is wrong.",
            "contradicts_year_of_birth",
        )
    if answer is False and low >= study.min_age_years:
        raise field_error(
            criterion,
            f"Answered no, but {words} (informed consent): {study.min_age_years} or older. "
            "Answer yes, or correct the year of birth if it is wrong.",
            "contradicts_year_of_birth",
        )


@retry_on_conflict
def subject_record_demographics(
    *,
    by: User,
    subject: Subject,
    ethnicity: str,
    races: Sequence[str],
    race_other: str = "",
    reason: str = "",
    expected_version: int | None,
) -> Subject:
    """Record the subject's ethnicity and races (CDISC CT ETHNIC and RACE; several races
    allowed, docs/subjects.md §1). Once recorded they are corrected with a reason, by a role that
    corrects data."""
    correcting = subject.demographics_recorded
    capability = Capability.EDIT_DATA if correcting else Capability.ENTER_DATA
    require(by, capability, study_id=subject.study_id, site_id=subject.site_id)
    if subject.consent_date is None:
        raise field_error(
            "__all__",
            "Record informed consent first: nothing is collected from the subject before it.",
            "no_consent",
        )
    race_other = (race_other or "").strip()
    races = list(races or [])
    errors = FieldErrors()
    if not ethnicity:
        errors.add("ethnicity", "Give the ethnicity (Not reported if the subject declined).")
    elif ethnicity not in rules.ETHNICITIES:
        errors.add(
            "ethnicity",
            f"{ethnicity} is not an ethnicity of the CDISC list (ETHNIC); choose among "
            f"{', '.join(rules.ETHNICITIES)}.",
        )
    for name, message in rules.race_problems(races, race_other).items():
        errors.add(name, message)
    if correcting:
        try:
            reason = require_reason(reason)
        except ValidationError as error:
            errors.add_error(error)
    errors.raise_if_any()
    with transaction.atomic():
        subject = update_record(
            subject,
            by=by,
            changes={
                "ethnicity": ethnicity,
                "races": rules.ordered_races(races),
                "race_other": race_other,
            },
            reason=reason if correcting else "Demographics recorded",
            expected_version=expected_version,
        )
        _announce(subject, "updated", by)
    return subject


@retry_on_conflict
def subject_screen_fail(
    *, by: User, subject: Subject, reason: str, expected_version: int | None
) -> Subject:
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    reason = require_reason(reason, field="screen_failure_reason")
    if step_refusal(Step.SCREENING, subject.rule_state):
        raise field_error(
            "__all__", "Only a subject in screening can be a screen failure.", "wrong_status"
        )
    with transaction.atomic():
        subject = update_record(
            subject,
            by=by,
            changes={"status": Subject.Status.SCREEN_FAILED, "screen_failure_reason": reason},
            reason=f"Screen failure: {reason}",
            expected_version=expected_version,
        )
        _announce(subject, "updated", by)
    return subject


def _next_subject_number(site: Site) -> str:
    # The site row is locked by the caller, so numbering is serial per site.
    prefix = f"{site.number}-"
    numbers = Subject.all_objects.filter(site=site, subject_number__startswith=prefix).values_list(
        "subject_number", flat=True
    )
    used = [int(n[len(prefix) :]) for n in numbers if n[len(prefix) :].isdigit()]
    return f"{prefix}{(max(used, default=0) + 1):03d}"


@retry_on_conflict
def subject_enroll(
    *,
    by: User,
    subject: Subject,
    cohort: Cohort,
    enrollment_date: date,
    replaces: Subject | None = None,
    expected_version: int | None = None,
) -> Subject:
    """Enroll an eligible, consented subject into an open cohort and assign the subject number.

    The cohort row is locked for the count, so when two coordinators take the last place at
    once exactly one succeeds (docs/safety.md §5); the other is told the cohort is full.
    """
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    tz = subject.site.timezone
    if step_refusal(Step.SCREENING, subject.rule_state):
        raise field_error(
            "__all__",
            f"{subject} is not in screening (status: {subject.get_status_display()}).",
            "wrong_status",
        )
    if subject.consent_date is None:
        raise field_error(
            "consent_date", "Informed consent must be recorded before enrollment.", "no_consent"
        )
    if subject.eligibility_outcome != Subject.Eligibility.ELIGIBLE:
        raise field_error(
            "eligibility_outcome",
            "The eligibility checklist must show the subject eligible.",
            "not_eligible",
        )
    if enrollment_date is None:
        raise field_error("enrollment_date", "The enrollment date is required.", "required")
    refuse_future(enrollment_date, field="enrollment_date", tz_name=tz)
    if enrollment_date < subject.consent_date:
        raise field_error(
            "enrollment_date", "Enrollment cannot precede informed consent.", "before_consent"
        )
    if enrollment_date < subject.screening_date:
        raise field_error(
            "enrollment_date", "Enrollment cannot precede screening.", "before_screening"
        )
    if cohort.study_id != subject.study_id:
        raise field_error("cohort", "The cohort belongs to another study.", "wrong_study")

    with transaction.atomic():
        locked = (
            # FOR NO KEY UPDATE: two enrollments still exclude each other, but a dose or a
            # committee decision that only points at the cohort (a foreign-key check at commit)
            # is not blocked, which would close a lock cycle through the track's evaluation
            # state (escalation.services, the one lock order).
            Cohort.objects.select_for_update(of=("self",), no_key=True)
            .select_related("track", "dose_level", "track__regimen")
            .get(pk=cohort.pk)
        )
        active = locked.track.status == EscalationTrack.Status.ACTIVE
        if not cohort_takes(locked.status, active, replacing=replaces is not None):
            raise field_error("cohort", cohort_closed_reason(locked), "cohort_not_open")
        if replaces is not None:
            _check_replacement(subject, replaces, locked)
        if occupied_places(locked, excluding=replaces) >= locked.planned_size:
            raise field_error(
                "cohort", f"{locked} is full ({places_text(locked.planned_size)}).", "cohort_full"
            )
        site = Site.objects.select_for_update(no_key=True).get(pk=subject.site_id)
        number = _next_subject_number(site)
        subject = update_record(
            subject,
            by=by,
            changes={
                "status": Subject.Status.ENROLLED,
                "cohort": locked,
                "enrollment_date": enrollment_date,
                "subject_number": number,
                "replaces": replaces,
            },
            reason=f"Enrolled in {locked}" + (f", replacing {replaces}" if replaces else ""),
            expected_version=expected_version,
        )
        if occupied_places(locked) >= locked.planned_size:
            locked.status = Cohort.Status.FULL
            locked._history_user = by
            locked._change_reason = f"Full: {subject} took the last place"
            locked.save(update_fields=["status"])
        _announce(subject, "updated", by)
    return subject


def _check_replacement(subject: Subject, replaced: Subject, cohort: Cohort) -> None:
    if replaced.cohort_id != cohort.pk:
        raise field_error("replaces", f"{replaced} is not in {cohort}.", "wrong_cohort")
    if Subject.objects.filter(replaces=replaced).exists():
        raise field_error("replaces", f"{replaced} has already been replaced.", "already_replaced")
    if replaced.pk == subject.pk:
        raise field_error("replaces", "A subject cannot replace themselves.", "self")
    # The escalation layer keeps each subject's DLT status (subject.dlt_status); only a subject
    # found not evaluable is replaced (docs/escalation.md §4.4).
    dlt_status = getattr(replaced, "dlt_status", None)
    if dlt_status is None or dlt_status.status != "not_evaluable":
        raise field_error(
            "replaces",
            f"{replaced} is not recorded as DLT-not-evaluable, so they are not replaced.",
            "still_evaluable",
        )


# What a correction may change, the one list: the correction form (portal/forms.py) and the
# API's update input (api/inputs.py) take theirs from it.
EDITABLE_FIELDS: tuple[str, ...] = (
    "sex",
    "year_of_birth",
    "screening_date",
    "consent_date",
    "consent_version",
    "enrollment_date",
    "end_of_treatment_date",
    "end_of_treatment_reason_code",
    "end_of_treatment_reason",
    "end_of_study_date",
    "end_of_study_reason_code",
    "end_of_study_reason",
    "death_date",
    "screen_failure_reason",
)

# The milestones each recorded by their own step, which also moves the subject's status (and is
# refused to roles that do not enter data). A correction changes a value already recorded; it
# never records a milestone, nor removes one (its status change would stay behind).
MILESTONE_STEPS = {
    "consent_date": "the consent step",
    "consent_version": "the consent step",
    "enrollment_date": "enrollment",
    "end_of_treatment_date": "the end-of-treatment step",
    "end_of_treatment_reason_code": "the end-of-treatment step",
    "end_of_study_date": "the end-of-study step",
    "end_of_study_reason_code": "the end-of-study step",
    "death_date": "the death form",
    "screen_failure_reason": "the screen-failure step",
}


def _empty(value) -> bool:
    return value is None or value == ""


def _check_milestone_corrections(subject: Subject, changes: dict) -> None:
    errors: dict[str, list[str]] = {}
    for name, value in changes.items():
        step = MILESTONE_STEPS.get(name)
        if step is None or getattr(subject, name) == value:
            continue
        if _empty(getattr(subject, name)) and not _empty(value):
            errors[name] = [
                f"Not recorded yet: record it through {step}, which also updates the subject's "
                "status. A correction changes a value already recorded."
            ]
        elif _empty(value):
            errors[name] = [
                "Once recorded this is corrected to another value, not removed: the status "
                f"change made by {step} would stay behind."
            ]
    if errors:
        raise ValidationError(errors)


def _validate_subject_dates(subject: Subject) -> None:
    """Cross-record date rules and the disposition rules (subjects/rules.py), checked on every
    correction and every end of participation (docs/safety.md §5, docs/subjects.md §2)."""
    tz = subject.site.timezone
    errors: dict[str, list[str]] = {}
    for name, messages in rules.disposition_problems(subject.disposition).items():
        errors.setdefault(name, []).extend(messages)
    for name in (
        "screening_date",
        "consent_date",
        "enrollment_date",
        "end_of_treatment_date",
        "end_of_study_date",
        "death_date",
    ):
        try:
            refuse_future(getattr(subject, name), field=name, tz_name=tz)
        except ValidationError as error:
            errors.update(error.message_dict)
    first_dose = subject.dose_administrations.order_by("administered_on").first()
    if first_dose is not None:
        if subject.consent_date and first_dose.administered_on < subject.consent_date:
            errors.setdefault("consent_date", []).append(
                f"A dose was given on {first_dose.administered_on}, before this consent date."
            )
        if subject.enrollment_date and first_dose.administered_on < subject.enrollment_date:
            errors.setdefault("enrollment_date", []).append(
                f"A dose was given on {first_dose.administered_on}, before this enrollment date."
            )
    events_qs = subject.adverse_events.all()
    if subject.consent_date:
        early = events_qs.filter(onset_date__lt=subject.consent_date).order_by("onset_date").first()
        if early is not None:
            errors.setdefault("consent_date", []).append(
                f"An adverse event began on {early.onset_date}, before this consent date."
            )
    if subject.death_date:
        late = events_qs.filter(onset_date__gt=subject.death_date).order_by("-onset_date").first()
        if late is not None:
            errors.setdefault("death_date", []).append(
                f"An adverse event began on {late.onset_date}, after this date of death."
            )
        late_dose = subject.dose_administrations.filter(
            administered_on__gt=subject.death_date
        ).first()
        if late_dose is not None:
            errors.setdefault("death_date", []).append(
                f"A dose was given on {late_dose.administered_on}, after this date of death."
            )
    if errors:
        raise ValidationError(errors)


def _validate_correction(subject: Subject) -> None:
    """A correction of the subject's data: the date rules, and the age at consent against the
    protocol's minimum (a corrected year of birth or consent date cannot make a consented
    subject certainly under age)."""
    errors: dict[str, list[str]] = {}
    try:
        _validate_subject_dates(subject)
    except ValidationError as error:
        errors = error.message_dict
    if subject.consent_date is not None:
        refusal = age_at_consent_refusal(subject.study, subject.year_of_birth, subject.consent_date)
        if refusal:
            errors.setdefault("year_of_birth", []).append(refusal)
    if errors:
        raise ValidationError(errors)


@retry_on_conflict
def subject_update(
    *, by: User, subject: Subject, changes: dict, reason: str, expected_version: int | None
) -> Subject:
    """Correct a subject's data, with a reason; the history keeps the old values."""
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    not_editable = set(changes) - set(EDITABLE_FIELDS)
    if not_editable:
        raise ValidationError(
            {
                name: ["This field is set by its own step (enrollment, eligibility), not edited."]
                for name in not_editable
            }
        )
    _check_milestone_corrections(subject, changes)
    with transaction.atomic():
        subject = update_record(
            subject,
            by=by,
            changes=changes,
            reason=reason,
            expected_version=expected_version,
            validate=_validate_correction,
        )
        _announce(subject, "updated", by)
    return subject


def _reason_fields(
    prefix: str, reason_code: str, reason: str, allowed: tuple[str, ...], words: str
) -> dict:
    """The coded reason and its "specify" text of an end, checked on their own (the rules that
    involve the other dates run on the whole subject: `_validate_subject_dates`)."""
    reason = (reason or "").strip()
    errors = FieldErrors()
    if not reason_code:
        errors.add(f"{prefix}_reason_code", f"Choose the reason for the {words}.")
    elif reason_code not in allowed:
        errors.add(
            f"{prefix}_reason_code",
            f"{reason_code} is not a reason for the {words}; choose among {', '.join(allowed)}.",
        )
    if len(reason) > REASON_MAX_LENGTH:
        errors.add(f"{prefix}_reason", f"Keep the reason under {REASON_MAX_LENGTH} characters.")
    errors.raise_if_any()
    return {f"{prefix}_reason_code": reason_code, f"{prefix}_reason": reason}


def _reason_words(reason_code: str, reason: str) -> str:
    label = dict(Subject._meta.get_field("end_of_treatment_reason_code").choices or ()).get(
        reason_code, reason_code
    )
    return f"{label} ({reason.strip()})" if reason.strip() else label


@retry_on_conflict
def subject_end_treatment(
    *,
    by: User,
    subject: Subject,
    end_date: date,
    reason_code: str,
    reason: str = "",
    expected_version: int | None,
) -> Subject:
    """End of treatment: the date, the coded reason (CDISC NCOMPLT) and, for OTHER or when it
    says more, the reason in the site's words (docs/subjects.md §2). The subject stays in
    follow-up."""
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    if step_refusal(Step.END_TREATMENT, subject.rule_state):
        raise field_error(
            "__all__", "Only a subject on treatment can end treatment.", "wrong_status"
        )
    if end_date is None:
        raise field_error("end_of_treatment_date", "The date is required.", "required")
    reasons = _reason_fields(
        "end_of_treatment",
        reason_code,
        reason,
        rules.END_OF_TREATMENT_REASONS,
        "end of treatment",
    )
    if end_date < subject.enrollment_date:
        raise field_error(
            "end_of_treatment_date",
            "End of treatment cannot precede enrollment.",
            "before_enrollment",
        )
    last_dose = subject.dose_administrations.order_by("-administered_on").first()
    if last_dose is not None and end_date < last_dose.administered_on:
        raise field_error(
            "end_of_treatment_date",
            f"The last dose was given on {last_dose.administered_on}, after this date.",
            "before_last_dose",
        )
    with transaction.atomic():
        subject = update_record(
            subject,
            by=by,
            changes={
                "status": Subject.Status.OFF_TREATMENT,
                "end_of_treatment_date": end_date,
                **reasons,
            },
            reason=f"End of treatment: {_reason_words(reason_code, reason)}",
            expected_version=expected_version,
            validate=_validate_subject_dates,
        )
        _announce(subject, "updated", by)
    return subject


@retry_on_conflict
def subject_end_study(
    *,
    by: User,
    subject: Subject,
    end_date: date,
    reason_code: str,
    reason: str = "",
    expected_version: int | None,
) -> Subject:
    """End of study, with its coded reason and the site's words (docs/subjects.md §2); a
    subject still on treatment ends treatment the same day, for the same reason."""
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    if step_refusal(Step.END_STUDY, subject.rule_state):
        raise field_error("__all__", "Only an enrolled subject can end the study.", "wrong_status")
    if end_date is None:
        raise field_error("end_of_study_date", "The date is required.", "required")
    reasons = _reason_fields(
        "end_of_study", reason_code, reason, rules.END_OF_STUDY_REASONS, "end of study"
    )
    changes = {"status": Subject.Status.OFF_STUDY, "end_of_study_date": end_date, **reasons}
    if subject.end_of_treatment_date is None:
        # Leaving the study ends treatment the same day.
        changes |= {
            "end_of_treatment_date": end_date,
            "end_of_treatment_reason_code": reasons["end_of_study_reason_code"],
            "end_of_treatment_reason": reasons["end_of_study_reason"],
        }
    if end_date < (subject.end_of_treatment_date or subject.enrollment_date):
        raise field_error(
            "end_of_study_date", "End of study cannot precede end of treatment.", "order"
        )
    with transaction.atomic():
        subject = update_record(
            subject,
            by=by,
            changes=changes,
            reason=f"End of study: {_reason_words(reason_code, reason)}",
            expected_version=expected_version,
            validate=_validate_subject_dates,
        )
        _announce(subject, "updated", by)
    return subject


@retry_on_conflict
def subject_record_death(
    *, by: User, subject: Subject, death_date: date, expected_version: int | None
) -> Subject:
    """Record a death; an enrolled subject leaves treatment and the study on that date."""
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    if death_date is None:
        raise field_error("death_date", "The date of death is required.", "required")
    refused = step_refusal(Step.DEATH, subject.rule_state)
    if refused is Refused.DEATH_RECORDED:
        raise field_error(
            "death_date",
            f"A date of death ({subject.death_date}) is already recorded; correct it with a reason.",
            "exists",
        )
    if refused is Refused.SCREEN_FAILED:
        raise field_error(
            "__all__",
            f"{subject} is a screen failure: they are not followed after screening, so no date "
            "of death is recorded.",
            "wrong_status",
        )
    changes: dict = {"death_date": death_date}
    if subject.is_enrolled:
        # Treatment and the study end that day, coded DEATH (docs/subjects.md §2).
        if subject.end_of_treatment_date is None:
            changes |= {
                "end_of_treatment_date": death_date,
                "end_of_treatment_reason_code": rules.REASON_DEATH,
                "end_of_treatment_reason": "",
            }
        if subject.end_of_study_date is None:
            changes |= {
                "end_of_study_date": death_date,
                "end_of_study_reason_code": rules.REASON_DEATH,
                "end_of_study_reason": "",
            }
        changes["status"] = Subject.Status.OFF_STUDY
        if death_date < subject.enrollment_date:
            raise field_error("death_date", "The date of death precedes enrollment.", "order")
    elif subject.status == Subject.Status.SCREENING:
        changes |= {
            "status": Subject.Status.SCREEN_FAILED,
            "screen_failure_reason": "Death during screening",
        }
    with transaction.atomic():
        subject = update_record(
            subject,
            by=by,
            changes=changes,
            reason="Death recorded",
            expected_version=expected_version,
            validate=_validate_subject_dates,
        )
        _announce(subject, "updated", by)
    return subject


@retry_on_conflict
def subject_void(
    *, by: User, subject: Subject, reason: str, expected_version: int | None
) -> Subject:
    """Void a subject registered in error. One with doses or adverse events is corrected, not voided."""
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    if subject.dose_administrations.exists() or subject.adverse_events.exists():
        raise field_error(
            "__all__",
            "This subject has doses or adverse events: void those first, or correct the subject instead.",
            "has_data",
        )
    with transaction.atomic():
        subject = void_record(subject, by=by, reason=reason, expected_version=expected_version)
        cohort = subject.cohort
        if (
            cohort is not None
            and cohort.status == Cohort.Status.FULL
            and occupied_places(cohort) < cohort.planned_size
        ):
            # The voided subject's place is free again (a voided replacement frees nothing: the
            # subject it replaced holds the place again).
            cohort.status = Cohort.Status.OPEN
            cohort._history_user = by
            cohort._change_reason = f"Place freed: {subject} voided"
            cohort.save(update_fields=["status"])
        _announce(subject, "voided", by)
    return subject
