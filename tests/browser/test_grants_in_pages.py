"""360Giving grants in, in Chromium: an organisation's page shows the grants it received (newest
first, the latest five and a link to all), on a desktop and on a phone without sideways scrolling; the
admin's progress page lists a refused file's problems. Screenshots in test-artifacts/screenshots/grants-*.png."""

from datetime import date

import pytest

from evidence.models import Grant, GrantImport
from tests.factories import make_network_admin, make_organisation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def charity(db):
    charity = make_organisation(name="Bow Lunch Club", slug="bow-lunch-club", charity_number="1098765")
    for number in range(1, 8):
        Grant.objects.create(
            identifier=f"360G-cbt-{number}", direction=Grant.Direction.RECEIVED,
            title=f"Lunches for older people, year {number}",
            description="Hot lunches twice a week for isolated older people in Bow, with transport to and from the club.",
            amount_awarded=1000 * number, award_date=date(2018 + number, 4, 1), recipient=charity,
            funder_org_id="GB-GOR-PB188", funder_name="The National Lottery Community Fund",
        )  # fmt: skip
    return charity


def test_an_organisation_page_shows_its_grants_received(page, live_server, screenshot, charity):
    page.goto(f"{live_server.url}/organisations/bow-lunch-club/")
    section = page.locator("#grants-received")
    section.get_by_role("heading", name="Grants received").wait_for()
    rows = section.locator("li")
    assert rows.count() == 5
    assert "year 7" in rows.first.inner_text() and "£7,000.00" in rows.first.inner_text()
    screenshot("grants-organisation-page")

    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("grants-organisation-page-phone")

    section.get_by_role("link", name="Show all 7 grants received").click()
    page.get_by_role("heading", name="Grants received by Bow Lunch Club").wait_for()
    assert page.locator("main .grants-received li").count() == 7
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("grants-all-received-phone")


def test_the_admin_sees_a_refused_files_problems(page, live_server, screenshot, db):
    admin = make_network_admin(username="office")
    GrantImport.objects.create(
        started_by=admin, files="grants.csv", status=GrantImport.Status.FAILED,
        error="The file has 2 problems; fix them and upload it again.",
        problems=[
            "Row 2 (id “360G-cbt-1”), column “Amount Awarded”: “£1,000” is not a number.",
            "Row 3 (id “360G-cbt-2”), column “Award Date”: “0000-01-01” is not a date.",
        ],
        counts={"problems": 2},
    )  # fmt: skip
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("office")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/evidence/grantimport/{GrantImport.objects.get().pk}/progress/")
    page.get_by_text("Nothing was imported.").wait_for()
    assert page.locator(".import-problems li").count() == 2
    screenshot("grants-import-problems")
    page.goto(f"{live_server.url}/admin/evidence/grantimport/upload/")
    page.get_by_label("360Giving file").wait_for()
    screenshot("grants-import-upload")
