"""Fixtures of the coordinator pages' tests: subjects in every state, built through the services."""

import pytest
from django.utils import timezone

from trial.models import Cohort, DoseLevel, EscalationTrack


@pytest.fixture
def signed_in(client, coordinator_a):
    client.force_login(coordinator_a)
    return client


@pytest.fixture
def roomy_cohort(study):
    """An open cohort with room for many subjects, for pages listing a busy site. It sits on a
    track of its own so that the MIL97 escalation of the other tests is untouched."""
    q3w = EscalationTrack.objects.get(study=study, code="Q3W-ESC")
    track = EscalationTrack.objects.create(
        study=study,
        code="LOAD",
        name="Busy-site test track",
        regimen=q3w.regimen,
        phase=EscalationTrack.Phase.ESCALATION,
        status=EscalationTrack.Status.ACTIVE,
        display_order=9,
    )
    return Cohort.objects.create(
        study=study,
        track=track,
        number=90,
        dose_level=DoseLevel.objects.get(study=study, number=1),
        planned_size=120,
        status=Cohort.Status.OPEN,
        opened_at=timezone.now(),
    )
