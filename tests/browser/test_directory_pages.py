"""The directory of support in Chromium: searching with filters, a service page, an officer editing a
service, the API guide. Screenshots: test-artifacts/screenshots/directory-*.png."""

import pytest

from accounts.models import User
from directory.models import Service
from organisations.models import Affiliation, Organisation
from tests.factories import make_affiliation, make_location, make_organisation, make_service, make_user, term

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)"""


def test_search_service_page_and_officer_edit(page, live_server, screenshot):
    provider = make_organisation(
        name="Tower Hamlets Voluntary Action",
        kinds=[term("organisation-kinds", Organisation.KIND_GENERAL)],
        activities="Advice and training.",
    )
    make_organisation(
        name="London Voluntary Partnership",
        kinds=[term("organisation-kinds", Organisation.KIND_NETWORK)],
        geographic_level=Organisation.GeographicLevel.REGIONAL,
        activities="Across London.",
    )
    office = make_location(organisation=provider, name="Oxford House", ward=term("wards", "bethnal-green-west"))
    service = make_service(
        organisation=provider,
        name="Funding advice surgery",
        description="One-to-one help with grant applications and budgets.",
        needs=[term("needs", "funding-and-fundraising")],
        functions=[term("functions", "information-and-advice")],
        languages=[term("languages", "en"), term("languages", "bn")],
        locations=[office],
        schedules=[("TU", "10:00", "13:00")],
    )
    make_service(
        organisation=provider,
        name="Trustee training",
        needs=[term("needs", "governance-and-trustees")],
        schedules=[("WE", "18:00", "20:00")],
    )
    officer = make_user(
        User.Role.OFFICER, username="david", email="david@example.org", password="a long enough password 1"
    )
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)

    page.goto(f"{live_server.url}/directory/")
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    assert page.get_by_role("heading", name="Regional and national support").is_visible()
    screenshot("directory-all")
    page.get_by_label("Search words").fill("grant")
    page.get_by_label("Open on").select_option("TU")
    page.get_by_role("button", name="Search", exact=True).click()
    assert "day=TU" in page.url and "q=grant" in page.url
    assert page.get_by_text("1 service found").is_visible()
    screenshot("directory-search")
    page.goto(f"{live_server.url}/directory/?q=zebra")
    assert page.get_by_text("No services match").is_visible()
    page.goto(f"{live_server.url}/directory/?ward=atlantis&day=Funday")
    assert page.get_by_text("Some of your search could not be used").is_visible()
    screenshot("directory-bad-filters")

    page.goto(live_server.url + service.get_absolute_url())
    assert page.get_by_role("heading", level=1).inner_text() == "Funding advice surgery"
    assert page.get_by_text("Tuesdays 10:00 to 13:00").is_visible()
    ask = page.get_by_role("link", name="Ask for support")
    assert f"service={service.uuid}" in ask.get_attribute("href")
    screenshot("directory-service")

    page.goto(f"{live_server.url}/accounts/login/?next={service.get_absolute_url()}edit/")
    page.get_by_label("Username or email").fill("david")
    page.get_by_label("Password").fill("a long enough password 1")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Edit Funding advice surgery"
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    page.get_by_label("Name").first.fill("Funding advice surgery (drop-in)")
    page.locator("#id_schedules-1-weekday").select_option("TH")
    page.locator("#id_schedules-1-opens_at").fill("14:00")
    page.locator("#id_schedules-1-closes_at").fill("16:00")
    screenshot("directory-service-edit")
    page.get_by_role("button", name="Save the service").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Funding advice surgery (drop-in)"
    assert page.get_by_text("Thursdays 14:00 to 16:00").is_visible()
    assert Service.objects.get(pk=service.pk).schedules.count() == 2

    page.goto(f"{live_server.url}/api/")
    assert page.get_by_role("heading", level=1).inner_text() == "Open data: the directory API"
    screenshot("directory-api-guide")
