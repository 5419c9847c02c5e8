"""The foundation's pages in a real browser, on the demo borough: a visitor, a VCO editor and a
network admin. Screenshots land in test-artifacts/screenshots/."""

import pytest

from directory.demo import load_demo_data
from organisations.demo import DEMO_ACCOUNTS, DEMO_VCO
from organisations.models import Organisation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCOUNTS = {account.username: account for account in DEMO_ACCOUNTS}

# Every form control must have an accessible name (WCAG 2.2: 1.3.1, 4.1.2).
UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)"""


@pytest.fixture
def demo_borough(db):
    load_demo_data()


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(ACCOUNTS[username].password)
    page.get_by_role("button", name="Log in").click()


def test_home_page_for_a_visitor(page, live_server, screenshot, demo_borough):
    page.goto(live_server.url + "/")
    assert "THIN Community Portal" in page.title()
    # The skip link is the first thing a keyboard user reaches, and it leads to the main landmark.
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    assert page.locator("main#main").count() == 1
    assert page.locator("header").count() == 1 and page.locator("footer").count() == 1
    assert page.get_by_role("link", name="Register your organisation").first.is_visible()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    screenshot("home-visitor")


def test_organisation_page_and_editing_it(page, live_server, screenshot, demo_borough):
    organisation = Organisation.objects.get(slug=DEMO_VCO)
    page.goto(f"{live_server.url}/organisations/{DEMO_VCO}/")
    assert page.get_by_role("heading", level=1).inner_text() == organisation.name
    assert page.locator("script[type='application/ld+json']").count() == 1
    screenshot("organisation-page")

    log_in(page, live_server, "vco.editor")
    page.goto(f"{live_server.url}/organisations/{DEMO_VCO}/edit/")
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    page.get_by_label("Activities").fill("Sewing circle, ESOL classes and a women's health group.")
    page.get_by_label("Postcode").fill("not a postcode")
    page.get_by_role("button", name="Save").click()
    # Bad input: a clear message naming the field, and nothing saved.
    assert page.get_by_text("is not a valid UK postcode").first.is_visible()
    screenshot("organisation-edit-error")
    organisation.refresh_from_db()
    assert organisation.activities != "Sewing circle, ESOL classes and a women's health group."

    page.get_by_label("Postcode").fill("e3 2ab")
    page.get_by_role("button", name="Save").click()
    assert page.url.endswith(f"/organisations/{DEMO_VCO}/")
    organisation.refresh_from_db()
    assert organisation.postcode == "E3 2AB"
    assert organisation.activities == "Sewing circle, ESOL classes and a women's health group."
    assert organisation.history.first().history_user.username == "vco.editor"


def test_admin_organisation_list(page, live_server, screenshot, demo_borough):
    page.set_viewport_size({"width": 1920, "height": 1000})
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/organisations/organisation/?confirmed=stale")
    assert "Select organisation to change" in page.title()
    rows = page.locator("#result_list tbody tr")
    assert rows.count() > 0
    assert page.get_by_role("link", name="Import organisations").is_visible()
    screenshot("admin-organisation-list", full_page=False)
