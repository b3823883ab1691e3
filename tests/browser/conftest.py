"""Browser tests: pytest-playwright driving Debian's Chromium against pytest-django's live server.

Chromium comes from the system (`apt-get install chromium`; `.ci/run` installs it), never from
`playwright install`. In CI (EDC_REQUIRE_SERVICES=1) a missing Chromium fails these tests;
elsewhere they are skipped with the reason.
"""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the live server's database access
# from the test body is synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
# Every run takes the screenshots; they land in var/screenshots (not committed) unless
# EDC_SCREENSHOT_DIR says otherwise: `make screenshots` refreshes the README's copies in
# docs/screenshots.
SCREENSHOTS = Path(os.environ.get("EDC_SCREENSHOT_DIR") or ROOT / "var" / "screenshots")
REQUIRE_SERVICES = os.environ.get("EDC_REQUIRE_SERVICES") == "1"


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" not in str(item.fspath).replace(os.sep, "/"):
            continue
        item.add_marker(pytest.mark.browser)
        if not chromium_available() and not REQUIRE_SERVICES:
            item.add_marker(
                pytest.mark.skip(
                    reason="needs Debian's Chromium at /usr/bin/chromium "
                    "(apt-get install chromium); CI installs and runs it"
                )
            )


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not chromium_available():
        pytest.fail(
            f"Chromium is required in CI (EDC_REQUIRE_SERVICES=1) but {CHROMIUM} is missing"
        )
    return {
        "executable_path": CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {
        **browser_context_args,
        "base_url": live_server.url,
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-US",
    }


@pytest.fixture
def page(page):
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def shot():
    """Save a screenshot of the page as <name>.png in SCREENSHOTS."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name, *, full_page=True):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return save
