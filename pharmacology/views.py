"""Pages of the pharmacology app: samples at the site's dose visit, laboratory imports for the
data manager, PK, ADA and biomarker results for the monitor and the sponsor. Thin: parse,
authorise, call a service or a selector, render."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.roles import Capability
from accounts.scoping import can, restrict
from core.errors import PermissionDenied, ValidationError
from dosing.models import DoseAdministration

from . import selectors, services
from .forms import SampleForm


def _scoped_dose(user, pk: int) -> DoseAdministration:
    try:
        return restrict(
            DoseAdministration.objects.select_related(
                "subject", "subject__site", "subject__cohort__track__regimen"
            ),
            user,
        ).get(pk=pk)
    except ObjectDoesNotExist:
        raise Http404("No such dose.") from None


def _apply(form, error: ValidationError) -> None:
    for field, texts in error.message_dict.items():
        target = field if field in form.fields and field not in ("kind", "timepoint") else None
        for text in texts:
            form.add_error(target, text if target else f"{field.replace('_', ' ')}: {text}")


@login_required
@require_http_methods(["GET", "POST"])
def dose_samples(request, pk: int):
    """The samples scheduled at one infusion, recorded at the site (docs/pharmacology.md §7.2)."""
    dose = _scoped_dose(request.user, pk)
    subject = dose.subject
    can_enter = can(
        request.user, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id
    )
    failed: SampleForm | None = None
    with timezone.override(ZoneInfo(subject.site.timezone)):
        if request.method == "POST":
            if not can_enter:
                raise PermissionDenied("Your role does not allow entering samples.")
            form = SampleForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    sample = services.sample_record(
                        by=request.user,
                        subject=subject,
                        dose=dose,
                        kind=data["kind"],
                        timepoint=data["timepoint"],
                        collected=data["collected"],
                        sample_id=data["sample_id"],
                        collected_at=data["collected_at"],
                        not_collected_reason=data["not_collected_reason"],
                        deviation_comment=data["deviation_comment"],
                    )
                except ValidationError as error:
                    _apply(form, error)
                else:
                    note = ""
                    if sample.flagged:
                        note = f" It is {sample.deviation_hours:+.2f} h from nominal: flagged."
                    messages.success(
                        request,
                        f"{sample.get_kind_display()} sample {sample.timepoint} saved.{note}",
                    )
                    return redirect(reverse("pharmacology:dose_samples", args=[dose.pk]))
            failed = form
        rows = [r for r in selectors.expected_rows(subject) if r.dose.pk == dose.pk]
        entries = []
        for index, row in enumerate(rows, start=1):
            form = None
            if row.sample is None and can_enter:
                if (
                    failed is not None
                    and failed.data.get("kind") == row.expected.kind.value
                    and failed.data.get("timepoint") == row.expected.label
                ):
                    form = failed
                else:
                    form = SampleForm(
                        initial={"kind": row.expected.kind.value, "timepoint": row.expected.label}
                    )
                form.auto_id = f"id_s{index}_%s"
            entries.append({"row": row, "form": form})
        return render(
            request,
            "pharmacology/dose_samples.html",
            {
                "dose": dose,
                "subject": subject,
                "entries": entries,
                "can_enter": can_enter,
                "tz": subject.site.timezone,
            },
        )
