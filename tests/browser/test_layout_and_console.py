"""Pages that fit the screen: no sideways scrolling of the page on a 390 px phone or a 1366 px
laptop (wide tables scroll inside their own box), and at 1366 px the key columns of the wide
tables (the subject, the actions, the DLT calls) are on screen without scrolling. The AE form
runs without a console error, the app has its icon, and a new API token copies with a button."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from core.dates import site_today
from safety.models import CtcaeTerm
from safety.services import adverse_event_adjudicate
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD, make_user
from tests.factories import dosed, enrolled_subject, reported_ae

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def busy_subject(coordinator_a, monitor, study, site_a, cohort1, ctcae):
    """A subject with an overdose, a short-interval dose, and an SAE that is an adjudicated DLT
    with a long verbatim term, announced to two monitors."""
    make_user("second_monitor", study, Role.MEDICAL_MONITOR)
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=40)
    c1d1 = subject.enrollment_date
    dosed(
        coordinator_a,
        subject,
        on=c1d1,
        amount="0.02",
        overdose_confirmed=True,
        dose_change_reason="Pharmacy prepared the 0.02 mg/kg bag; infusion completed",
    )
    dosed(
        coordinator_a,
        subject,
        on=c1d1 + timedelta(days=16),
        cycle=2,
        short_interval_confirmed=True,
        confirm_outside_window=True,
        deviation_reason="The subject travels abroad the following week",
    )
    today = site_today(site_a.timezone)
    for term, serious in (("Febrile neutropenia", True), ("Nausea", False)):
        event = reported_ae(
            coordinator_a,
            subject,
            CtcaeTerm.objects.get(term=term),
            verbatim_term="neutropenic fever with rigors after the second infusion, admitted "
            "overnight for intravenous antibiotics",
            grade=3,
            onset_date=today - timedelta(days=20),
            relationship="probable",
            action_taken="delayed",
            outcome="not_recovered",
            serious=serious,
            seriousness=("serious_hospitalisation",) if serious else (),
            dlt_investigator=True,
        )
        adverse_event_adjudicate(
            by=monitor,
            adverse_event=event,
            is_dlt=True,
            note="Meets the protocol definition",
            expected_version=1,
        )
    return subject


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_be_visible()


def page_overflow(page) -> int:
    """How far the page itself scrolls sideways (0: it fits the window)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def scroll_to_the_right(page, selector: str) -> None:
    page.evaluate(
        "(s) => document.querySelectorAll(s).forEach(box => { box.scrollLeft = box.scrollWidth; })",
        selector,
    )


def hidden_by_scroll(page, selector: str) -> list[str]:
    """Elements matching `selector` not fully on screen: outside the window, or outside the
    visible part of the scrolling box that holds them."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter(el => {
            const r = el.getBoundingClientRect();
            if (r.width === 0) return false;
            if (r.left < -1 || r.right > document.documentElement.clientWidth + 1) return true;
            for (let box = el.parentElement; box; box = box.parentElement) {
              const style = getComputedStyle(box);
              if (!['auto', 'scroll', 'hidden'].includes(style.overflowX)) continue;
              const b = box.getBoundingClientRect();
              if (r.left < b.left - 1 || r.right > b.right + 1) return true;
            }
            return false;
          }).map(el => el.textContent.trim().slice(0, 40))""",
        selector,
    )


@pytest.mark.parametrize("size", [PHONE, TABLET, LAPTOP], ids=["phone", "tablet", "laptop"])
def test_the_casebook_fits_and_keeps_its_actions_on_screen(
    page, shot, busy_subject, coordinator_a, size
):
    page.set_viewport_size(size)
    sign_in(page, coordinator_a)
    page.goto(f"/subjects/{busy_subject.pk}/")
    expect(page.locator("tr[data-ae]").first).to_be_visible()
    assert page_overflow(page) == 0
    if size is LAPTOP:
        assert hidden_by_scroll(page, "#adverse-events .row-actions a") == []
        assert hidden_by_scroll(page, "#doses .row-actions a") == []
        assert hidden_by_scroll(page, "#adverse-events tbody th[scope=row]") == []
        assert hidden_by_scroll(page, "[data-notified]") == []
    else:
        # The key column (what the row is) stays put while the table scrolls under it.
        scroll_to_the_right(page, "#adverse-events .table-wrap, #doses .table-wrap")
        assert hidden_by_scroll(page, "#adverse-events tbody th[scope=row]") == []
        assert hidden_by_scroll(page, "#doses tbody th[scope=row]") == []
    shot(page, f"layout-casebook-{size['width']}")
    page.locator("#adverse-events").screenshot(
        path=str(SCREENSHOTS / f"layout-casebook-aes-{size['width']}.png")
    )


@pytest.mark.parametrize("size", [PHONE, TABLET, LAPTOP], ids=["phone", "tablet", "laptop"])
def test_the_listings_fit_and_keep_the_dlt_calls_on_screen(page, shot, busy_subject, monitor, size):
    page.set_viewport_size(size)
    sign_in(page, monitor)
    page.goto(f"/monitoring/listings/?study={busy_subject.study_id}")
    expect(page.locator('[data-listing="dlt"] tbody tr').first).to_be_visible()
    assert page_overflow(page) == 0
    scroll_to_the_right(page, ".mon-scroll")
    assert hidden_by_scroll(page, '[data-listing="dlt"] tbody th[scope=row]') == []
    assert hidden_by_scroll(page, '[data-listing="dose-deviations"] tbody th[scope=row]') == []
    if size is LAPTOP:
        headers = page.locator('[data-listing="dlt"] thead th')
        assert hidden_by_scroll(page, '[data-listing="dlt"] thead th') == [], (
            headers.all_inner_texts()
        )
        assert hidden_by_scroll(page, '[data-listing="dlt"] .mon-adjudicate summary') == []
        assert hidden_by_scroll(page, '[data-listing="dose-deviations"] thead th') == []
    shot(page, f"layout-listings-{size['width']}")


def test_the_ae_form_runs_without_console_errors_and_the_app_has_its_icon(
    page, busy_subject, coordinator_a
):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    sign_in(page, coordinator_a)
    page.goto(f"/subjects/{busy_subject.pk}/adverse-events/new/")
    search = page.get_by_label("Search CTCAE v5.0 term or MedDRA code")
    search.fill("nause")
    option = page.get_by_role("radio", name=re.compile("^Nausea"))
    expect(option).to_be_visible()
    search.fill("vomit")  # typed again with nothing chosen: the search includes no term
    expect(page.get_by_role("radio", name=re.compile("^Vomiting"))).to_be_visible()
    page.get_by_role("radio", name=re.compile("^Vomiting")).check()
    expect(page.locator("#grade-fieldset input[name=grade]")).to_have_count(5)
    page.get_by_role("radio", name=re.compile("^Grade 2")).check()
    search.fill("nause")  # the chosen term stays at the top of new results
    expect(page.get_by_role("radio", name=re.compile("^Vomiting"))).to_be_checked()
    page.get_by_role("radio", name=re.compile("^Nausea")).check()
    expect(page.locator("#grade-fieldset input[name=grade]")).to_have_count(3)
    icon = page.evaluate("() => document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).ok
    assert problems == []
    assert missing == []


def test_a_new_api_token_copies_with_a_button(page, context, sponsor):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, sponsor)
    page.get_by_role("navigation", name="API").get_by_role("link", name="API tokens").click()
    page.get_by_label("What it is for").fill("SAS nightly pull")
    page.get_by_role("button", name="Make token").click()
    secret = page.locator("#new-token").input_value()
    assert secret.startswith("edc_")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-status")).to_have_text("Copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    expect(page.locator("table")).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"))
