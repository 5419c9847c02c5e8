"""The Content-Security-Policy in Chromium: every role walks through its pages on the demo borough
(home, directory, services, organisations with their JSON-LD, the calendar, booking, referrals, quality,
the health check chart, the evidence dashboards and pack progress, the admin with its date picker,
autocomplete, popups, actions and member import) and the browser must report no policy violation,
while the pages' scripts (Bootstrap's menus, print buttons, the pack's progress poll, the admin's
widgets) still work, and axe-core finds no WCAG 2.2 AA violation on any page state. Screenshots: test-artifacts/screenshots/csp-*.png."""

import json

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from calendar_events.demo import load_calendar_demo
from calendar_events.models import Event
from directory.demo import load_demo_data
from evidence.demo import load_evidence_demo
from organisations.demo import DEMO_ACCOUNTS, DEMO_VCO
from quality.demo import load_quality_demo
from referrals.demo import load_referral_demo
from tests.browser.conftest import SCREENSHOTS, accessibility_problems, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}

# Runs before any page script: records every violation the page reports, for check() to collect.
VIOLATION_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
    + `(${event.sourceFile}:${event.lineNumber}) ${event.sample}`);
});
// Printing opens a dialogue headless Chromium cannot show: count the calls instead.
window.__printed = 0;
window.print = () => { window.__printed += 1; };
"""


class PolicyWatch:
    """Collects, across every page and popup of a browser context, the violations each page recorded,
    console messages about the policy and script errors."""

    def __init__(self, context, live_server):
        self.live_server = live_server
        self.problems: list[str] = []
        self.pages: set[str] = set()
        context.add_init_script(VIOLATION_RECORDER)
        context.on("page", self._listen)

    def _listen(self, page):
        def on_console(message):
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
                self.problems.append(f"{page.url}: console {message.type}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: script error: {error}"))

    def check(self, page):
        """Collect what the page in front of us recorded so far (its record is lost on navigation)."""
        if page.url.startswith(self.live_server.url):
            self.pages.add(page.url.split("?")[0].removeprefix(self.live_server.url))
        for violation in page.evaluate("window.__cspViolations ? window.__cspViolations.splice(0) : []"):
            self.problems.append(f"{page.url}: {violation}")

    def check_accessibility(self, page):
        """axe-core's WCAG 2.2 AA findings on the page state in front of us join the problems."""
        self.problems.extend(f"{page.url}: axe-core: {problem}" for problem in accessibility_problems(page))

    def follow(self, page, control):
        """Click a link or submit button and wait for the page it leads to."""
        self.check(page)
        with page.expect_navigation():
            control.click()
        self.check(page)
        self.check_accessibility(page)

    def goto(self, page, path: str):
        self.check(page)
        response = page.goto(self.live_server.url + path)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, f"{path}: {policy!r}"
        self.check(page)
        self.check_accessibility(page)
        return response


def screenshot(page, name: str, *, full_page: bool = True):
    """A picture of a page state (a menu open, a popup), which axe-core checks too."""
    assert_accessible(page, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"csp-{name}.png"), full_page=full_page)


def click_closing(popup, target) -> None:
    """Click what makes an admin popup hand its choice back to the form and close itself. The click's own
    wait after it can find the page already gone (TargetClosedError); that the popup closed is checked."""
    with popup.expect_event("close"):
        try:
            target.click(no_wait_after=True)
        except PlaywrightError:
            if not popup.is_closed():
                raise


def log_in(watch, page, username):
    watch.goto(page, "/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    watch.check(page)


@pytest.fixture
def demo_borough(transactional_db, settings, tmp_path):
    settings.QUALITY_FILES_ROOT = settings.PRIVATE_FILES_ROOT = tmp_path / "private-files"
    settings.VAR_DIR = tmp_path  # the member import keeps uploads there
    load_demo_data()
    load_referral_demo()
    load_quality_demo()
    load_calendar_demo()
    load_evidence_demo()


@pytest.fixture
def session(browser, live_server):
    """A fresh browser context per role, watched from its first page."""
    contexts = []

    def start(username=None, *, width=1280):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
        contexts.append(context)
        watch = PolicyWatch(context, live_server)
        page = context.new_page()
        if username:
            log_in(watch, page, username)
        return watch, page

    yield start
    for context in contexts:
        context.close()


def _visitor(watch, page):
    watch.goto(page, "/")
    # The detector itself works: an inline script added to the page is refused, and reported.
    page.evaluate("""() => { const s = document.createElement("script");
        s.textContent = "window.__inlineRan = true"; document.body.append(s); }""")
    assert page.evaluate("window.__inlineRan") is None
    canary = page.evaluate("window.__cspViolations.splice(0)")
    assert canary and canary[0].startswith("script-src"), canary
    for _ in range(20):  # and Chromium says so in the console, which the watch hears
        if watch.problems:
            break
        page.wait_for_timeout(100)
    assert len(watch.problems) == 1 and "inline script" in watch.problems[0], watch.problems
    watch.problems.clear()

    watch.goto(page, "/directory/")
    page.get_by_label("Search words").fill("funding")
    watch.follow(page, page.get_by_role("button", name="Search", exact=True))
    assert "q=funding" in page.url
    page.get_by_label("Open on").select_option("TU")
    watch.follow(page, page.get_by_role("button", name="Search", exact=True))
    assert "q=funding" in page.url and "day=TU" in page.url
    watch.follow(page, page.locator(".service-list h2 a").first)
    assert "/services/" in page.url

    watch.goto(page, "/directory/print/?q=funding")
    page.get_by_role("button", name="Print this list").click()
    assert page.evaluate("window.__printed") == 1  # the button's handler, moved to js/print.js
    watch.goto(page, "/organisations/")
    watch.goto(page, f"/organisations/{DEMO_VCO}/")
    data = json.loads(page.locator("script[type='application/ld+json']").text_content())
    assert data["@type"] == "Organization"
    watch.goto(page, "/networks/")

    watch.goto(page, "/calendar/")
    watch.goto(page, "/calendar/week/")
    watch.goto(page, "/calendar/month/")
    screenshot(page, "calendar-month")
    upcoming = Event.objects.filter(start__gt=timezone.now(), moderation="approved", is_withdrawn=False)
    event = upcoming.order_by("start").first()
    watch.goto(page, event.get_absolute_url())
    assert json.loads(page.locator("script[type='application/ld+json']").text_content())["@type"] == "Event"
    watch.goto(page, "/notices/")
    watch.goto(page, "/materials/")
    watch.goto(page, "/quality/")
    watch.goto(page, "/api/")
    watch.goto(page, "/register/")


def _narrow_menu(watch, page):
    """Bootstrap's collapsing menu, on a phone-sized screen."""
    watch.goto(page, "/")
    menu = page.locator("#main-nav")
    assert not menu.is_visible()
    page.get_by_role("button", name="Show or hide the menu").click()
    menu.get_by_role("link", name="Find support").wait_for(state="visible")
    watch.check(page)


def _vco_editor(watch, page):
    watch.goto(page, "/")
    page.get_by_role("button", name="Account").click()  # Bootstrap's dropdown
    page.get_by_role("button", name="Log out").wait_for(state="visible")
    watch.goto(page, "/my/organisations/")
    watch.goto(page, f"/organisations/{DEMO_VCO}/edit/")
    watch.goto(page, "/referrals/")
    watch.goto(page, "/referrals/ask/")
    watch.follow(page, page.get_by_role("button", name="Continue: see suggested providers"))
    assert page.get_by_text("Choose at least one kind of support you need.").first.is_visible()
    page.get_by_label("Funding and fundraising").check()
    page.get_by_label("Tell us more").fill("Help with our first grant application to a trust.")
    page.get_by_label("Soon: within two weeks").check()
    page.get_by_label("Contact phone").fill("020 7946 0123")
    page.get_by_label("I agree to these details being shared for this purpose").check()
    watch.follow(page, page.get_by_role("button", name="Continue: see suggested providers"))
    assert page.get_by_role("button", name="Send the request").is_visible()

    watch.goto(page, "/calendar/my/bookings/")
    bookable = (
        Event.objects.filter(
            start__gt=timezone.now(), booking_required=True, moderation="approved", is_withdrawn=False, frequency="once"
        )
        .exclude(bookings__user__username="vco.editor")
        .order_by("start")
    )
    for event in bookable:
        watch.goto(page, event.get_absolute_url())
        book = page.get_by_role("button", name="Book a place")
        if book.count():
            watch.follow(page, book.first)
            assert page.get_by_role("link", name="Cancel my booking").count() >= 1
            break
    else:
        pytest.fail("no demo event left to book")

    watch.goto(page, "/health-check/")
    watch.goto(page, f"/health-check/{DEMO_VCO}/")
    watch.follow(page, page.locator("a[href*='/health-check/results/']").first)
    assert page.locator("svg.score-chart rect").count() > 0
    screenshot(page, "health-check-result")


def _officer(watch, page):
    watch.goto(page, "/referrals/inbox/")
    watch.follow(page, page.locator("main table a[href^='/referrals/']").first)
    watch.goto(page, "/referrals/figures/")
    watch.goto(page, "/quality/matrix/")
    watch.goto(page, "/quality/assessments/")
    watch.follow(page, page.get_by_role("button", name="Start"))
    assert page.locator("progress").get_attribute("max") == "100"
    screenshot(page, "quality-assessment")
    watch.goto(page, "/calendar/my/events/")
    watch.follow(page, page.locator("main table a").first)
    watch.follow(page, page.get_by_role("link", name="Attendees and attendance"))
    assert page.url.endswith("/attendees/")


def _funder(watch, page):
    watch.goto(page, "/evidence/")
    watch.goto(page, "/evidence/dashboards/")
    assert page.locator(".bar-chart svg.bar rect").count() > 10
    screenshot(page, "evidence-dashboards")
    watch.goto(page, "/evidence/report/?area=")
    page.get_by_role("button", name="Print this report").click()
    assert page.evaluate("window.__printed") == 1
    watch.goto(page, "/evidence/projects/")
    watch.follow(page, page.locator("main a[href^='/evidence/projects/']").first)
    assert page.locator("svg.evidence-chart rect").count() > 0
    screenshot(page, "evidence-project")
    watch.goto(page, "/evidence/packs/")
    page.get_by_label("From").fill("2026-01-01")
    page.get_by_label("To").fill("2026-03-31")
    watch.follow(page, page.get_by_role("button", name="Build a pack"))
    # The page's script polls the status (a fetch the policy must let through) at once, then each second.
    with page.expect_response(lambda response: response.url.endswith("/status.json"), timeout=5000):
        pass
    watch.check(page)


def _admin(watch, page):
    watch.goto(page, "/admin/")
    screenshot(page, "admin-index", full_page=False)

    watch.goto(page, "/admin/organisations/organisation/")
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("selected")
    page.locator("select[name=action]").select_option(index=1)
    watch.check(page)
    screenshot(page, "admin-changelist", full_page=False)
    watch.follow(page, page.locator("#result_list tbody tr th a").first)
    watch.follow(page, page.get_by_role("link", name="History"))
    assert "history" in page.url

    # A change form with the date picker, the autocomplete, a two-list chooser and a lookup popup.
    watch.goto(page, "/admin/calendar_events/event/")
    watch.follow(page, page.locator("#result_list tbody tr th a").first)
    page.locator("#id_start_0").fill("")
    page.locator("a[id^=calendarlink]").first.click()
    calendar = page.locator(".calendarbox").first
    calendar.wait_for(state="visible")
    calendar.scroll_into_view_if_needed()
    screenshot(page, "admin-date-picker", full_page=False)
    calendar.locator("td a").nth(14).click()
    expect(page.locator("#id_start_0")).not_to_have_value("")
    page.locator("#id_organiser + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill("Tower Hamlets")
    page.locator(".select2-results__option[aria-selected]").first.wait_for()
    screenshot(page, "admin-autocomplete", full_page=False)
    page.keyboard.press("Enter")
    expect(page.locator("#id_organiser")).not_to_have_value("")
    page.locator("#id_languages_from option").first.dblclick()
    expect(page.locator("#id_languages_to option")).to_have_count(1)
    with page.expect_popup() as popup:
        page.locator("#lookup_id_venue").click()
    lookup = popup.value
    lookup.wait_for_load_state()
    watch.check(lookup)
    click_closing(lookup, lookup.locator("#result_list tbody tr a").first)
    expect(page.locator("#id_venue")).not_to_have_value("")
    watch.check(page)

    # A related-object popup that adds a record and hands it back to the form (popup_response.html).
    watch.goto(page, "/admin/directory/location/add/")
    with page.expect_popup() as popup:
        page.locator("#add_id_ward").click()
    adding = popup.value
    adding.wait_for_load_state()
    watch.check(adding)
    adding.locator("#id_taxonomy").select_option(label="Wards")
    adding.locator("#id_code").fill("policy-test-ward")
    adding.locator("#id_name").fill("Policy Test Ward")
    click_closing(adding, adding.locator("input[name=_save]"))
    expect(page.locator("#id_ward")).not_to_have_value("")
    watch.check(page)

    watch.goto(page, "/admin/organisations/network/add/")
    page.locator("#id_name").press_sequentially("Policy network")
    expect(page.locator("#id_slug")).to_have_value("policy-network")  # prepopulate.js
    watch.check(page)

    # The member import, with a file that has a bad row: the preview marks it.
    watch.goto(page, "/admin/organisations/organisation/import/")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "members.csv", "mimeType": "text/csv", "buffer": b"name,kinds\nPolicy Group,\n"}]
    )
    watch.follow(page, page.get_by_role("button", name="Upload and check"))
    assert page.locator("tr.import-error").count() == 1
    screenshot(page, "admin-import-preview")

    watch.goto(page, "/admin/quality/selfassessment/")
    watch.goto(page, "/referrals/inbox/")
    watch.goto(page, "/quality/reviews/")


def test_no_page_breaks_the_content_security_policy(session, demo_borough):
    checked = set()
    for username, walk, width in [
        (None, _visitor, 1280),
        (None, _narrow_menu, 400),
        ("vco.editor", _vco_editor, 1280),
        ("officer", _officer, 1280),
        ("funder", _funder, 1280),
        ("admin", _admin, 1280),
    ]:
        watch, page = session(username, width=width)
        walk(watch, page)
        watch.check(page)
        assert watch.problems == [], f"{username or 'visitor'}:\n" + "\n".join(watch.problems)
        checked |= {f"{username}:{path}" for path in watch.pages}
    # The walk covers what it claims to (a page quietly dropped from it would weaken the test).
    assert len(checked) >= 50, sorted(checked)
