"""Who was told what, when: the notifications page and the overview's recent DLTs and SAEs,
for the study team only, scoped to their studies."""

from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from core.dates import site_today
from escalation.models import Notification
from escalation.notifications import send_notifications
from tests.conftest import make_user
from tests.factories import dosed, enrolled_subject, reported_ae
from trial.models import Study

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced(coordinator_a, site_a, cohort1, ctcae, monitor, study):
    """An SAE and a DLT announced to two monitors, one without an e-mail address."""
    quiet = make_user("quiet_monitor", study, Role.MEDICAL_MONITOR)
    quiet.email = ""
    quiet.save()
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    first = site_today(site_a.timezone) - timedelta(days=10)
    dosed(coordinator_a, subject, on=first)
    sae = reported_ae(
        coordinator_a,
        subject,
        "Febrile neutropenia",
        grade=3,
        onset_date=first + timedelta(days=3),
        relationship="probable",
        serious=True,
        seriousness=("serious_hospitalisation",),
    )
    dlt = reported_ae(
        coordinator_a,
        subject,
        "Neutrophil count decreased",
        verbatim_term="neutropenia",
        grade=4,
        onset_date=first + timedelta(days=5),
        relationship="probable",
        dlt_investigator=True,
    )
    return {"subject": subject, "sae": sae, "dlt": dlt, "quiet": quiet}


def test_the_page_says_who_was_told_what_and_when(client, monitor, announced):
    assert send_notifications() == 2  # the monitor with an address: the SAE and the DLT
    client.force_login(monitor)
    response = client.get(reverse("monitoring:notifications"))
    assert response.status_code == 200
    page = response.context["page"]
    assert page.total == 4  # two events x two monitors
    rows = {(n.kind, n.recipient.username): n for n in page.rows}
    assert set(rows) == {
        ("sae", "monitor"),
        ("sae", "quiet_monitor"),
        ("new_dlt", "monitor"),
        ("new_dlt", "quiet_monitor"),
    }
    html = response.content.decode()
    sent = rows[("new_dlt", "monitor")]
    assert f"{sent.sent_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" in html
    assert f"{sent.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" in html
    assert "data-local-time" in html  # the reader's local time beside it
    assert html.count('data-delivery="no_email"') == 2 and "No e-mail address" in html
    assert html.count('data-delivery="sent"') == 2
    casebook = reverse("subject_detail", args=[announced["subject"].pk])
    assert f'href="{casebook}"' in html
    assert "DLT reported: " in html and "SAE reported: " in html


def test_an_unsent_or_failed_e_mail_is_said_so(client, monitor, announced):
    Notification.objects.filter(recipient=monitor, kind="sae").update(error="SMTP 451 try later")
    client.force_login(monitor)
    html = client.get(reverse("monitoring:notifications")).content.decode()
    assert "Not sent:</span> SMTP 451 try later" in html
    assert 'data-delivery="error"' in html and 'data-delivery="queued"' in html


def test_kind_filter_pages_and_csv(client, monitor, announced, settings):
    client.force_login(monitor)
    response = client.get(reverse("monitoring:notifications"), {"kind": "new_dlt"})
    assert {n.kind for n in response.context["page"].rows} == {"new_dlt"}
    assert response.context["page"].total == 2
    response = client.get(reverse("monitoring:notifications"), {"kind": "bogus"})
    assert response.context["page"].total == 4  # an unknown kind is no filter
    csv = client.get(
        reverse("monitoring:notifications"),
        {"format": "csv", "table": "notifications", "kind": "sae"},
    )
    assert csv.status_code == 200
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("Recorded (UTC),Kind,Title,Recipient")
    assert len(lines) == 3 and all("Serious adverse event" in line for line in lines[1:])
    assert "no e-mail address: shown in the app only" in csv.content.decode()
    far = (timezone.now() + timedelta(days=30)).date().isoformat()
    response = client.get(reverse("monitoring:notifications"), {"date_from": far})
    assert response.context["page"].total == 0


def test_the_overview_lists_recent_dlts_and_saes_with_whom_they_reached(client, monitor, announced):
    send_notifications()
    client.force_login(monitor)
    response = client.get(reverse("monitoring:overview"))
    alerts = response.context["alerts"]
    assert [a.kind for a in alerts] == ["new_dlt", "sae"]  # newest first
    dlt = alerts[0]
    assert dlt.event == announced["dlt"]
    assert sorted(n.recipient.username for n in dlt.told) == ["monitor", "quiet_monitor"]
    html = response.content.decode()
    assert "data-alerts" in html and "Recent DLTs and SAEs" in html
    assert f'data-dlt-calls="{announced["dlt"].pk}"' in html
    assert "no e-mail address" in html and "e-mailed " in html
    assert reverse("monitoring:notifications") in html


def test_only_the_study_team_of_that_study_sees_them(
    client, coordinator_a, investigator_a, sponsor, data_manager, announced, study
):
    url = reverse("monitoring:notifications")
    for user in (coordinator_a, investigator_a):
        client.force_login(user)
        assert client.get(url).status_code == 403
    for user in (sponsor, data_manager):
        client.force_login(user)
        assert client.get(url).context["page"].total == 4
    other = Study.objects.create(
        protocol_number="OTHER-1", title="Other", sponsor="X", investigational_product="Y"
    )
    stranger = make_user("other_monitor", other, Role.MEDICAL_MONITOR)
    client.force_login(stranger)
    response = client.get(url)
    assert response.status_code == 200 and response.context["page"].total == 0
    assert client.get(url, {"study": study.pk}).status_code == 400  # not their study
    assert client.get(reverse("monitoring:overview")).context["alerts"] == []
