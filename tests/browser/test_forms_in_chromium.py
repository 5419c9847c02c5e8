"""Forms in Chromium set to US English: an event's dates are typed in day, month and year boxes (never the
browser's mm/dd/yyyy picker) and saved as meant; every error shows at once; a long text box counts down
as you type. Screenshots: test-artifacts/screenshots/forms-*.png."""

from datetime import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendar_events.models import Event
from calendar_events.recurrence import LONDON
from organisations.models import Affiliation
from tests.browser.conftest import SCREENSHOTS
from tests.factories import make_affiliation, make_provider, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough password 1"


@pytest.fixture
def us_page(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="America/New_York"
    )
    page = context.new_page()
    yield page
    context.close()


def _shot(page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"forms-{name}.png"), full_page=full_page)


def test_an_event_is_added_with_day_month_year_boxes_in_a_us_english_browser(us_page, live_server):
    page = us_page
    provider = make_provider(name="Tower Hamlets Voluntary Action")
    officer = make_user(username="officer", email="officer@example.org", password=PASSWORD)
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    year = timezone.localdate().year + 1

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or email").fill("officer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/calendar/events/new/?organisation={provider.slug}")
    assert page.locator("input[type=date], input[type=datetime-local]").count() == 0
    starts = page.get_by_role("group", name="Starts (London time)")
    assert starts.get_by_label("Day").is_visible() and starts.get_by_label("Time").is_visible()
    assert starts.get_by_text("For example, 27 3 2027").is_visible()

    # Nothing filled in: every problem at once, in the summary and beside the fields.
    page.get_by_role("button", name="Save event").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    summary_text = summary.inner_text()
    for message in ("Title", "Enter when it starts", "Enter when it ends", "Choose a venue or give an online link"):
        assert message in summary_text, message
    _shot(page, "event-errors")

    # The counter counts down as you type, and says when there is too much; nothing is cut off.
    description = page.get_by_label("Description")
    count = page.locator(".character-count[data-count-for=id_description]")
    assert count.get_attribute("aria-live") == "polite"
    description.fill("")
    description.press_sequentially("Hello")
    expect(count).to_have_text("You have 19,995 characters remaining")
    description.fill("x" * 20003)
    expect(count).to_have_text("You have 3 characters too many")
    expect(count).to_have_class("character-count is-over")
    assert len(description.input_value()) == 20003
    description.scroll_into_view_if_needed()
    _shot(page, "character-count", full_page=False)
    description.fill("A morning on governance for new trustees.")

    page.get_by_label("Title").fill("Trustee roles")
    page.get_by_label("Category").select_option("training")
    # 4 March, typed day first: a US browser would have read 03/04 as 4 March only by accident.
    for name, value in (("day", "4"), ("month", "3"), ("year", str(year)), ("time", "14:30")):
        page.locator(f"[name=starts_{name}]").fill(value)
    for name, value in (("day", "4"), ("month", "3"), ("year", str(year)), ("time", "4pm")):
        page.locator(f"[name=ends_{name}]").fill(value)
    page.get_by_label("Online link").fill("https://meet.example.org/trustees")
    page.get_by_label("Free").check()
    _shot(page, "event-filled-in")
    page.get_by_role("button", name="Save event").click()
    page.wait_for_url("**/calendar/events/**")
    assert "The event is published" in page.content()

    event = Event.objects.get(title="Trustee roles")
    assert event.start == datetime(year, 3, 4, 14, 30, tzinfo=LONDON)
    assert event.end == datetime(year, 3, 4, 16, 0, tzinfo=LONDON)
    _shot(page, "event-saved")

    # At 390 px wide the boxes wrap and nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/calendar/events/new/?organisation={provider.slug}")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.get_by_role("group", name="Starts (London time)").scroll_into_view_if_needed()
    _shot(page, "event-date-boxes-390px", full_page=False)
