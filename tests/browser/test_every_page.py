"""Every page of every role, on a phone (issue 16, item 1 and the axe-core goal).

Each role (a visitor, a VCO editor, an infrastructure officer, a funder and a network admin) starts at
the home page (the admin also at the admin index) and follows every link the portal shows it, one page
per URL pattern, on a 390 × 844 screen. Each page must fit the screen's width (nothing makes the page
scroll sideways; wide tables scroll inside their own box) and axe-core must find no WCAG 2.2 AA
violation. Screenshots: test-artifacts/screenshots/phone/<role>--<page>.png.
"""

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from calendar_events.demo import load_calendar_demo
from directory.demo import load_demo_data
from evidence.demo import load_evidence_demo
from organisations.demo import DEMO_ACCOUNTS
from quality.demo import load_quality_demo
from referrals.demo import load_referral_demo
from tests.browser.conftest import SCREENSHOTS, accessibility_problems
from tests.page_walk import ROLES, page_pattern

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
PHONE = {"width": 390, "height": 844}

# What sticks out past the right edge of the screen, outside any box that scrolls sideways by itself.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const scrolls = (el) => { for (let e = el.parentElement; e; e = e.parentElement) {
      const x = getComputedStyle(e).overflowX; if (x === "auto" || x === "scroll" || x === "hidden") return true; }
    return false; };
  return [...document.body.querySelectorAll("*")]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !scrolls(el))
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : ""} (right edge ${Math.round(el.getBoundingClientRect().right)} px)`);
}"""


@pytest.fixture
def whole_demo(transactional_db, settings, tmp_path):
    settings.QUALITY_FILES_ROOT = settings.PRIVATE_FILES_ROOT = tmp_path / "private-files"
    settings.VAR_DIR = tmp_path
    load_demo_data()
    load_referral_demo()
    load_quality_demo()
    load_calendar_demo()
    load_evidence_demo()


def walk(page, live_server, starts: list[str], role: str) -> tuple[list[str], list[str]]:
    """Visit every page reachable from the starts; return the paths visited and the problems found."""
    origin = live_server.url
    queue, seen, visited, problems = deque(starts), set(), [], []
    while queue:
        path = queue.popleft()
        pattern = page_pattern(urlsplit(path).path)
        if pattern is None or pattern in seen:
            continue
        seen.add(pattern)
        try:
            response = page.goto(origin + path)
        except PlaywrightError as error:  # a file download, not a page
            if "Download is starting" in str(error):
                continue
            raise
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        visited.append(path)
        if response.status >= 500:
            problems.append(f"{path}: server error {response.status}")
        for element in page.evaluate(OVERFLOW):
            problems.append(f"{path}: wider than the screen: {element}")
        problems.extend(f"{path}: {problem}" for problem in accessibility_problems(page))
        if not path.startswith("/admin/"):
            name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
            page.screenshot(path=str(SCREENSHOTS / "phone" / f"{role}--{name}.png"), full_page=True)
        for href in page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)"):
            if href.startswith(origin):
                queue.append(href.removeprefix(origin).split("#")[0])
    return visited, problems


def test_every_page_of_every_role_fits_a_phone_and_passes_axe(browser, live_server, whole_demo):
    (SCREENSHOTS / "phone").mkdir(parents=True, exist_ok=True)
    report, problems = {}, []
    for username in ROLES:
        context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True, has_touch=True)
        page = context.new_page()
        if username:
            page.goto(f"{live_server.url}/accounts/login/")
            page.get_by_label("Username or email").fill(username)
            page.get_by_label("Password").fill(PASSWORDS[username])
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(lambda url: "/accounts/login/" not in url)
        starts = ["/", "/admin/"] if username == "admin" else ["/"]
        role = username or "visitor"
        visited, found = walk(page, live_server, starts, role)
        report[role] = len(visited)
        problems += [f"{role} {problem}" for problem in found]
        context.close()
    print(f"\nPages visited at 390 px: {sum(report.values())} ({report}); problems: {len(problems)}")
    # The walk reaches each role's pages (a link lost from the menus would shrink it).
    assert report["visitor"] >= 25 and report["admin"] >= 60, report
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)
