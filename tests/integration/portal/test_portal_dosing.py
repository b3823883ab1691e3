"""Dose entry pages: the proposed cycle and day with the visit window, the total in mg before
saving, a changed dose needs a reason, a visit outside its window needs a confirmation, times in
the site's timezone, corrections with a reason and the stale-form refusal."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from core.dates import site_today
from dosing.models import DoseAdministration
from dosing.services import dose_update
from tests.factories import dosed, enrolled_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(coordinator_a, site_a, cohort1):
    return enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=30)


def dose_form(day, **extra):
    start = f"{day.isoformat()}T09:30"
    end = f"{day.isoformat()}T11:00"
    data = {
        "cycle": 1,
        "day": 1,
        "actual_dose_per_kg": "0.01",
        "body_weight_kg": "70.0",
        "infusion_start": start,
        "infusion_end": end,
        "lot_number": "LOT-9",
        "dose_change_reason": "",
        "interruption_details": "",
        "action": "save",
    }
    data.update(extra)
    return data


def test_the_form_proposes_cycle_1_day_1_then_the_next_visit_with_its_window(
    signed_in, coordinator_a, subject, site_a
):
    page = signed_in.get(reverse("dose_new", args=[subject.pk])).content.decode()
    assert "Cycle 1 Day 1" in page and "opens the 21-day DLT window" in page
    first = site_today(site_a.timezone) - timedelta(days=20)
    dosed(coordinator_a, subject, on=first)
    page = signed_in.get(reverse("dose_new", args=[subject.pk])).content.decode()
    planned = first + timedelta(days=21)
    assert "Cycle 2 Day 1" in page
    assert (
        f"{planned - timedelta(days=3):%Y-%m-%d} to {planned + timedelta(days=3):%Y-%m-%d}" in page
    )
    assert 'name="cycle" value="2"' in page


def test_the_total_in_mg_is_shown_before_saving(signed_in, subject):
    url = reverse("dose_total", args=[subject.pk])
    fragment = signed_in.get(url, {"actual_dose_per_kg": "0.01", "body_weight_kg": "70"})
    assert "0.700 mg" in fragment.content.decode()
    # Without JavaScript the same total comes from the "Calculate the total" button.
    day = site_today(subject.site.timezone)
    page = signed_in.post(
        reverse("dose_new", args=[subject.pk]), dose_form(day, action="preview")
    ).content.decode()
    assert "0.700 mg" in page
    assert not DoseAdministration.objects.exists()
    # A weight in pounds is caught while typing.
    fragment = signed_in.get(url, {"actual_dose_per_kg": "0.01", "body_weight_kg": "300"})
    assert "check the unit (kg, not lb)" in fragment.content.decode()


def test_a_dose_is_saved_with_times_typed_in_the_site_timezone(signed_in, subject, site_a):
    day = site_today(site_a.timezone) - timedelta(days=1)
    response = signed_in.post(reverse("dose_new", args=[subject.pk]), dose_form(day))
    assert response.status_code == 302
    dose = DoseAdministration.objects.get(subject=subject)
    assert dose.total_dose_mg == Decimal("0.700")
    assert dose.infusion_start == datetime.combine(day, time(9, 30), ZoneInfo(site_a.timezone))
    assert dose.administered_on == day


def test_a_dose_other_than_the_cohort_level_needs_a_reason(signed_in, subject):
    # Yesterday: an infusion at 09:30 today is still in the future before 09:30 at the site.
    day = site_today(subject.site.timezone) - timedelta(days=1)
    response = signed_in.post(
        reverse("dose_new", args=[subject.pk]), dose_form(day, actual_dose_per_kg="0.008")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "give the reason" in page
    assert 'value="0.008"' in page and 'value="LOT-9"' in page  # the input is kept
    assert not DoseAdministration.objects.exists()
    signed_in.post(
        reverse("dose_new", args=[subject.pk]),
        dose_form(day, actual_dose_per_kg="0.008", dose_change_reason="Infusion reaction"),
    )
    assert DoseAdministration.objects.get().dose_change_reason == "Infusion reaction"


def test_a_dose_before_consent_is_refused_and_the_input_kept(signed_in, subject):
    before = subject.consent_date - timedelta(days=2)
    response = signed_in.post(reverse("dose_new", args=[subject.pk]), dose_form(before))
    page = response.content.decode()
    assert "A dose cannot be given before informed consent" in page
    assert f'value="{before.isoformat()}T09:30"' in page
    assert 'value="70.0"' in page
    assert not DoseAdministration.objects.exists()


def test_a_visit_outside_its_window_needs_an_explicit_confirmation(
    signed_in, coordinator_a, subject
):
    first = site_today(subject.site.timezone) - timedelta(days=29)
    dosed(coordinator_a, subject, on=first)
    late = first + timedelta(days=28)  # planned on day 22, window +-3 days
    data = dose_form(late, cycle=2)
    page = signed_in.post(reverse("dose_new", args=[subject.pk]), data).content.decode()
    assert "confirm to record a dose outside its visit window" in page
    assert 'name="outside_visit_window_confirmed"' in page
    assert DoseAdministration.objects.count() == 1
    data["outside_visit_window_confirmed"] = "on"
    response = signed_in.post(reverse("dose_new", args=[subject.pk]), data)
    assert response.status_code == 302
    assert DoseAdministration.objects.get(cycle=2).outside_visit_window_confirmed


def test_a_correction_needs_a_reason_and_is_in_the_history(signed_in, coordinator_a, subject):
    dose = dosed(coordinator_a, subject, on=site_today(subject.site.timezone) - timedelta(days=3))
    url = reverse("dose_edit", args=[dose.pk])
    form = signed_in.get(url).content.decode()
    assert 'name="version" value="1"' in form
    data = dose_form(dose.administered_on, lot_number="LOT-2", version=1, reason="")
    data["infusion_start"] = dose.infusion_start.astimezone(
        ZoneInfo(subject.site.timezone)
    ).strftime("%Y-%m-%dT%H:%M")
    data["infusion_end"] = dose.infusion_end.astimezone(ZoneInfo(subject.site.timezone)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    page = signed_in.post(url, data).content.decode()
    assert "Give the reason for this change." in page
    dose.refresh_from_db()
    assert dose.lot_number == "LOT-1"

    data["reason"] = "Lot number misread from the vial"
    response = signed_in.post(url, data)
    assert response.status_code == 302
    dose.refresh_from_db()
    assert dose.lot_number == "LOT-2" and dose.version == 2
    casebook = signed_in.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    assert "Lot number misread from the vial" in casebook
    assert "LOT-1" in casebook and "LOT-2" in casebook


def test_a_stale_correction_is_refused_showing_what_changed(
    signed_in, coordinator_a, investigator_a, subject
):
    dose = dosed(coordinator_a, subject, on=site_today(subject.site.timezone) - timedelta(days=3))
    tz = ZoneInfo(subject.site.timezone)
    data = dose_form(
        dose.administered_on,
        version=1,
        reason="Weight re-measured",
        body_weight_kg="72.0",
        infusion_start=dose.infusion_start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        infusion_end=dose.infusion_end.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        lot_number="LOT-1",
    )
    # Meanwhile the investigator corrects the lot number.
    dose_update(
        by=investigator_a,
        dose=dose,
        changes={"lot_number": "LOT-7"},
        reason="Lot from the pharmacy log",
        expected_version=1,
    )
    response = signed_in.post(reverse("dose_edit", args=[dose.pk]), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this record after you opened it" in page
    assert "Lot from the pharmacy log" in page  # who changed what, and why
    assert "LOT-1" in page and "LOT-7" in page
    assert 'value="72.0"' in page  # this user's entry is kept
    assert 'name="lot_number" value="LOT-7"' in page  # the untouched field takes the new value
    assert 'name="version" value="2"' in page
    dose.refresh_from_db()
    assert dose.body_weight_kg == Decimal("70.0") and dose.version == 2


def test_no_dose_form_for_a_subject_not_on_treatment(signed_in, coordinator_a, site_a):
    from tests.factories import screened_subject

    subject = screened_subject(coordinator_a, site_a, "S-5")
    response = signed_in.get(reverse("dose_new", args=[subject.pk]))
    assert response.status_code == 302
