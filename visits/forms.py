"""The coordinator's forms for visits, vital signs, lab results and ECOG (docs/visits.md).

Only the typing is checked here (a number where a number goes); every rule is the service's,
and its refusal lands on the field it names (portal.forms.apply_errors)."""

from django import forms

from core.forms import CorrectionFields, reason_field, version_field
from portal.forms import SiteForm, date_field
from safety.models import AdverseEvent, CtcaeTerm

from .models import (
    CM_FREQUENCIES,
    CM_ROUTES,
    CM_UNITS,
    ECOG_CHOICES,
    LAB_TEST_CHOICES,
    PARTIAL_DATE_HELP,
    EcgAssessment,
    SurvivalContact,
    VitalSigns,
)
from .rules import (
    METASTATIC_SITES,
    RESPONSES,
    SETTINGS,
    STAGE_CHOICES,
    STOP_REASONS,
    THERAPY_TYPES,
)
from .services import CANCER_HISTORY_FIELDS, PRIOR_THERAPY_FIELDS

OPTIONAL_YES_NO = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]


def yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


class VisitForm(SiteForm):
    visit_date = date_field("Date of the visit", required=False)
    not_done = forms.BooleanField(label="The visit was not done", required=False)
    not_done_reason = forms.CharField(
        label="Why it was not done", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class VitalSignsForm(SiteForm):
    measured_on = date_field("Date measured")
    timepoint = forms.ChoiceField(label="Time point", choices=VitalSigns.Timepoint.choices)
    systolic_bp = forms.IntegerField(label="Systolic BP (mmHg)", required=False)
    diastolic_bp = forms.IntegerField(label="Diastolic BP (mmHg)", required=False)
    pulse = forms.IntegerField(label="Pulse (beats/min)", required=False)
    respiratory_rate = forms.IntegerField(label="Respiratory rate (breaths/min)", required=False)
    temperature = forms.DecimalField(label="Temperature", required=False, max_digits=6)
    temperature_unit = forms.ChoiceField(
        label="Temperature unit", choices=[("C", "°C"), ("F", "°F")], initial="C"
    )
    spo2 = forms.IntegerField(label="SpO2 (%)", required=False)
    weight = forms.DecimalField(label="Weight", required=False, max_digits=8)
    weight_unit = forms.ChoiceField(label="Weight unit", choices=[("kg", "kg"), ("lb", "lb")])


class LabResultForm(SiteForm):
    sampled_on = date_field("Sample date")
    test = forms.ChoiceField(label="Test", choices=LAB_TEST_CHOICES)
    value = forms.DecimalField(label="Value (as reported)", max_digits=14, decimal_places=4)
    unit = forms.CharField(
        label="Unit (as reported)",
        max_length=20,
        required=False,
        help_text="E.g. U/L, g/dL, 10^9/L, /mm3, mg/dL, umol/L; a unit the test does not accept "
        "is refused.",
    )
    normal_low = forms.DecimalField(
        label="Lower limit of normal", required=False, max_digits=14, decimal_places=4
    )
    normal_high = forms.DecimalField(
        label="Upper limit of normal", required=False, max_digits=14, decimal_places=4
    )
    clinically_significant = forms.ChoiceField(
        label="Clinically significant", choices=OPTIONAL_YES_NO, required=False
    )
    symptomatic = forms.ChoiceField(
        label="Symptomatic (where CTCAE asks)", choices=OPTIONAL_YES_NO, required=False
    )

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["clinically_significant"] = yes_no(data["clinically_significant"])
        data["symptomatic"] = yes_no(data["symptomatic"])
        return data


class EcogForm(SiteForm):
    assessed_on = date_field("Date assessed")
    status = forms.TypedChoiceField(
        label="ECOG performance status", choices=ECOG_CHOICES, coerce=int, widget=forms.RadioSelect
    )


class LabAdverseEventForm(SiteForm):
    """What the site confirms when a graded lab result is reported as an adverse event."""

    verbatim_term = forms.CharField(label="Verbatim term", max_length=300)
    grade = forms.TypedChoiceField(label="CTCAE grade", coerce=int, choices=[])
    onset_date = date_field("Onset date")
    relationship = forms.ChoiceField(
        label="Relationship to study drug", choices=AdverseEvent.Relationship.choices
    )
    action_taken = forms.ChoiceField(
        label="Action taken with study drug", choices=AdverseEvent.ActionTaken.choices
    )
    outcome = forms.ChoiceField(label="Outcome", choices=AdverseEvent.Outcome.choices)
    resolution_date = date_field("Resolution date", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, grades, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].choices = grades


def _ms(label):
    return forms.IntegerField(label=label, required=False, min_value=0, max_value=32767)


class EcgForm(SiteForm):
    recorded_on = date_field("Date recorded")
    timepoint = forms.ChoiceField(label="Time point", choices=VitalSigns.Timepoint.choices)
    qt_ms_1 = forms.IntegerField(label="QT, tracing 1 (ms)", min_value=0, max_value=32767)
    rr_ms_1 = _ms("RR, tracing 1 (ms)")
    heart_rate_1 = _ms("Heart rate, tracing 1 (beats/min)")
    qt_ms_2 = _ms("QT, tracing 2 (ms)")
    rr_ms_2 = _ms("RR, tracing 2 (ms)")
    heart_rate_2 = _ms("Heart rate, tracing 2 (beats/min)")
    qt_ms_3 = _ms("QT, tracing 3 (ms)")
    rr_ms_3 = _ms("RR, tracing 3 (ms)")
    heart_rate_3 = _ms("Heart rate, tracing 3 (beats/min)")
    pr_ms = _ms("PR (ms)")
    qrs_ms = _ms("QRS (ms)")
    interpretation = forms.ChoiceField(
        label="Reading", choices=EcgAssessment.Interpretation.choices
    )


class ConcomitantMedicationForm(SiteForm):
    medication = forms.CharField(label="Medication (as recorded)", max_length=200)
    atc_code = forms.CharField(
        label="ATC code",
        max_length=7,
        required=False,
        help_text="When known (e.g. N02BE01); may be coded later.",
    )
    indication = forms.CharField(label="Indication", max_length=200)
    adverse_event = forms.ModelChoiceField(
        label="Treats adverse event", queryset=None, required=False, empty_label="None"
    )
    dose = forms.DecimalField(label="Dose", required=False, max_digits=12, decimal_places=4)
    dose_unit = forms.ChoiceField(label="Dose unit", choices=[("", "—"), *CM_UNITS], required=False)
    frequency = forms.ChoiceField(
        label="Frequency", choices=[("", "—"), *CM_FREQUENCIES], required=False
    )
    route = forms.ChoiceField(label="Route", choices=CM_ROUTES)
    start_date = date_field("Start date")
    end_date = date_field("End date", required=False)
    ongoing = forms.BooleanField(label="Ongoing", required=False)

    def __init__(self, *args, events, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["adverse_event"].queryset = events


class MedicalHistoryForm(SiteForm):
    term = forms.CharField(label="Condition (as recorded)", max_length=200)
    ctcae_term = forms.ModelChoiceField(
        label="CTCAE term (MedDRA LLT)",
        queryset=CtcaeTerm.objects.all(),
        required=False,
        help_text="Needed for a baseline grade.",
    )
    start_year = forms.IntegerField(label="Start year", min_value=1900, max_value=2100)
    start_month = forms.IntegerField(label="Start month", required=False, min_value=1, max_value=12)
    start_day = forms.IntegerField(label="Start day", required=False, min_value=1, max_value=31)
    ongoing = forms.BooleanField(label="Ongoing at the first dose", required=False)
    end_date = date_field("End date", required=False)
    baseline_grade = forms.TypedChoiceField(
        label="CTCAE grade at the first dose",
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", "—"), (1, "1"), (2, "2"), (3, "3"), (4, "4")],
    )


class SurvivalContactForm(SiteForm):
    contact_date = date_field("Date of contact")
    status = forms.ChoiceField(label="Status", choices=SurvivalContact.Status.choices)
    last_known_alive = date_field("Last known alive", required=False)
    new_therapy = forms.BooleanField(label="New anticancer therapy", required=False)
    new_therapy_regimen = forms.CharField(label="Therapy (regimen)", max_length=200, required=False)
    new_therapy_start = date_field("Therapy start", required=False)
    cause_of_death = forms.ChoiceField(
        label="Cause of death", choices=[("", "—"), *SurvivalContact.Cause.choices], required=False
    )
    cause_adverse_event = forms.ModelChoiceField(
        label="Adverse event causing death", queryset=None, required=False, empty_label="None"
    )
    cause_other = forms.CharField(label="Other cause", max_length=200, required=False)

    def __init__(self, *args, events, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cause_adverse_event"].queryset = events


def _partial_date(label: str, *, required: bool = True):
    return forms.CharField(
        label=label,
        max_length=10,
        required=required,
        help_text=PARTIAL_DATE_HELP,
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD", "inputmode": "numeric"}),
    )


def _blank_first(choices) -> list:
    return [("", "—"), *choices]


class CancerHistoryForm(SiteForm):
    primary_site = forms.CharField(
        label="Primary tumour site",
        max_length=200,
        help_text="E.g. lung, right upper lobe; colon, sigmoid.",
    )
    histology = forms.CharField(
        label="Histology",
        max_length=200,
        help_text="As the pathology report gives it, e.g. adenocarcinoma.",
    )
    diagnosis_date = _partial_date("Date of initial diagnosis")
    stage_at_diagnosis = forms.ChoiceField(
        label="AJCC stage at diagnosis (8th edition)", choices=_blank_first(STAGE_CHOICES)
    )
    tnm_at_diagnosis = forms.CharField(
        label="TNM at diagnosis", max_length=60, required=False, help_text="E.g. pT2a pN1 M0."
    )
    stage_at_entry = forms.ChoiceField(
        label="AJCC stage at study entry", choices=_blank_first(STAGE_CHOICES)
    )
    tnm_at_entry = forms.CharField(label="TNM at study entry", max_length=60, required=False)
    advanced_disease_date = _partial_date("Date of metastatic or advanced disease", required=False)
    metastatic_sites = forms.MultipleChoiceField(
        label="Sites of metastases",
        choices=METASTATIC_SITES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    metastatic_sites_other = forms.CharField(
        label="Other sites of metastases", max_length=200, required=False
    )
    no_prior_therapy = forms.BooleanField(
        label="No prior anticancer therapy (systemic, radiotherapy or surgery)", required=False
    )


class PriorTherapyForm(SiteForm):
    therapy_type = forms.ChoiceField(label="Type", choices=_blank_first(THERAPY_TYPES))
    treatment = forms.CharField(
        label="Regimen, agents or procedure",
        max_length=200,
        help_text="As recorded, e.g. carboplatin + pemetrexed; SBRT 54 Gy right lung; "
        "right upper lobectomy.",
    )
    setting = forms.ChoiceField(label="Setting", choices=_blank_first(SETTINGS))
    line = forms.IntegerField(
        label="Line of therapy",
        required=False,
        min_value=1,
        max_value=30,
        help_text="Systemic therapy for advanced disease: 1 for the first line.",
    )
    start_date = _partial_date("Start date")
    end_date = _partial_date("End date", required=False)
    best_response = forms.ChoiceField(
        label="Best response", choices=_blank_first(RESPONSES), required=False
    )
    stop_reason = forms.ChoiceField(
        label="Reason stopped", choices=_blank_first(STOP_REASONS), required=False
    )
    stop_reason_other = forms.CharField(label="Other reason", max_length=200, required=False)


class CancerHistoryCorrectionForm(CorrectionFields, CancerHistoryForm):
    """The cancer history corrected with a reason, against the version the user saw."""

    reason = reason_field()
    version = version_field()

    editable_fields = CANCER_HISTORY_FIELDS


class PriorTherapyCorrectionForm(CorrectionFields, PriorTherapyForm):
    """A prior cancer therapy corrected with a reason, against the version the user saw."""

    reason = reason_field()
    version = version_field()

    editable_fields = PRIOR_THERAPY_FIELDS
