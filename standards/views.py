"""Pages: start an export (optionally as of a data cut), watch its progress, download it with
its validation report (docs/standards.md §11). For the study-wide roles that may export."""

from datetime import UTC

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.scoping import export_studies
from core.errors import PermissionDenied
from trial.models import Study

from .models import Export
from .services import export_path, export_request, exports_for


class ExportForm(forms.Form):
    study = forms.ModelChoiceField(queryset=Study.objects.none(), empty_label=None)
    data_cut_at = forms.DateTimeField(
        label="Data cut (UTC, optional)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: the data as they stand when the export runs. A time: the data as the "
        "audit history held them then.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["study"].queryset = export_studies(user)

    def clean_data_cut_at(self):
        value = self.cleaned_data.get("data_cut_at")
        if value is None:
            return None
        if timezone.is_naive(value):
            value = value.replace(tzinfo=UTC)
        return value


def _forbidden(request):
    return render(
        request,
        "standards/forbidden.html",
        {
            "message": "Exports are for the sponsor, data manager, medical monitor and study "
            "administrator."
        },
        status=403,
    )


@login_required
@require_http_methods(["GET", "POST"])
def exports(request):
    if not export_studies(request.user).exists():
        return _forbidden(request)
    form = ExportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            export = export_request(
                by=request.user,
                study=form.cleaned_data["study"],
                data_cut_at=form.cleaned_data["data_cut_at"],
            )
        except PermissionDenied:
            return _forbidden(request)
        except DjangoValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return redirect("standards:export", pk=export.pk)
    return render(
        request,
        "standards/exports.html",
        {"form": form, "exports": exports_for(request.user)[:50], "now": timezone.now()},
        status=400 if form.errors else 200,
    )


def _export(request, pk) -> Export:
    return get_object_or_404(exports_for(request.user), pk=pk)


@login_required
@require_GET
def export_detail(request, pk):
    export = _export(request, pk)
    return render(request, "standards/export.html", {"export": export})


@login_required
@require_GET
def export_progress(request, pk):
    """The progress panel, polled by htmx every second until the job has finished."""
    export = _export(request, pk)
    return render(request, "standards/_progress.html", {"export": export})


@login_required
@require_GET
def export_download(request, pk):
    export = _export(request, pk)
    if export.status != Export.Status.COMPLETED:
        raise Http404("This export has no file (yet).")
    path = export_path(export)
    if not path.exists():
        raise Http404("The export's file is missing from the export store.")
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=path.name, content_type="application/zip"
    )
    response["Digest"] = f"sha-256={export.sha256}"
    response["X-Checksum-SHA256"] = export.sha256
    return response
