"""Designs chosen per track in the protocol file, and their live recommendations through the
same evaluation, committee and notification path as the 3+3 (docs/designs.md §12)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.roles import Role
from core.dates import site_today
from core.errors import ValidationError
from escalation.committee import committee_confirm
from escalation.models import Notification, Recommendation
from tests.conftest import PASSWORD, _site, make_user
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt
from trial.models import Cohort, EscalationTrack, Study
from trial.services import load_study

pytestmark = pytest.mark.django_db(transaction=True)

BOIN_PROTOCOL = Path(__file__).resolve().parents[2] / "protocols" / "boin_study.toml"


@pytest.fixture
def boin_study(db):
    return load_study(str(BOIN_PROTOCOL)).study


@pytest.fixture
def site(boin_study):
    return _site(boin_study, "101", "Site A", "US", "America/New_York")


@pytest.fixture
def coordinator(boin_study, site):
    return make_user("coord_a", boin_study, Role.COORDINATOR, [site])


@pytest.fixture
def chair(boin_study):
    return make_user("monitor", boin_study, Role.MEDICAL_MONITOR)


def cohort(study, number):
    return Cohort.objects.get(study=study, number=number)


def current(track):
    return Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)


def subject_dosed(by, site, number, cohort, *, days_ago, q2w=False):
    """A subject dosed `days_ago` days ago on C1D1 (and on C1D15 for Q2W once that day came)."""
    subject = enrolled_subject(by, site, number, cohort, days_ago=days_ago + 2)
    first = site_today(site.timezone) - timedelta(days=days_ago)
    dosed(by, subject, on=first)
    if q2w and days_ago >= 14:
        dosed(by, subject, on=first + timedelta(days=14), day=15)
    return subject


# --- the protocol file --------------------------------------------------------------------------


def test_the_protocol_file_chooses_the_design_per_track(boin_study, study):
    q3w = EscalationTrack.objects.get(study=boin_study, code="Q3W-ESC")
    q2w = EscalationTrack.objects.get(study=boin_study, code="Q2W-ESC")
    assert q3w.design == {"name": "boin", "target": 0.3, "cohort_size": 3, "max_subjects": 30}
    assert q2w.design["name"] == "tite-boin" and q2w.design["suspend_fraction"] == 0.5
    # MIL97 keeps the 3+3 with titration: no design table on its tracks.
    assert [t.design for t in EscalationTrack.objects.filter(study=study)] == [{}, {}]
    # Loading again changes nothing.
    assert not load_study(str(BOIN_PROTOCOL)).changed


BAD_DESIGNS = [
    ('name = "boinn"', "design.name: must be one of 3+3, boin, tite-boin"),
    ('name = "boin"\ntarget = 0.9', "design.target: the target DLT probability must be in"),
    ('name = "boin"\ntargett = 0.3', "design.targett: not a setting of BOIN"),
    ('name = "boin"\ntarget = "0.3"', "design.target: must be a number"),
    ('name = "boin"\nextrasafe = 1', "design.extrasafe: must be true or false"),
    (
        'name = "crm"\nskeleton = [0.1, 0.2]',
        "design.skeleton: one guess per dose level of the track (6), 2 given",
    ),
    ('name = "crm"', "design.skeleton: the CRM needs a skeleton"),
    ('name = "mtpi2"\neps1 = 0.5', "design.eps1, eps2: each at least 10% of the target"),
    (
        'name = "boin"\ntarget = 0.3\nstay_at_1_of_3 = true',
        "design.stay_at_1_of_3: only for targets from 0.25 to 0.279",
    ),
]


@pytest.mark.parametrize(("table", "message"), BAD_DESIGNS)
def test_a_wrong_design_refuses_the_file_naming_track_and_field(tmp_path, db, table, message):
    text = BOIN_PROTOCOL.read_text()
    start = text.index('[tracks.design]\nname = "boin"')
    end = text.index("[[tracks]]", start)
    bad = text[:start] + "[tracks.design]\n" + table + "\n\n" + text[end:]
    path = tmp_path / "bad.toml"
    path.write_text(bad)
    with pytest.raises(ValidationError) as raised:
        load_study(str(path))
    assert f"Track Q3W-ESC: {message}" in str(raised.value)
    assert not Study.objects.filter(protocol_number="MIL97-BOIN-TEST").exists()  # nothing saved


def test_a_design_on_an_expansion_track_is_refused(tmp_path, db):
    text = BOIN_PROTOCOL.read_text().replace(
        'phase = "escalation"\nuses_titration = false\nstatus = "active"\ndisplay_order = 1',
        'phase = "expansion"\nuses_titration = false\nstatus = "active"\ndisplay_order = 1',
    )
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValidationError, match="only an escalation track has a dose-finding"):
        load_study(str(path))


# --- live recommendations -----------------------------------------------------------------------


def test_boin_escalates_after_0_of_3_with_its_table_in_the_evidence(
    boin_study, site, coordinator, chair, ctcae
):
    c1 = cohort(boin_study, 1)
    for i in range(3):
        subject_dosed(coordinator, site, f"S-{i}", c1, days_ago=30)
    rec = current(c1.track)
    assert rec.action == "escalate"
    assert rec.dose_level.number == 2 and rec.n_subjects == 3
    assert rec.text.startswith("BOIN: escalate to 0.03 mg/kg Q3W: a cohort of 3 subjects")
    assert rec.rule == "BOIN: E: escalate"
    assert rec.status == Recommendation.Status.PENDING
    design = rec.data["design"]
    assert design["cell"] == {"n": 3, "y": 0, "pending": 0}
    assert design["table"]["rows"][2] == {"n": 3, "cells": ["E", "S", "D", "DE"]}
    assert len(design["table"]["rows"]) == 30
    # BOIN 0.30 boundaries (Liu & Yuan 2015, get.boundary): n = 6 escalates at y <= 1, de-escalates at y >= 3.
    assert design["table"]["boundaries"][5] == {
        "n": 6,
        "escalate_if_le": 1,
        "deescalate_if_ge": 3,
        "eliminate_if_ge": 4,
    }
    assert rec.inputs["design"]["name"] == "boin"
    # Announced to the monitors like every recommendation that asks the committee.
    assert Notification.objects.filter(key=f"recommendation:{rec.pk}").exists()


def test_boin_stays_after_1_of_3_and_waits_while_outcomes_are_pending(
    boin_study, site, coordinator, ctcae
):
    c1 = cohort(boin_study, 1)
    subjects = [subject_dosed(coordinator, site, f"S-{i}", c1, days_ago=30) for i in range(2)]
    late = subject_dosed(coordinator, site, "S-2", c1, days_ago=5)
    rec = current(c1.track)
    assert rec.action == "wait"
    assert rec.data["pending_subjects"] == [late.subject_number]
    assert "pending" in rec.rule
    report_dlt(coordinator, subjects[0])
    # Still waiting for S-2; the data: 1 DLT in 2 evaluable + 1 pending.
    rec = current(c1.track)
    assert rec.action == "wait"
    assert rec.data["design"]["counts"][0]["dlts"] == 1


def test_boin_1_of_3_stays(boin_study, site, coordinator, ctcae):
    c1 = cohort(boin_study, 1)
    subjects = [subject_dosed(coordinator, site, f"S-{i}", c1, days_ago=30) for i in range(3)]
    report_dlt(coordinator, subjects[1])
    rec = current(c1.track)
    assert (rec.action, rec.dose_level.number, rec.n_subjects) == ("enroll", 1, 3)
    assert rec.rule == "BOIN: S: stay"
    assert rec.data["design"]["cell"] == {"n": 3, "y": 1, "pending": 0}


def test_confirming_a_boin_escalation_opens_the_cohort_like_the_3_plus_3(
    boin_study, site, coordinator, chair, ctcae
):
    c1 = cohort(boin_study, 1)
    for i in range(3):
        subject_dosed(coordinator, site, f"S-{i}", c1, days_ago=30)
    rec = current(c1.track)
    decision = committee_confirm(by=chair, recommendation=rec, password=PASSWORD)
    assert decision.step == "open_cohort"
    opened = Cohort.objects.get(track=c1.track, status=Cohort.Status.OPEN)
    assert opened.dose_level.number == 2 and opened.planned_size == 3
    rec = current(c1.track)
    # The step is carried out: the same decision, not asked again.
    assert rec.status == Recommendation.Status.INFORMATION and "carried out" in rec.text


def test_tite_boin_escalates_with_a_subject_pending(boin_study, site, coordinator, ctcae):
    """2 of 3 complete without DLT, 1 pending 20 days into its 28-day window: TITE-BOIN does not
    wait (p_tilde = (0 + q (1 - 20/28)) / 3 with q = 0.05 / 0.95 is below lambda_e)."""
    c2 = cohort(boin_study, 2)
    subject_dosed(coordinator, site, "T-0", c2, days_ago=40, q2w=True)
    subject_dosed(coordinator, site, "T-1", c2, days_ago=40, q2w=True)
    subject_dosed(coordinator, site, "T-2", c2, days_ago=20, q2w=True)
    rec = current(c2.track)
    assert rec.action == "escalate" and rec.dose_level.number == 2
    assert rec.text.startswith("TITE-BOIN: escalate to 0.03 mg/kg Q2W")
    counts = rec.data["design"]["counts"][0]
    assert counts["evaluable"] == 2 and counts["pending"] == [round(20 / 28, 3)]
    assert rec.data["design"]["cell"] == {"n": 3, "y": 0, "pending": 1}
    assert rec.data["design"]["pending_table"][0]["n"] == 3
    # The follow-up grows daily: the sweep evaluates the track again tomorrow.
    assert rec.data["reevaluate_on"] == (site_today(site.timezone) + timedelta(days=1)).isoformat()


def test_tite_boin_suspends_accrual_when_more_than_half_are_pending(
    boin_study, site, coordinator, ctcae
):
    c2 = cohort(boin_study, 2)
    subject_dosed(coordinator, site, "T-0", c2, days_ago=40, q2w=True)
    subject_dosed(coordinator, site, "T-1", c2, days_ago=10, q2w=True)
    subject_dosed(coordinator, site, "T-2", c2, days_ago=8, q2w=True)
    rec = current(c2.track)
    assert rec.action == "wait"
    assert rec.rule.startswith("TITE-BOIN: TITE: too many subjects pending")
    assert "suspend accrual: 2 of 3 pending" in rec.text
    assert len(rec.data["pending_subjects"]) == 2
    assert rec.status == Recommendation.Status.INFORMATION  # waiting asks nothing


def test_the_review_page_prints_the_design_table(
    boin_study, site, coordinator, chair, ctcae, client
):
    c1 = cohort(boin_study, 1)
    for i in range(3):
        subject_dosed(coordinator, site, f"S-{i}", c1, days_ago=30)
    rec = current(c1.track)
    client.force_login(chair)
    page = client.get(reverse("monitoring:review", args=[rec.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-design="boin"' in html and "data-design-table" in html
    assert "data-current-cell" in html and "<mark>E</mark>" in html
    assert "BOIN: E: escalate" in html


def test_the_escalation_overview_shows_the_tracks_design_table(
    boin_study, site, coordinator, chair, ctcae, client
):
    c1 = cohort(boin_study, 1)
    for i in range(3):
        subject_dosed(coordinator, site, f"S-{i}", c1, days_ago=30)
    client.force_login(chair)
    html = client.get(reverse("monitoring:overview"), {"study": boin_study.pk}).content.decode()
    assert '<details class="mon-design" data-design="boin">' in html
    assert "data-design-table" in html and "<mark>E</mark>" in html
