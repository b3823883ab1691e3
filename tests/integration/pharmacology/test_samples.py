"""Sample records at the site: nominal times from the actual infusion, deviation, window flag,
not collected with a reason, audit and scoping (docs/pharmacology.md §1, §7)."""

from datetime import timedelta

import pytest

from core.errors import PermissionDenied, ValidationError
from core.records import history_entries
from dosing.services import dose_update
from pharmacology import selectors, services
from pharmacology.models import Sample


def record(by, subject, dose, timepoint, minutes_after_start, *, kind="pk", barcode=None):
    return services.sample_record(
        by=by,
        subject=subject,
        dose=dose,
        kind=kind,
        timepoint=timepoint,
        sample_id=barcode or f"S-{kind}-{timepoint.replace(' ', '')}",
        collected_at=dose.infusion_start + timedelta(minutes=minutes_after_start),
    )


def test_expected_samples_follow_the_actual_infusion(subject_a, dose_a):
    rows = selectors.expected_rows(subject_a)
    pk = [r for r in rows if r.expected.kind.value == "pk"]
    assert [r.expected.label for r in pk] == [
        "pre-dose", "EOI", "2 h", "6 h", "24 h", "48 h", "96 h", "168 h", "336 h",
    ]  # fmt: skip
    eoi = next(r for r in pk if r.expected.label == "EOI")
    # The factory's infusion lasts 90 minutes: EOI is due at the actual end, NRRLT stays 0.5 h.
    assert eoi.expected.nominal_at == dose_a.infusion_end
    assert eoi.expected.nrrlt == 0.5
    assert {r.expected.kind.value for r in rows} == {"pk", "ada", "biomarker"}
    assert all(r.sample is None for r in rows)


def test_a_late_sample_is_shown_with_its_deviation_and_flagged(coordinator_a, subject_a, dose_a):
    on_time = record(coordinator_a, subject_a, dose_a, "pre-dose", -30)
    assert (on_time.out_of_window, on_time.deviation_hours, on_time.arrlt_hours) == (
        False,
        -0.5,
        -0.5,
    )
    late = record(coordinator_a, subject_a, dose_a, "2 h", 160)
    assert late.deviation_hours == pytest.approx(40 / 60)
    assert late.out_of_window and late.flagged
    assert late.nominal_at == dose_a.infusion_start + timedelta(hours=2)
    assert late.nfrlt_hours == 2.0 and late.arrlt_hours == pytest.approx(160 / 60)
    assert late.specimen == "SERUM" and late.status == "collected"
    [created] = history_entries(late)
    assert created["reason"] == "Initial entry"


def test_the_deviation_setting_flags_inside_the_window(coordinator_a, subject_a, dose_a, study):
    row = services.StudyPharmacology.objects.get(study=study)
    section = dict(row.section, samples={"flag_deviation_hours": 1.0})
    row.section = section
    row.save()
    inside = record(coordinator_a, subject_a, dose_a, "24 h", (24 + 1.5) * 60)
    assert not inside.out_of_window and inside.deviation_flagged


def test_not_collected_needs_a_reason(coordinator_a, subject_a, dose_a):
    with pytest.raises(ValidationError) as refused:
        services.sample_record(
            by=coordinator_a,
            subject=subject_a,
            dose=dose_a,
            kind="pk",
            timepoint="6 h",
            collected=False,
        )
    assert "not_collected_reason" in refused.value.message_dict
    sample = services.sample_record(
        by=coordinator_a,
        subject=subject_a,
        dose=dose_a,
        kind="pk",
        timepoint="6 h",
        collected=False,
        not_collected_reason="Subject left the unit early",
        sample_id="ignored",
    )
    assert (
        sample.status == "not_collected" and sample.sample_id == "" and sample.collected_at is None
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"timepoint": "3 h"}, "timepoint", "no pk sample '3 h'"),
        ({"timepoint": "pre-dose", "minutes": 5}, "collected_at", "pre-dose sample taken after"),
        ({"timepoint": "6 h", "minutes": -10}, "collected_at", "before the infusion started"),
        ({"timepoint": "6 h", "barcode": "bad code!"}, "sample_id", "letters, digits"),
        ({"timepoint": "6 h", "minutes": 60 * 24 * 30}, "collected_at", "in the future"),
    ],
)
def test_bad_samples_are_refused_naming_the_field(
    coordinator_a, subject_a, dose_a, kwargs, field, words
):
    with pytest.raises(ValidationError) as refused:
        record(
            coordinator_a,
            subject_a,
            dose_a,
            kwargs["timepoint"],
            kwargs.get("minutes", 6 * 60),
            barcode=kwargs.get("barcode"),
        )
    assert words in " ".join(refused.value.message_dict[field])
    assert not Sample.objects.exists()


def test_a_barcode_is_used_once(coordinator_a, subject_a, dose_a):
    record(coordinator_a, subject_a, dose_a, "2 h", 120, barcode="TUBE-1")
    with pytest.raises(ValidationError) as refused:
        record(coordinator_a, subject_a, dose_a, "6 h", 360, barcode="TUBE-1")
    assert "already recorded" in " ".join(refused.value.message_dict["sample_id"])
    with pytest.raises(ValidationError) as again:
        record(coordinator_a, subject_a, dose_a, "2 h", 121, barcode="TUBE-2")
    assert "already recorded" in " ".join(again.value.message_dict["timepoint"])


def test_correction_is_audited_and_re_derives_the_deviation(coordinator_a, subject_a, dose_a):
    sample = record(coordinator_a, subject_a, dose_a, "2 h", 160)
    corrected = services.sample_update(
        by=coordinator_a,
        sample=sample,
        changes={"collected_at": dose_a.infusion_start + timedelta(minutes=125)},
        reason="Time copied from the wrong tube",
        expected_version=sample.version,
    )
    assert not corrected.out_of_window and corrected.deviation_hours == pytest.approx(5 / 60)
    assert [e["reason"] for e in history_entries(corrected)][
        -1
    ] == "Time copied from the wrong tube"


def test_a_corrected_infusion_moves_the_nominal_time(coordinator_a, subject_a, dose_a):
    sample = record(coordinator_a, subject_a, dose_a, "2 h", 120)
    assert sample.deviation_hours == 0
    dose_update(
        by=coordinator_a,
        dose=dose_a,
        changes={
            "infusion_start": dose_a.infusion_start - timedelta(minutes=30),
            "infusion_end": dose_a.infusion_end - timedelta(minutes=30),
        },
        reason="Infusion start misread",
        expected_version=dose_a.version,
    )
    sample.refresh_from_db()
    assert sample.deviation_hours == pytest.approx(0.5) and sample.out_of_window
    assert "infusion times were corrected" in history_entries(sample)[-1]["reason"]


def test_scoping_and_roles(coordinator_a, coordinator_b, sponsor, monitor, subject_a, dose_a):
    sample = record(coordinator_a, subject_a, dose_a, "2 h", 120)
    assert list(selectors.samples_for(coordinator_b)) == []
    assert list(selectors.samples_for(monitor)) == [sample]
    with pytest.raises(PermissionDenied):
        record(sponsor, subject_a, dose_a, "6 h", 360)
    with pytest.raises(PermissionDenied):
        record(coordinator_b, subject_a, dose_a, "6 h", 360)
