"""The endpoints read the survival follow-up the site enters (docs/efficacy.md §15): a contact
reporting new anticancer therapy censors PFS and the duration of response at the last adequate
assessment on or before its start (FDA 2018 / 2007 Appendix 3 Table A) and ends BOR counting;
an alive contact extends OS censoring. A survival visit counts only through its contact; a
voided contact counts for nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.tokens import token_create
from efficacy.rules import EndpointRule, Response
from efficacy.selectors import subject_efficacy
from subjects.services import subject_end_treatment
from tests.integration.efficacy.helpers import day, follow_up, record_follow_up
from visits.services import survival_contact_record, survival_contact_void, visit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def progressed(coordinator_a, with_baseline, first_dose_on):
    """PR on day 43 confirmed on day 85 (sum 100 -> 70 -> 62), PR on day 127, PD on day 169
    (sum 62 -> 120); treatment ended on day 110."""
    subject = with_baseline
    for number, sizes, response in (
        (43, (35, 21, 14), "PR"),
        (85, (30, 20, 12), "PR"),
        (127, (30, 20, 12), "PR"),
        (169, (60, 40, 20), "PD"),
    ):
        record_follow_up(
            coordinator_a, subject, day(first_dose_on, number), follow_up(*sizes), response
        )
    return subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=day(first_dose_on, 110),
        reason_code="PHYSICIAN DECISION",
        reason="Investigator decision",
        expected_version=None,
    )


def _ends(record):
    return {
        name: (tte.rule, tte.end_on)
        for name, tte in (("pfs", record.pfs), ("dor", record.dor), ("os", record.os))
    }


def test_a_new_therapy_censors_pfs_and_dor_and_an_alive_contact_extends_os(
    client, coordinator_a, progressed, first_dose_on
):
    subject = progressed
    before = subject_efficacy(coordinator_a, subject)
    assert before.best.response is Response.PR
    assert _ends(before) == {
        "pfs": (EndpointRule.PROGRESSION, day(first_dose_on, 169)),
        "dor": (EndpointRule.PROGRESSION, day(first_dose_on, 169)),
        "os": (EndpointRule.ALIVE, day(first_dose_on, 169)),  # the last scan
    }
    # The survival visit alone says nothing: the call may not have reached the subject.
    surv1 = visit_record(
        by=coordinator_a, subject=subject, code="SURV1", visit_date=day(first_dose_on, 195)
    )
    assert subject_efficacy(coordinator_a, subject).os.end_on == day(first_dose_on, 169)

    contact = survival_contact_record(
        by=coordinator_a,
        subject=subject,
        visit=surv1,
        contact_date=day(first_dose_on, 195),
        status="alive",
        new_therapy=True,
        new_therapy_regimen="Docetaxel",
        new_therapy_start=day(first_dose_on, 140),
    )
    after = subject_efficacy(coordinator_a, subject)
    assert after.new_therapy_on == day(first_dose_on, 140)
    # FDA Table A: censored at the last adequate assessment before the new therapy (day 127);
    # the PD of day 169 follows the therapy and is neither an event nor in the BOR.
    assert _ends(after) == {
        "pfs": (EndpointRule.NEW_THERAPY, day(first_dose_on, 127)),
        "dor": (EndpointRule.NEW_THERAPY, day(first_dose_on, 127)),
        "os": (EndpointRule.ALIVE, day(first_dose_on, 195)),  # the alive contact
    }
    assert (after.pfs.cnsr, after.dor.cnsr, after.os.cnsr) == (4, 4, 1)
    assert after.dor.start_on == day(first_dose_on, 43)
    assert after.best.response is Response.PR
    assert "1 assessment(s) after new anticancer therapy" in " ".join(after.best.notes)
    assert after.last_known_alive == (day(first_dose_on, 195), "survival contact")

    client.force_login(coordinator_a)
    page = client.get(reverse("efficacy:subject", args=[subject.pk])).content.decode()
    assert f"Docetaxel from {day(first_dose_on, 140).isoformat()}" in page
    assert f"Last known alive: {day(first_dose_on, 195).isoformat()} (survival contact)" in page

    # Voided, the contact no longer counts: back to the progression and the last scan.
    survival_contact_void(
        by=coordinator_a, contact=contact, reason="Entered for the wrong subject",
        expected_version=contact.version,
    )  # fmt: skip
    assert _ends(subject_efficacy(coordinator_a, subject)) == _ends(before)


def test_a_therapy_before_the_first_dose_is_reported_not_counted(
    coordinator_a, progressed, first_dose_on
):
    subject = progressed
    visit = visit_record(
        by=coordinator_a, subject=subject, code="UNS1", visit_date=day(first_dose_on, 150)
    )
    survival_contact_record(
        by=coordinator_a,
        subject=subject,
        visit=visit,
        contact_date=day(first_dose_on, 150),
        status="alive",
        new_therapy=True,
        new_therapy_regimen="Capecitabine",
        new_therapy_start=first_dose_on - timedelta(days=30),
    )
    record = subject_efficacy(coordinator_a, subject)
    assert record.new_therapy_on is None
    assert record.pfs.rule is EndpointRule.PROGRESSION
    (note,) = record.notes
    assert "Capecitabine" in note and "before the first dose" in note
    # An unscheduled visit done is a date known alive (day 150 < the PD scan of day 169 here).
    assert record.last_known_alive == (day(first_dose_on, 169), "tumour assessment")


def test_the_derived_api_shows_them_and_updated_since_finds_the_contact(
    coordinator_a, progressed, first_dose_on
):
    subject = progressed
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {token_create(by=coordinator_a, name='t').secret}"
    )
    since = timezone.now()
    assert (
        client.get("/api/v1/subject-efficacy/", {"updated_since": since.isoformat()}).json()[
            "results"
        ]
        == []
    )
    surv1 = visit_record(
        by=coordinator_a, subject=subject, code="SURV1", visit_date=day(first_dose_on, 195)
    )
    survival_contact_record(
        by=coordinator_a, subject=subject, visit=surv1, contact_date=day(first_dose_on, 195),
        status="alive", new_therapy=True, new_therapy_regimen="Docetaxel",
        new_therapy_start=day(first_dose_on, 140),
    )  # fmt: skip
    (row,) = client.get("/api/v1/subject-efficacy/", {"updated_since": since.isoformat()}).json()[
        "results"
    ]
    assert row["new_therapy_on"] == day(first_dose_on, 140).isoformat()
    assert row["last_known_alive_on"] == day(first_dose_on, 195).isoformat()
    assert (row["pfs"]["cnsr"], row["pfs"]["end_on"]) == (4, day(first_dose_on, 127).isoformat())
    assert row["os"]["end_on"] == day(first_dose_on, 195).isoformat()
