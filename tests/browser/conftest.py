"""Playwright driving Debian's Chromium against pytest-django's live server.

Playwright's own browser download does not work here, so the system Chromium is used.
Screenshots go to test-artifacts/screenshots/ so a person can look at them.
"""

import os
from pathlib import Path

import pytest

from tests.conftest import AXE, CHROMIUM

# Playwright's sync API runs an event loop in the test thread; the test itself still talks to the
# database synchronously, which Django would otherwise refuse inside a running loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The WCAG 2.2 AA rules (A and AA of 2.0, 2.1 and 2.2); axe's best-practice rules are not the standard.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# preload: false, because axe-core otherwise copies the page's style sheets into <style> elements of its
# own (for css-orientation-lock), which the Content-Security-Policy refuses and the CSP test would report.
AXE_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"], preload: false});
  return results.violations.flatMap((rule) => rule.nodes.map((node) =>
    `${rule.id} (${rule.impact}): ${rule.help}: ${node.target.join(" ")}: ${node.failureSummary.replace(/\\s+/g, " ")}`));
}"""


def accessibility_problems(page) -> list[str]:
    """axe-core's WCAG 2.2 AA violations on the page as it stands, one line per element. The script is
    evaluated through the DevTools protocol, so the page's Content-Security-Policy does not stop it."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        with open(AXE) as source:
            page.evaluate(source.read())
    return page.evaluate(AXE_RUN, AXE_TAGS)


async def accessibility_problems_async(page) -> list[str]:
    """accessibility_problems() for a page of Playwright's async API (the walks that visit pages side by side)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        with open(AXE) as source:
            await page.evaluate(source.read())
    return await page.evaluate(AXE_RUN, AXE_TAGS)


def assert_accessible(page, state: str = "") -> None:
    problems = accessibility_problems(page)
    assert not problems, f"axe-core on {state or page.url}:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def browser():
    """Mark browser tests with @pytest.mark.browser: the marker skips (or, in CI, fails) without Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, *, full_page: bool = True) -> Path:
        """Every state a test takes a picture of is also checked with axe-core."""
        assert_accessible(page, name)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


FUNDER_PASSWORD = "correct horse battery staple"


@pytest.fixture
def funder_demo(transactional_db, settings):
    """The demo borough as `make run` shows a funder (directory, referrals, grants and baseline demos),
    with the demo funder's password known to the test."""
    from accounts.models import User
    from directory.demo import load_demo_data
    from evidence.demo import load_evidence_demo
    from referrals.demo import load_referral_demo

    settings.DEBUG = True
    load_demo_data()
    load_referral_demo()
    load_evidence_demo()
    funder = User.objects.get(username="funder")
    funder.set_password(FUNDER_PASSWORD)
    funder.save()


def log_in_as_funder(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or email").fill("funder")
    page.get_by_label("Password").fill(FUNDER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
