"""A concentration left out by hand, with its reason: the NCA is recomputed and says which
sample it left out and why (docs/pharmacology.md §2.1, §9)."""

import pytest
from django.urls import reverse

from core.errors import PermissionDenied, ValidationError
from core.records import history_entries
from pharmacology.models import Concentration, NcaAnalysis
from pharmacology.services import concentration_exclude, lab_import
from tests.integration.pharmacology.conftest import pk_csv


def test_excluding_a_point_recomputes_the_nca_traceably(
    client, monitor, data_manager, coordinator_a, study, subject_a, pk_samples,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        lab_import(by=data_manager, study=study, kind="pk", file_name="r.csv",
                   content=pk_csv(pk_samples, subject_a))  # fmt: skip
    before = NcaAnalysis.objects.get(subject=subject_a)
    assert before.parameters["cmax"]["value"] == 2.1
    eoi = Concentration.objects.get(sample=pk_samples["EOI"])
    with django_capture_on_commit_callbacks(execute=True):
        concentration_exclude(
            by=data_manager,
            concentration=eoi,
            exclude_reason="Sample drawn from the infusion arm",
            reason="PK review",
            expected_version=eoi.version,
        )
    after = NcaAnalysis.objects.get(subject=subject_a)
    assert after.parameters["cmax"]["value"] == 2.05  # the 2 h sample is now the highest
    point = next(p for p in after.points if p["sample_id"] == "PK-EOI")
    assert point["status"] == "excluded" and "infusion arm" in point["reason"]
    assert after.history.count() == 2
    assert history_entries(Concentration.objects.get(pk=eoi.pk))[-1]["reason"] == "PK review"
    # The PK page marks it on the individual curves (linear and semi-log) and in the table.
    client.force_login(monitor)
    page = client.get(reverse("pharmacology:pk")).content.decode()
    assert page.count('class="excluded"') == 2
    assert "From the NCA: Sample drawn from the infusion arm" in page
    csv_text = client.get(reverse("pharmacology:pk") + "?csv=concentrations").content.decode()
    assert "Sample drawn from the infusion arm" in csv_text

    late = Concentration.objects.get(sample=pk_samples["24 h"])
    with django_capture_on_commit_callbacks(execute=True):
        concentration_exclude(
            by=data_manager, concentration=late,
            exclude_from_lambda_z_reason="Distribution phase", reason="PK review",
            expected_version=late.version,
        )  # fmt: skip
    fit = NcaAnalysis.objects.get(subject=subject_a).fit
    assert 24.0 not in fit["times"]
    with pytest.raises(ValidationError):
        concentration_exclude(
            by=data_manager, concentration=Concentration.objects.get(pk=late.pk),
            exclude_reason="x", exclude_from_lambda_z_reason="y", reason="r",
            expected_version=None,
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        concentration_exclude(
            by=coordinator_a, concentration=eoi, exclude_reason="x", reason="r",
            expected_version=None,
        )  # fmt: skip
