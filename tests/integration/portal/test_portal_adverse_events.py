"""Adverse event pages: CTCAE term search (term or MedDRA code, with the SOC), only the grades
the term defines, field messages that keep the input, SAE and DLT highlighting, corrections
with a reason and the stale-form refusal."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from core.dates import site_today
from safety.models import AdverseEvent, CtcaeTerm
from safety.services import adverse_event_update
from tests.factories import dosed, enrolled_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(coordinator_a, site_a, cohort1, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    return subject


def aware_now(subject) -> str:
    """The site's local time now, as the SAE awareness field takes it."""
    return timezone.localtime(timezone=ZoneInfo(subject.site.timezone)).strftime("%Y-%m-%dT%H:%M")


def term(name):
    return CtcaeTerm.objects.get(term=name)


def ae_form(subject, **extra):
    data = {
        "term_query": "",
        "ctcae_term": term("Febrile neutropenia").pk,
        "verbatim_term": "neutropenic fever",
        "grade": "3",
        "onset_date": (site_today(subject.site.timezone) - timedelta(days=4)).isoformat(),
        "resolution_date": "",
        "relationship": "probable",
        "action_taken": "delayed",
        "outcome": "not_recovered",
        "action": "save",
    }
    data.update(extra)
    return data


def test_search_by_term_or_meddra_code_shows_the_soc(signed_in, ctcae):
    page = signed_in.get(reverse("ctcae_search"), {"term_query": "neutro"}).content.decode()
    assert "Febrile neutropenia" in page and "Neutrophil count decreased" in page
    assert "Blood and lymphatic system disorders" in page
    page = signed_in.get(reverse("ctcae_search"), {"term_query": "10016288"}).content.decode()
    assert "Febrile neutropenia" in page and "Neutrophil count" not in page


def test_the_grade_choices_are_those_of_the_term_with_their_text(signed_in, ctcae):
    febrile = term("Febrile neutropenia")
    page = signed_in.get(reverse("ctcae_grades"), {"ctcae_term": febrile.pk}).content.decode()
    assert 'value="3"' in page and 'value="4"' in page and 'value="5"' in page
    assert 'value="1"' not in page and 'value="2"' not in page
    assert escape(febrile.grade_3) in page


def test_a_grade_the_term_does_not_have_is_refused_and_the_input_kept(signed_in, subject):
    fatigue = term("Fatigue")
    response = signed_in.post(
        reverse("ae_new", args=[subject.pk]),
        ae_form(subject, ctcae_term=fatigue.pk, grade="4", verbatim_term="exhausted"),
    )
    page = response.content.decode()
    assert "CTCAE v5.0 defines no grade 4 for &#x27;Fatigue&#x27; (grades: 1, 2, 3)" in page
    assert 'value="exhausted"' in page
    assert 'value="probable" selected' in page
    assert f'value="{fatigue.pk}" id="term-{fatigue.pk}" checked' in page
    assert not AdverseEvent.objects.exists()


def test_onset_before_consent_and_serious_without_criterion_are_field_errors(signed_in, subject):
    early = (subject.consent_date - timedelta(days=1)).isoformat()
    page = signed_in.post(
        reverse("ae_new", args=[subject.pk]), ae_form(subject, onset_date=early, serious="on")
    ).content.decode()
    assert "Onset cannot precede informed consent" in page
    assert "A serious adverse event needs at least one seriousness criterion." in page
    assert not AdverseEvent.objects.exists()


def test_a_grade_3_related_dlt_is_saved_highlighted_and_the_monitor_notified(
    signed_in, subject, monitor
):
    response = signed_in.post(
        reverse("ae_new", args=[subject.pk]),
        ae_form(
            subject,
            dlt_investigator="on",
            serious="on",
            serious_hospitalisation="on",
            sae_awareness_at=aware_now(subject),
        ),
    )
    event = AdverseEvent.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"#ae-{event.pk}")
    assert event.dlt_investigator and event.serious and event.serious_hospitalisation
    page = signed_in.get(response.url).content.decode()
    assert f'id="ae-{event.pk}" class="sae dlt"' in page
    assert "the medical monitor will be notified (Monitor Tester): the e-mail is queued" in page
    assert "Monitor notified: Monitor Tester" in page


def test_without_a_monitor_in_the_system_the_page_says_to_tell_one(signed_in, subject):
    response = signed_in.post(
        reverse("ae_new", args=[subject.pk]), ae_form(subject, dlt_investigator="on")
    )
    page = signed_in.get(response.url).content.decode()
    assert "no medical monitor is assigned to this study in the system" in page


def test_search_without_javascript_keeps_everything_typed(signed_in, subject):
    page = signed_in.post(
        reverse("ae_new", args=[subject.pk]),
        ae_form(subject, ctcae_term="", grade="", term_query="fatig", action="search"),
    ).content.decode()
    assert "Fatigue" in page and 'value="neutropenic fever"' in page
    assert "errorlist" not in page  # searching is not saving: no error yet
    assert not AdverseEvent.objects.exists()


def test_a_correction_asks_for_the_reason_and_a_stale_one_shows_what_changed(
    signed_in, coordinator_a, investigator_a, subject
):
    signed_in.post(reverse("ae_new", args=[subject.pk]), ae_form(subject))
    event = AdverseEvent.objects.get()
    url = reverse("ae_edit", args=[event.pk])
    page = signed_in.get(url).content.decode()
    assert 'name="version" value="1"' in page and "Reason for change" in page

    data = ae_form(subject, grade="4", version=1, reason="")
    assert "Give the reason for this change." in signed_in.post(url, data).content.decode()

    adverse_event_update(
        by=investigator_a,
        adverse_event=event,
        changes={"action_taken": "withdrawn"},
        reason="Drug withdrawn per investigator",
        expected_version=1,
    )
    data["reason"] = "Worsened on day 5"
    page = signed_in.post(url, data).content.decode()
    assert "Someone else saved this record after you opened it" in page
    assert "Drug withdrawn per investigator" in page
    assert 'value="withdrawn" selected' in page  # untouched by this user: the new value
    assert 'value="4" id="id_grade_4" checked' in page  # this user's change is kept
    event.refresh_from_db()
    assert event.grade == 3 and event.version == 2

    data["version"] = 2
    data["action_taken"] = "withdrawn"
    assert signed_in.post(url, data).status_code == 302
    event.refresh_from_db()
    assert (event.grade, event.action_taken, event.version) == (4, "withdrawn", 3)
    history = signed_in.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    assert "Worsened on day 5" in history and "Drug withdrawn per investigator" in history


def test_a_coordinator_cannot_reach_another_sites_adverse_event(
    client, coordinator_b, subject, signed_in
):
    signed_in.post(reverse("ae_new", args=[subject.pk]), ae_form(subject))
    event = AdverseEvent.objects.get()
    client.force_login(coordinator_b)
    assert client.get(reverse("ae_edit", args=[event.pk])).status_code == 404
    assert client.get(reverse("ae_new", args=[subject.pk])).status_code == 404


def test_the_sponsor_sees_the_casebook_but_cannot_enter_data(client, sponsor, subject):
    client.force_login(sponsor)
    assert client.get(reverse("subject_detail", args=[subject.pk])).status_code == 200
    assert client.get(reverse("ae_new", args=[subject.pk])).status_code == 403
    assert client.get(reverse("dose_new", args=[subject.pk])).status_code == 403
