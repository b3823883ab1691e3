"""A fresh install (the starter set, no workbook) can report any adverse event: each system organ
class's "Other, specify" term is there, as in the NCI workbook, and takes the event's name in the
verbatim term (docs/safety.md §7)."""

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.dates import site_today
from safety.ctcae import read_starter_set, read_workbook
from safety.models import AdverseEvent, CtcaeTerm
from safety.services import adverse_event_report
from tests.conftest import REQUIRE_SERVICES
from tests.factories import dosed, enrolled_subject

pytestmark = pytest.mark.django_db

SKIN_OTHER = "Skin and subcutaneous tissue disorders - Other, specify"


def workbook_terms() -> list[dict]:
    path = settings.CTCAE_WORKBOOK
    if not path or not os.path.exists(path):
        if REQUIRE_SERVICES:
            pytest.fail(f"CTCAE_WORKBOOK must point at the NCI workbook in CI (got {path!r})")
        pytest.skip("set CTCAE_WORKBOOK to the NCI CTCAE v5.0 workbook")
    return read_workbook(path)


def test_the_starter_set_has_each_soc_other_specify_term_as_in_the_workbook():
    workbook = workbook_terms()
    socs = {t["soc"] for t in workbook}
    official = {t["meddra_code"]: t for t in workbook if t["term"].endswith("- Other, specify")}
    assert len(official) == len(socs) == 26
    starter = [t for t in read_starter_set() if t["term"].endswith("- Other, specify")]
    assert sorted(t["soc"] for t in starter) == sorted(socs)  # one per SOC, none missing
    for term in starter:
        assert term == official[term["meddra_code"]]  # code, SOC, term, grade texts
    # The rest of the starter set is the workbook's too.
    by_code = {t["meddra_code"]: t for t in workbook}
    assert all(by_code[t["meddra_code"]] == t for t in read_starter_set())


def test_the_starter_set_alone_has_one_other_specify_per_soc(ctcae):
    others = CtcaeTerm.objects.filter(term__endswith="- Other, specify")
    assert others.count() == 26
    assert others.values("soc").distinct().count() == 26
    assert all(t.is_other_specify and t.grades for t in others)


@pytest.fixture
def subject(coordinator_a, site_a, cohort1, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    return subject


def test_a_fresh_install_finds_and_reports_an_other_specify_event(signed_in, subject):
    found = signed_in.get(reverse("ctcae_search"), {"term_query": "skin other"}).content.decode()
    assert SKIN_OTHER in found and "name it in the verbatim term" in found
    every = signed_in.get(reverse("ctcae_search"), {"term_query": "other"}).content.decode()
    assert every.count("- Other, specify") == 26

    term = CtcaeTerm.objects.get(term=SKIN_OTHER)
    data = {
        "term_query": "",
        "ctcae_term": term.pk,
        "verbatim_term": "Peeling of the palms",
        "grade": "2",
        "onset_date": (site_today(subject.site.timezone) - timedelta(days=4)).isoformat(),
        "resolution_date": "",
        "relationship": "possible",
        "action_taken": "none",
        "outcome": "not_recovered",
        "action": "save",
    }
    response = signed_in.post(reverse("ae_new", args=[subject.pk]), data, follow=True)
    page = response.content.decode()
    event = AdverseEvent.objects.get()
    assert (event.ctcae_term, event.verbatim_term, event.grade) == (term, "Peeling of the palms", 2)
    assert SKIN_OTHER in page and "Peeling of the palms" in page and "MedDRA 10040785" in page


def test_an_other_specify_event_needs_its_name(coordinator_a, subject):
    with pytest.raises(ValidationError) as excinfo:
        adverse_event_report(
            by=coordinator_a,
            subject=subject,
            ctcae_term=CtcaeTerm.objects.get(term=SKIN_OTHER),
            verbatim_term="Other",
            grade=1,
            onset_date=site_today(subject.site.timezone) - timedelta(days=3),
            relationship="possible",
            action_taken="none",
            outcome="not_recovered",
        )
    assert "enter what happened" in excinfo.value.message_dict["verbatim_term"][0]
