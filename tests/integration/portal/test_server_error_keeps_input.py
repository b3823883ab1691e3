"""A form posted while the database fails: the 500 page says nothing was saved, hands back what
was typed, and sending it again once the database is back saves it (docs/operations.md §8)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory
from django.urls import reverse

from core.dates import site_today
from operations.errors import server_error
from safety.models import AdverseEvent, CtcaeTerm
from tests.factories import dosed, enrolled_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(coordinator_a, site_a, cohort1, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    return subject


def hidden_fields(page: str) -> list[tuple[str, str]]:
    form = page.split("<form", 1)[1].split("</form>", 1)[0]
    return [
        (unescape(name), unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', form)
    ]


def test_an_ae_posted_during_a_database_failure_is_handed_back_and_saved_when_sent_again(
    coordinator_a, subject, monkeypatch
):
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    browser.force_login(coordinator_a)
    url = reverse("ae_new", args=[subject.pk])
    form_page = browser.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page).group(1)
    typed = {
        "csrfmiddlewaretoken": token,
        "term_query": "",
        "ctcae_term": str(CtcaeTerm.objects.get(term="Febrile neutropenia").pk),
        "verbatim_term": 'fever 38.9 °C, "rigors" & chills\nsecond line',
        "grade": "3",
        "onset_date": (site_today(subject.site.timezone) - timedelta(days=4)).isoformat(),
        "resolution_date": "",
        "relationship": "probable",
        "action_taken": "delayed",
        "outcome": "not_recovered",
        "action": "save",
    }

    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("portal.views.adverse_events.adverse_event_report", database_gone)
    failed = browser.post(url, typed)
    page = failed.content.decode()
    assert failed.status_code == 500
    assert "data-nothing-saved" in page and "data-kept-input" in page
    assert "fever 38.9 °C, &quot;rigors&quot; &amp; chills\nsecond line" in page  # shown, escaped
    assert f'action="{url}"' in page
    assert dict(hidden_fields(page)) == {k: v for k, v in typed.items()}
    assert not AdverseEvent.objects.exists()

    monkeypatch.undo()
    again = browser.post(url, dict(hidden_fields(page)))
    assert again.status_code == 302, again.content.decode()[:500]
    saved = AdverseEvent.objects.get()
    assert saved.verbatim_term == typed["verbatim_term"]
    assert saved.grade == 3 and saved.relationship == "probable"


def test_passwords_and_codes_are_never_echoed_and_api_or_get_failures_keep_nothing():
    factory = RequestFactory()
    signing = factory.post(
        "/escalation/decisions/7/sign/",
        {"meaning": "approve", "password": "s3cret-pass", "otp_token": "123456", "note": "ok"},
    )
    page = server_error(signing).content.decode()
    assert "s3cret-pass" not in page and "123456" not in page
    assert 'name="note" value="ok"' in page and 'name="meaning" value="approve"' in page
    assert "Passwords and codes are never kept" in page

    api = factory.post("/api/v1/adverse-events/", {"verbatim_term": "x"})
    read = factory.get("/subjects/1/")
    for request in (api, read):
        page = server_error(request).content.decode()
        assert "data-nothing-saved" in page and "data-kept-input" not in page
