"""Demo tumour assessments for `manage.py load_demo`: the demo subject's baseline and first
follow-up scan, entered through the services like any other record."""

from datetime import timedelta

from core.dates import site_today
from subjects.models import Subject

from .models import TumourAssessment
from .services import first_dose_on, tumour_assessment_record


def load_demo_assessments(study, coordinator) -> None:
    """Baseline 7 days before the first dose, a follow-up yesterday (skipped when the subject
    is not dosed, or already has assessments)."""
    subject = (
        Subject.objects.filter(study=study, subject_number__isnull=False)
        .order_by("subject_number")
        .first()
    )
    if subject is None or TumourAssessment.all_objects.filter(subject=subject).exists():
        return
    first = first_dose_on(subject)
    if first is None:
        return
    tumour_assessment_record(
        by=coordinator,
        subject=subject,
        kind="baseline",
        assessed_on=first - timedelta(days=7),
        method="CT",
        lesions=[
            {"code": "T1", "role": "target", "organ": "liver", "location": "segment VI",
             "size_mm": "42"},
            {"code": "T2", "role": "target", "organ": "lung", "location": "right lower lobe",
             "size_mm": "23"},
            {"code": "N1", "role": "target", "organ": "mediastinum", "location": "subcarinal",
             "nodal": True, "size_mm": "17"},
            {"code": "NT1", "role": "non-target", "organ": "bone", "location": "L2 vertebra",
             "measurable_by_nature": False},
        ],
    )  # fmt: skip
    scan = max(first + timedelta(days=1), site_today(subject.site.timezone) - timedelta(days=1))
    tumour_assessment_record(
        by=coordinator,
        subject=subject,
        kind="follow_up",
        assessed_on=scan,
        method="CT",
        investigator_response="PR",
        lesions=[
            {"code": "T1", "status": "measured", "size_mm": "29"},
            {"code": "T2", "status": "measured", "size_mm": "16"},
            {"code": "N1", "status": "measured", "size_mm": "11"},
            {"code": "NT1", "status": "present"},
        ],
    )
