"""The efficacy pages: entering assessments with the computed response shown beside the
investigator's, refusals on the row's field, scoping, the endpoints page and its CSV tables."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from efficacy.models import LesionObservation, TumourAssessment
from efficacy.services import tumour_assessment_record
from tests.factories import dosed, enrolled_subject
from tests.integration.efficacy.helpers import BASELINE, day, follow_up, record_follow_up
from trial.models import Cohort, EscalationTrack

pytestmark = pytest.mark.django_db


def _baseline_post(on, **rows):
    data = {"assessed_on": on.isoformat(), "method": "CT", "tumour_markers": ""}
    for index in range(10):
        data[f"l{index}_code"] = f"T{index + 1}" if index < 5 else f"NT{index - 4}"
        data[f"l{index}_role"] = "target" if index < 5 else "non-target"
    data |= {
        "l0_organ": "liver", "l0_size_mm": "50",
        "l1_organ": "lung", "l1_size_mm": "30",
        "l2_code": "N1", "l2_organ": "mediastinum", "l2_nodal": "on", "l2_size_mm": "20",
        "l5_organ": "bone", "l5_not_measurable": "on",
    }  # fmt: skip
    data |= rows
    return data


def _follow_up_post(on, t1, t2, n1, response):
    # rows in the form's order: targets (N1, T1, T2 by code), then the non-target NT1
    return {
        "assessed_on": on.isoformat(), "method": "CT", "tumour_markers": "",
        "investigator_response": response,
        "l0_status": "measured", "l0_size_mm": n1,
        "l1_status": "measured", "l1_size_mm": t1,
        "l2_status": "measured", "l2_size_mm": t2,
        "l3_status": "present",
    }  # fmt: skip


def test_coordinator_enters_baseline_and_follow_up_and_sees_the_computed_response(
    client, coordinator_a, treated, first_dose_on
):
    client.force_login(coordinator_a)
    page = client.get(reverse("efficacy:subject", args=[treated.pk]))
    assert page.status_code == 200
    assert b"Record the baseline assessment" in page.content
    url = reverse("efficacy:assessment_new", args=[treated.pk, "baseline"])
    assert client.get(url).status_code == 200
    response = client.post(url, _baseline_post(first_dose_on - timedelta(days=3)))
    assert response.status_code == 302, response.content.decode()[:3000]
    url = reverse("efficacy:assessment_new", args=[treated.pk, "follow_up"])
    form = client.get(url).content.decode()
    assert 'data-lesion="N1"' in form and 'data-lesion="NT1"' in form
    response = client.post(
        url, _follow_up_post(day(first_dose_on, 43), "35", "21", "14", "SD"), follow=True
    )
    text = response.content.decode()
    assert "Computed response: PR, the investigator&#x27;s is SD" in text
    assert "eff-disagree" in text
    assert "-30.0%" in text


def test_a_refusal_lands_on_the_rows_field_and_nothing_is_saved(
    client, coordinator_a, treated, first_dose_on
):
    client.force_login(coordinator_a)
    url = reverse("efficacy:assessment_new", args=[treated.pk, "baseline"])
    response = client.post(url, _baseline_post(first_dose_on - timedelta(days=3), l1_size_mm="9.5"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "must be measurable" in " ".join(errors["l1_size_mm"])
    assert "Nothing was saved" in response.content.decode()
    assert not TumourAssessment.all_objects.exists()


def test_another_sites_coordinator_and_the_sponsor(client, coordinator_b, sponsor, with_baseline):
    client.force_login(coordinator_b)
    assert client.get(reverse("efficacy:subject", args=[with_baseline.pk])).status_code == 404
    client.force_login(sponsor)
    assert client.get(reverse("efficacy:subject", args=[with_baseline.pk])).status_code == 200
    url = reverse("efficacy:assessment_new", args=[with_baseline.pk, "follow_up"])
    assert client.get(url).status_code == 403


def _csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_endpoints_page_rates_plots_and_csv(
    client, monitor, coordinator_a, with_baseline, first_dose_on
):
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14), "PR"
    )
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 85), follow_up(30, 20, 12), "SD"
    )
    client.force_login(monitor)
    page = client.get(reverse("efficacy:endpoints"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "“log” transform" in text
    assert 'data-plot="waterfall"' in text and 'data-subject="101-001"' in text
    assert 'data-plot="swimmer"' in text and 'data-mark="response"' in text
    rates = _csv_rows(client.get(reverse("efficacy:endpoints") + "?format=csv&table=rates"))
    overall = rates[-1]
    assert overall[:4] == ["All dose levels", "1", "1", "100.0"]
    # Clopper-Pearson 1/1: 95% CI 2.5% to 100% (R binom.test(1, 1): 0.025, 1)
    assert overall[4:6] == ["2.5", "100.0"]
    disagreements = _csv_rows(
        client.get(reverse("efficacy:endpoints") + "?format=csv&table=disagreements")
    )
    assert disagreements[1][2:5] == [f"time point {day(first_dose_on, 85)}", "PR", "SD"]
    subjects = _csv_rows(client.get(reverse("efficacy:endpoints") + "?format=csv&table=subjects"))
    header, row = subjects
    assert row[header.index("best overall response")] == "PR"
    assert row[header.index("PFS")] == "censored"
    assert row[header.index("PFS date")] == day(first_dose_on, 85).isoformat()
    assert client.get(reverse("efficacy:endpoints") + "?format=csv&table=nope").status_code == 404


def test_endpoints_page_query_count_does_not_grow_with_subjects(
    client, study, monitor, coordinator_a, site_a, with_baseline, first_dose_on,
    django_assert_num_queries,
):  # fmt: skip
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14), "PR"
    )
    client.force_login(monitor)
    url = reverse("efficacy:endpoints")
    # 13, and the survival contacts and the visits done (docs/efficacy.md §15)
    with django_assert_num_queries(15):
        assert client.get(url).status_code == 200
    cohort2 = Cohort.objects.create(
        study=study, track=EscalationTrack.objects.get(study=study, code="Q3W-ESC"), number=2,
        dose_level=study.dose_levels.get(number=2), planned_size=3, status=Cohort.Status.OPEN,
        opened_at=timezone.now(),
    )  # fmt: skip
    for number in ("S-2", "S-3"):
        other = enrolled_subject(coordinator_a, site_a, number, cohort2, days_ago=210)
        dosed(coordinator_a, other, on=first_dose_on)
        tumour_assessment_record(
            by=coordinator_a, subject=other, kind="baseline", method="CT", lesions=BASELINE,
            assessed_on=first_dose_on - timedelta(days=2),
        )  # fmt: skip
        record_follow_up(coordinator_a, other, day(first_dose_on, 43), follow_up(60, 40, 20), "PD")
    with django_assert_num_queries(15):
        page = client.get(url)
    assert [r.label for r in page.context["page"].rates] == [
        "DL1 0.01 mg/kg", "DL2 0.03 mg/kg", "All dose levels"
    ]  # fmt: skip
    assert [r.orr.numerator for r in page.context["page"].rates] == [0, 0, 0]


def test_orr_counts_only_measurable_disease_at_baseline(
    client, study, monitor, coordinator_a, site_a, with_baseline, first_dose_on
):
    """docs/efficacy.md §11: the default population is treated subjects with measurable
    disease; a subject with non-target disease only is left out of the ORR's N."""
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14), "PR"
    )
    cohort2 = Cohort.objects.create(
        study=study, track=EscalationTrack.objects.get(study=study, code="Q3W-ESC"), number=2,
        dose_level=study.dose_levels.get(number=2), planned_size=3, status=Cohort.Status.OPEN,
        opened_at=timezone.now(),
    )  # fmt: skip
    other = enrolled_subject(coordinator_a, site_a, "S-2", cohort2, days_ago=210)
    dosed(coordinator_a, other, on=first_dose_on)
    tumour_assessment_record(
        by=coordinator_a, subject=other, kind="baseline", method="CT",
        assessed_on=first_dose_on - timedelta(days=2),
        lesions=[{"code": "NT1", "role": "non-target", "organ": "bone",
                  "measurable_by_nature": False}],
    )  # fmt: skip
    record_follow_up(
        coordinator_a, other, day(first_dose_on, 43), [{"code": "NT1", "status": "present"}],
        "NON-CR/NON-PD",
    )  # fmt: skip
    client.force_login(monitor)
    rates = client.get(reverse("efficacy:endpoints")).context["page"].rates
    overall = rates[-1]
    assert (overall.n, overall.orr.denominator, overall.dcr.denominator) == (1, 1, 1)
    assert rates[1].orr is None and rates[1].n == 0  # DL2: non-target disease only


def test_correcting_a_lesion_with_a_reason_and_a_stale_correction(
    client, coordinator_a, investigator_a, with_baseline, first_dose_on
):
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14), "PR"
    )
    observation = LesionObservation.objects.get(lesion__code="T1", assessment__kind="follow_up")
    url = reverse("efficacy:observation_edit", args=[observation.pk])
    client.force_login(coordinator_a)
    assert client.get(url).status_code == 200
    refused = client.post(url, {"status": "measured", "size_mm": "36", "version": "1"})
    assert "Give the reason for this change." in refused.context["form"].errors["reason"]
    saved = client.post(
        url,
        {"status": "measured", "size_mm": "36", "version": "1", "reason": "Radiology re-read"},
        follow=True,
    )
    text = saved.content.decode()
    assert "T1 on" in text and "corrected" in text
    # 36 + 21 + 14 = 71: 29% below baseline, SD now; the investigator's PR disagrees
    assert '<span class="eff-response" data-computed>SD</span>' in text
    observation.refresh_from_db()
    assert (observation.size_mm, observation.version) == (36, 2)
    # someone saved meanwhile: the second editor's version 1 is stale, nothing is saved
    client.force_login(investigator_a)
    stale = client.post(
        url, {"status": "measured", "size_mm": "34", "version": "1", "reason": "typo"}
    )
    assert stale.status_code == 200 and stale.context["stale_changes"]
    observation.refresh_from_db()
    assert observation.size_mm == 36
