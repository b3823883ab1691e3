"""A Q3W subject at site A with a Cycle 1 infusion 10 days ago (09:00-10:30 at the site), made
through the services."""

from datetime import timedelta

import pytest

from core.dates import site_today
from tests.factories import dosed, enrolled_subject


@pytest.fixture
def subject_a(coordinator_a, site_a, cohort1):
    return enrolled_subject(coordinator_a, site_a, "A-1", cohort1, days_ago=20)


@pytest.fixture
def dose_a(coordinator_a, subject_a, site_a):
    return dosed(coordinator_a, subject_a, on=site_today(site_a.timezone) - timedelta(days=10))


# Hours after the start of the Cycle 1 infusion at which the PK samples are taken, with the
# concentrations the laboratory reports (ug/mL; a 30-minute infusion profile, BLQ before dosing).
PK_PROFILE = {
    "pre-dose": (-0.5, "BLQ"),
    "EOI": (1.5, "2.10"),
    "2 h": (2.0, "2.05"),
    "6 h": (6.0, "1.90"),
    "24 h": (24.0, "1.60"),
    "48 h": (48.0, "1.42"),
    "96 h": (96.0, "1.15"),
    "168 h": (168.0, "0.90"),
}


@pytest.fixture
def pk_samples(coordinator_a, subject_a, dose_a):
    from pharmacology.services import sample_record

    samples = {}
    for label, (hours, _) in PK_PROFILE.items():
        samples[label] = sample_record(
            by=coordinator_a,
            subject=subject_a,
            dose=dose_a,
            kind="pk",
            timepoint=label,
            sample_id=f"PK-{label.replace(' ', '').replace('-', '')}",
            collected_at=dose_a.infusion_start + timedelta(hours=hours),
        )
    return samples


def pk_csv(samples, subject, *, overrides=None, extra=()) -> bytes:
    lines = ["sample_id,subject,timepoint,analyte,result,unit,lloq,uloq,run_id"]
    for label, (_, result) in PK_PROFILE.items():
        result = (overrides or {}).get(label, result)
        lines.append(
            f"{samples[label].sample_id},{subject.subject_number},{label},MIL97,{result},ug/mL,"
            "0.05,50,RUN-1"
        )
    lines.extend(extra)
    return ("\n".join(lines) + "\n").encode()
