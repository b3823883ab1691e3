"""The dashboard's filter form and the committee's signing forms."""

from __future__ import annotations

from django import forms

from escalation.models import CommitteeDecision

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _choices(rows, label=str, blank: str | None = None):
    choices = [(row.pk, label(row)) for row in rows]
    return ([("", blank)] if blank is not None else []) + choices


class FilterForm(forms.Form):
    """Study, track, dose level, site and a date range. The choices are the user's own: a value
    outside them (another study's site, say) is refused rather than silently ignored."""

    study = forms.TypedChoiceField(coerce=int, label="Study")
    track = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Track")
    dose_level = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Dose level"
    )
    site = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Site")
    date_from = forms.DateField(required=False, label="From", widget=DATE_INPUT)
    date_to = forms.DateField(required=False, label="To", widget=DATE_INPUT)

    def __init__(self, data, *, studies, tracks, levels, sites, date_help: str = ""):
        super().__init__(data)
        self.fields["study"].choices = _choices(studies, lambda s: s.protocol_number)
        self.fields["track"].choices = _choices(tracks, lambda t: t.name, blank="All tracks")
        self.fields["dose_level"].choices = _choices(
            levels, lambda lv: lv.label, blank="All dose levels"
        )
        self.fields["site"].choices = _choices(
            sites, lambda s: f"{s.number} {s.name}", blank="All sites"
        )
        if date_help:
            self.fields["date_from"].help_text = date_help

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end of the date range is before its start.")
        return data


def _password() -> forms.CharField:
    """The signing password (21 CFR 11.200: asked again at each signature)."""
    return forms.CharField(
        label="Your password, to sign",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


STEP_CHOICES = [("", "Choose the committee's step")] + list(CommitteeDecision.Step.choices)


class ConfirmForm(forms.Form):
    """Confirm the recommendation as it stands: the password signs the decision."""

    password = _password()

    def service_arguments(self) -> dict:
        return {}  # the recommendation as it stands: nothing to choose


class OverrideForm(forms.Form):
    """Decide otherwise than recommended (or on the committee's own initiative), with a rationale.

    The committee service checks what each step needs (a level and a size to open a cohort, a
    track or regimen to open a track); its messages land on these fields.
    """

    step = forms.ChoiceField(label="Step", choices=STEP_CHOICES)
    dose_level = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Dose level"
    )
    new_dose_amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=8,
        decimal_places=4,
        label="Or a new intermediate dose",
        help_text="Creates a dose level between the protocol's levels.",
    )
    n_subjects = forms.IntegerField(
        required=False, min_value=0, max_value=50, label="Number of subjects"
    )
    target_track = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Track to open"
    )
    new_expansion_regimen = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label="Or a new expansion cohort on regimen",
    )
    rationale = forms.CharField(
        label="Rationale",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why the committee decides otherwise; kept with the signed decision.",
    )
    password = _password()

    def __init__(self, *args, levels=(), tracks=(), regimens=(), unit: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dose_level"].choices = _choices(levels, lambda lv: lv.label, blank="—")
        self.fields["target_track"].choices = _choices(tracks, lambda t: t.name, blank="—")
        self.fields["new_expansion_regimen"].choices = _choices(
            regimens, lambda r: f"{r.code} ({r.name})", blank="—"
        )
        if unit:
            self.fields["new_dose_amount"].label = f"Or a new intermediate dose ({unit})"
        self._rows = {
            "dose_level": {lv.pk: lv for lv in levels},
            "target_track": {t.pk: t for t in tracks},
            "new_expansion_regimen": {r.pk: r for r in regimens},
        }

    def service_arguments(self) -> dict:
        """The cleaned data as `committee_override`'s arguments: the rows chosen, not their ids."""
        data = self.cleaned_data
        return {
            "step": data["step"],
            "dose_level": self._rows["dose_level"].get(data.get("dose_level")),
            "new_dose_amount": data.get("new_dose_amount"),
            "n_subjects": data.get("n_subjects") or 0,
            "target_track": self._rows["target_track"].get(data.get("target_track")),
            "new_expansion_regimen": self._rows["new_expansion_regimen"].get(
                data.get("new_expansion_regimen")
            ),
            "rationale": data["rationale"],
        }


class AdjudicationForm(forms.Form):
    """The committee's DLT call on one adverse event, kept apart from the investigator's.

    `version` is the version of the adverse event the monitor saw: if the site changed it since,
    the call is refused and what changed is shown (nothing is saved on a stale view).
    """

    CALLS = [("dlt", "DLT"), ("not_dlt", "Not a DLT")]

    call = forms.ChoiceField(
        label="The committee's call",
        choices=CALLS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose DLT or not a DLT."},
    )
    note = forms.CharField(
        label="Note",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why, under the protocol's DLT definition; kept in the audit trail.",
        error_messages={"required": "Say why: the note is kept with the call."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    @property
    def is_dlt(self) -> bool:
        return self.cleaned_data["call"] == "dlt"


# Where the committee's and the adjudication's field errors go on these forms
# (core.forms.apply_service_errors): onto the form's own field, or (None) at the top.
COMMITTEE_FIELDS: dict[str, str | None] = {"recommendation": None, "track": None}
ADJUDICATION_FIELDS: dict[str, str | None] = {
    "dlt_adjudicated": "call",
    "dlt_adjudication_note": "note",
}
