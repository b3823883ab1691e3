"""The adverse event's onset time and baseline grade (treatment emergence), SAE awareness (the
24-hour clock) and MedDRA version, through the services, the casebook and the monitor's
listing (docs/safety.md §3, §4, §9)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.dates import site_today
from safety.models import AdverseEvent, CtcaeTerm, SafetySettings
from safety.services import adverse_event_update, on_study_loaded
from tests.factories import dosed, enrolled_subject, reported_ae

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(coordinator_a, site_a, cohort1, ctcae):
    """Dosed 10 days ago at 09:00 site time (tests.factories.infusion)."""
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    return subject


def day1(subject):
    return site_today(subject.site.timezone) - timedelta(days=10)


def local(subject, day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), ZoneInfo(subject.site.timezone))


def refused(excinfo, field):
    return " ".join(excinfo.value.message_dict[field])


# --- onset time and baseline grade ---------------------------------------------------------


def test_onset_before_the_infusion_on_day_1_is_not_treatment_emergent(
    client, coordinator_a, subject
):
    before = reported_ae(coordinator_a, subject, onset_date=day1(subject), onset_time=time(8, 0))
    during = reported_ae(
        coordinator_a, subject, "Fatigue", onset_date=day1(subject), onset_time=time(9, 30)
    )
    unknown = reported_ae(coordinator_a, subject, "Headache", onset_date=day1(subject))
    assert before.onset_time == time(8, 0)
    client.force_login(coordinator_a)
    page = client.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    assert "Not a TEAE: onset 08:00, before the first infusion started (09:00)" in page
    assert page.count('data-teae="yes"') == 2  # during the infusion; time unknown
    assert during.pk and unknown.pk


def test_an_onset_time_in_the_future_is_refused_on_its_field(coordinator_a, subject):
    today = site_today(subject.site.timezone)
    with time_machine.travel(local(subject, today, 12, 0), tick=False):
        with pytest.raises(ValidationError) as excinfo:
            reported_ae(coordinator_a, subject, onset_date=today, onset_time=time(14, 0))
        assert "is in the future" in refused(excinfo, "onset_time")
        event = reported_ae(coordinator_a, subject, onset_date=today, onset_time=time(11, 59))
    assert AdverseEvent.objects.get().pk == event.pk


@pytest.mark.parametrize(
    ("term", "grade", "baseline", "message"),
    [
        ("Nausea", 3, 4, "CTCAE v5.0 defines no baseline grade 4 for 'Nausea' (grades: 1, 2, 3)"),
        ("Nausea", 1, 2, "cannot be above the event's grade (1)"),
    ],
)
def test_a_baseline_grade_is_one_the_term_defines_and_not_above_the_grade(
    coordinator_a, subject, term, grade, baseline, message
):
    with pytest.raises(ValidationError) as excinfo:
        reported_ae(coordinator_a, subject, term, grade=grade, baseline_grade=baseline)
    assert message in refused(excinfo, "baseline_grade")


def test_a_pre_existing_condition_is_a_teae_only_when_it_worsens(client, coordinator_a, subject):
    same = reported_ae(coordinator_a, subject, "Fatigue", grade=1, baseline_grade=1)
    worse = reported_ae(coordinator_a, subject, "Nausea", grade=2, baseline_grade=1)
    client.force_login(coordinator_a)
    page = client.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    assert "Not a TEAE: not worse than the baseline grade 1" in page
    assert "TEAE: worsened after the first dose (baseline grade 1)" in page
    assert same.baseline_grade == 1 and worse.baseline_grade == 1


# --- SAE awareness and the 24-hour clock ---------------------------------------------------


def serious(**extra):
    return {"serious": True, "seriousness": ("serious_hospitalisation",), **extra}


def test_a_serious_event_needs_the_awareness_and_only_a_serious_one(coordinator_a, subject):
    with pytest.raises(ValidationError) as excinfo:
        reported_ae(coordinator_a, subject, **serious(sae_awareness_at=None))
    assert "24-hour reporting clock" in refused(excinfo, "sae_awareness_at")
    with pytest.raises(ValidationError) as excinfo:
        reported_ae(coordinator_a, subject, sae_awareness_at=timezone.now())
    assert "serious adverse event only" in refused(excinfo, "sae_awareness_at")


def test_awareness_is_neither_before_the_onset_nor_in_the_future(coordinator_a, subject):
    onset = day1(subject) + timedelta(days=3)
    with pytest.raises(ValidationError) as excinfo:
        reported_ae(
            coordinator_a,
            subject,
            onset_date=onset,
            onset_time=time(14, 0),
            **serious(sae_awareness_at=local(subject, onset, 13, 0)),
        )
    assert "before the onset" in refused(excinfo, "sae_awareness_at")
    with pytest.raises(ValidationError) as excinfo:
        reported_ae(
            coordinator_a,
            subject,
            onset_date=onset,
            **serious(sae_awareness_at=timezone.now() + timedelta(hours=3)),
        )
    assert "is in the future" in refused(excinfo, "sae_awareness_at")
    assert not AdverseEvent.objects.exists()


def test_a_late_sae_is_flagged_to_the_monitor(client, coordinator_a, monitor, subject):
    aware = (timezone.now() - timedelta(hours=30)).replace(second=0, microsecond=0)
    late = reported_ae(
        coordinator_a,
        subject,
        "Febrile neutropenia",
        grade=3,
        onset_date=day1(subject) + timedelta(days=2),
        **serious(sae_awareness_at=aware),
    )
    on_time = reported_ae(
        coordinator_a, subject, onset_date=day1(subject) + timedelta(days=2), **serious()
    )
    assert late.sae_reported_late and late.sae_report_delay >= timedelta(hours=30)
    assert late.sae_clock_text.startswith("late: entered 30 h")
    assert not on_time.sae_reported_late
    assert on_time.sae_clock_text.startswith("entered 0 h")
    client.force_login(monitor)
    page = client.get(reverse("monitoring:listings")).content.decode()
    assert page.count("data-sae-late") == 1 and "Reported late" in page
    casebook = client.get(reverse("subject_detail", args=[subject.pk]))
    if casebook.status_code == 200:  # the monitor may read the casebook
        assert 'data-sae-clock="late"' in casebook.content.decode()


def test_a_correction_to_serious_starts_the_clock_and_back_clears_it(coordinator_a, subject):
    event = reported_ae(coordinator_a, subject, onset_date=day1(subject) + timedelta(days=1))
    assert event.sae_reported_at is None
    aware = (timezone.now() - timedelta(hours=2)).replace(second=0, microsecond=0)
    made_serious = adverse_event_update(
        by=coordinator_a,
        adverse_event=event,
        changes={"serious": True, "serious_hospitalisation": True, "sae_awareness_at": aware},
        reason="Admitted overnight",
        expected_version=event.version,
    )
    assert made_serious.sae_awareness_at == aware and made_serious.sae_reported_at is not None
    assert not made_serious.sae_reported_late
    back = adverse_event_update(
        by=coordinator_a,
        adverse_event=made_serious,
        changes={"serious": False, "serious_hospitalisation": False},
        reason="Entered as serious in error",
        expected_version=made_serious.version,
    )
    assert (back.sae_awareness_at, back.sae_reported_at) == (None, None)
    rows = list(back.history.order_by("history_id").values_list("sae_awareness_at", flat=True))
    assert rows == [None, aware, None]  # the history keeps what was said


# --- MedDRA version ---------------------------------------------------------------------------


def test_each_event_is_stamped_with_the_studys_meddra_version(
    coordinator_a, study, subject, data_manager
):
    assert SafetySettings.objects.get(study=study).meddra_version == "20.1"  # mil97.toml
    first = reported_ae(coordinator_a, subject)
    assert first.meddra_version == "20.1"
    on_study_loaded(None, study=study, data={"safety": {"meddra_version": "23.0"}}, by=None)
    assert reported_ae(coordinator_a, subject, "Fatigue").meddra_version == "23.0"
    first.refresh_from_db()
    assert first.meddra_version == "20.1"  # coded then, with 20.1
    recoded = adverse_event_update(
        by=coordinator_a,
        adverse_event=first,
        changes={"ctcae_term": CtcaeTerm.objects.get(term="Vomiting")},
        reason="Recoded: the patient vomited",
        expected_version=first.version,
    )
    assert recoded.meddra_version == "23.0"
    settings = SafetySettings.objects.get(study=study)
    assert settings.history.count() == 2  # loaded, then changed: audited


@pytest.mark.parametrize(
    ("section", "message"),
    [({"meddra_version": 20.1}, "as a text like"), ({"meddra": "20.1"}, "unknown setting meddra")],
)
def test_a_wrong_safety_section_is_refused_by_name(study, section, message):
    with pytest.raises(ValidationError) as excinfo:
        on_study_loaded(None, study=study, data={"safety": section}, by=None)
    assert message in refused(excinfo, "safety")


# --- the investigator's attestation on the casebook (docs/safety.md §8) ---------------------


def test_the_casebook_offers_the_attestation_to_the_investigator_only(
    client, coordinator_a, investigator_a, subject
):
    event = reported_ae(
        coordinator_a,
        subject,
        "Febrile neutropenia",
        grade=3,
        relationship="probable",
        dlt_investigator=True,
        onset_date=day1(subject) + timedelta(days=4),
    )
    casebook = reverse("subject_detail", args=[subject.pk])
    client.force_login(coordinator_a)
    page = client.get(casebook).content.decode()
    assert "Proposed, awaiting investigator attestation" in page
    assert reverse("ae_attest", args=[event.pk]) not in page
    assert client.post(reverse("ae_attest", args=[event.pk]), {"version": 1}).status_code == 403
    client.force_login(investigator_a)
    page = client.get(casebook).content.decode()
    assert reverse("ae_attest", args=[event.pk]) in page
    response = client.post(reverse("ae_attest", args=[event.pk]), {"version": event.version})
    assert response.status_code == 302 and response.url.endswith(f"#ae-{event.pk}")
    event.refresh_from_db()
    assert event.dlt_attested_by == investigator_a and not event.dlt_awaiting_attestation
    page = client.get(casebook).content.decode()
    assert 'data-dlt-attestation="attested"' in page and "Attested by Investigator_A" in page
