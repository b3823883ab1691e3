"""The data quality loop in the browser (docs/quality.md): an edit check raises a query on save;
the monitor (a clinical research associate) adds a manual query; the coordinator answers and
corrects; the monitor closes both and marks the form verified; the investigator signs in with
a second factor (TOTP) and signs with the user name and password; a later correction invalidates the signature and clears the
verification; the data manager locks the subject, and a write through the page and the API is
refused."""

from datetime import timedelta

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect
from rest_framework.test import APIClient

from accounts.roles import Role
from api.tokens import token_create
from core.dates import site_today
from dosing.models import DoseAdministration
from quality.models import QualitySettings, Query
from tests.conftest import PASSWORD, make_user
from tests.factories import dosed, enrolled_subject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url("/accounts/login/")


def correct_dose(page, dose, *, weight=None, lot=None, reason):
    page.goto(f"/doses/{dose.pk}/edit/")
    if weight is not None:
        page.get_by_label("Body weight (kg)").fill(weight)
    if lot is not None:
        page.get_by_label("Lot number").fill(lot)
    page.get_by_label("Reason for change").fill(reason)
    page.get_by_role("button", name="Save the correction").click()


def test_edit_check_queries_sdv_signature_and_lock(
    page, study, site_a, coordinator_a, investigator_a, data_manager, cohort1
):
    cra = make_user("cra", study, Role.CRA)
    settings = QualitySettings.objects.get(study=study)
    settings.two_factor_roles = ["investigator"]
    settings._change_reason = "Two-factor sign-in for investigators"
    settings.save()
    subject = enrolled_subject(coordinator_a, site_a, "S101-001", cohort1)
    dose = dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=18))
    quality_page = f"/quality/subjects/{subject.pk}/"

    # The coordinator corrects the weight to 35 kg: the edit check raises a query on save.
    sign_in(page, coordinator_a.username)
    correct_dose(page, dose, weight="35", reason="Weight as on the source")
    expect(page.locator(".messages")).to_contain_text("corrected (version 2)")
    expect(page.locator("[data-quality-line]")).to_contain_text("1 unresolved query")
    page.locator("[data-quality-line]").get_by_role("link", name="Data quality").click()
    weight = page.locator(f'#dose-{dose.pk} tr[data-field="body_weight_kg"]')
    expect(weight.locator("[data-query]")).to_contain_text("Edit check dose.body_weight_range v1")
    expect(weight.locator("[data-query]")).to_contain_text("Body weight 35 kg is outside")

    # The monitor adds a manual query on the lot number.
    sign_in(page, cra.username)
    page.goto(quality_page)
    form = page.locator(f"#dose-{dose.pk}")
    form.locator("summary", has_text="Open a query on this form").click()
    form.get_by_label("Field").select_option("lot_number")
    form.get_by_label("Query").fill("The pharmacy log says LOT-9.")
    form.get_by_role("button", name="Open the query").click()
    expect(page.locator(".messages")).to_contain_text("Query opened.")
    lot = page.locator(f'#dose-{dose.pk} tr[data-field="lot_number"]')
    expect(lot.locator('[data-query-status="open"]')).to_contain_text("LOT-9")

    # The coordinator answers both, and corrects the lot number.
    sign_in(page, coordinator_a.username)
    correct_dose(page, dose, lot="LOT-9", reason="Query: lot as on the pharmacy log")
    page.goto(quality_page)
    lot.locator("[data-answer-form] input[name=text]").fill("Corrected to LOT-9.")
    lot.locator("[data-answer-form]").get_by_role("button", name="Answer").click()
    expect(page.locator(".messages")).to_contain_text("answered")
    weight.locator("[data-answer-form] input[name=text]").fill(
        "35 kg is right: weight loss, see the notes."
    )
    weight.locator("[data-answer-form]").get_by_role("button", name="Answer").click()
    expect(page.locator('[data-query-status="answered"]')).to_have_count(2)

    # The monitor closes both and marks the dose form verified.
    sign_in(page, cra.username)
    page.goto(quality_page)
    for row in (weight, lot):
        row.locator("[data-close-form]").get_by_role("button", name="Close query").click()
        expect(page.locator(".messages")).to_contain_text("closed")
    expect(page.locator('[data-query-status="closed"]')).to_have_count(2)
    expect(page.locator("[data-unresolved]")).to_have_text("0")
    page.locator(f"#dose-{dose.pk} [data-verify-form]").get_by_role(
        "button", name="Mark the form verified"
    ).click()
    expect(page.locator(f"#dose-{dose.pk} [data-form-verified]")).to_be_visible()

    # The investigator signs in with a second factor (setting up the authenticator), then
    # signs: user name and password, the first time in the session.
    sign_in(page, investigator_a.username)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.locator("[data-totp-key]")).not_to_be_empty()
    device = TOTPDevice.objects.get(user=investigator_a)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.get_by_label("Code").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
    page.get_by_role("link", name="Continue").click()
    page.goto(quality_page)
    page.get_by_role("link", name="Sign the casebook").click()
    expect(page.locator("[data-statement]")).to_contain_text("Meaning: approved.")
    expect(page.locator("[data-printed-name]")).to_have_text("Investigator_A Tester")
    page.get_by_label("User name").fill(investigator_a.username)
    page.get_by_label("Password").fill("not-my-password")
    page.get_by_role("button", name="Sign the casebook").click()
    expect(page.locator(".errorlist")).to_contain_text("The password is not correct")
    page.get_by_label("User name").fill(investigator_a.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign the casebook").click()
    expect(page.locator(".messages")).to_contain_text("signed")
    expect(page.locator("[data-signature]")).to_contain_text("Investigator_A Tester, Approved")

    # A later correction invalidates the signature and clears the verification.
    sign_in(page, coordinator_a.username)
    correct_dose(page, dose, weight="36", reason="Re-weighed at the visit")
    page.goto(quality_page)
    expect(page.locator("[data-signature]")).to_contain_text("Awaiting signature")
    expect(page.locator(f"#dose-{dose.pk} [data-form-unverified]")).to_have_text("SDV to do")
    page.goto("/quality/signatures/")
    expect(page.locator(f'[data-subject="{subject.pk}"]')).to_contain_text(
        "Changed since it was signed"
    )

    # The data manager closes the new edit-check query and locks the subject.
    sign_in(page, data_manager.username)
    page.goto(quality_page)
    for query in Query.objects.filter(subject=subject).exclude(status="closed"):
        page.locator(f"#query-{query.pk} [data-close-form]").get_by_role(
            "button", name="Close query"
        ).click()
    page.locator("[data-lock-form]").get_by_label("Reason (optional)").fill("Clean")
    page.locator("[data-lock-form]").get_by_role("button", name="Lock subject").click()
    expect(page.locator("[data-lock]")).to_contain_text("Subject locked")

    # A write through the page is refused, and through the API (423).
    sign_in(page, coordinator_a.username)
    correct_dose(page, dose, lot="LOT-10", reason="Late correction")
    expect(page.locator(".error-summary, .errorlist").first).to_contain_text("is locked")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {token_create(by=coordinator_a, name='t').secret}"
    )
    current = client.get(f"/api/v1/dose-administrations/{dose.pk}/")
    refused = client.patch(
        f"/api/v1/dose-administrations/{dose.pk}/",
        {"lot_number": "LOT-10", "reason": "Late correction"},
        format="json",
        HTTP_IF_MATCH=current["ETag"],
    )
    assert refused.status_code == 423
    assert DoseAdministration.objects.get(pk=dose.pk).lot_number == "LOT-9"
