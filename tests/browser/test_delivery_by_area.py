"""Delivery by area in Chromium, on the demo borough as `make run` shows it (directory, referrals and
evidence demos): the section's two tables at 1280 and 390 px, checked with axe-core, with no sideways
scroll. Screenshots in test-artifacts/screenshots/delivery-*.png."""

import pytest

from tests.browser.conftest import SCREENSHOTS, log_in_as_funder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_funder_compares_delivery_between_areas(page, live_server, screenshot, funder_demo):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in_as_funder(page, live_server)
    page.goto(f"{live_server.url}/evidence/dashboards/")
    page.get_by_role("link", name="Delivery by area").click()
    section = page.locator("#section-areas").locator("xpath=..")
    assert page.get_by_role("heading", name="Delivery by area").is_visible()
    chart = section.locator("#chart-delivery-by-area")
    # Both tables are open, each with its caption, the borough last; the columns are defined below them.
    tables = chart.get_by_role("table")
    assert tables.count() == 2
    for table in tables.all():
        assert table.locator("caption").is_visible()
        assert table.locator("tfoot th").inner_text() == "The whole borough"
    text = chart.inner_text()
    assert "Median hours to first response" in text and "Answered within the deadline" in text
    assert "working days" in text and "bank holidays" in text
    assert "no referral data here" in text
    link = chart.get_by_role("link", name="Download this table (CSV) for Referrals by area: answered, how fast, and outcomes")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("sector-evidence-delivery-by-area-borough-")

    chart.scroll_into_view_if_needed()
    screenshot("delivery-dashboard-1280", full_page=False)
    chart.screenshot(path=str(SCREENSHOTS / "delivery-section-1280.png"))

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    chart.scroll_into_view_if_needed()
    screenshot("delivery-dashboard-390", full_page=False)
    chart.screenshot(path=str(SCREENSHOTS / "delivery-section-390.png"))
