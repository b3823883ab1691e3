"""Forms of the coordinator pages: they parse and label what the user typed; the rules live in
the services, whose field errors `core.forms.apply_service_errors` puts back on these fields. A
correction form's fields are its service's `EDITABLE_FIELDS`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from core.forms import (
    CorrectionFields,
    DateInput,
    apply_service_errors,
    as_int,
    date_field,
    datetime_field,
    reason_field,
    time_field,
    version_field,
)
from core.records import REASON_MAX_LENGTH
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

# The pages' forms share core/forms.py's kit; `apply_errors` is its one mapping of a service's
# refusals onto a form, under the name the page apps import from here.
apply_errors = apply_service_errors


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
    # Asked only when the year of birth leaves the age at consent either side of the minimum.
    age_confirmed = forms.BooleanField(
        label="I confirm from the source documents that the subject was old enough at consent",
        required=False,
    )
    version = version_field()

    def asks_age(self) -> bool:
        return bool(self["age_confirmed"].errors or self["age_confirmed"].value())


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
        # A service error keyed by a criterion's text goes on that criterion's answer.
        self.service_fields = {text: name for name, _, text in self.criteria}

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
    """The cohort, and, where the escalation evaluation found a subject not evaluable, whether this
    subject takes that subject's place (a full cohort takes a replacement only)."""

    cohort = forms.ModelChoiceField(
        queryset=None,
        label="Cohort",
        widget=forms.RadioSelect,
        empty_label=None,
        required=False,
    )
    replaces = forms.ModelChoiceField(
        queryset=None,
        label="Replacing a subject who is not evaluable",
        widget=forms.RadioSelect,
        required=False,
        empty_label=None,
        error_messages={
            "invalid_choice": "That subject can no longer be replaced (someone enrolled a "
            "replacement, or the escalation evaluation changed their status): choose again.",
        },
    )
    enrollment_date = date_field("Enrollment date")
    version = version_field()

    def __init__(self, *args, cohorts, replacements=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = cohorts
        self.fields["cohort"].label_from_instance = self._cohort_label
        lines = {line.subject.pk: line for line in replacements}
        self.fields["replaces"].queryset = Subject.objects.filter(pk__in=list(lines)).order_by(
            "subject_number"
        )
        self.fields["replaces"].label_from_instance = lambda s: (
            f"{s} in {lines[s.pk].cohort.label}: not evaluable, {lines[s.pk].reason}"
            if s.pk in lines
            else str(s)
        )
        self.replacement_lines = lines
        cohort_list = list(cohorts)
        new_places = [c for c in cohort_list if c.status == c.Status.OPEN]
        if new_places:
            # A new place is possible too: "no one" is a choice.
            self.fields["replaces"].empty_label = "No one: a new place in the cohort"
        if not lines and not (self.is_bound and self.data.get(self.add_prefix("replaces"))):
            # Nobody to replace; kept for a submitted choice, which then says it is gone.
            del self.fields["replaces"]
        if len(cohort_list) == 1:
            self.fields["cohort"].initial = cohort_list[0].pk
        if lines and not new_places and len(lines) == 1:
            # The only way in is as this one replacement: propose it (the coordinator confirms).
            self.fields["replaces"].initial = next(iter(lines))

    @staticmethod
    def _cohort_label(cohort) -> str:
        head = f"{cohort.label} \u2014 {cohort.track.name}"
        if cohort.status == cohort.Status.FULL:
            return f"{head}, full: takes a replacement only"
        free = max(cohort.planned_size - cohort.occupied, 0)
        return (
            f"{head}, {free} of {cohort.planned_size} "
            f"place{'s' if cohort.planned_size != 1 else ''} free"
        )

    def clean(self):
        data = super().clean()
        cohort, replaced = data.get("cohort"), data.get("replaces")
        if "cohort" in self.errors or "replaces" in self.errors:
            return data
        if replaced is not None:
            line = self.replacement_lines.get(replaced.pk)
            home = line.cohort if line is not None else None
            if cohort is None:
                data["cohort"] = home
            elif home is not None and cohort.pk != home.pk:
                self.add_error(
                    "replaces",
                    f"{replaced} is in {home.label}, not {cohort.label}: choose {home.label} "
                    "to take their place, or no one to replace.",
                )
        elif cohort is None:
            self.add_error("cohort", "Choose the cohort.")
        return data


def end_reason_code_field(label, choices, *, required_message):
    return forms.ChoiceField(
        label=label,
        choices=[("", "Choose the reason")] + list(choices),
        help_text="The coded reason (CDISC NCOMPLT).",
        error_messages={"required": required_message},
    )


def end_reason_field(label, *, help_text):
    return forms.CharField(
        label=label,
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
    )


SPECIFY_HELP = "In the site's words: required with Other; otherwise add what the code leaves out."


class DemographicsForm(SiteForm):
    """Ethnicity first, then race, several allowed (docs/subjects.md §1)."""

    ethnicity = forms.ChoiceField(
        label="Ethnicity",
        choices=ETHNICITY_CHOICES,
        widget=forms.RadioSelect,
        help_text="As the subject reports it; Not reported if they decline to say.",
        error_messages={"required": "Give the ethnicity (Not reported if the subject declined)."},
    )
    races = forms.MultipleChoiceField(
        label="Race",
        choices=RACE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="All that the subject reports; Not reported and Unknown stand alone.",
        error_messages={"required": "Choose at least one race, or Not reported or Unknown."},
    )
    race_other = forms.CharField(
        label="Other race, specify", max_length=200, required=False, help_text="With Other."
    )
    reason = reason_field()
    version = version_field()

    def __init__(self, *args, correcting: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not correcting:  # the first entry needs no reason; a correction does
            del self.fields["reason"]


class SubjectEditForm(CorrectionFields, SiteForm):
    sex = forms.ChoiceField(label="Sex", choices=Subject.Sex.choices, widget=forms.RadioSelect)
    year_of_birth = forms.IntegerField(label="Year of birth", min_value=1900, max_value=2100)
    screening_date = date_field("Screening date")
    consent_date = date_field("Date of informed consent", required=False)
    consent_version = forms.CharField(label="Consent form version", max_length=50, required=False)
    enrollment_date = date_field("Enrollment date", required=False)
    end_of_treatment_date = date_field("End of treatment date")
    end_of_treatment_reason_code = end_reason_code_field(
        "Reason treatment ended",
        END_OF_TREATMENT_REASON_CHOICES,
        required_message="Choose the reason treatment ended.",
    )
    end_of_treatment_reason = end_reason_field("Reason treatment ended, specify", help_text="")
    end_of_study_date = date_field("End of study date")
    end_of_study_reason_code = end_reason_code_field(
        "Reason the subject left the study",
        END_OF_STUDY_REASON_CHOICES,
        required_message="Choose the reason the subject left the study.",
    )
    end_of_study_reason = end_reason_field("Reason the study ended, specify", help_text="")
    death_date = date_field("Date of death")
    reason = reason_field()
    version = version_field()

    # The screen failure's reason is corrected on its own step's page, not here.
    editable_fields = subject_services.EDITABLE_FIELDS
    # Recorded by their own step (which also changes the status); once recorded, corrected here.
    RECORDED_BY_A_STEP = {
        "end_of_treatment_date": (
            "end_of_treatment_date",
            "end_of_treatment_reason_code",
            "end_of_treatment_reason",
        ),
        "end_of_study_date": (
            "end_of_study_date",
            "end_of_study_reason_code",
            "end_of_study_reason",
        ),
        "death_date": ("death_date",),
    }

    def __init__(self, *args, subject: Subject, **kwargs):
        super().__init__(*args, **kwargs)
        if not subject.is_enrolled:
            del self.fields["enrollment_date"]
        for recorded, names in self.RECORDED_BY_A_STEP.items():
            if getattr(subject, recorded) is None:
                for name in names:
                    del self.fields[name]

    def end_fields(self):
        return [
            self[name]
            for names in self.RECORDED_BY_A_STEP.values()
            for name in names
            if name in self.fields
        ]


# ------------------------------------------------------------------------------------------
# End of treatment, end of study, death


class EndTreatmentForm(SiteForm):
    end_of_treatment_date = date_field(
        "Date of end of treatment",
        help_text="The site's local date; not before the last dose, not in the future.",
    )
    end_of_treatment_reason_code = end_reason_code_field(
        "Reason treatment ended",
        END_OF_TREATMENT_REASON_CHOICES,
        required_message="Choose the reason treatment ended.",
    )
    end_of_treatment_reason = end_reason_field(
        "Reason treatment ended, specify",
        help_text=f"{SPECIFY_HELP} The subject stays in follow-up.",
    )
    version = version_field()


class EndStudyForm(SiteForm):
    end_of_study_date = date_field(
        "Date of end of study",
        help_text="The site's local date; not before the end of treatment, not in the future.",
    )
    end_of_study_reason_code = end_reason_code_field(
        "Reason the subject left the study",
        END_OF_STUDY_REASON_CHOICES,
        required_message="Choose the reason the subject left the study.",
    )
    end_of_study_reason = end_reason_field(
        "Reason the study ended, specify",
        help_text=f"{SPECIFY_HELP} Still on treatment: treatment ends the same day, for the "
        "same reason.",
    )
    version = version_field()


class DeathForm(SiteForm):
    death_date = date_field("Date of death", help_text="The site's local date; not in the future.")
    version = version_field()


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
    # Recorded as given once confirmed (docs/dosing.md): each box shows when the check asks.
    overdose_confirmed = forms.BooleanField(
        label="I confirm this overdose was given (a protocol deviation; the medical monitors "
        "are notified)",
        required=False,
    )
    short_interval_confirmed = forms.BooleanField(
        label="I confirm this infusion was given that soon after the previous one (a protocol "
        "deviation)",
        required=False,
    )
    weight_outside_range_confirmed = forms.BooleanField(
        label="I confirm this body weight, outside the plausible range, as measured",
        required=False,
    )
    weight_change_confirmed = forms.BooleanField(
        label="I confirm this body weight, a large change since the previous dose, as measured",
        required=False,
    )
    deviation_reason = forms.CharField(
        label="Reason for the deviation",
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the infusion came early, or why the weight is outside the plausible range.",
    )

    # (confirmation, the value field its check is about) in the order the page shows them.
    CONFIRMATIONS = (
        ("overdose_confirmed", "actual_dose_per_kg"),
        ("weight_outside_range_confirmed", "body_weight_kg"),
        ("weight_change_confirmed", "body_weight_kg"),
        ("short_interval_confirmed", "infusion_start"),
    )

    def __init__(self, *args, unit="mg/kg", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actual_dose_per_kg"].label = f"Dose given ({unit})"
        self.fields["actual_dose_per_kg"].widget.attrs.update(
            {"step": "any", "inputmode": "decimal"}
        )

    def asked_confirmations(self) -> list:
        """The confirmation boxes to show: those a check asked for (an error on the box) or
        already ticked."""
        return [
            self[name]
            for name, _ in self.CONFIRMATIONS
            if self[name].errors or self[name].value() or self.initial.get(name)
        ]

    def asks_deviation_reason(self) -> bool:
        names = ("short_interval_confirmed", "weight_outside_range_confirmed")
        shown = {bound.name for bound in self.asked_confirmations()}
        return bool(
            self["deviation_reason"].errors
            or self["deviation_reason"].value()
            or shown.intersection(names)
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


class DoseEditForm(CorrectionFields, DoseFieldsForm):
    reason = reason_field()
    version = version_field()

    editable_fields = dosing_services.EDITABLE_FIELDS


class VoidForm(PortalForm):
    reason = reason_field("Reason for voiding")
    version = version_field()


# ------------------------------------------------------------------------------------------
# Adverse events


GRADE_CHOICES = [(str(g), f"Grade {g}") for g in (1, 2, 3, 4, 5)]


class AdverseEventForm(CorrectionFields, SiteForm):
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
    onset_time = time_field(
        "Onset time (site local time)",
        help_text="When known. On the day of the first dose it tells whether the event began "
        "before the infusion started (then it is not treatment-emergent).",
    )
    baseline_grade = forms.TypedChoiceField(
        label="Baseline grade (pre-existing condition)",
        choices=[("", "None: a new event"), *GRADE_CHOICES[:4]],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="The condition's grade before the first dose. The event is treatment-emergent "
        "only if its grade is above it.",
    )
    resolution_date = date_field(
        "Resolution date", required=False, help_text="Leave empty while the event is ongoing."
    )
    serious = forms.BooleanField(label="Serious adverse event (SAE)", required=False)
    sae_awareness_at = datetime_field(
        "SAE: when the site became aware (site local time)",
        required=False,
        help_text="Required for a serious event: the 24-hour reporting clock starts then.",
    )
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
    editable_fields = safety_services.EDITABLE_FIELDS

    def __init__(self, *args, can_assess_dlt=True, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in AdverseEvent.SERIOUSNESS_CRITERIA:
            self.fields[name] = forms.BooleanField(label=label, required=False)
        if not can_assess_dlt:
            del self.fields["dlt_investigator"]

    def seriousness_fields(self):
        return [self[name] for name in self.SERIOUSNESS]

    def _chosen(self, name):
        """The field's value so far: as submitted, or the initial one."""
        return self.data.get(name) if self.is_bound else self.initial.get(name)

    def selected_term_id(self) -> int | None:
        value = self._chosen("ctcae_term")
        return as_int(getattr(value, "pk", value))

    def selected_grade(self) -> int | None:
        return as_int(self._chosen("grade"))

    def report_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "ctcae_term": data["ctcae_term"],
            "verbatim_term": data["verbatim_term"],
            "grade": data["grade"],
            "onset_date": data["onset_date"],
            "onset_time": data["onset_time"],
            "baseline_grade": data["baseline_grade"],
            "resolution_date": data["resolution_date"],
            "relationship": data["relationship"],
            "action_taken": data["action_taken"],
            "outcome": data["outcome"],
            "serious": data["serious"],
            "sae_awareness_at": data["sae_awareness_at"],
            "seriousness": tuple(n for n in self.SERIOUSNESS if data.get(n)),
            "dlt_investigator": data.get("dlt_investigator", False),
        }


class AdverseEventEditForm(AdverseEventForm):
    reason = reason_field()
    version = version_field()
