"""Dosing as clinics dose (docs/dosing.md): the schedule follows the cycles actually given, an
infusion too soon after the previous one is a deviation, a real overdose is recorded as given
(confirmed, with its reason, flagged and reported to the monitors), a unit error is still refused,
and an infusion cannot start later than now at the site."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.dates import site_today
from dosing.models import DoseAdministration
from dosing.services import dose_update, next_dose_slot
from escalation.models import Notification
from tests.factories import dosed, enrolled_subject
from trial.models import Cohort, EscalationTrack, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(coordinator_a, site_a, cohort1):
    return enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=70)


def errors(excinfo) -> dict[str, str]:
    return {field: " ".join(messages) for field, messages in excinfo.value.message_dict.items()}


def dose_form(day, hour=9, **extra):
    data = {
        "cycle": 1,
        "day": 1,
        "actual_dose_per_kg": "0.01",
        "body_weight_kg": "70.0",
        "infusion_start": f"{day.isoformat()}T{hour:02d}:30",
        "infusion_end": f"{day.isoformat()}T{hour + 1:02d}:45",
        "lot_number": "LOT-9",
        "action": "save",
    }
    data.update(extra)
    return data


# --- D-1: the schedule follows the cycles given ---------------------------------------------


def test_a_delayed_cycle_moves_the_next_one(coordinator_a, subject):
    """C2D1 delayed 7 days: C3D1 is planned 21 days after the actual C2D1, not after C1D1."""
    c1d1 = subject.enrollment_date
    dosed(coordinator_a, subject, on=c1d1)
    c2d1 = c1d1 + timedelta(days=28)  # planned on day 22: a week late
    dosed(coordinator_a, subject, on=c2d1, cycle=2, confirm_outside_window=True)
    slot = next_dose_slot(subject)
    assert (slot.cycle, slot.day) == (3, 1)
    assert slot.planned_on == c2d1 + timedelta(days=21)
    assert (slot.earliest, slot.latest) == (
        c2d1 + timedelta(days=18),
        c2d1 + timedelta(days=24),
    )
    # On time against the actual C2D1: saved with no confirmation and no flag.
    dose = dosed(coordinator_a, subject, on=c2d1 + timedelta(days=21), cycle=3)
    assert not dose.outside_visit_window_confirmed and not dose.short_interval_confirmed


def test_the_dose_page_proposes_the_shifted_date(signed_in, coordinator_a, subject):
    c1d1 = subject.enrollment_date
    dosed(coordinator_a, subject, on=c1d1)
    c2d1 = c1d1 + timedelta(days=28)
    dosed(coordinator_a, subject, on=c2d1, cycle=2, confirm_outside_window=True)
    page = signed_in.get(reverse("dose_new", args=[subject.pk])).content.decode()
    planned = c2d1 + timedelta(days=21)
    assert f"Planned {planned:%Y-%m-%d} (counted from C2D1 as given, {c2d1:%Y-%m-%d})" in page
    assert (
        f"{planned - timedelta(days=3):%Y-%m-%d} to {planned + timedelta(days=3):%Y-%m-%d}" in page
    )


def test_an_infusion_too_soon_after_the_previous_one_needs_a_confirmation_and_a_reason(
    signed_in, coordinator_a, subject
):
    """The review's case: C3D1 on the date the C1D1 calendar gave, 14 days after a delayed C2D1
    (the minimum between Q3W infusions is 21 - 3 = 18 days)."""
    c1d1 = subject.enrollment_date
    dosed(coordinator_a, subject, on=c1d1)
    c2d1 = c1d1 + timedelta(days=28)
    dosed(coordinator_a, subject, on=c2d1, cycle=2, confirm_outside_window=True)
    early = c1d1 + timedelta(days=42)
    url = reverse("dose_new", args=[subject.pk])
    page = signed_in.post(url, dose_form(early, cycle=3)).content.decode()
    assert "14 days after C2D1" in page and "minimum between infusions is 18 days" in page
    assert 'name="short_interval_confirmed"' in page
    assert 'name="outside_visit_window_confirmed"' in page
    assert DoseAdministration.objects.count() == 2

    confirmed = dose_form(
        early, cycle=3, short_interval_confirmed="on", outside_visit_window_confirmed="on"
    )
    page = signed_in.post(url, confirmed).content.decode()
    assert "Give the reason for the deviation." in page
    assert DoseAdministration.objects.count() == 2

    confirmed["deviation_reason"] = "Travel: the subject could only come that week"
    response = signed_in.post(url, confirmed)
    assert response.status_code == 302
    dose = DoseAdministration.objects.get(cycle=3)
    assert dose.short_interval_confirmed and dose.outside_visit_window_confirmed
    assert dose.protocol_deviations == ["Short interval", "Outside the visit window"]
    casebook = signed_in.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    assert "Protocol deviation" in casebook and "Short interval" in casebook
    assert "Travel: the subject could only come that week" in casebook


def test_the_minimum_interval_is_a_regimen_setting_and_refusal_a_study_setting(
    coordinator_a, subject, study
):
    regimen = subject.cohort.track.regimen
    regimen.min_days_between_infusions = 20
    regimen.save()
    c1d1 = subject.enrollment_date
    dosed(coordinator_a, subject, on=c1d1)
    with pytest.raises(ValidationError) as excinfo:  # inside the +/-3 window, but 19 < 20 days
        dosed(coordinator_a, subject, on=c1d1 + timedelta(days=19), cycle=2)
    assert "minimum between infusions is 20 days" in errors(excinfo)["infusion_start"]
    assert "short_interval_confirmed" in errors(excinfo)

    study.short_interval_policy = study.ShortIntervalPolicy.REFUSE
    study.save()
    subject.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        dosed(
            coordinator_a,
            subject,
            on=c1d1 + timedelta(days=19),
            cycle=2,
            short_interval_confirmed=True,
            deviation_reason="Asked for",
        )
    assert "the protocol does not allow it" in errors(excinfo)["infusion_start"]
    assert DoseAdministration.objects.count() == 1


@pytest.fixture
def q2w_cohort(study):
    track = EscalationTrack.objects.get(study=study, code="Q2W-ESC")
    track.status = EscalationTrack.Status.ACTIVE
    track.save()
    return Cohort.objects.create(
        study=study,
        track=track,
        number=50,
        dose_level=study.dose_levels.get(number=1),
        planned_size=3,
        status=Cohort.Status.OPEN,
        opened_at=timezone.now(),
    )


def test_q2w_day_15_is_planned_from_its_own_cycle_day_1(coordinator_a, site_a, q2w_cohort):
    subject = enrolled_subject(coordinator_a, site_a, "S-Q2W", q2w_cohort, days_ago=80)
    c1d1 = subject.enrollment_date
    dosed(coordinator_a, subject, on=c1d1)
    dosed(coordinator_a, subject, on=c1d1 + timedelta(days=14), day=15)
    c2d1 = c1d1 + timedelta(days=33)  # planned day 29, window +/-2: five days late
    dosed(coordinator_a, subject, on=c2d1, cycle=2, confirm_outside_window=True)
    slot = next_dose_slot(subject)
    assert (slot.cycle, slot.day, slot.planned_on) == (2, 15, c2d1 + timedelta(days=14))
    # On the day the C1D1 calendar gave (day 43), it is 9 days after C2D1: too soon (< 12).
    with pytest.raises(ValidationError) as excinfo:
        dosed(coordinator_a, subject, on=c1d1 + timedelta(days=42), cycle=2, day=15)
    found = errors(excinfo)
    assert "9 days after C2D1" in found["infusion_start"]
    assert "outside_visit_window_confirmed" in found


# --- D-2: a real overdose is recorded as given ------------------------------------------------


def test_an_overdose_is_recorded_with_a_confirmation_and_a_reason(coordinator_a, monitor, subject):
    """0.02 mg/kg given for a planned 0.01 (the pharmacy prepared the next level's dose)."""
    reason = "Medication error: pharmacy prepared 0.02 mg/kg"
    with pytest.raises(ValidationError) as excinfo:
        dosed(
            coordinator_a,
            subject,
            on=subject.enrollment_date,
            amount="0.02",
            dose_change_reason=reason,
        )
    found = errors(excinfo)
    assert "100% above the planned 0.01 mg/kg" in found["actual_dose_per_kg"]
    assert "confirm the overdose" in found["overdose_confirmed"]
    with pytest.raises(ValidationError) as excinfo:
        dosed(
            coordinator_a,
            subject,
            on=subject.enrollment_date,
            amount="0.02",
            overdose_confirmed=True,
        )
    assert "reason for the overdose" in errors(excinfo)["dose_change_reason"]
    assert not DoseAdministration.all_objects.exists()

    dose = dosed(
        coordinator_a,
        subject,
        on=subject.enrollment_date,
        amount="0.02",
        overdose_confirmed=True,
        dose_change_reason=reason,
    )
    assert dose.actual_dose_per_kg == Decimal("0.02")  # as given, not forced to the plan
    assert dose.total_dose_mg == Decimal("1.400")
    assert dose.overdose_confirmed and dose.protocol_deviations == ["Overdose"]
    told = Notification.objects.get(kind=Notification.Kind.OVERDOSE, recipient=monitor)
    assert told.key == f"dose:{dose.pk}" and told.subject_id == subject.pk
    assert "0.02 mg/kg (planned 0.01 mg/kg)" in told.title and reason in told.body


def test_a_value_implausible_as_mg_per_kg_is_still_refused(coordinator_a, subject):
    """10 times the planned dose or more is a total in mg typed as mg/kg: refused even when the
    overdose is confirmed."""
    with pytest.raises(ValidationError) as excinfo:
        dosed(
            coordinator_a,
            subject,
            on=subject.enrollment_date,
            amount="0.1",
            overdose_confirmed=True,
            dose_change_reason="typed",
        )
    assert "was a total dose in mg entered as mg/kg?" in errors(excinfo)["actual_dose_per_kg"]
    assert not DoseAdministration.all_objects.exists()
    # Just under the factor is an overdose, recordable as given.
    dose = dosed(
        coordinator_a,
        subject,
        on=subject.enrollment_date,
        amount="0.099",
        overdose_confirmed=True,
        dose_change_reason="Wrong vial",
    )
    assert dose.overdose_confirmed


def test_a_confirmation_the_dose_does_not_need_is_not_kept(coordinator_a, subject):
    dose = dosed(coordinator_a, subject, on=subject.enrollment_date, overdose_confirmed=True)
    assert not dose.overdose_confirmed and dose.protocol_deviations == []


def test_an_overdose_on_the_page_shows_on_the_casebook_and_the_listings(
    client, signed_in, coordinator_a, monitor, subject, study
):
    url = reverse("dose_new", args=[subject.pk])
    day = subject.enrollment_date
    data = dose_form(day, actual_dose_per_kg="0.02", dose_change_reason="Wrong vial")
    page = signed_in.post(url, data).content.decode()
    assert 'name="overdose_confirmed"' in page and "an overdose" in page
    data["overdose_confirmed"] = "on"
    response = signed_in.post(url, data, follow=True)
    page = response.content.decode()
    assert "Recorded as a protocol deviation (overdose)" in page
    assert "the medical monitors are notified" in page
    assert "Protocol deviation" in page and "Overdose: Wrong vial" in page  # the casebook

    client.force_login(monitor)
    listings = client.get(reverse("monitoring:listings"), {"study": study.pk}).content.decode()
    assert "Dose deviations" in listings and "Overdose" in listings and "Wrong vial" in listings
    csv = client.get(
        reverse("monitoring:listings"),
        {"study": study.pk, "format": "csv", "table": "dose_deviations"},
    ).content.decode()
    assert "Overdose" in csv and "Wrong vial" in csv


def test_a_correction_into_an_overdose_needs_the_confirmation_too(coordinator_a, monitor, subject):
    dose = dosed(coordinator_a, subject, on=subject.enrollment_date)
    with pytest.raises(ValidationError) as excinfo:
        dose_update(
            by=coordinator_a,
            dose=dose,
            changes={"actual_dose_per_kg": Decimal("0.03"), "dose_change_reason": "Source says so"},
            reason="Pharmacy record",
            expected_version=1,
        )
    assert "overdose_confirmed" in errors(excinfo)
    dose = dose_update(
        by=coordinator_a,
        dose=dose,
        changes={
            "actual_dose_per_kg": Decimal("0.03"),
            "dose_change_reason": "Source says so",
            "overdose_confirmed": True,
        },
        reason="Pharmacy record",
        expected_version=1,
    )
    assert dose.overdose_confirmed
    assert Notification.objects.filter(
        kind=Notification.Kind.OVERDOSE, key=f"dose:{dose.pk}"
    ).exists()


# --- Weight: the range and the change from the previous dose (m10, O-1, O-2) -------------------


def test_a_weight_outside_the_range_is_recorded_with_a_confirmation_and_a_reason(
    coordinator_a, subject
):
    with pytest.raises(ValidationError) as excinfo:
        dosed(coordinator_a, subject, on=subject.enrollment_date, weight="27.5")
    found = errors(excinfo)
    assert "outside the plausible range 30.0-250.0 kg" in found["body_weight_kg"]
    assert "confirm it and give the reason" in found["weight_outside_range_confirmed"]
    with pytest.raises(ValidationError) as excinfo:
        dosed(
            coordinator_a,
            subject,
            on=subject.enrollment_date,
            weight="27.5",
            weight_outside_range_confirmed=True,
        )
    assert "deviation_reason" in errors(excinfo)
    dose = dosed(
        coordinator_a,
        subject,
        on=subject.enrollment_date,
        weight="27.5",
        weight_outside_range_confirmed=True,
        deviation_reason="Cachectic adult, weighed twice",
    )
    assert dose.weight_outside_range_confirmed and dose.body_weight_kg == Decimal("27.5")
    assert dose.confirmed_values == ["Weight outside the plausible range"]


@pytest.mark.parametrize(
    ("weight", "asked"), [("56", True), ("154", True), ("63", False), ("77", False)]
)
def test_a_large_weight_change_since_the_previous_dose_asks_for_a_confirmation(
    coordinator_a, subject, weight, asked
):
    """70 kg at C1D1; 56 kg is -20%, 154 "kg" a weight in pounds: both asked; +-10% is not."""
    c1d1 = subject.enrollment_date
    dosed(coordinator_a, subject, on=c1d1, weight="70")
    c2d1 = c1d1 + timedelta(days=21)
    if not asked:
        assert not dosed(
            coordinator_a, subject, on=c2d1, cycle=2, weight=weight
        ).weight_change_confirmed
        return
    with pytest.raises(ValidationError) as excinfo:
        dosed(coordinator_a, subject, on=c2d1, cycle=2, weight=weight)
    found = errors(excinfo)
    assert "the 70.0 kg of C1D1" in found["body_weight_kg"]
    assert "weight_change_confirmed" in found
    dose = dosed(
        coordinator_a, subject, on=c2d1, cycle=2, weight=weight, weight_change_confirmed=True
    )
    assert dose.weight_change_confirmed


def test_the_weight_change_margin_is_a_protocol_setting(coordinator_a, subject, study):
    study.max_weight_change_percent = 25
    study.save()
    subject.refresh_from_db()
    c1d1 = subject.enrollment_date
    dosed(coordinator_a, subject, on=c1d1, weight="70")
    dose = dosed(coordinator_a, subject, on=c1d1 + timedelta(days=21), cycle=2, weight="56")
    assert not dose.weight_change_confirmed


# --- D-5: an infusion cannot start later than now at the site ---------------------------------


@pytest.fixture
def site_la(study):
    return Site.objects.create(
        study=study,
        number="103",
        name="Site LA",
        country="US",
        timezone="America/Los_Angeles",
        principal_investigator="PI of LA",
        is_active=True,
        activated_on=datetime(2025, 1, 1).date(),
    )


def test_an_infusion_later_today_is_refused_to_the_minute(study, site_la, cohort1):
    """2026-06-15 20:00 UTC is 13:00 in Los Angeles: 18:00 the same day is five hours ahead."""
    from tests.conftest import make_user

    with time_machine.travel(datetime(2026, 6, 15, 20, 0, 30, tzinfo=UTC), tick=False):
        coordinator = make_user("coord_la", study, "coordinator", [site_la])
        subject = enrolled_subject(coordinator, site_la, "S-LA", cohort1, days_ago=10)
        la = ZoneInfo("America/Los_Angeles")
        today = site_today(site_la.timezone)
        assert today == datetime(2026, 6, 15).date()

        def at(hour, minute):
            start = datetime.combine(today, time(hour, minute), la)
            return start, start + timedelta(minutes=1)

        from dosing.services import dose_record

        def record(start, end):
            return dose_record(
                by=coordinator,
                subject=subject,
                cycle=1,
                day=1,
                actual_dose_per_kg="0.01",
                body_weight_kg="70",
                infusion_start=start,
                infusion_end=end,
                lot_number="L",
            )

        with pytest.raises(ValidationError) as excinfo:
            record(*at(18, 0))
        assert (
            "2026-06-15 18:00 is in the future (it is 2026-06-15 13:00 at the site"
            in errors(excinfo)["infusion_start"]
        )
        with pytest.raises(ValidationError) as excinfo:  # ends a minute from now
            record(
                datetime.combine(today, time(12, 0), la), datetime.combine(today, time(13, 1), la)
            )
        assert "in the future" in errors(excinfo)["infusion_end"]
        dose = record(
            datetime.combine(today, time(12, 0), la), datetime.combine(today, time(13, 0), la)
        )
        assert dose.administered_on == today
