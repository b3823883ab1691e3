"""Tumour assessment inputs for the efficacy tests."""

from datetime import timedelta

from efficacy.services import tumour_assessment_record

FIRST_DOSE_DAYS_AGO = 200

# Baseline: T1 liver 50 mm, T2 lung 30 mm, N1 mediastinal node 20 mm short axis (sum 100),
# NT1 bone (non-measurable by nature).
BASELINE = [
    {"code": "T1", "role": "target", "organ": "liver", "size_mm": "50"},
    {"code": "T2", "role": "target", "organ": "lung", "size_mm": "30"},
    {"code": "N1", "role": "target", "organ": "mediastinum", "nodal": True, "size_mm": "20"},
    {"code": "NT1", "role": "non-target", "organ": "bone", "measurable_by_nature": False},
]


def day(subject_first_dose, number):
    """Study day `number` (the first dose is day 1)."""
    return subject_first_dose + timedelta(days=number - 1)


def follow_up(t1, t2, n1, nt="present", new=()):
    rows = [
        {"code": "T1", "status": "measured", "size_mm": t1},
        {"code": "T2", "status": "measured", "size_mm": t2},
        {"code": "N1", "status": "measured", "size_mm": n1},
        {"code": "NT1", "status": nt},
    ]
    rows += [{"code": c, "role": "new", "organ": "brain", "status": s} for c, s in new]
    return rows


def record_follow_up(by, subject, on, lesions, response):
    return tumour_assessment_record(
        by=by,
        subject=subject,
        kind="follow_up",
        assessed_on=on,
        method="CT",
        lesions=lesions,
        investigator_response=response,
    )
