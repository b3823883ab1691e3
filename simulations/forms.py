"""The simulation page's form: designs to compare with shared settings, scenarios one per line."""

import math

from django import forms

from escalation.rules.designs.config import LABELS

DESIGN_CHOICES = [
    ("boin", LABELS["boin"]),
    ("3+3", LABELS["3+3"]),
    ("mtpi2", LABELS["mtpi2"]),
    ("i3+3", LABELS["i3+3"]),
    ("crm", LABELS["crm"]),
    ("tite-boin", LABELS["tite-boin"]),
]


def default_scenarios(labels: list[str]) -> str:
    """Two scenarios for the study's levels: the true MTD (DLT rate 0.30) in the middle, and at
    the top."""
    k = len(labels)
    if k == 0:
        return ""

    def around(m: int) -> str:
        return ", ".join(f"{min(0.95, 0.3 * 1.6 ** (i - m)):.2f}" for i in range(k))

    middle = math.ceil(k / 2) - 1
    return f"MTD at level {middle + 1}: {around(middle)}\nMTD at level {k}: {around(k - 1)}"


class SimulationForm(forms.Form):
    study = forms.ModelChoiceField(queryset=None, empty_label=None)
    title = forms.CharField(max_length=200, required=False)
    designs = forms.MultipleChoiceField(
        choices=DESIGN_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["boin", "3+3"],
        help_text="Each design runs on the same simulated subjects' draws (the same seed).",
    )
    target = forms.DecimalField(
        initial="0.3", min_value=0.05, max_value=0.6, decimal_places=3, label="Target DLT rate"
    )
    cohort_size = forms.IntegerField(initial=3, min_value=1, max_value=12)
    max_subjects = forms.IntegerField(
        initial=30, min_value=3, max_value=200, label="Maximum sample size"
    )
    variant = forms.ChoiceField(
        choices=[("expand", "expand the dose below to 6 (Korn)"), ("simple", "simple")],
        initial="expand",
        label="3+3 variant",
    )
    scenarios = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 70}),
        help_text="One scenario a line: a name, a colon, then the true DLT probability at each "
        "dose level, lowest first, separated by commas.",
    )
    n_trials = forms.IntegerField(initial=10_000, min_value=100, max_value=100_000, label="Trials")
    seed = forms.IntegerField(
        required=False, min_value=0, help_text="Empty: a new seed, stored with the results."
    )

    def __init__(self, *args, studies, levels: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["study"].queryset = studies
        self.levels = levels
        if not self.is_bound:
            self.fields["scenarios"].initial = default_scenarios(levels)

    def clean_scenarios(self):
        text = self.cleaned_data["scenarios"]
        scenarios = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, values = line.partition(":")
            if not sep:
                name, values = f"Scenario {len(scenarios) + 1}", line
            try:
                probabilities = [float(v) for v in values.replace(";", ",").split(",") if v.strip()]
            except ValueError:
                raise forms.ValidationError(
                    f"Line {number}: the probabilities must be numbers separated by commas."
                ) from None
            scenarios.append({"name": name.strip(), "true_dlt": probabilities})
        if not scenarios:
            raise forms.ValidationError("Give at least one scenario.")
        return scenarios

    def design_list(self) -> list[dict]:
        data = self.cleaned_data
        shared = {
            "target": float(data["target"]),
            "cohort_size": data["cohort_size"],
            "max_subjects": data["max_subjects"],
        }
        out = []
        for name in data["designs"]:
            if name == "3+3":
                out.append({"name": "3+3", "variant": data["variant"]})
            elif name == "crm":
                nu = max(1, math.ceil(len(self.levels) / 2))
                out.append({"name": "crm", **shared, "skeleton_halfwidth": 0.05, "skeleton_nu": nu})
            else:
                out.append({"name": name, **shared})
        return out
