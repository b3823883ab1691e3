"""The cancer history and prior cancer therapy pages correct and void (docs/visits.md §11): a
correction with a reason against the version the user saw (a stale form is shown with what
changed, nothing saved), a void with a reason; voided records stay on the page struck through,
out of the monitor's listings and SDTM."""

from datetime import timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from standards.build import build_datasets
from standards.context import ExportContext
from tests.factories import dosed, enrolled_subject
from visits.models import CancerHistory, PriorCancerTherapy
from visits.services import cancer_history_record, prior_therapy_record, prior_therapy_update

HISTORY = {
    "primary_site": "lung, right upper lobe",
    "histology": "Adenocarcinoma",
    "diagnosis_date": "2023-05",
    "stage_at_diagnosis": "IIIA",
    "stage_at_entry": "IVB",
    "advanced_disease_date": "2025-01-14",
    "metastatic_sites": ["BONE", "LIVER"],
}
SYSTEMIC = {
    "therapy_type": "systemic",
    "treatment": "Carboplatin + pemetrexed",
    "setting": "advanced",
    "line": 1,
    "start_date": "2025-02",
    "end_date": "2025-09-30",
    "best_response": "PR",
    "stop_reason": "progression",
}


@pytest.fixture
def subject(coordinator_a, site_a, open_cohort):
    subject = enrolled_subject(coordinator_a, site_a, "CH-2", open_cohort, days_ago=14)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    return subject


def _posted(form_values: dict) -> dict:
    return {k: ("" if v is None else v) for k, v in form_values.items()}


def test_a_prior_therapy_is_corrected_with_a_reason_and_a_stale_form_is_refused(
    client, coordinator_a, investigator_a, subject, django_assert_max_num_queries
):
    therapy = prior_therapy_record(by=coordinator_a, subject=subject, **SYSTEMIC)
    client.force_login(coordinator_a)
    page = client.get(reverse("visits:prior_therapy", args=[subject.pk])).content.decode()
    assert reverse("visits:prior_therapy_edit", args=[therapy.pk]) in page
    url = reverse("visits:prior_therapy_edit", args=[therapy.pk])
    form = client.get(url).content.decode()
    assert 'value="2025-09-30"' in form and 'name="reason"' in form
    values = {**SYSTEMIC, "version": therapy.version}
    # No reason: refused on the field, nothing saved.
    response = client.post(url, _posted({**values, "end_date": "2025-10-15"}))
    assert response.status_code == 200
    assert "Give the reason for this change." in response.content.decode()
    therapy.refresh_from_db()
    assert therapy.end_date == "2025-09-30" and therapy.version == 1
    # A rule of the service lands on its field.
    response = client.post(
        url, _posted({**values, "end_date": "2024-12", "reason": "Source re-read"})
    )
    assert "is before the start" in response.content.decode()
    response = client.post(
        url, _posted({**values, "end_date": "2025-10-15", "reason": "Last cycle on the source"})
    )
    assert response.status_code == 302
    therapy.refresh_from_db()
    assert (therapy.end_date, therapy.version) == ("2025-10-15", 2)
    assert therapy.history.first().history_change_reason == "Last cycle on the source"
    # Someone else corrects it meanwhile: the form of version 2 is refused and shows the change.
    prior_therapy_update(
        by=investigator_a,
        therapy=therapy,
        changes={"best_response": "SD"},
        reason="Best response per the scan report",
        expected_version=2,
    )
    response = client.post(
        url,
        _posted({**values, "version": 2, "end_date": "2025-10-20", "reason": "Another look"}),
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Changed by someone else" in page
    assert "Best response per the scan report" in page
    therapy.refresh_from_db()
    assert (therapy.end_date, therapy.best_response, therapy.version) == ("2025-10-15", "SD", 3)
    with django_assert_max_num_queries(25):
        client.get(reverse("visits:prior_therapy", args=[subject.pk]))


def test_a_prior_therapy_voided_with_a_reason_is_struck_through_and_out_of_listings_and_sdtm(
    client, coordinator_a, monitor, sponsor, coordinator_b, subject, study
):
    kept = prior_therapy_record(by=coordinator_a, subject=subject, **SYSTEMIC)
    wrong = prior_therapy_record(
        by=coordinator_a,
        subject=subject,
        **SYSTEMIC
        | {"treatment": "Docetaxel", "line": 2, "start_date": "2025-10", "end_date": "2025-11"},
    )
    url = reverse("visits:prior_therapy_void", args=[wrong.pk])
    client.force_login(coordinator_b)
    assert client.get(url).status_code == 404  # another site's record is not found
    client.force_login(sponsor)
    assert client.get(url).status_code == 403
    client.force_login(coordinator_a)
    response = client.post(url, {"version": wrong.version, "reason": ""})
    assert response.status_code == 200
    assert PriorCancerTherapy.objects.filter(pk=wrong.pk).exists()
    response = client.post(url, {"version": wrong.version, "reason": "Another subject's"})
    assert response.status_code == 302
    assert response["Location"] == reverse("visits:prior_therapy", args=[subject.pk])
    wrong = PriorCancerTherapy.all_objects.get(pk=wrong.pk)  # kept, never deleted
    assert wrong.voided_at is not None and wrong.void_reason == "Another subject's"
    page = client.get(reverse("visits:prior_therapy", args=[subject.pk])).content.decode()
    assert f'data-voided="{wrong.pk}"><del>Systemic therapy (chemotherapy' in page
    assert "Docetaxel · 2025-10 to 2025-11</del>" in page
    assert "Another subject&#x27;s" in page
    assert f'id="pt-{kept.pk}"' in page and f'id="pt-{wrong.pk}"' not in page
    # Voiding it again (the version seen is stale) is refused: nothing changes.
    response = client.post(url, {"version": 1, "reason": "Twice"})
    assert response.status_code == 404
    client.force_login(monitor)
    listing = client.get(reverse("monitoring:form_listing", args=["prior_therapy"]))
    assert "Carboplatin + pemetrexed" in listing.content.decode()
    assert "Docetaxel" not in listing.content.decode()
    datasets = {d.name: d for d in build_datasets(ExportContext(study))}
    treatments = [r["CMTRT"] for r in datasets["CM"].rows if r["CMCAT"] == "PRIOR CANCER THERAPY"]
    assert treatments == ["Carboplatin + pemetrexed"]


def test_the_cancer_history_is_corrected_and_voided_then_recorded_again(
    client, coordinator_a, subject, study
):
    history = cancer_history_record(by=coordinator_a, subject=subject, **HISTORY)
    client.force_login(coordinator_a)
    page = client.get(reverse("visits:cancer_history", args=[subject.pk])).content.decode()
    assert reverse("visits:cancer_history_edit", args=[history.pk]) in page
    assert reverse("visits:cancer_history_void", args=[history.pk]) in page
    url = reverse("visits:cancer_history_edit", args=[history.pk])
    form = client.get(url).content.decode()
    assert 'value="Adenocarcinoma"' in form
    response = client.post(
        url,
        _posted(
            {
                **HISTORY,
                "histology": "Squamous cell carcinoma",
                "version": 1,
                "reason": "Pathology report corrected",
            }
        ),
    )
    assert response.status_code == 302
    history.refresh_from_db()
    assert (history.histology, history.version) == ("Squamous cell carcinoma", 2)
    assert history.metastatic_sites == ["LIVER", "BONE"]
    response = client.post(
        reverse("visits:cancer_history_void", args=[history.pk]),
        {"version": 2, "reason": "Entered for the wrong subject"},
    )
    assert response.status_code == 302
    assert not CancerHistory.objects.filter(subject=subject).exists()
    page = client.get(reverse("visits:cancer_history", args=[subject.pk])).content.decode()
    assert "<del>Squamous cell carcinoma of lung, right upper lobe" in page
    assert "Record the cancer history" in page  # a new one may be recorded
    datasets = {d.name: d for d in build_datasets(ExportContext(study))}
    mh = datasets["MH"].rows if "MH" in datasets else []  # a dataset without records is left out
    assert [r for r in mh if r["MHCAT"] == "CANCER HISTORY"] == []
    response = client.post(
        reverse("visits:cancer_history", args=[subject.pk]),
        _posted({**HISTORY, "histology": "Adenocarcinoma"}),
    )
    assert response.status_code == 302
    assert CancerHistory.objects.get(subject=subject).histology == "Adenocarcinoma"
