"""The change history in the users' words: field labels as the forms say them ("DLT adjudicated
at", not "Dlt adjudicated at"), and a "created" entry lists the values first entered."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from safety.services import adverse_event_adjudicate
from tests.factories import dosed, enrolled_subject, reported_ae

pytestmark = pytest.mark.django_db


@pytest.fixture
def casebook(signed_in, coordinator_a, monitor, site_a, cohort1, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    today = site_today(site_a.timezone)
    dosed(coordinator_a, subject, on=today - timedelta(days=10), weight="72.5")
    event = reported_ae(
        coordinator_a,
        subject,
        "Nausea",
        verbatim_term="queasy after the infusion",
        grade=2,
        onset_date=today - timedelta(days=5),
        relationship="possible",
        action_taken="none",
        outcome="not_recovered",
        dlt_investigator=True,
    )
    adverse_event_adjudicate(
        by=monitor,
        adverse_event=event,
        is_dlt=True,
        note="Meets the definition",
        expected_version=1,
    )
    return signed_in.get(reverse("subject_detail", args=[subject.pk])).content.decode()


def test_history_labels_are_words(casebook):
    assert "DLT adjudicated at" in casebook and "DLT adjudication note" in casebook
    assert "DLT (adjudicated)" in casebook
    assert not re.search(r"\bDlt\b", casebook)
    assert "Ctcae" not in casebook


def test_a_created_entry_lists_the_values_first_entered(casebook):
    created = casebook.split("Adverse event reported")[1].split("</table>")[0]
    assert "data-initial-values" in casebook
    assert "Value entered" in created
    for shown in (
        "CTCAE term",
        "Nausea (10028813)",
        "queasy after the infusion",
        "Possibly related",
    ):
        assert shown in created
    dose = casebook.split("Reason: Dose recorded")[1].split("</table>")[0]
    assert "Body weight (kg)" in dose and "72.5" in dose and "Lot number" in dose
    assert "Version" not in dose.split("Value entered")[1]  # bookkeeping is left out
