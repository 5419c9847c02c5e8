"""Funding into the sector in Chromium, on the demo borough as `make run` shows it (directory, referrals
and grants demos): the section and its needs-and-money table at 1280 and 390 px, checked with axe-core,
with no sideways scroll. Screenshots in test-artifacts/screenshots/funding-*.png."""

import pytest

from tests.browser.conftest import SCREENSHOTS, log_in_as_funder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_funder_reads_funding_into_the_sector(page, live_server, screenshot, funder_demo):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in_as_funder(page, live_server)
    page.goto(f"{live_server.url}/evidence/dashboards/")
    page.get_by_role("link", name="Funding into the sector").click()
    section = page.locator("#section-funding").locator("xpath=..")
    assert page.get_by_role("heading", name="Funding into the sector").is_visible()
    for heading in ("Grants by funder", "Grants by ward", "Grants by the recipient's specialist segment",
                    "Grants by the recipient's development stage", "Grants over time", "Needs asked for and where the money goes"):
        assert section.get_by_role("heading", name=heading).is_visible(), heading
    text = section.inner_text()
    # The demo's funders, money as pounds, the small-number words and the trend in words.
    assert "The National Lottery Community Fund" in text and "£" in text
    assert "fewer than 5 grants" in text and "in the previous 12 months" in text
    # The needs table is open, sorted by the gap, with the biggest gap in a sentence above it.
    assert "The biggest gap:" in text
    gaps = section.locator("#chart-needs-and-funding tbody tr td:last-child").all_inner_texts()
    compared = [int(gap.replace("\u2212", "-").replace("+", "")) for gap in gaps if "not compared" not in gap]
    assert compared and compared == sorted(compared, reverse=True)
    assert all("not compared" in gap for gap in gaps[len(compared):])
    # The table downloads on its own.
    section.locator("#chart-grants-by-funder summary").focus()
    page.keyboard.press("Enter")
    link = section.get_by_role("link", name="Download this table (CSV) for Grants by funder")
    link.wait_for(state="visible")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("sector-evidence-grants-by-funder-borough-")

    section.scroll_into_view_if_needed()
    screenshot("funding-dashboard-1280", full_page=False)
    section.screenshot(path=str(SCREENSHOTS / "funding-section-1280.png"))

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    section.locator("#chart-needs-and-funding").scroll_into_view_if_needed()
    screenshot("funding-dashboard-390", full_page=False)
    section.screenshot(path=str(SCREENSHOTS / "funding-section-390.png"))
