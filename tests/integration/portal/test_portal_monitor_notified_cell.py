"""The casebook's "Monitor notified" cell: each monitor once, with the alerts they had (SAE,
DLT) and when the e-mail left."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from core.dates import site_today
from escalation.models import Notification
from tests.conftest import make_user
from tests.factories import dosed, enrolled_subject, reported_ae

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(coordinator_a, monitor, site_a, cohort1, study, ctcae):
    make_user("zmonitor", study, Role.MEDICAL_MONITOR)
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    today = site_today(site_a.timezone)
    dosed(coordinator_a, subject, on=today - timedelta(days=10))
    return reported_ae(
        coordinator_a,
        subject,
        "Nausea",
        verbatim_term="nausea",
        grade=3,
        onset_date=today - timedelta(days=5),
        relationship="probable",
        action_taken="none",
        outcome="not_recovered",
        serious=True,
        seriousness=("serious_hospitalisation",),
        dlt_investigator=True,
    )


def notified_cell(page: str) -> str:
    return re.search(r"data-notified>(.*?)</div>", page, re.S).group(1)


def test_each_monitor_is_named_once_with_the_alerts(signed_in, event, monitor):
    assert Notification.objects.filter(key=f"ae:{event.pk}").count() == 4  # 2 monitors x 2
    sent = timezone.now().replace(microsecond=0)
    for note in Notification.objects.filter(key=f"ae:{event.pk}", recipient=monitor):
        note.sent_at = sent
        note.save()
    page = signed_in.get(reverse("subject_detail", args=[event.subject_id])).content.decode()
    cell = notified_cell(page)
    assert cell.count("Monitor Tester") == 1 and cell.count("Zmonitor Tester") == 1
    assert f"Monitor Tester (SAE, DLT; e-mailed {sent:%Y-%m-%d %H:%M} UTC)" in cell
    assert "Zmonitor Tester (SAE, DLT; e-mail queued)" in cell
