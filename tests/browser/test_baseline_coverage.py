"""Baseline coverage in Chromium, on the demo borough as `make run` shows it (its demo baseline, with a
month recorded by the snapshot task): the funder finds the page from the evidence index, reads the
table of areas by items, opens an area to see who meets each item, and downloads the CSV; at 1280 and
390 px, checked with axe-core, with no sideways scroll. Screenshots in
test-artifacts/screenshots/baseline-*.png."""

import pytest

from evidence import tasks
from tests.browser.conftest import SCREENSHOTS, assert_accessible, log_in_as_funder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_funder_reads_the_baseline_coverage(page, live_server, screenshot, funder_demo):
    tasks.record_baseline_coverage()  # this month's record, as beat makes it
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in_as_funder(page, live_server)
    page.goto(f"{live_server.url}/evidence/")
    page.get_by_role("link", name="Baseline coverage").click()
    assert page.get_by_role("heading", name="Baseline coverage", level=1).is_visible()
    table = page.get_by_role("region", name="Baseline items met in each area")
    assert table.is_visible()
    # The demo baseline is met in some places and missing in others, in words, not colour alone.
    cells = [text.strip("✓✕ ") for text in table.locator("tbody td").all_inner_texts()]
    assert any(text.startswith("Met (") for text in cells) and "Missing" in cells and "Whole borough" in cells
    rows = table.locator("tbody th").all_inner_texts()
    assert rows[0].startswith("The whole borough") and any("Bow East" in row for row in rows)
    screenshot("baseline-1280", full_page=True)

    # An area's row leads to who meets each item there, each provider a link to its page.
    table.get_by_role("link", name="Bow East").click()
    details = page.locator("#area-ward-bow-east")
    details.locator("summary").click()
    assert details.get_attribute("open") is not None
    text = details.inner_text()
    assert "Free information and advice in every ward: met by" in text
    assert details.get_by_role("link").count() >= 1
    assert_accessible(page, "baseline with an area open")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download this table (CSV)").click()
    assert download.value.suggested_filename.startswith("baseline-coverage-")
    # This month's record is there, so the history table is shown.
    assert page.get_by_role("region", name="Items met out of the items measured").is_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/evidence/baseline/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("baseline-390-top", full_page=False)
    region = page.get_by_role("region", name="Baseline items met in each area")
    # The wide table scrolls inside its own box, which the keyboard reaches and scrolls.
    assert region.evaluate("(el) => el.scrollWidth > el.clientWidth")
    region.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(el) => el.scrollLeft > 0", arg=region.element_handle())
    screenshot("baseline-390-scrolled", full_page=False)
    page.locator("#baseline-history").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "baseline-390-history.png"))
