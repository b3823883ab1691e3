"""Fixtures of the visits tests: an open cohort with room for many subjects, on a track of its
own so the MIL97 escalation of other tests is untouched."""

import pytest
from django.utils import timezone

from trial.models import Cohort, DoseLevel, EscalationTrack


@pytest.fixture
def open_cohort(study):
    q3w = EscalationTrack.objects.get(study=study, code="Q3W-ESC")
    track = EscalationTrack.objects.create(
        study=study,
        code="VISITS",
        name="Visits test track",
        regimen=q3w.regimen,
        phase=EscalationTrack.Phase.ESCALATION,
        status=EscalationTrack.Status.ACTIVE,
        display_order=9,
    )
    return Cohort.objects.create(
        study=study,
        track=track,
        number=91,
        dose_level=DoseLevel.objects.get(study=study, number=1),
        planned_size=50,
        status=Cohort.Status.OPEN,
        opened_at=timezone.now(),
    )
