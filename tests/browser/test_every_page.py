"""Every page of every role, on a phone (issue 16, item 1 and the axe-core goal).

Each role (a visitor, a VCO editor, an infrastructure officer, a funder and a network admin) starts at
the home page (the admin also at the admin index) and follows every link the portal shows it, one page
per URL pattern, on a 390 × 844 screen. Each page must fit the screen's width (nothing makes the page
scroll sideways; wide tables scroll inside their own box) and axe-core must find no WCAG 2.2 AA
violation. Screenshots: test-artifacts/screenshots/phone/<role>--<page>.png.

The roles walk side by side, each in several tabs (TABS pages loading at once in all), breadth first a
level at a time, so each role visits the same pages, in the same order, as one tab would.
"""

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright

from calendar_events.demo import load_calendar_demo
from directory.demo import load_demo_data
from evidence.demo import load_evidence_demo
from organisations.demo import DEMO_ACCOUNTS
from quality.demo import load_quality_demo
from referrals.demo import load_referral_demo
from tests.browser.conftest import CHROMIUM_FLAGS, SCREENSHOTS, accessibility_problems_async
from tests.conftest import CHROMIUM
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


# Pages loading at once, across the roles: each role has up to this many tabs of its own browser context
# (its own login). The server renders one page while Chromium lays out, checks and photographs another.
TABS = 4


def tabs_at_once() -> int:
    """TABS, except on an in-memory SQLite test database, whose one connection the live server's request
    threads share (Django's LiveServerThread): there, one page at a time, as their transactions would
    otherwise mix."""
    from django.db import connection

    return 1 if connection.vendor == "sqlite" and connection.is_in_memory_db() else TABS


class Tabs:
    """A role's logged-in browser context and the tabs it walks in, at most TABS busy across all roles."""

    def __init__(self, context, busy: asyncio.Semaphore):
        self.context, self.busy, self.idle = context, busy, []

    async def visit(self, work):
        async with self.busy:
            page = self.idle.pop() if self.idle else await self.context.new_page()
            try:
                return await work(page)
            finally:
                self.idle.append(page)


async def check(page, origin: str, path: str, role: str) -> tuple[bool, list[str], list[str]]:
    """Visit one path: (whether it is an HTML page, the problems found on it, the paths it links to)."""
    try:
        response = await page.goto(origin + path)
    except PlaywrightError as error:  # a file download, not a page
        if "Download is starting" in str(error):
            return False, [], []
        raise
    if response is None or "text/html" not in response.headers.get("content-type", ""):
        return False, [], []
    problems = []
    if response.status >= 500:
        problems.append(f"{path}: server error {response.status}")
    for element in await page.evaluate(OVERFLOW):
        problems.append(f"{path}: wider than the screen: {element}")
    problems.extend(f"{path}: {problem}" for problem in await accessibility_problems_async(page))
    if not path.startswith("/admin/"):
        name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
        await page.screenshot(path=str(SCREENSHOTS / "phone" / f"{role}--{name}.png"), full_page=True)
    links = await page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)")
    return True, problems, [href.removeprefix(origin).split("#")[0] for href in links if href.startswith(origin)]


async def walk(tabs: Tabs, origin: str, starts: list[str], role: str) -> tuple[list[str], list[str]]:
    """Visit every page reachable from the starts, breadth first; return the paths visited and the problems
    found. A level's pages are visited side by side, then their links queued in the level's order, so the
    walk picks the same page for each URL pattern, in the same order, as one tab going page by page."""
    level, seen, visited, problems = list(starts), set(), [], []
    while level:
        chosen = []
        for path in level:
            pattern = page_pattern(urlsplit(path).path)
            if pattern is not None and pattern not in seen:
                seen.add(pattern)
                chosen.append(path)
        results = await asyncio.gather(
            *(tabs.visit(lambda page, path=path: check(page, origin, path, role)) for path in chosen)
        )
        level = []
        for path, (is_page, found, links) in zip(chosen, results):
            if is_page:
                visited.append(path)
                problems.extend(found)
                level.extend(links)
    return visited, problems


async def walk_role(browser, busy: asyncio.Semaphore, origin: str, username: str | None) -> tuple[list[str], list[str]]:
    context = await browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True, has_touch=True)
    try:
        tabs = Tabs(context, busy)
        if username:

            async def log_in(page):
                await page.goto(f"{origin}/accounts/login/")
                await page.get_by_label("Username or email").fill(username)
                await page.get_by_label("Password").fill(PASSWORDS[username])
                await page.get_by_role("button", name="Log in").click()
                await page.wait_for_url(lambda url: "/accounts/login/" not in url)

            await tabs.visit(log_in)  # the context's cookie logs in every tab
        starts = ["/", "/admin/"] if username == "admin" else ["/"]
        return await walk(tabs, origin, starts, username or "visitor")
    finally:
        await context.close()


async def walk_every_role(origin: str, tabs: int) -> list[tuple[list[str], list[str]]]:
    """Every role's walk, side by side, in a Chromium of its own (Playwright's async API)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            busy = asyncio.Semaphore(tabs)
            return await asyncio.gather(*(walk_role(browser, busy, origin, username) for username in ROLES))
        finally:
            await browser.close()


def test_every_page_of_every_role_fits_a_phone_and_passes_axe(live_server, whole_demo):
    (SCREENSHOTS / "phone").mkdir(parents=True, exist_ok=True)
    # The test thread may already run the sync API's event loop (the session's browser): a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as thread:
        walks = thread.submit(asyncio.run, walk_every_role(live_server.url, tabs_at_once())).result()
    report, problems = {}, []
    for username, (visited, found) in zip(ROLES, walks):
        role = username or "visitor"
        report[role] = len(visited)
        problems += [f"{role} {problem}" for problem in found]
    print(f"\nPages visited at 390 px: {sum(report.values())} ({report}); problems: {len(problems)}")
    # The walk reaches each role's pages (a link lost from the menus would shrink it).
    assert report["visitor"] >= 25 and report["admin"] >= 60, report
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)
