"""Forms of the coordinator pages: they parse and label what the user typed; the rules live in
the services, whose field errors `apply_errors` puts back on these fields."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from core.records import REASON_MAX_LENGTH
from safety.models import AdverseEvent, CtcaeTerm
from subjects.models import Subject

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__({"step": 60, **(attrs or {})}, format=DATETIME_FORMAT)


def date_field(label, *, required=True, help_text=""):
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        help_text=help_text,
    )


def datetime_field(label, *, help_text=""):
    return forms.DateTimeField(
        label=label,
        widget=DateTimeInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text=help_text,
    )


def version_field():
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def reason_field(label="Reason for change"):
    return forms.CharField(
        label=label,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit trail with who, when and the old and new values.",
        error_messages={"required": "Give the reason for this change."},
    )


class PortalForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SiteForm(PortalForm):
    """Dates may not lie in the future at the site: the date pickers stop at the site's today."""

    def __init__(self, *args, site_today=None, **kwargs):
        super().__init__(*args, **kwargs)
        if site_today is not None:
            for bound in self.fields.values():
                if isinstance(bound.widget, DateInput):
                    bound.widget.attrs["max"] = f"{site_today:%Y-%m-%d}"


# ------------------------------------------------------------------------------------------
# Screening to enrollment


class ScreeningForm(SiteForm):
    site = forms.ModelChoiceField(queryset=None, label="Site", empty_label=None)
    screening_number = forms.CharField(
        label="Screening number",
        max_length=30,
        help_text="As on the site's screening log; unique in the study.",
    )
    sex = forms.ChoiceField(label="Sex", choices=Subject.Sex.choices, widget=forms.RadioSelect)
    year_of_birth = forms.IntegerField(label="Year of birth", min_value=1900, max_value=2100)
    screening_date = date_field("Screening date")

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        if len(sites) == 1:
            self.fields["site"].initial = sites[0].pk
            self.fields["site"].widget = forms.HiddenInput()


class ConsentForm(SiteForm):
    consent_date = date_field("Date of informed consent")
    consent_version = forms.CharField(
        label="Consent form version", max_length=50, help_text="As printed on the form, e.g. v2.0."
    )
    version = version_field()


YES_NO = [("yes", "Yes"), ("no", "No")]


class EligibilityForm(SiteForm):
    """The study's inclusion and exclusion criteria (from the protocol file), each answered."""

    assessed_on = date_field("Date assessed")
    version = version_field()

    def __init__(self, *args, study, answers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria: list[tuple[str, str, str]] = []  # (field name, kind, text)
        answers = answers or {}
        for kind, texts in (
            ("inclusion", study.inclusion_criteria()),
            ("exclusion", study.exclusion_criteria()),
        ):
            for index, text in enumerate(texts, start=1):
                name = f"{kind[:3]}_{index}"
                self.fields[name] = forms.ChoiceField(
                    label=text,
                    choices=YES_NO,
                    widget=forms.RadioSelect,
                    error_messages={"required": "Answer this criterion."},
                )
                if text in answers:
                    self.fields[name].initial = "yes" if answers[text] else "no"
                self.criteria.append((name, kind, text))

    def inclusion_fields(self):
        return [self[name] for name, kind, _ in self.criteria if kind == "inclusion"]

    def exclusion_fields(self):
        return [self[name] for name, kind, _ in self.criteria if kind == "exclusion"]

    def answers(self) -> dict[str, bool]:
        return {text: self.cleaned_data[name] == "yes" for name, _, text in self.criteria}


class ScreenFailForm(PortalForm):
    screen_failure_reason = forms.CharField(
        label="Reason for screen failure",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E.g. the criterion not met. The subject is kept on record as a screen failure.",
        error_messages={"required": "Give the reason for the screen failure."},
    )
    version = version_field()


class EnrollForm(SiteForm):
    cohort = forms.ModelChoiceField(
        queryset=None,
        label="Cohort",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose the cohort."},
    )
    enrollment_date = date_field("Enrollment date")
    version = version_field()

    def __init__(self, *args, cohorts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = cohorts
        self.fields["cohort"].label_from_instance = lambda c: (
            f"{c.label} \u2014 {c.track.name}, {c.planned_size - c.occupied} of "
            f"{c.planned_size} place{'s' if c.planned_size != 1 else ''} free"
        )
        if len(cohorts) == 1:
            self.fields["cohort"].initial = cohorts[0].pk


class SubjectEditForm(SiteForm):
    sex = forms.ChoiceField(label="Sex", choices=Subject.Sex.choices, widget=forms.RadioSelect)
    year_of_birth = forms.IntegerField(label="Year of birth", min_value=1900, max_value=2100)
    screening_date = date_field("Screening date")
    consent_date = date_field("Date of informed consent", required=False)
    consent_version = forms.CharField(label="Consent form version", max_length=50, required=False)
    enrollment_date = date_field("Enrollment date", required=False)
    reason = reason_field()
    version = version_field()

    FIELDS = (
        "sex",
        "year_of_birth",
        "screening_date",
        "consent_date",
        "consent_version",
        "enrollment_date",
    )

    def __init__(self, *args, subject: Subject, **kwargs):
        super().__init__(*args, **kwargs)
        if not subject.is_enrolled:
            del self.fields["enrollment_date"]

    def changes(self) -> dict:
        return {n: self.cleaned_data[n] for n in self.FIELDS if n in self.fields}


# ------------------------------------------------------------------------------------------
# Dosing


class DoseFieldsForm(SiteForm):
    actual_dose_per_kg = forms.DecimalField(
        label="Dose given (mg/kg)",
        max_digits=8,
        decimal_places=4,
        help_text="The cohort's dose level unless the dose was changed.",
    )
    body_weight_kg = forms.DecimalField(
        label="Body weight (kg)",
        max_digits=5,
        decimal_places=1,
        help_text="Measured at this visit, in kilograms.",
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    dose_change_reason = forms.CharField(
        label="Reason the dose differs from the cohort's level",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    infusion_start = datetime_field("Infusion start")
    infusion_end = datetime_field("Infusion end")
    interrupted = forms.BooleanField(label="The infusion was interrupted", required=False)
    interruption_details = forms.CharField(
        label="Interruption details",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="When, for how long and why.",
    )
    lot_number = forms.CharField(label="Lot number", max_length=50)
    outside_visit_window_confirmed = forms.BooleanField(
        label="I confirm this dose was given outside its visit window", required=False
    )

    DOSE_FIELDS = (
        "actual_dose_per_kg",
        "body_weight_kg",
        "infusion_start",
        "infusion_end",
        "interrupted",
        "interruption_details",
        "dose_change_reason",
        "lot_number",
        "outside_visit_window_confirmed",
    )

    def __init__(self, *args, unit="mg/kg", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actual_dose_per_kg"].label = f"Dose given ({unit})"
        self.fields["actual_dose_per_kg"].widget.attrs.update(
            {"step": "any", "inputmode": "decimal"}
        )

    def raw_decimal(self, name) -> Decimal | None:
        """What is typed in a number field, for the total shown before saving."""
        value = self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name)
        if value in (None, ""):
            value = self.fields[name].initial if not self.is_bound else None
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except (InvalidOperation, ValueError):
            return None
        return number if number.is_finite() and number > 0 else None


class DoseForm(DoseFieldsForm):
    cycle = forms.IntegerField(label="Cycle", min_value=1, max_value=999)
    day = forms.IntegerField(label="Day", min_value=1, max_value=366)

    field_order = ["cycle", "day"]


class DoseEditForm(DoseFieldsForm):
    reason = reason_field()
    version = version_field()

    def changes(self) -> dict:
        return {n: self.cleaned_data[n] for n in self.DOSE_FIELDS}


class VoidForm(PortalForm):
    reason = reason_field("Reason for voiding")
    version = version_field()


# ------------------------------------------------------------------------------------------
# Adverse events


GRADE_CHOICES = [(str(g), f"Grade {g}") for g in (1, 2, 3, 4, 5)]


class AdverseEventForm(SiteForm):
    term_query = forms.CharField(
        label="Search CTCAE v5.0 term or MedDRA code", required=False, max_length=100
    )
    ctcae_term = forms.ModelChoiceField(
        queryset=CtcaeTerm.objects.all(),
        label="CTCAE term",
        error_messages={
            "required": "Choose a CTCAE term: search by term or MedDRA code.",
            "invalid_choice": "Choose a CTCAE term from the search results.",
        },
    )
    verbatim_term = forms.CharField(
        label="Verbatim term",
        max_length=300,
        help_text="The event as the investigator described it.",
    )
    grade = forms.TypedChoiceField(
        label="Grade",
        choices=GRADE_CHOICES,
        coerce=int,
        error_messages={"required": "Choose the grade."},
    )
    onset_date = date_field("Onset date")
    resolution_date = date_field(
        "Resolution date", required=False, help_text="Leave empty while the event is ongoing."
    )
    serious = forms.BooleanField(label="Serious adverse event (SAE)", required=False)
    relationship = forms.ChoiceField(
        label="Relationship to study drug",
        choices=[("", "Choose\u2026"), *AdverseEvent.Relationship.choices],
    )
    action_taken = forms.ChoiceField(
        label="Action taken with study drug",
        choices=[("", "Choose\u2026"), *AdverseEvent.ActionTaken.choices],
    )
    outcome = forms.ChoiceField(
        label="Outcome", choices=[("", "Choose\u2026"), *AdverseEvent.Outcome.choices]
    )
    dlt_investigator = forms.BooleanField(
        label="Dose-limiting toxicity (investigator's assessment)",
        required=False,
        help_text="Per the protocol's DLT definition; at least possibly related, onset in the "
        "DLT window. The Safety Review Committee adjudicates it separately.",
    )

    SERIOUSNESS = tuple(name for name, _ in AdverseEvent.SERIOUSNESS_CRITERIA)
    EVENT_FIELDS = (
        "ctcae_term",
        "verbatim_term",
        "grade",
        "onset_date",
        "resolution_date",
        "serious",
        "relationship",
        "action_taken",
        "outcome",
        "dlt_investigator",
        *SERIOUSNESS,
    )

    def __init__(self, *args, can_assess_dlt=True, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in AdverseEvent.SERIOUSNESS_CRITERIA:
            self.fields[name] = forms.BooleanField(label=label, required=False)
        if not can_assess_dlt:
            del self.fields["dlt_investigator"]

    def seriousness_fields(self):
        return [self[name] for name in self.SERIOUSNESS]

    def selected_term_id(self):
        value = self.data.get("ctcae_term") if self.is_bound else self.initial.get("ctcae_term")
        value = getattr(value, "pk", value)
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def selected_grade(self):
        value = self.data.get("grade") if self.is_bound else self.initial.get("grade")
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def report_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "ctcae_term": data["ctcae_term"],
            "verbatim_term": data["verbatim_term"],
            "grade": data["grade"],
            "onset_date": data["onset_date"],
            "resolution_date": data["resolution_date"],
            "relationship": data["relationship"],
            "action_taken": data["action_taken"],
            "outcome": data["outcome"],
            "serious": data["serious"],
            "seriousness": tuple(n for n in self.SERIOUSNESS if data.get(n)),
            "dlt_investigator": data.get("dlt_investigator", False),
        }

    def changes(self) -> dict:
        return {n: self.cleaned_data[n] for n in self.EVENT_FIELDS if n in self.fields}


class AdverseEventEditForm(AdverseEventForm):
    reason = reason_field()
    version = version_field()


# ------------------------------------------------------------------------------------------
# Service errors onto form fields


SERVICE_FIELD_ALIASES = {"seriousness": "serious", "eligibility_outcome": None, "answers": None}


def apply_errors(form: forms.Form, error) -> None:
    """Put a service's ValidationError on the form: each message on its field when the form has
    that field, otherwise at the top of the form with the field named."""
    if hasattr(error, "error_dict"):
        items = error.message_dict.items()
    else:
        items = [("__all__", error.messages)]
    for key, messages in items:
        name = SERVICE_FIELD_ALIASES.get(key, key)
        for message in messages:
            if name and name != "__all__" and name in form.fields:
                form.add_error(name, message)
            elif key in ("__all__", "answers", "eligibility_outcome", "subject") or not key:
                form.add_error(None, message)
            else:
                label = key.replace("_", " ").capitalize()
                form.add_error(None, f"{label}: {message}")
