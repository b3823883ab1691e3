"""Forms of the pharmacology pages: a sample at the site, a laboratory file."""

from django import forms

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class SampleForm(forms.Form):
    """One scheduled sample: collected (barcode and actual time) or not collected (reason)."""

    kind = forms.CharField(widget=forms.HiddenInput)
    timepoint = forms.CharField(widget=forms.HiddenInput)
    collected = forms.TypedChoiceField(
        label="Status",
        choices=[("yes", "Collected"), ("no", "Not collected")],
        coerce=lambda v: v == "yes",
        initial="yes",
        widget=forms.RadioSelect,
    )
    sample_id = forms.CharField(label="Sample ID (barcode)", required=False, max_length=60)
    collected_at = forms.DateTimeField(
        label="Actual date and time",
        required=False,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "step": 60}, format=DATETIME_FORMAT
        ),
    )
    not_collected_reason = forms.CharField(
        label="Reason not collected", required=False, max_length=500
    )
    deviation_comment = forms.CharField(label="Comment", required=False, max_length=500)


class LabFileForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of results",
        choices=[
            ("pk", "PK concentrations"),
            ("ada", "ADA results"),
            ("biomarker", "Biomarker results"),
        ],
    )
    file = forms.FileField(
        label="CSV file", help_text="The column layout of docs/pharmacology.md §8."
    )
