"""The tumour assessment form: the scan's facts and one row per lesion. It parses what was typed;
the rules (and their messages) are the service's, put back on the row's fields."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms

from portal.forms import PortalForm, date_field, reason_field, version_field

from .models import METHOD_CHOICES, RESPONSE_CHOICES, Lesion, TumourAssessment
from .rules import MeasurementStatus, NewLesionCertainty, NonTargetStatus

BASELINE_ROWS = 10
NEW_LESION_ROWS = 3

TARGET_STATUS_CHOICES = [(s.value, s.value.capitalize()) for s in MeasurementStatus]
NON_TARGET_STATUS_CHOICES = [(s.value, s.value.capitalize()) for s in NonTargetStatus]
NEW_STATUS_CHOICES = [("", "—")] + [(s.value, s.value.capitalize()) for s in NewLesionCertainty]


@dataclass
class Row:
    """One lesion row of the form: its fields by short name, and the lesion when known."""

    prefix: str
    fields: dict
    lesion: Lesion | None = None
    label: str = ""

    def __getitem__(self, key):
        return self.fields[key]


def _mm_field(label="Size (mm)"):
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )


class TumourAssessmentForm(PortalForm):
    assessed_on = date_field("Date of the scan")
    method = forms.ChoiceField(label="Method", choices=METHOD_CHOICES, initial="CT")
    slice_thickness_mm = forms.DecimalField(
        label="Slice thickness (mm)",
        required=False,
        min_value=0,
        max_digits=4,
        decimal_places=1,
        help_text="Empty = 5 mm or less.",
    )
    tumour_markers = forms.ChoiceField(
        label="Tumour markers",
        choices=TumourAssessment.Markers.choices,
        required=False,
    )
    investigator_response = forms.ChoiceField(
        label="Investigator's overall response (RECIST 1.1)",
        choices=[("", "—")] + RESPONSE_CHOICES,
        required=False,
    )
    comment = forms.CharField(label="Comment", required=False, widget=forms.Textarea({"rows": 2}))

    def __init__(self, *args, kind: str, lesions: list[Lesion] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.lesion_rows: list[Row] = []
        self.new_rows: list[Row] = []
        if kind == TumourAssessment.Kind.BASELINE:
            del self.fields["investigator_response"]
            for index in range(BASELINE_ROWS):
                target = index < 5
                code = f"T{index + 1}" if target else f"NT{index - 4}"
                prefix = f"l{index}_"
                fields = {
                    "code": forms.CharField(label="Code", max_length=10, initial=code),
                    "role": forms.ChoiceField(
                        label="Role",
                        choices=Lesion.Role.choices[:2],
                        initial="target" if target else "non-target",
                    ),
                    "organ": forms.CharField(label="Organ", max_length=60, required=False),
                    "location": forms.CharField(label="Location", max_length=200, required=False),
                    "nodal": forms.BooleanField(label="Lymph node", required=False),
                    "not_measurable": forms.BooleanField(
                        label="Non-measurable by nature", required=False
                    ),
                    "size_mm": _mm_field("LD / short axis (mm)"),
                }
                self._add_row(self.lesion_rows, prefix, fields, f"Lesion row {index + 1}")
        else:
            for index, lesion in enumerate(lesions):
                prefix = f"l{index}_"
                if lesion.role == Lesion.Role.TARGET:
                    fields = {
                        "status": forms.ChoiceField(
                            label="Status", choices=TARGET_STATUS_CHOICES, initial="measured"
                        ),
                        "size_mm": _mm_field("Short axis (mm)" if lesion.nodal else "LD (mm)"),
                        "parts_mm": forms.CharField(
                            label="Parts (mm), if split", max_length=60, required=False
                        ),
                        "merged_into": forms.CharField(
                            label="Merged into", max_length=10, required=False
                        ),
                    }
                elif lesion.role == Lesion.Role.NON_TARGET:
                    fields = {
                        "status": forms.ChoiceField(
                            label="Status", choices=NON_TARGET_STATUS_CHOICES, initial="present"
                        )
                    }
                else:
                    fields = {
                        "status": forms.ChoiceField(
                            label="Seen again", choices=NEW_STATUS_CHOICES, required=False
                        )
                    }
                row = self._add_row(self.lesion_rows, prefix, fields, lesion.code)
                row.lesion = lesion
                row.label = f"{lesion.code} · {lesion.get_role_display()} · {lesion.organ}" + (
                    " (node)" if lesion.nodal else ""
                )
            for index in range(NEW_LESION_ROWS):
                prefix = f"n{index}_"
                fields = {
                    "code": forms.CharField(label="Code", max_length=10, required=False),
                    "organ": forms.CharField(label="Organ", max_length=60, required=False),
                    "location": forms.CharField(label="Location", max_length=200, required=False),
                    "status": forms.ChoiceField(
                        label="Certainty", choices=NEW_STATUS_CHOICES, required=False
                    ),
                }
                self._add_row(self.new_rows, prefix, fields, f"New lesion row {index + 1}")

    def _add_row(self, rows: list[Row], prefix: str, fields: dict, name_: str) -> Row:
        bound = {}
        for name, field in fields.items():
            field.required = False  # each row is checked by the service, naming its field
            field.label = f"{name_}: {field.label}"
            field.widget.attrs["aria-label"] = field.label  # the row's cells show no <label>
            self.fields[f"{prefix}{name}"] = field
            bound[name] = self[f"{prefix}{name}"]
        row = Row(prefix, bound)
        rows.append(row)
        return row

    def _value(self, prefix: str, name: str):
        return self.cleaned_data.get(f"{prefix}{name}")

    def lesion_inputs(self) -> list[dict]:
        """The rows as the service takes them (empty rows left out)."""
        found: list[dict] = []
        if self.kind == TumourAssessment.Kind.BASELINE:
            for row in self.lesion_rows:
                p = row.prefix
                if not (self._value(p, "organ") or self._value(p, "size_mm") is not None):
                    continue
                found.append(
                    {
                        "field_prefix": p,
                        "code": self._value(p, "code"),
                        "role": self._value(p, "role"),
                        "organ": self._value(p, "organ"),
                        "location": self._value(p, "location"),
                        "nodal": bool(self._value(p, "nodal")),
                        "measurable_by_nature": not self._value(p, "not_measurable"),
                        "size_mm": self._value(p, "size_mm"),
                    }
                )
            return found
        for row in self.lesion_rows:
            p = row.prefix
            lesion = row.lesion
            assert lesion is not None
            status = self._value(p, "status")
            if lesion.role == Lesion.Role.NEW:
                if status:
                    found.append(
                        {"field_prefix": p, "code": lesion.code, "role": "new", "status": status}
                    )
                continue
            item = {"field_prefix": p, "code": lesion.code, "status": status}
            if lesion.role == Lesion.Role.TARGET:
                item |= {
                    "size_mm": self._value(p, "size_mm"),
                    "parts_mm": self._value(p, "parts_mm"),
                    "merged_into": self._value(p, "merged_into"),
                }
            found.append(item)
        for row in self.new_rows:
            p = row.prefix
            if not (self._value(p, "code") or self._value(p, "organ") or self._value(p, "status")):
                continue
            found.append(
                {
                    "field_prefix": p,
                    "code": self._value(p, "code"),
                    "role": "new",
                    "organ": self._value(p, "organ"),
                    "location": self._value(p, "location"),
                    "status": self._value(p, "status"),
                }
            )
        return found

    def record_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": self.kind,
            "assessed_on": data["assessed_on"],
            "method": data["method"],
            "slice_thickness_mm": data.get("slice_thickness_mm"),
            "tumour_markers": data.get("tumour_markers") or "",
            "investigator_response": data.get("investigator_response") or "",
            "comment": data.get("comment") or "",
            "lesions": self.lesion_inputs(),
        }


class ObservationCorrectionForm(PortalForm):
    """Correct one lesion at one scan: its status and size, with a reason (the assessment's
    other lesions are checked again with it by the service)."""

    status = forms.ChoiceField(label="Status")
    size_mm = _mm_field("Size (mm)")
    version = version_field()
    reason = reason_field()

    def __init__(self, *args, observation, **kwargs):
        super().__init__(*args, **kwargs)
        lesion = observation.lesion
        if observation.assessment.is_baseline:
            self.fields["status"].choices = [(observation.status, observation.status)]
        elif lesion.role == Lesion.Role.TARGET:
            self.fields["status"].choices = [
                c for c in TARGET_STATUS_CHOICES if c[0] not in ("split", "merged")
            ]
        elif lesion.role == Lesion.Role.NON_TARGET:
            self.fields["status"].choices = NON_TARGET_STATUS_CHOICES
        else:
            self.fields["status"].choices = NEW_STATUS_CHOICES[1:]
        self.sized = lesion.role == Lesion.Role.TARGET or (
            observation.assessment.is_baseline and observation.size_mm is not None
        )
        if not self.sized:
            del self.fields["size_mm"]
        else:
            self.fields["size_mm"].label = (
                "Short axis (mm)" if lesion.nodal else "Longest diameter (mm)"
            )

    def changes(self) -> dict:
        found = {"status": self.cleaned_data["status"]}
        if self.sized:
            found["size_mm"] = self.cleaned_data.get("size_mm")
        return found
