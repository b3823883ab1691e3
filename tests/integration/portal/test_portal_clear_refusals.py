"""A refusal names its field and says what to do: the causality of an adjudicated DLT, and every
model constraint a page can reach through full_clean (never "Constraint ... is violated")."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import UniqueConstraint
from django.urls import reverse

from core.dates import site_today
from core.models import ClinicalRecord
from safety.models import AdverseEvent
from safety.services import adverse_event_adjudicate, adverse_event_update
from tests.factories import dosed, enrolled_subject, reported_ae

pytestmark = pytest.mark.django_db

# The apps whose models the portal, the monitoring pages, the admin and the protocol loader
# validate with full_clean.
CHECKED_APPS = ("core", "trial", "subjects", "dosing", "safety")


@pytest.fixture
def adjudicated_dlt(coordinator_a, monitor, site_a, cohort1, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    today = site_today(site_a.timezone)
    dosed(coordinator_a, subject, on=today - timedelta(days=10))
    event = reported_ae(
        coordinator_a,
        subject,
        "Nausea",
        verbatim_term="nausea",
        grade=3,
        onset_date=today - timedelta(days=5),
        relationship="possible",
        action_taken="none",
        outcome="not_recovered",
        dlt_investigator=True,
    )
    return adverse_event_adjudicate(
        by=monitor,
        adverse_event=event,
        is_dlt=True,
        note="Meets the definition",
        expected_version=1,
    )


def test_causality_below_possible_after_an_adjudicated_dlt_names_the_field_and_the_way_out(
    coordinator_a, adjudicated_dlt
):
    with pytest.raises(ValidationError) as excinfo:
        adverse_event_update(
            by=coordinator_a,
            adverse_event=adjudicated_dlt,
            changes={"relationship": "unlikely", "dlt_investigator": False},
            reason="Investigator reassessed",
            expected_version=adjudicated_dlt.version,
        )
    messages = excinfo.value.message_dict
    assert set(messages) == {"relationship"}
    assert "re-adjudicate" in messages["relationship"][0]
    assert "Constraint" not in str(messages)


def test_the_page_shows_it_on_the_relationship_field(signed_in, adjudicated_dlt):
    event = adjudicated_dlt
    data = {
        "term_query": "",
        "ctcae_term": event.ctcae_term_id,
        "verbatim_term": event.verbatim_term,
        "grade": "3",
        "onset_date": event.onset_date.isoformat(),
        "resolution_date": "",
        "relationship": "unlikely",
        "action_taken": "none",
        "outcome": "not_recovered",
        "reason": "Investigator reassessed",
        "version": event.version,
        "action": "save",
    }
    page = signed_in.post(reverse("ae_edit", args=[event.pk]), data).content.decode()
    assert "Ask the committee (the medical monitor) to re-adjudicate" in page
    assert 'id="id_relationship_error"' in page
    assert "is violated" not in page
    event.refresh_from_db()
    assert event.relationship == "possible"


def _constraints():
    for model in apps.get_models():
        if model._meta.app_label not in CHECKED_APPS or model.__name__.startswith("Historical"):
            continue
        for constraint in model._meta.constraints:
            yield model, constraint


def test_every_constraint_has_its_own_message():
    missing = [
        f"{model.__name__}.{c.name}"
        for model, c in _constraints()
        if c.violation_error_message in (None, c.default_violation_error_message)
    ]
    assert not missing
    assert len(list(_constraints())) > 40  # the walk found the models


def test_every_clinical_record_constraint_names_a_field():
    wrong = []
    for model, constraint in _constraints():
        if not issubclass(model, ClinicalRecord):
            continue
        field = model.constraint_fields.get(constraint.name)
        names = {f.name for f in model._meta.get_fields()}
        if field not in names:
            wrong.append(f"{model.__name__}.{constraint.name} -> {field}")
    assert not wrong


def test_a_constraint_refusal_lands_on_its_field(adjudicated_dlt):
    event = AdverseEvent.objects.get(pk=adjudicated_dlt.pk)
    event.relationship = "not_related"
    with pytest.raises(ValidationError) as excinfo:
        event.full_clean()
    found = excinfo.value.message_dict
    # Both calls are DLTs: each refusal lands on the field the correction changed.
    assert set(found) == {"relationship"}
    assert len(found["relationship"]) == 2
    assert any("re-adjudicate" in message for message in found["relationship"])
    assert "is violated" not in str(found)

    event.refresh_from_db()
    event.resolution_date = event.onset_date - timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        event.full_clean()
    assert excinfo.value.message_dict["resolution_date"] == ["Resolution cannot precede onset."]


def test_unique_constraints_keep_a_message_too():
    unique = [c for _, c in _constraints() if isinstance(c, UniqueConstraint)]
    assert unique and all("already" in str(c.violation_error_message) for c in unique)
