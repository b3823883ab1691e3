"""A committee step is asked once (docs/escalation.md §7).

The acceptance review's blocker: after the monitor confirmed "escalate to 0.03 mg/kg Q3W: open a
cohort of 1", a new recommendation with the same words was stored, e-mailed and set awaiting the
committee; confirming it opened a second cohort at the same dose. And the churn: correcting an
AE grade inside the evidence re-issued the same decision and e-mailed it again; "wait" was
e-mailed too.
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from core.dates import site_today
from escalation.committee import committee_confirm
from escalation.models import CommitteeDecision, Notification, Recommendation
from escalation.player import play_trial
from escalation.rules import play as pure
from escalation.services import evaluate_track
from escalation.tasks import evaluate_and_notify
from safety.services import adverse_event_update
from subjects.services import subject_enroll
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt
from trial.models import Cohort

pytestmark = pytest.mark.django_db(transaction=True)


def current(track) -> Recommendation:
    return Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)


def mails_about(recommendation) -> list:
    return [m for m in mail.outbox if recommendation.text in m.subject]


def test_a_confirmed_escalation_is_not_asked_again(
    coordinator_a, monitor, site_a, l1_subject, cohort1, new_screened
):
    track = cohort1.track
    first = current(track)
    assert (first.action, first.status) == ("escalate", Recommendation.Status.PENDING)
    assert len(mails_about(first)) == 1  # the monitor was told once

    decision = committee_confirm(by=monitor, recommendation=first, password=PASSWORD)

    cohort2 = decision.opened_cohort
    now = current(track)
    # The rules still say "escalate to 0.03 mg/kg Q3W" until someone is enrolled there: that
    # step is carried out by cohort 2, it asks nothing.
    assert now.pk != first.pk and now.action == "escalate"
    assert now.status == Recommendation.Status.INFORMATION and not now.needs_decision
    assert now.text.startswith("escalate to 0.03 mg/kg Q3W: open a cohort of 1")
    assert "carried out: 1 place open at 0.03 mg/kg Q3W; enroll there" in now.text
    assert not Recommendation.objects.filter(
        track=track, status=Recommendation.Status.PENDING
    ).exists()
    assert not Notification.objects.filter(key=f"recommendation:{now.pk}").exists()
    assert len(mails_about(first)) == 1
    # Nothing to confirm, so no second cohort at 0.03 mg/kg can be opened by confirming.
    with pytest.raises(ValidationError) as excinfo:
        committee_confirm(by=monitor, recommendation=now, password=PASSWORD)
    assert "current (no decision needed)" in " ".join(excinfo.value.message_dict["recommendation"])
    assert Cohort.objects.filter(track=track, dose_level=cohort2.dose_level).count() == 1
    assert CommitteeDecision.objects.count() == 1

    # Evaluating again changes nothing; enrolling into cohort 2 moves the track on.
    assert not evaluate_track(track.pk).created
    subject_enroll(
        by=coordinator_a,
        subject=new_screened(),
        cohort=cohort2,
        enrollment_date=site_today(site_a.timezone),
    )
    assert current(track).action == "wait"


@pytest.mark.parametrize(
    ("script", "words"),
    [
        pytest.param("T TN", "carried out: the track is stopped", id="stop"),
        pytest.param("N N NNN TTN", "carried out: the MTD is declared", id="mtd"),
    ],
)
def test_a_confirmed_closing_step_is_not_asked_again(script, words):
    settings = {"exceeded_variant": "simple"}
    played = play_trial(pure.parse_script({"subjects": script, "settings": settings}))
    track = played.track
    closing = CommitteeDecision.objects.filter(track=track).order_by("-decided_at").first()
    assert closing.step in ("stop_track", "declare_mtd")
    now = current(track)
    assert now.status == Recommendation.Status.INFORMATION
    assert words in now.text
    assert not evaluate_track(track.pk).created
    assert CommitteeDecision.objects.filter(track=track).count() == len(played.result.steps)


def test_a_correction_that_keeps_the_decision_is_not_issued_again(
    investigator_a, monitor, l1_subject, cohort1
):
    track = cohort1.track
    # The investigator's own call and correction: attested, so the committee can sign.
    event = report_dlt(investigator_a, l1_subject, grade=3)
    pending = current(track)
    assert pending.action == "enroll" and pending.n_subjects == 2 and pending.needs_decision
    assert "grade 3 Neutrophil count decreased" in pending.text
    told = Notification.objects.filter(kind=Notification.Kind.RECOMMENDATION).count()
    sent = len(mail.outbox)

    adverse_event_update(
        by=investigator_a,
        adverse_event=event,
        changes={"grade": 4},
        reason="Source document says grade 4",
        expected_version=1,
    )

    now = current(track)
    # The same step, the same number, the evidence up to date: no new recommendation, no e-mail.
    assert now.pk == pending.pk and now.sequence == pending.sequence
    assert now.needs_decision and (now.action, now.n_subjects) == ("enroll", 2)
    assert "grade 4 Neutrophil count decreased" in now.text
    assert now.version == pending.version + 1 and now.updated_at is not None
    history = list(now.history.order_by("history_id"))
    assert "grade 3 Neutrophil count decreased" in history[0].text
    assert history[-1].history_change_reason.startswith("Evidence brought up to date")
    assert Notification.objects.filter(kind=Notification.Kind.RECOMMENDATION).count() == told
    assert len(mail.outbox) == sent
    # The committee signs the version that stands.
    decision = committee_confirm(by=monitor, recommendation=now, password=PASSWORD)
    assert decision.signature.record_version == now.version


def test_wait_is_not_e_mailed(coordinator_a, monitor, site_a, cohort1, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=3)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=1))
    waiting = current(cohort1.track)
    assert waiting.action == "wait"
    assert not Notification.objects.filter(kind=Notification.Kind.RECOMMENDATION).exists()
    assert mails_about(waiting) == []


def test_the_recommendation_notification_is_stored_with_the_recommendation(
    coordinator_a, monitor, site_a, cohort1, ctcae
):
    with mock.patch("escalation.triggers.enqueue_evaluation"):  # no evaluation at commit
        subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
        dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    # Inside the evaluation's own transaction, before anything runs at commit: a worker killed
    # right after this commit cannot lose the notification (reliability review D3).
    with transaction.atomic():
        result = evaluate_and_notify(cohort1.track_id)
        assert result.created and result.recommendation.needs_decision
        assert Notification.objects.filter(
            kind=Notification.Kind.RECOMMENDATION,
            key=f"recommendation:{result.recommendation.pk}",
            recipient=monitor,
            sent_at__isnull=True,
        ).exists()
    assert Notification.objects.get(key=f"recommendation:{result.recommendation.pk}").sent_at


def test_a_long_recommendation_is_announced_with_its_whole_text_in_the_body(monitor, study):
    # A titration trigger with two events makes a text longer than an e-mail subject's column:
    # announced inside the evaluation's transaction, it must not fail the evaluation.
    from escalation.notifications import _record

    text = "enroll 2 more at 0.03 mg/kg Q3W (" + "titration trigger event; " * 20 + ")"
    (pk,) = _record(
        kind=Notification.Kind.RECOMMENDATION,
        key="recommendation:long",
        study_id=study.pk,
        subject_id=None,
        title=f"{study} Q3W-ESC: {text}",
        body=f"New recommendation: {text}",
    )
    notification = Notification.objects.get(pk=pk)
    assert len(notification.title) == 300 and notification.title.endswith("\u2026")
    assert text in notification.body
