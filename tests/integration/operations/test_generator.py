"""The study-at-scale generator (docs/operations.md §6): the counts asked, each row with its
audit history row, valid rows, and never into a study with real data."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dosing.models import DoseAdministration
from safety.models import AdverseEvent
from subjects.models import Subject
from tests.factories import screened_subject
from trial.models import Study

pytestmark = pytest.mark.django_db


def test_generates_the_counts_asked_with_history(ctcae, capsys):
    call_command("generate_study", "SCALE-T", "--subjects", "12", "--doses", "40", "--aes", "300")
    study = Study.objects.get(protocol_number="SCALE-T")
    subjects = Subject.all_objects.filter(study=study)
    assert subjects.count() == 12
    assert DoseAdministration.all_objects.filter(subject__study=study).count() == 40
    events = AdverseEvent.all_objects.filter(subject__study=study)
    assert events.count() == 300
    for model, rows in ((Subject, subjects), (AdverseEvent, events)):
        history = model.history.filter(id__in=rows.values("id"))
        assert history.count() == rows.count()
        assert set(history.values_list("history_type", "history_change_reason")) == {
            ("+", "Generated study at scale")
        }
    for event in events[:50]:
        event.full_clean()
    for dose in DoseAdministration.all_objects.filter(subject__study=study)[:20]:
        dose.full_clean()
    assert "12 subjects, 40 doses, 300 adverse events" in capsys.readouterr().out


def test_refuses_a_study_with_real_subjects(coordinator_a, site_a, study, ctcae):
    screened_subject(coordinator_a, site_a, "S-1")
    with pytest.raises(CommandError, match="not generated here"):
        call_command(
            "generate_study", study.protocol_number, "--subjects", "3", "--aes", "3", "--doses", "3"
        )
    assert Subject.all_objects.filter(study=study).count() == 1
