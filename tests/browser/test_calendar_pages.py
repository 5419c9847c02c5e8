"""The calendar's month view and an event page in Chromium, booked by a logged-in person.
Screenshots: test-artifacts/screenshots/calendar-*.png."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_events.recurrence import LONDON
from tests.factories import make_event, make_location, make_provider, make_user, term

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)"""


def test_month_view_and_event_page(page, live_server, screenshot):
    provider = make_provider(name="Tower Hamlets Voluntary Action", email="events@example.org")
    venue = make_location(organisation=provider, name="Oxford House", ward=term("wards", "bethnal-green-west"))
    start = (timezone.now() + timedelta(days=3)).astimezone(LONDON).replace(hour=10, minute=0, second=0, microsecond=0)
    event = make_event(
        organiser=provider,
        venue=venue,
        title="Trustee roles and responsibilities",
        start=start,
        booking_required=True,
        capacity=2,
        description="A morning on **governance** for new trustees.\n\n- duties\n- finance\n- safeguarding",
    )
    event.languages.set([term("languages", "en"), term("languages", "bn")])
    make_event(
        organiser=provider,
        title="Funding surgery",
        start=start.replace(hour=14),
        frequency="weekly",
        repeat_count=8,
        category="funding",
    )
    make_event(title="Volunteer managers' forum", start=start + timedelta(days=1), category="forum", status="postponed")
    user = make_user(username="amina", email="amina@example.org", password="a long enough password 1")

    page.goto(f"{live_server.url}/calendar/month/?month={start:%Y-%m}")
    assert "Events in" in page.title() or "Community calendar" in page.title()
    assert page.get_by_role("link", name="10:00 Trustee roles and responsibilities").is_visible()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    screenshot("calendar-month")

    page.goto(f"{live_server.url}/accounts/login/?next={event.get_absolute_url()}")
    page.get_by_label("Username or email").fill("amina")
    page.get_by_label("Password").fill("a long enough password 1")
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + event.get_absolute_url())
    assert page.get_by_role("heading", level=1).inner_text() == "Trustee roles and responsibilities"
    data = json.loads(page.locator("script[type='application/ld+json']").inner_text())
    assert data["@type"] == "Event" and data["location"][0]["name"] == "Oxford House"
    page.get_by_role("button", name="Book a place").first.click()
    assert page.get_by_text("Your place is booked").is_visible()
    assert page.get_by_role("link", name="Cancel my booking").is_visible()
    assert user.event_bookings.count() == 1
    screenshot("calendar-event")
    # Cancelling asks first, and "No, keep it" keeps it.
    page.get_by_role("link", name="Cancel my booking").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Cancel your booking?"
    screenshot("calendar-cancel-booking")
    page.get_by_role("link", name="No, keep it").click()
    assert user.event_bookings.get().status == "booked"
    page.get_by_role("link", name="Cancel my booking").click()
    page.get_by_role("button", name="Yes, cancel the booking").click()
    assert page.get_by_text("The booking is cancelled").is_visible()
    assert user.event_bookings.get().status == "cancelled"
