"""What the API accepts. These only parse and type-check; every clinical rule is the service's
(the same one the web pages call), so an integration and a coordinator are held to the same
checks. A field the endpoint does not know is refused by name rather than silently dropped: an
integration that misspells `grade` must hear about it, not lose the value."""

import re
from collections.abc import Mapping
from datetime import date, time

from rest_framework import serializers

from accounts.scoping import restrict
from dosing import services as dosing_services
from safety import services as safety_services
from safety.models import AdverseEvent, CtcaeTerm
from subjects import services as subject_services
from subjects.models import (
    END_OF_STUDY_REASON_CHOICES,
    END_OF_TREATMENT_REASON_CHOICES,
    ETHNICITY_CHOICES,
    RACE_CHOICES,
    Subject,
)
from trial.models import Cohort, Site

REASON_HELP = "Why the record is changed (kept in its audit history). Required."


# What the OpenAPI document promises (format: date, date-time): ISO 8601 extended format only.
# Python's own parsers also read the basic (20261123) and week (2026-W47-1) forms and other
# scripts' digits, which a sending system did not mean and a reader of the schema cannot expect.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
ISO_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
ASCII_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
ASCII_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


class IsoDateField(serializers.DateField):
    """A calendar date as YYYY-MM-DD."""

    default_error_messages = {"invalid": "Give the date as YYYY-MM-DD, e.g. 2026-11-23."}

    def to_internal_value(self, value):
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value.strip()):
            self.fail("invalid", format="YYYY-MM-DD")
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            self.fail("invalid", format="YYYY-MM-DD")


LOCAL_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]", re.ASCII)


class LocalTimeField(serializers.TimeField):
    """A local time of day at the site, to the minute, as HH:MM (no offset: the site's
    timezone gives it its place, with the date it goes with)."""

    default_error_messages = {"invalid": "Give the site's local time as HH:MM, e.g. 09:30."}

    def to_internal_value(self, value):
        if not isinstance(value, str) or not LOCAL_TIME.fullmatch(value.strip()):
            self.fail("invalid", format="HH:MM")
        return time.fromisoformat(value.strip())


class AsciiIntegerField(serializers.IntegerField):
    """A whole number: a JSON number, or a string of ASCII digits (never other scripts' digits,
    which int() would read)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not ASCII_INTEGER.fullmatch(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)


class AsciiDecimalField(serializers.DecimalField):
    """A decimal as the document's pattern states it: ASCII digits, an optional minus sign and
    point, at least one digit; nothing around it."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not ASCII_DECIMAL.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """A time with its UTC offset: a bare local time is ambiguous across sites' timezones."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2026-03-02T09:30:00+01:00.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            text = value.strip()
            if not (text.endswith(("Z", "z")) or "+" in text[10:] or "-" in text[10:]):
                self.fail("naive")
            if not ISO_DATE_TIME.fullmatch(text):
                self.fail("invalid", format="ISO 8601, e.g. 2026-03-02T09:30:00+01:00")
        try:
            return super().to_internal_value(value)
        except (OverflowError, ValueError):
            self.fail("invalid", format="ISO 8601")


class StrictInput(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(k) for k in data if k not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field: not accepted by this endpoint."] for name in unknown}
                )
        return super().to_internal_value(data)


class ScopedPrimaryKey(serializers.PrimaryKeyRelatedField):
    """A reference to a record the caller can see; any other id reads as 'does not exist'."""

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("queryset", model.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return restrict(self.model.objects.all(), getattr(request, "user", None))

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str) and not ASCII_INTEGER.fullmatch(data):
            self.fail("incorrect_type", data_type="str")
        return super().to_internal_value(data)


def reason_field(**kwargs):
    kwargs.setdefault("help_text", REASON_HELP)
    return serializers.CharField(max_length=2000, **kwargs)


class ReasonInput(StrictInput):
    reason = reason_field()


def day_field(**kwargs):
    return IsoDateField(**kwargs)


class CorrectionInput(StrictInput):
    """An update: every field optional (only the fields sent change), `reason` required.

    The fields are the service's `EDITABLE_FIELDS` (`editable_fields`), each parsed as its
    subclass declares it; a declared field the service does not let a correction change is left
    out, so it is refused by name like any unknown field."""

    editable_fields: tuple[str, ...] = ()
    reason = reason_field()

    def get_fields(self):
        fields = {
            name: field
            for name, field in super().get_fields().items()
            if name == "reason" or (field.source or name) in self.editable_fields
        }
        for name, field in fields.items():
            if name != "reason":
                field.required = False
        return fields


# --- Subjects ---


class SubjectScreenInput(StrictInput):
    site = ScopedPrimaryKey(Site)
    screening_number = serializers.CharField(max_length=30)
    sex = serializers.ChoiceField(choices=Subject.Sex.choices)
    year_of_birth = AsciiIntegerField(min_value=1900, max_value=2100)
    screening_date = day_field()


class SubjectUpdateInput(CorrectionInput):
    """A correction: only the fields sent change; `reason` is required."""

    editable_fields = subject_services.EDITABLE_FIELDS

    sex = serializers.ChoiceField(choices=Subject.Sex.choices, required=False)
    year_of_birth = AsciiIntegerField(min_value=1900, max_value=2100, required=False)
    screening_date = day_field(required=False)
    consent_date = day_field(required=False, allow_null=True)
    consent_version = serializers.CharField(max_length=50, required=False, allow_blank=True)
    enrollment_date = day_field(required=False, allow_null=True)
    end_of_treatment_date = day_field(required=False, allow_null=True)
    end_of_treatment_reason_code = serializers.ChoiceField(
        choices=END_OF_TREATMENT_REASON_CHOICES, required=False
    )
    end_of_treatment_reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True
    )
    end_of_study_date = day_field(required=False, allow_null=True)
    end_of_study_reason_code = serializers.ChoiceField(
        choices=END_OF_STUDY_REASON_CHOICES, required=False
    )
    end_of_study_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    death_date = day_field(required=False, allow_null=True)
    screen_failure_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class SubjectConsentInput(StrictInput):
    consent_date = day_field()
    consent_version = serializers.CharField(max_length=50)
    age_confirmed = serializers.BooleanField(
        required=False,
        help_text="Confirms, from the source documents, the minimum age at consent when the year "
        "of birth allows either side of it.",
    )


class SubjectEligibilityInput(StrictInput):
    answers = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="Each of the study's inclusion and exclusion criteria (exact text) -> "
        "true (met / applies) or false.",
    )
    assessed_on = day_field()


class SubjectEnrollInput(StrictInput):
    cohort = ScopedPrimaryKey(Cohort)
    enrollment_date = day_field()
    replaces = ScopedPrimaryKey(
        Subject,
        required=False,
        allow_null=True,
        help_text="The non-evaluable subject whose place this subject takes.",
    )


class SubjectScreenFailInput(StrictInput):
    reason = reason_field(help_text="Why the subject failed screening.")


class SubjectEndTreatmentInput(StrictInput):
    end_date = day_field()
    reason_code = serializers.ChoiceField(
        choices=END_OF_TREATMENT_REASON_CHOICES,
        help_text="Why treatment ended, coded (CDISC CT NCOMPLT; OTHER with `reason`).",
    )
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="The reason in the site's words: required with OTHER, otherwise optional.",
    )


class SubjectEndStudyInput(StrictInput):
    end_date = day_field()
    reason_code = serializers.ChoiceField(
        choices=END_OF_STUDY_REASON_CHOICES,
        help_text="Why the study ended, coded (CDISC CT NCOMPLT; OTHER with `reason`). A "
        "subject still on treatment ends treatment the same day, for the same reason.",
    )
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="The reason in the site's words: required with OTHER, otherwise optional.",
    )


class SubjectDemographicsInput(StrictInput):
    ethnicity = serializers.ChoiceField(choices=ETHNICITY_CHOICES, help_text="CDISC CT ETHNIC.")
    races = serializers.ListField(
        child=serializers.ChoiceField(choices=RACE_CHOICES),
        max_length=len(RACE_CHOICES),
        help_text="CDISC CT RACE values; several allowed, NOT REPORTED and UNKNOWN alone.",
    )
    race_other = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The race as the subject gave it, with OTHER.",
    )
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="Why the demographics change: required once they are recorded.",
    )


class SubjectDeathInput(StrictInput):
    death_date = day_field()


# --- Dose administrations ---


class DoseFields(StrictInput):
    actual_dose_per_kg = AsciiDecimalField(
        max_digits=8, decimal_places=4, help_text="The dose given, in the study's unit (mg/kg)."
    )
    body_weight_kg = AsciiDecimalField(max_digits=5, decimal_places=1)
    infusion_start = AwareDateTimeField()
    infusion_end = AwareDateTimeField()
    lot_number = serializers.CharField(max_length=50)
    interrupted = serializers.BooleanField(required=False)
    interruption_details = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    dose_change_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    outside_visit_window_confirmed = serializers.BooleanField(
        required=False, help_text="Confirms a dose given outside its visit window."
    )
    overdose_confirmed = serializers.BooleanField(
        required=False,
        help_text="Confirms an overdose given (more than the protocol's margin above the planned "
        "dose): recorded as given, a protocol deviation; dose_change_reason is required.",
    )
    short_interval_confirmed = serializers.BooleanField(
        required=False,
        help_text="Confirms an infusion given sooner after the previous one than the regimen's "
        "minimum interval: a protocol deviation; deviation_reason is required.",
    )
    weight_outside_range_confirmed = serializers.BooleanField(
        required=False,
        help_text="Confirms a body weight outside the study's plausible range; deviation_reason "
        "is required.",
    )
    weight_change_confirmed = serializers.BooleanField(
        required=False,
        help_text="Confirms a body weight that changed more than the study's margin since the "
        "previous dose.",
    )
    deviation_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class DoseCreateInput(DoseFields):
    subject = ScopedPrimaryKey(Subject)
    cycle = AsciiIntegerField(min_value=1, max_value=32767)
    day = AsciiIntegerField(min_value=1, max_value=32767)
    dose_unit = serializers.CharField(max_length=20, required=False, default="mg/kg")


class DoseUpdateInput(CorrectionInput, DoseFields):
    editable_fields = dosing_services.EDITABLE_FIELDS


# --- Adverse events ---

SERIOUSNESS_FIELDS = [name for name, _ in AdverseEvent.SERIOUSNESS_CRITERIA]


class MeddraCodeField(AsciiIntegerField):
    """The CTCAE v5.0 term, named by its MedDRA code (e.g. 10028813 for Nausea); the parsed
    value is the term itself."""

    default_error_messages = {"unknown": "No CTCAE v5.0 term has MedDRA code {code}."}

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=2**31 - 1, **kwargs)

    def run_validation(self, data=serializers.empty):
        code = super().run_validation(data)
        if code is None:
            return None
        term = CtcaeTerm.objects.filter(meddra_code=code).first()
        if term is None:
            self.fail("unknown", code=code)
        return term


def _criterion():
    return serializers.BooleanField(required=False, help_text="A seriousness criterion (ICH E2A).")


class AdverseEventFields(StrictInput):
    meddra_code = MeddraCodeField(
        source="ctcae_term", help_text="The CTCAE v5.0 term, by its MedDRA code."
    )
    verbatim_term = serializers.CharField(max_length=300)
    grade = AsciiIntegerField(
        min_value=1, max_value=5, help_text="CTCAE grade; only grades the term defines."
    )
    onset_date = day_field()
    onset_time = LocalTimeField(
        required=False,
        allow_null=True,
        help_text="Site local time of onset (HH:MM), when known (docs/safety.md §3).",
    )
    baseline_grade = AsciiIntegerField(
        min_value=1,
        max_value=4,
        required=False,
        allow_null=True,
        help_text="For a pre-existing condition, its grade before the first dose; a grade the "
        "term defines, not above the event's grade.",
    )
    resolution_date = day_field(required=False, allow_null=True)
    serious = serializers.BooleanField(required=False)
    sae_awareness_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text="When the site became aware of the SAE (with its UTC offset); required when "
        "serious: the 24-hour reporting clock starts then.",
    )
    serious_death = _criterion()
    serious_life_threatening = _criterion()
    serious_hospitalisation = _criterion()
    serious_disability = _criterion()
    serious_congenital_anomaly = _criterion()
    serious_important_medical_event = _criterion()
    relationship = serializers.ChoiceField(choices=AdverseEvent.Relationship.choices)
    action_taken = serializers.ChoiceField(choices=AdverseEvent.ActionTaken.choices)
    outcome = serializers.ChoiceField(choices=AdverseEvent.Outcome.choices)
    dlt_investigator = serializers.BooleanField(
        required=False, help_text="The investigator's DLT call (site roles only)."
    )


class AdverseEventCreateInput(AdverseEventFields):
    subject = ScopedPrimaryKey(Subject)


class AdverseEventUpdateInput(CorrectionInput, AdverseEventFields):
    editable_fields = safety_services.EDITABLE_FIELDS


class AdverseEventAttestInput(StrictInput):
    """The investigator attests the event's DLT call (docs/safety.md §8): nothing to send but
    the version seen (If-Match)."""


# --- Tokens ---


class TokenCreateInput(StrictInput):
    name = serializers.CharField(max_length=100)
    expires_in_days = AsciiIntegerField(
        min_value=1, max_value=365, default=90, help_text="1 to 365 days; 90 if not given."
    )
