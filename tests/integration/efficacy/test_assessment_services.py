"""Recording tumour assessments: every lesion or nothing, each refusal naming the field and the
RECIST 1.1 rule; corrections and voids audited (docs/efficacy.md §1-§4, §15)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from efficacy.models import Lesion, LesionObservation, TumourAssessment
from efficacy.rules import EndpointRule
from efficacy.selectors import subject_efficacy
from efficacy.services import (
    lesion_observation_update,
    tumour_assessment_record,
    tumour_assessment_update,
    tumour_assessment_void,
)
from tests.integration.efficacy.helpers import BASELINE, day, follow_up, record_follow_up

pytestmark = pytest.mark.django_db


def _baseline(by, subject, on, lesions, **extra):
    return tumour_assessment_record(
        by=by, subject=subject, kind="baseline", assessed_on=on, method="CT", lesions=lesions,
        **extra,
    )  # fmt: skip


def _refused(call) -> dict:
    with pytest.raises(ValidationError) as excinfo:
        call()
    return excinfo.value.message_dict


def test_baseline_records_every_lesion_with_its_history(coordinator_a, with_baseline):
    assessment = TumourAssessment.objects.get(subject=with_baseline)
    assert assessment.kind == "baseline"
    lesions = {le.code: le for le in Lesion.objects.filter(subject=with_baseline)}
    assert set(lesions) == {"T1", "T2", "N1", "NT1"}
    assert lesions["N1"].nodal and lesions["N1"].organ == "mediastinum"
    assert LesionObservation.objects.filter(assessment=assessment).count() == 4
    row = assessment.history.get()
    assert row.history_user == coordinator_a
    assert row.history_change_reason == "Baseline tumour assessment entered"
    record = subject_efficacy(coordinator_a, with_baseline)
    assert record.baseline_sum == 100


@pytest.mark.parametrize(
    ("rows", "field", "words"),
    [
        # RECIST 1.1 §3.1.1: 10 mm on CT with slices <= 5 mm
        ([{"code": "T1", "role": "target", "organ": "liver", "size_mm": "9.9"}],
         "lesions[0].size_mm", "must be measurable"),
        # RECIST 1.1 §3.1.1: a node is measurable from 15 mm short axis
        ([{"code": "N1", "role": "target", "organ": "neck", "nodal": True, "size_mm": "14.9"}],
         "lesions[0].size_mm", "10 to < 15 mm"),
        # RECIST 1.1 §3.1.2: a node under 10 mm is normal
        ([{"code": "N1", "role": "non-target", "organ": "neck", "nodal": True, "size_mm": "9"}],
         "lesions[0].size_mm", "normal"),
        # RECIST 1.1 §3.1.2: bone without a soft-tissue part is never measurable
        ([{"code": "T1", "role": "target", "organ": "bone", "size_mm": "30",
           "measurable_by_nature": False}], "lesions[0].size_mm", "non-measurable by nature"),
        ([{"code": "T1", "role": "target", "organ": "liver"}], "lesions[0].size_mm", "needs its size"),
        ([{"code": "T1", "role": "target", "organ": "", "size_mm": "20"}], "lesions[0].organ",
         "organ"),
        ([{"code": "T1", "role": "target", "organ": "liver", "size_mm": "twenty"}],
         "lesions[0].size_mm", "not a length"),
        ([{"code": "T1", "role": "target", "organ": "liver", "size_mm": "20.25"}],
         "lesions[0].size_mm", "0.1 mm"),
        ([{"code": "T1", "role": "target", "organ": "liver", "size_mm": "20"},
          {"code": "t1", "role": "target", "organ": "lung", "size_mm": "20"}],
         "lesions[1].code", "used twice"),
        ([], "lesions", "at least one lesion"),
        # RECIST 1.1 §4.2: at most 2 per organ, all nodes one organ
        ([{"code": f"N{i}", "role": "target", "organ": o, "nodal": True, "size_mm": "20"}
          for i, o in enumerate(("neck", "axilla", "groin"), 1)], "lesions[2].organ",
         "at most 2 per organ"),
        # ... the refusal lands on the third target's own row, even after a refused row
        ([{"code": "X1", "role": "other", "organ": "skin"}]
         + [{"code": f"N{i}", "role": "target", "organ": o, "nodal": True, "size_mm": "20"}
            for i, o in enumerate(("neck", "axilla", "groin"), 1)], "lesions[3].organ",
         "at most 2 per organ"),
        # RECIST 1.1 §4.2: at most 5 targets
        ([{"code": f"T{i}", "role": "target", "organ": o, "size_mm": "20"}
          for i, o in enumerate(("liver", "lung", "kidney", "adrenal", "spleen", "skin"), 1)],
         "lesions", "at most 5"),
    ],
)  # fmt: skip
def test_a_bad_baseline_is_refused_whole(coordinator_a, treated, first_dose_on, rows, field, words):
    errors = _refused(lambda: _baseline(coordinator_a, treated, first_dose_on, rows))
    assert words in " ".join(errors[field]), errors
    assert not TumourAssessment.all_objects.exists()
    assert not Lesion.all_objects.exists()


def test_slices_thicker_than_5mm_raise_the_minimum(coordinator_a, treated, first_dose_on):
    rows = [{"code": "T1", "role": "target", "organ": "liver", "size_mm": "14"}]
    errors = _refused(
        lambda: _baseline(coordinator_a, treated, first_dose_on, rows, slice_thickness_mm=8)
    )
    assert "2 x the 8 mm slice thickness" in errors["lesions[0].size_mm"][0]


def test_a_second_baseline_is_refused(coordinator_a, with_baseline, first_dose_on):
    errors = _refused(lambda: _baseline(coordinator_a, with_baseline, first_dose_on, BASELINE))
    assert "void it first" in errors["kind"][0]


def test_follow_up_computes_the_response_beside_the_investigators(
    coordinator_a, with_baseline, first_dose_on
):
    # RECIST 1.1 §4.3.1: 35 + 21 + 14 = 70 is exactly 30% below 100: PR.
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14), "SD"
    )
    record = subject_efficacy(coordinator_a, with_baseline)
    (point,) = record.time_points
    assert (point.response, point.target.sum_mm, point.target.change_from_baseline_pct) == (
        "PR",
        70,
        -30,
    )
    assert point.investigator_response == "SD"
    (disagreement,) = record.disagreements
    assert (disagreement.derived, disagreement.investigator) == ("PR", "SD")
    assert "target PR (sum 70.0 mm vs baseline 100.0 mm (-30.0%))" in disagreement.reason


def test_two_follow_ups_give_a_confirmed_pr(coordinator_a, with_baseline, first_dose_on):
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14), "PR"
    )
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 85), follow_up(30, 20, 12), "PR"
    )
    record = subject_efficacy(coordinator_a, with_baseline)
    assert record.best.response == "PR"
    assert record.best.confirmed_on == day(first_dose_on, 85)
    assert not record.disagreements
    assert record.pfs.rule is EndpointRule.LAST_ASSESSMENT and record.pfs.end_on == day(
        first_dose_on, 85
    )
    assert record.dor.start_on == day(first_dose_on, 43)


@pytest.mark.parametrize(
    ("rows", "field", "words"),
    [
        ([r for r in follow_up(35, 21, 14) if r["code"] != "NT1"], "lesions", "missing NT1"),
        ([{**r, "size_mm": None} if r["code"] == "T1" else r for r in follow_up(35, 21, 14)],
         "lesions[0].size_mm", "give its longest diameter"),
        ([{"code": "N1", "status": "gone"} if r["code"] == "N1" else r
          for r in follow_up(35, 21, 14)], "lesions[2].status", "lymph node"),
        ([{"code": "T1", "status": "split", "parts_mm": "12"} if r["code"] == "T1" else r
          for r in follow_up(35, 21, 14)], "lesions[0].parts_mm", "2 or more parts"),
        ([{"code": "T1", "status": "merged", "merged_into": "NT1"} if r["code"] == "T1" else r
          for r in follow_up(35, 21, 14)], "lesions[0].merged_into", "other target lesion"),
        ([{"code": "NT1", "status": "present", "size_mm": "12"} if r["code"] == "NT1" else r
          for r in follow_up(35, 21, 14)], "lesions[3].size_mm", "status, not size"),
        ([*follow_up(35, 21, 14), {"code": "X9", "role": "target", "status": "measured"}],
         "lesions[4].code", "new lesion"),
        (follow_up(35, 21, 14, new=[("NEW1", "maybe")]), "lesions[4].status", "equivocal"),
    ],
)  # fmt: skip
def test_a_bad_follow_up_is_refused_whole(
    coordinator_a, with_baseline, first_dose_on, rows, field, words
):
    errors = _refused(
        lambda: record_follow_up(coordinator_a, with_baseline, day(first_dose_on, 43), rows, "PR")
    )
    assert words in " ".join(errors[field]), errors
    assert TumourAssessment.objects.count() == 1
    assert LesionObservation.objects.count() == 4


def test_follow_up_needs_the_investigators_response(coordinator_a, with_baseline, first_dose_on):
    errors = _refused(
        lambda: record_follow_up(
            coordinator_a, with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14), ""
        )
    )
    assert "investigator's overall response" in errors["investigator_response"][0]


def test_a_follow_up_before_the_first_dose_is_refused_by_the_rules(
    coordinator_a, with_baseline, first_dose_on
):
    errors = _refused(
        lambda: record_follow_up(
            coordinator_a, with_baseline, first_dose_on, follow_up(35, 21, 14), "PR"
        )
    )
    assert "comes after the baseline" in errors["__all__"][0]


def test_a_future_scan_is_refused(coordinator_a, with_baseline, first_dose_on):
    errors = _refused(
        lambda: record_follow_up(
            coordinator_a, with_baseline, first_dose_on + timedelta(days=400),
            follow_up(35, 21, 14), "PR",
        )
    )  # fmt: skip
    assert "in the future" in errors["assessed_on"][0]


def test_new_lesion_is_followed_by_its_code(coordinator_a, with_baseline, first_dose_on):
    record_follow_up(coordinator_a, with_baseline, day(first_dose_on, 43),
                     follow_up(35, 21, 14, new=[("NEW1", "equivocal")]), "PR")  # fmt: skip
    record_follow_up(coordinator_a, with_baseline, day(first_dose_on, 85),
                     follow_up(35, 21, 14, new=[("NEW1", "unequivocal")]), "PD")  # fmt: skip
    assert Lesion.objects.filter(subject=with_baseline, code="NEW1").count() == 1
    record = subject_efficacy(coordinator_a, with_baseline)
    # RECIST 1.1 §4.3.5: the PD is dated from the scan that first showed the lesion.
    assert [p.response for p in record.time_points] == ["PD", "PD"]
    assert record.pfs.end_on == day(first_dose_on, 43)
    # the investigator read the first scan as PR: flagged
    assert [d.what for d in record.disagreements] == [
        f"time point {day(first_dose_on, 43).isoformat()}"
    ]


def test_a_correction_is_checked_again_and_audited(coordinator_a, with_baseline, first_dose_on):
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14), "PR"
    )
    observation = LesionObservation.objects.get(lesion__code="T1", assessment__kind="follow_up")
    errors = _refused(
        lambda: lesion_observation_update(
            by=coordinator_a, observation=observation, changes={"size_mm": None},
            reason="typo", expected_version=1,
        )
    )  # fmt: skip
    assert "measured target" in errors["size_mm"][0]
    lesion_observation_update(
        by=coordinator_a, observation=observation, changes={"size_mm": "36"},
        reason="Re-read by the radiologist", expected_version=1,
    )  # fmt: skip
    record = subject_efficacy(coordinator_a, with_baseline)
    assert record.time_points[0].response == "SD"  # 71 mm: 29% below baseline
    observation.refresh_from_db()
    assert observation.history.first().history_change_reason == "Re-read by the radiologist"
    assessment = observation.assessment
    tumour_assessment_update(
        by=coordinator_a, assessment=assessment, changes={"investigator_response": "SD"},
        reason="Investigator re-read", expected_version=1,
    )  # fmt: skip
    assert not subject_efficacy(coordinator_a, with_baseline).disagreements


def test_void_keeps_the_records_and_refuses_a_baseline_in_use(
    coordinator_a, with_baseline, first_dose_on
):
    follow = record_follow_up(coordinator_a, with_baseline, day(first_dose_on, 43),
                              follow_up(35, 21, 14, new=[("NEW1", "unequivocal")]), "PD")  # fmt: skip
    baseline = TumourAssessment.objects.get(kind="baseline")
    errors = _refused(
        lambda: tumour_assessment_void(
            by=coordinator_a, assessment=baseline, reason="wrong subject", expected_version=1
        )
    )
    assert "void them first" in errors["__all__"][0]
    tumour_assessment_void(
        by=coordinator_a, assessment=follow, reason="entered for the wrong date", expected_version=1
    )
    assert TumourAssessment.all_objects.filter(pk=follow.pk, voided_at__isnull=False).exists()
    assert not LesionObservation.objects.filter(assessment=follow).exists()
    assert LesionObservation.all_objects.filter(assessment=follow).count() == 5
    assert not Lesion.objects.filter(code="NEW1").exists()
    assert subject_efficacy(coordinator_a, with_baseline).time_points == ()


def test_roles_and_sites(coordinator_b, sponsor, with_baseline, first_dose_on):
    for user in (coordinator_b, sponsor):
        with pytest.raises(PermissionDenied):
            record_follow_up(
                user, with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14), "PR"
            )


def test_the_schedule_of_scans_and_the_baseline_window(coordinator_a, with_baseline, first_dose_on):
    record = subject_efficacy(coordinator_a, with_baseline)
    # every 6 weeks from the first dose (day 1): week 6 is day 43, +/- 7 days (mil97.toml)
    assert record.schedule(day(first_dose_on, 50)) == ("week 6 (day 43 ± 7)", True)
    assert record.schedule(day(first_dose_on, 51)) == (
        "week 6 (day 43 ± 7): out of window, day 51",
        False,
    )
    assert record.schedule(day(first_dose_on, 85)) == ("week 12 (day 85 ± 7)", True)
    assert record.baseline_in_window(first_dose_on - timedelta(days=28))
    assert not record.baseline_in_window(first_dose_on - timedelta(days=29))
    assert not record.baseline_in_window(first_dose_on + timedelta(days=1))
