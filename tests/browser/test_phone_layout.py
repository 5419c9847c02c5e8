"""On a phone (390 × 844) the results come first: the filters fold behind a Filter button, the month
calendar is a list of the days with events, and a wide table scrolls inside its own box, which the
keyboard can reach. From a laptop's width up, the filters and the month grid are shown whole.
Screenshots: test-artifacts/screenshots/phone-*.png."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from calendar_events.recurrence import LONDON
from organisations.models import Affiliation
from tests.factories import make_affiliation, make_event, make_provider, make_service, make_user, term

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WIDE_PAGE = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


@pytest.fixture
def provider(db):
    provider = make_provider(name="Tower Hamlets Voluntary Action", email="events@example.org")
    for number in range(3):
        make_service(
            organisation=provider,
            name=f"Funding advice surgery {number}",
            needs=[term("needs", "funding-and-fundraising")],
            schedules=[("TU", "10:00", "13:00")],
        )
    return provider


def test_directory_filters_fold_away_on_a_phone(page, live_server, screenshot, provider):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/directory/")
    filters = page.locator("#directory-filters")
    toggle = page.get_by_role("button", name="Filter")
    assert page.get_by_label("Search words").is_visible()
    assert not filters.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    # The first result is on the first screen, under the search box.
    first = page.locator(".service-list h2").first.bounding_box()
    assert first["y"] + first["height"] < PHONE["height"], first
    assert not page.evaluate(WIDE_PAGE)
    screenshot("phone-directory")

    toggle.click()
    page.get_by_label("Open on").wait_for(state="visible")
    assert toggle.get_attribute("aria-expanded") == "true"
    page.get_by_label("Open on").select_option("TU")
    page.get_by_role("button", name="Search", exact=True).click()
    assert "day=TU" in page.url and page.get_by_text("3 services found").is_visible()
    # With filters on, the button says so; they stay folded so the results still come first.
    assert "on" in page.get_by_role("button", name="Filter").inner_text()
    screenshot("phone-directory-filtered")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/directory/")
    assert page.get_by_label("Open on").is_visible() and not page.get_by_role("button", name="Filter").is_visible()


def test_month_calendar_is_a_list_of_days_on_a_phone_and_a_whole_grid_on_a_laptop(page, live_server, screenshot):
    provider = make_provider(name="Tower Hamlets Voluntary Action", email="events@example.org")
    start = (timezone.now() + timedelta(days=1)).astimezone(LONDON).replace(hour=18, minute=30, second=0, microsecond=0)
    make_event(
        organiser=provider, title="Trustee roles and responsibilities", start=start, end=start + timedelta(hours=2)
    )
    month = start.strftime("%Y-%m")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/calendar/month/?month={month}")
    assert not page.locator("table.calendar-month").is_visible()
    day = page.get_by_role("heading", name=start.strftime("%A %-d %B"))
    assert day.is_visible()
    assert page.get_by_role("link", name="18:30 Trustee roles and responsibilities").first.is_visible()
    assert not page.evaluate(WIDE_PAGE)
    screenshot("phone-calendar-month")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/calendar/month/?month={month}")
    sunday = page.get_by_role("columnheader", name="Sunday").bounding_box()
    assert sunday["x"] + sunday["width"] <= 1280, sunday  # not cut after Thursday
    assert not page.locator(".calendar-month-list").is_visible()


def test_a_wide_table_scrolls_in_its_own_box_reached_by_the_keyboard(page, live_server, screenshot, provider):
    officer = make_user(
        User.Role.OFFICER, username="david", email="david@example.org", password="a long enough password 1"
    )
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    start = timezone.now() + timedelta(days=5)
    for number in range(2):
        make_event(organiser=provider, title=f"A very long event title for a narrow table {number}", start=start)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/?next=/calendar/my/events/")
    page.get_by_label("Username or email").fill("david")
    page.get_by_label("Password").fill("a long enough password 1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/calendar/my/events/")
    region = page.get_by_role("region", name="Events")
    assert region.get_attribute("tabindex") == "0"
    assert not page.evaluate(WIDE_PAGE)
    sizes = region.evaluate("(box) => [box.scrollWidth, box.clientWidth]")
    assert sizes[0] > sizes[1], sizes  # the table is wider than the screen, and scrolls inside its box
    region.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # The arrow keys scroll the focused box (smoothly, so wait for it to move).
    page.wait_for_function("(box) => box.scrollLeft > 0", arg=region.element_handle(), timeout=5000)
    screenshot("phone-my-events")
