"""The top menu in Chromium, for every role of the demo accounts: on one line at 1280 px, behind the
menu button at 390 px; and no two buttons touch. Screenshots in test-artifacts/screenshots/nav-*.png."""

import pytest

from organisations.demo import DEMO_ACCOUNTS
from organisations.models import Affiliation
from tests.factories import make_affiliation, make_organisation, make_provider, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
ROLES = ["visitor"] + [account.username for account in DEMO_ACCOUNTS]

# Every item of the open menu (brand, links, account button): where it sits and how tall it is.
NAV_ITEMS = """() => [...document.querySelectorAll('header .navbar-brand, header #main-nav .nav-link')]
  .filter(el => el.offsetParent !== null)
  .map(el => { const box = el.getBoundingClientRect(), style = getComputedStyle(el);
               return {text: el.textContent.trim(), top: Math.round(box.top), left: Math.round(box.left), width: Math.round(box.width), height: box.height,
                       right: box.right, edge: el.closest('.container').getBoundingClientRect().right,
                       line: parseFloat(style.lineHeight) + parseFloat(style.paddingTop) + parseFloat(style.paddingBottom)}; })"""

# Pairs of visible buttons (and button-like links) whose boxes touch or overlap.
TOUCHING_BUTTONS = """() => {
  const boxes = [...document.querySelectorAll('main .btn, main button')]
    .filter(el => el.offsetParent !== null)
    .map(el => ({text: el.textContent.trim(), box: el.getBoundingClientRect()}));
  const touching = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i].box, b = boxes[j].box;
    const apart = a.right + 2 < b.left || b.right + 2 < a.left || a.bottom + 2 < b.top || b.bottom + 2 < a.top;
    if (!apart) touching.push([boxes[i].text, boxes[j].text]);
  }
  return touching;
}"""


@pytest.fixture
def demo_people(db):
    """The demo accounts as the demo loader makes them, with the organisations their menus depend on."""
    vco = make_organisation(name="Bow Bangladeshi Women's Group", slug="bow-bangladeshi-womens-group")
    provider = make_provider(name="Tower Hamlets Voluntary Action", slug="tower-hamlets-voluntary-action")
    for account in DEMO_ACCOUNTS:
        user = make_user(
            account.role,
            username=account.username,
            email=account.email,
            first_name=account.first_name,
            last_name=account.last_name,
            is_staff=account.is_staff,
            is_superuser=account.is_superuser,
            password=PASSWORD,
        )
        if account.affiliation_role:
            organisation = provider if account.affiliation_role == Affiliation.Role.OFFICER else vco
            make_affiliation(user=user, organisation=organisation, role=account.affiliation_role)
    return {"vco": vco, "provider": provider}


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/**")


@pytest.mark.parametrize("role", ROLES)
def test_the_top_menu_is_one_line_at_1280_and_folds_away_at_390(page, live_server, screenshot, demo_people, role):
    if role != "visitor":
        log_in(page, live_server, role)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/")
    items = page.evaluate(NAV_ITEMS)
    expected = 7 if role == "visitor" else 8 if role != "funder" else 7  # brand, links, Log in or Account
    assert len(items) >= expected, items
    assert page.get_by_role("button", name="Show or hide the menu").is_hidden()
    # One line: every item starts at the same height, and none is split over two lines.
    assert max(item["top"] for item in items) - min(item["top"] for item in items) <= 2, items
    for item in items:
        assert item["height"] <= item["line"] + 2, item
        assert item["right"] <= item["edge"], item  # within the page's width, not cut off at its edge
    screenshot(f"nav-{role.replace('.', '-')}-1280", full_page=False)
    assert page.evaluate(TOUCHING_BUTTONS) == []

    page.set_viewport_size({"width": 390, "height": 844})
    toggler = page.get_by_role("button", name="Show or hide the menu")
    assert toggler.is_visible() and page.locator("#main-nav").is_hidden()
    assert page.evaluate(TOUCHING_BUTTONS) == []
    toggler.click()
    page.wait_for_selector("#main-nav.show")  # opened, and done moving
    assert page.locator("#main-nav").get_by_role("link", name="Calendar").is_visible()
    screenshot(f"nav-{role.replace('.', '-')}-390-open", full_page=False)
