"""calendar_events.views: the pages as a visitor, a booker and an organiser use them."""

import json
import re
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendar_events.models import Booking, Event, Notice, NoticeReport
from calendar_events.recurrence import LONDON
from organisations.models import Affiliation
from tests.factories import (
    make_affiliation,
    make_event,
    make_location,
    make_organisation,
    make_provider,
    make_user,
    term,
)
from tests.form_data import date_parts, event_times

pytestmark = pytest.mark.django_db

# Forms refuse events that start in the past: the dates posted are worked out from today.
YEAR = timezone.localdate().year + 2
# The last Sunday of March, when London's clocks go forward at 01:00 (so 01:30 does not exist).
CLOCK_CHANGE = max(
    d for d in (datetime(YEAR, 3, 31) - timedelta(days=n) for n in range(7)) if d.weekday() == 6
).date()


def _json_ld(response) -> dict:
    match = re.search(rb'<script type="application/ld\+json">(.*?)</script>', response.content, re.S)
    return json.loads(match.group(1))


def test_event_page_shows_everything_and_valid_json_ld(client):
    provider = make_provider(name="Bow Voluntary Action")
    venue = make_location(organisation=provider, name="Bow Idea Store", ward=term("wards", "bow-east"))
    event = make_event(
        organiser=provider,
        venue=venue,
        title='Funding </b> surgery & "advice"',
        capacity=12,
        booking_required=True,
        is_free=False,
        cost=5,
        description="Bring your **budget**.",
    )
    event.languages.set([term("languages", "bn")])
    response = client.get(event.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Bengali",
        "Bow Idea Store",
        "Step-free entrance",
        "Bow Voluntary Action",
        "£5",
        "12 places",
        "Training",
        "budget",
        "Download this event",
    ):
        assert text in html, text
    data = _json_ld(response)
    for key in ("name", "startDate", "location", "eventStatus", "eventAttendanceMode", "organizer"):
        assert data[key], key
    assert data["@type"] == "Event" and data["name"] == event.title
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    assert datetime.fromisoformat(data["startDate"]) == event.start
    assert data["location"][0]["address"]["postalCode"] == venue.postcode
    assert "</b>" not in html.split('application/ld+json">')[1].split("</script>")[0]


def test_cancelled_event_json_ld_status(client):
    event = make_event(status=Event.Status.CANCELLED)
    data = _json_ld(client.get(event.get_absolute_url()))
    assert data["eventStatus"] == "https://schema.org/EventCancelled"
    assert data["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"


def test_pending_event_hidden_from_public(client):
    event = make_event(organiser=make_organisation(), moderation="pending")
    assert client.get(event.get_absolute_url()).status_code == 404


def test_list_week_month_views_and_filters(client):
    start = (timezone.now() + timedelta(days=2)).astimezone(LONDON).replace(hour=10, minute=0, second=0, microsecond=0)
    make_event(title="Online forum", start=start, category="forum")
    venue = make_location(ward=term("wards", "bow-east"))
    paid = make_event(
        title="Paid training at Bow",
        organiser=venue.organisation,
        venue=venue,
        online_url="",
        is_free=False,
        cost=10,
        start=start,
    )
    paid.segments.set([term("segments", "bme-vcos")])
    pages = [
        reverse("calendar_events:event_list"),
        f"{reverse('calendar_events:event_week')}?date={start.date()}",
        f"{reverse('calendar_events:event_month')}?month={start:%Y-%m}",
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "Online forum" in html and "Paid training at Bow" in html, url
    assert "Paid training" not in client.get(reverse("calendar_events:event_list") + "?free=on").content.decode()
    assert "Paid training" not in client.get(reverse("calendar_events:event_list") + "?online=on").content.decode()
    assert "Online forum" not in client.get(reverse("calendar_events:event_list") + "?ward=bow-east").content.decode()
    assert (
        "Online forum" not in client.get(reverse("calendar_events:event_list") + "?category=training").content.decode()
    )
    html = client.get(reverse("calendar_events:event_list") + "?segment=bme-vcos").content.decode()
    assert "Online forum" not in html and "Paid training" in html
    html = client.get(reverse("calendar_events:event_list") + "?q=forum").content.decode()
    assert "Online forum" in html and "Paid training" not in html
    html = client.get(reverse("calendar_events:event_list") + f"?organiser={venue.organisation.slug}").content.decode()
    assert "Online forum" not in html and "Paid training" in html
    # Bad parameters: a 400 page that says what to send instead, not a 500.
    response = client.get(reverse("calendar_events:event_month") + "?month=2027-13")
    assert response.status_code == 400 and "must be a month written YYYY-MM" in response.content.decode()
    response = client.get(reverse("calendar_events:event_week") + "?date=yesterday")
    assert response.status_code == 400 and "must be a date written YYYY-MM-DD" in response.content.decode()
    assert client.get(reverse("calendar_events:event_list") + "?from=soon").status_code == 400
    assert "webcal://" in client.get(reverse("calendar_events:event_month")).content.decode()


def test_month_view_query_count_does_not_grow_with_events(client):
    start = (timezone.now() + timedelta(days=1)).astimezone(LONDON).replace(
        day=1, hour=9, minute=0, second=0, microsecond=0
    ) + timedelta(days=32)
    month = f"{start:%Y-%m}"
    provider = make_provider()
    make_event(organiser=provider, start=start)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("calendar_events:event_month") + f"?month={month}")
    for n in range(30):
        make_event(
            organiser=make_provider() if n % 3 else provider,
            start=start + timedelta(hours=n),
            venue=None,
            frequency="weekly" if n % 5 == 0 else "once",
            repeat_count=3 if n % 5 == 0 else None,
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("calendar_events:event_month") + f"?month={month}")
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_booking_and_cancelling_through_the_pages(client):
    event = make_event(booking_required=True, capacity=1)
    user, other = make_user(), make_user()
    ts = int(event.start.timestamp())
    client.force_login(user)
    response = client.post(reverse("calendar_events:book", args=[event.uuid]), {"occurrence": ts}, follow=True)
    assert "Your place is booked" in response.content.decode()
    response = client.post(reverse("calendar_events:book", args=[event.uuid]), {"occurrence": ts}, follow=True)
    assert "already booked" in response.content.decode()
    client.force_login(other)
    response = client.post(reverse("calendar_events:book", args=[event.uuid]), {"occurrence": ts}, follow=True)
    assert "This event is full" in response.content.decode() and "Join the waiting list" in response.content.decode()
    client.post(reverse("calendar_events:book", args=[event.uuid]), {"occurrence": ts, "waiting_list": "1"})
    assert Booking.objects.get(user=other).status == "waiting"
    assert client.post(reverse("calendar_events:book", args=[event.uuid]), {"occurrence": "x"}).status_code == 302
    booking = Booking.objects.get(user=user)
    assert client.post(reverse("calendar_events:cancel_booking", args=[booking.pk])).status_code == 403
    client.force_login(user)
    client.post(reverse("calendar_events:cancel_booking", args=[booking.pk]))
    assert Booking.objects.get(user=other).status == "booked"
    assert client.get(reverse("calendar_events:my_bookings")).status_code == 200


def test_organiser_adds_event_with_clear_errors_then_attendance_and_export(client):
    provider = make_provider()
    officer = make_user()
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    client.force_login(officer)
    url = reverse("calendar_events:event_create") + f"?organisation={provider.slug}"
    base = {
        "title": "Governance workshop",
        "description": "All welcome",
        "category": "training",
        "frequency": "once",
        "online_url": "https://meet.example.org/w",
        "booking_required": "on",
        "is_free": "on",
        "capacity": "10",
        "for_stage_1": "on",
        "for_stage_2": "on",
        "for_stage_3": "on",
    }
    response = client.post(url, {**base, **event_times(f"{CLOCK_CHANGE}T01:30", f"{CLOCK_CHANGE}T03:00")})
    assert response.status_code == 200 and "does not exist in London" in response.content.decode()
    response = client.post(url, {**base, **event_times(f"{YEAR}-05-04T10:00", f"{YEAR}-05-04T09:00")})
    assert "The end must be after the start" in response.content.decode()
    response = client.post(
        url, {**base, "frequency": "weekly", **event_times(f"{YEAR}-05-04T10:00", f"{YEAR}-05-04T11:00")}
    )
    assert "needs an end" in response.content.decode()
    response = client.post(
        url,
        {**base, "description": "<script>alert(1)</script>", **event_times(f"{YEAR}-05-04T10:00", f"{YEAR}-05-04T11:00")},
    )
    assert "Remove the script" in response.content.decode()
    assert Event.objects.count() == 0
    response = client.post(
        url,
        {
            **base,
            "frequency": "weekly",
            "repeat_count": "4",
            "exception_dates": f"11/05/{YEAR}",
            **event_times(f"{YEAR}-05-04T10:00", f"{YEAR}-05-04T11:00"),
        },
    )
    event = Event.objects.get()
    assert response.status_code == 302 and event.moderation == "approved" and event.exceptions == [f"{YEAR}-05-11"]
    assert event.start == datetime(YEAR, 5, 4, 10, tzinfo=LONDON)

    attendee = make_user(first_name="Amina", last_name="Begum")
    booking = Booking.objects.create(event=event, occurrence_start=event.start, user=attendee)
    page = reverse("calendar_events:attendees", args=[event.uuid])
    ts = int(event.start.timestamp())
    assert "Amina Begum" in client.get(f"{page}?occurrence={ts}").content.decode()
    client.post(f"{page}?occurrence={ts}", {"occurrence": ts, "attended": [str(booking.pk)]})
    booking.refresh_from_db()
    assert booking.attended is True
    csv = b"".join(client.get(f"{page}?format=csv").streaming_content).decode("utf-8-sig")
    assert "Amina Begum" in csv and attendee.email in csv
    assert client.get(f"{page}?format=xlsx").status_code == 200

    stranger = make_user()
    client.force_login(stranger)
    assert client.get(page).status_code == 403
    assert client.get(reverse("calendar_events:event_edit", args=[event.uuid])).status_code == 403
    assert client.get(url).status_code == 403


def test_vco_editor_event_goes_to_moderation(client):
    vco = make_organisation()
    editor = make_user()
    make_affiliation(user=editor, organisation=vco)
    client.force_login(editor)
    client.post(
        reverse("calendar_events:event_create") + f"?organisation={vco.slug}",
        {
            "title": "Coffee morning",
            "category": "social",
            "frequency": "once",
            "online_url": "https://x.example.org",
            "is_free": "on",
            **event_times(f"{YEAR}-05-04T10:00", f"{YEAR}-05-04T11:00"),
        },
    )
    assert Event.objects.get().moderation == "pending"


def test_location_form_creates_directory_location(client):
    provider = make_provider()
    officer = make_user()
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    client.force_login(officer)
    url = reverse("calendar_events:location_create") + f"?organisation={provider.slug}"
    response = client.post(
        url,
        {
            "name": "Community Hall",
            "address_line_1": "1 High Street",
            "town": "London",
            "postcode": "E1 6AN",
            "accessibility": "Ramp at the side door",
        },
    )
    assert response.status_code == 302 and provider.locations.get().name == "Community Hall"


def test_notice_pages_post_bad_attachment_and_report(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    provider = make_provider()
    editor = make_user()
    make_affiliation(user=editor, organisation=provider)
    client.force_login(editor)
    url = reverse("calendar_events:notice_create") + f"?organisation={provider.slug}"
    data = {
        "title": "Hall for hire",
        "text": "Cheap rates",
        "category": "premises",
        **date_parts("expires_on", timezone.localdate() + timedelta(days=10)),
    }
    response = client.post(url, {**data, "attachment": SimpleUploadedFile("x.pdf", b"GIF89a not really")})
    assert response.status_code == 200 and "not a type we accept" in response.content.decode()
    assert Notice.objects.count() == 0
    response = client.post(url, data)
    notice = Notice.objects.get()
    assert response.status_code == 302 and notice.status == "published"
    client.logout()
    assert "Hall for hire" in client.get(reverse("calendar_events:notice_list")).content.decode()
    assert client.get(notice.get_absolute_url()).status_code == 200
    report = reverse("calendar_events:notice_report", args=[notice.uuid])
    assert "There is a problem" in client.post(report, {"details": "?"}).content.decode()
    client.post(report, {"reason": "spam", "details": "Advertising"})
    assert NoticeReport.objects.get().reason == "spam"
    Notice.objects.filter(pk=notice.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    assert client.get(notice.get_absolute_url()).status_code == 404
    assert "Hall for hire" not in client.get(reverse("calendar_events:notice_list")).content.decode()


def test_digest_opt_in_page(client):
    user = make_user()
    client.force_login(user)
    client.post(reverse("calendar_events:digest"), {"subscribed": "on"})
    assert user.calendar_digest.is_active
    client.post(reverse("calendar_events:digest"), {})
    user.calendar_digest.refresh_from_db()
    assert not user.calendar_digest.is_active


def test_feed_registration_and_detail_page(client):
    provider = make_provider()
    editor = make_user()
    make_affiliation(user=editor, organisation=provider)
    client.force_login(editor)
    url = reverse("calendar_events:feed_create") + f"?organisation={provider.slug}"
    assert client.post(url, {"url": "not a url", "category": "training"}).status_code == 200
    client.post(url, {"url": "https://partner.example.org/events.ics", "category": "training"})
    feed = provider.calendar_feeds.get()
    assert client.get(reverse("calendar_events:feed_detail", args=[feed.pk])).status_code == 200
    assert client.get(reverse("calendar_events:my_events")).status_code == 200


def test_organisation_include_for_the_directory_page():
    provider = make_provider()
    make_event(organiser=provider, title="Networking lunch")
    html = Template('{% include "calendar_events/includes/organisation_events.html" %}').render(
        Context({"organisation": provider})
    )
    assert "Networking lunch" in html and "No notices on the board." in html and "webcal://" in html
    html = Template('{% include "calendar_events/includes/organisation_events.html" %}').render(
        Context({"organisation": make_provider()})
    )
    assert "No upcoming events." in html


def test_pages_for_people_with_no_organisation(client):
    client.force_login(make_user())
    for name in ("event_create", "notice_create", "location_create", "feed_create"):
        response = client.get(reverse(f"calendar_events:{name}"))
        assert response.status_code == 200 and "not an editor or officer" in response.content.decode()
    assert client.get(reverse("calendar_events:feeds")).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/calendar/?organiser=no-such-organisation&stage=9&ward=nowhere&category=nonsense",
        "/calendar/?page=999",
        "/calendar/week/?date=2027-02-30",
        "/calendar/month/?month=0-0",
        "/calendar/month/?month=abc",
        "/notices/?category=nonsense&page=abc",
        "/calendar/events/00000000-0000-0000-0000-000000000000/",
        "/calendar/organisers/no-such-organisation.ics",
    ],
)
def test_odd_parameters_never_give_a_server_error(client, url):
    # A date or month that is not one is a 400 (tests/test_hostile_parameters.py walks every page).
    assert client.get(url).status_code in (200, 400, 404)


def test_odd_booking_and_attendance_parameters(client):
    event = make_event(booking_required=True)
    user = make_user()
    make_affiliation(user=user, organisation=event.organiser, role=Affiliation.Role.OFFICER)
    client.force_login(user)
    for value in ("99999999999999999999", "-1", "", "1e9"):
        assert client.post(reverse("calendar_events:book", args=[event.uuid]), {"occurrence": value}).status_code == 302
        assert client.get(reverse("calendar_events:attendees", args=[event.uuid]) + f"?occurrence={value}").status_code == 200
    assert Booking.objects.count() == 0


def test_event_form_refuses_a_past_start_but_a_past_event_stays_editable(client):
    provider = make_provider()
    officer = make_user()
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    client.force_login(officer)
    base = {"title": "Governance workshop", "description": "All welcome", "category": "training",
            "frequency": "once", "online_url": "https://meet.example.org/w", "is_free": "on"}
    yesterday = timezone.localtime() - timedelta(days=1)
    url = reverse("calendar_events:event_create") + f"?organisation={provider.slug}"
    response = client.post(url, {**base, **event_times(yesterday, yesterday + timedelta(hours=1))})
    assert response.status_code == 200 and "The start must be in the future" in response.content.decode()
    response = client.post(url, {**base, **event_times("9999-12-31T10:00", "9999-12-31T11:00")})
    assert response.status_code == 200 and "Give a date between 1 January 1900 and 31 December 2200" in response.content.decode()
    assert not Event.objects.exists()

    # An event that has happened can still be corrected, if its time is left alone...
    held = make_event(organiser=provider, start=(timezone.now() - timedelta(days=3)).replace(microsecond=0))
    edit = reverse("calendar_events:event_edit", args=[held.uuid])
    start = timezone.localtime(held.start)
    data = {**base, "status": "scheduled", **event_times(start, timezone.localtime(held.end)),
            "description": "Slides are on our website."}
    assert client.post(edit, data).status_code == 302
    held.refresh_from_db()
    assert held.description == "Slides are on our website."
    # ...but not moved to another time in the past.
    earlier = start - timedelta(days=1)
    response = client.post(edit, {**data, **event_times(earlier, earlier + timedelta(hours=1))})
    assert "The start must be in the future" in response.content.decode()


def test_cancelling_asks_first_then_cancels_and_the_waiting_list_shows_each_place(client):
    event = make_event(booking_required=True, capacity=1, title="Popular workshop")
    first, second, third = make_user(), make_user(), make_user()
    ts = int(event.start.timestamp())
    book = reverse("calendar_events:book", args=[event.uuid])
    for person in (first, second, third):
        client.force_login(person)
        client.post(book, {"occurrence": ts, "waiting_list": "1"})
    assert [b.status for b in Booking.objects.order_by("pk")] == ["booked", "waiting", "waiting"]

    client.force_login(third)
    mine = client.get(reverse("calendar_events:my_bookings")).content.decode()
    assert "On the waiting list: number 2" in mine
    assert "On the waiting list: number 2" in client.get(event.get_absolute_url()).content.decode()
    client.force_login(second)
    assert "On the waiting list: number 1" in client.get(reverse("calendar_events:my_bookings")).content.decode()

    client.force_login(first)
    booking = Booking.objects.get(user=first)
    cancel = reverse("calendar_events:cancel_booking", args=[booking.pk])
    page = client.get(cancel)
    text = page.content.decode()
    assert page.status_code == 200 and "Cancel your booking?" in text and "Popular workshop" in text
    assert "Yes, cancel the booking" in text and "No, keep it" in text
    booking.refresh_from_db()
    assert booking.status == "booked", "asking changes nothing"
    client.post(cancel)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert Booking.objects.get(user=second).status == "booked", "the first on the waiting list gets the place"
    client.force_login(third)
    assert "On the waiting list: number 1" in client.get(reverse("calendar_events:my_bookings")).content.decode()


def test_an_online_events_joining_link_is_only_for_people_with_a_place(client):
    link = "https://meet.example.org/secret-room-42"
    event = make_event(booking_required=True, capacity=1, online_url=link, venue=None, title="Online surgery")
    open_event = make_event(booking_required=False, online_url="https://meet.example.org/drop-in", venue=None)
    page, ics = event.get_absolute_url(), reverse("calendar_events:event_ics", args=[event.uuid])

    def everywhere() -> str:
        return client.get(page).content.decode() + client.get(ics).content.decode()

    assert link not in everywhere(), "not for visitors: not on the page, in its JSON-LD or in the .ics"
    assert "the joining link is shown here to people with a place" in client.get(page).content.decode()
    assert link not in client.get(reverse("calendar_events:feed_all")).content.decode()
    assert "https://meet.example.org/drop-in" in client.get(open_event.get_absolute_url()).content.decode()

    booked, waiting = make_user(), make_user()
    ts = int(event.start.timestamp())
    client.force_login(booked)
    client.post(reverse("calendar_events:book", args=[event.uuid]), {"occurrence": ts})
    assert f'href="{link}"' in client.get(page).content.decode(), "shown to the person with a place"
    client.force_login(waiting)
    client.post(reverse("calendar_events:book", args=[event.uuid]), {"occurrence": ts, "waiting_list": "1"})
    assert Booking.objects.get(user=waiting).status == "waiting"
    assert link not in client.get(page).content.decode(), "not to someone still on the waiting list"
    officer = make_user()
    Affiliation.objects.create(user=officer, organisation=event.organiser, role=Affiliation.Role.OFFICER)
    client.force_login(officer)
    assert f'href="{link}"' in client.get(page).content.decode(), "the organiser's people see it"


@pytest.mark.parametrize(
    ("frequency", "day", "words"),
    [
        ("monthly", datetime(2027, 3, 10, 10), "Every month on the second Wednesday"),
        ("monthly", datetime(2027, 3, 31, 10), "Every month on the last Wednesday"),
        ("monthly", datetime(2027, 3, 5, 18), "Every month on the first Friday"),
        ("weekly", datetime(2027, 3, 10, 10), "Every week on Wednesday"),
        ("fortnightly", datetime(2027, 3, 11, 10), "Every two weeks on Thursday"),
    ],
)
def test_repeat_wording_matches_the_date(client, frequency, day, words):
    event = make_event(start=day.replace(tzinfo=LONDON), frequency=frequency, repeat_count=3)
    page = client.get(event.get_absolute_url()).content.decode()
    assert words in page
    assert "for example the second Tuesday" not in page


@pytest.mark.parametrize(
    "title",
    [
        "Short", "x" * 40, "x" * 41, "Bench event 12: training, networking; and more", "x" * 38 + "\u2026" * 3,
        "é" * 40, "e\u0301" * 30, "e\u0301" * 45, "\u0958" * 25, "a" * 39 + "\u0958", "😀" * 41,
    ],  # fmt: skip
)
def test_month_cell_titles_are_truncated_as_truncatechars_does(title):
    from django.utils.text import Truncator

    from calendar_events.selectors import _truncated, truncation_text

    assert _truncated(title, 40) == Truncator(title).chars(40)
    # With the ending looked up once per grid, as the month view does.
    assert _truncated(title, 40, truncation_text()) == Truncator(title).chars(40)


def test_month_cells_show_time_title_and_status_escaped_in_both_layouts(client):
    """The month's cells are written in Python (selectors.month_cells_html), not by a template loop."""
    start = datetime(2027, 3, 10, 14, 30, tzinfo=LONDON)
    make_event(start=start, title="Tea <b>& chat</b>", status=Event.Status.CANCELLED)
    make_event(start=start + timedelta(hours=1), title="Plain")
    content = client.get(reverse("calendar_events:event_month"), {"month": "2027-03"}).content.decode()
    cell = '14:30 Tea &lt;b&gt;&amp; chat&lt;/b&gt;</a> <span class="badge text-bg-warning">Cancelled</span></li>'
    assert content.count(cell) == 2  # the phone list and the grid
    assert content.count("15:30 Plain</a></li>") == 2
    assert "<b>& chat" not in content


# event_month.html's day loops as they were before selectors.month_days_html wrote the days in Python.
_MONTH_DAY_LOOPS = """{% load i18n %}{% for week in grid.weeks %}{% for day in week %}{% if day.in_month and day.shown %}
  <h2 class="h6 mt-3 mb-1{% if day.date == today %} text-primary{% endif %}"><a href="{{ week_url }}?{% if query %}{{ query }}&amp;{% endif %}date={{ day.iso }}">{{ day.date|date:"l j F" }}</a>{% if day.date == today %} ({% translate "today" %}){% endif %}</h2>
  <ul class="list-unstyled border-start ps-2 mb-0">{{ day.cells }}{% if day.more %}<li><a class="small" href="{{ week_url }}?{% if query %}{{ query }}&amp;{% endif %}date={{ day.iso }}">{% blocktranslate count counter=day.more %}and {{ counter }} more{% plural %}and {{ counter }} more{% endblocktranslate %}</a></li>{% endif %}</ul>
  {% endif %}{% endfor %}{% endfor %}|{% for week in grid.weeks %}<tr>{% for day in week %}
    <td class="{% if not day.in_month %}text-muted bg-light{% endif %}{% if day.date == today %} table-info{% endif %}">
      <div class="fw-bold"><a href="{{ week_url }}?{% if query %}{{ query }}&amp;{% endif %}date={{ day.iso }}" aria-label="{{ day.date|date:'l j F Y' }}">{{ day.number }}</a></div>
      {% if day.shown %}<ul class="list-unstyled small mb-0">{{ day.cells }}</ul>{% endif %}
      {% if day.more %}<a class="small" href="{{ week_url }}?{% if query %}{{ query }}&amp;{% endif %}date={{ day.iso }}">{% blocktranslate count counter=day.more %}and {{ counter }} more{% plural %}and {{ counter }} more{% endblocktranslate %}</a>{% endif %}
    </td>{% endfor %}</tr>{% endfor %}"""


@pytest.mark.parametrize("query", ["", "q=tea+%26+<chat>&category=training"])
def test_month_days_are_written_as_the_template_loops_wrote_them(query):
    """selectors.month_days_html gives the very bytes the template's loops gave: every weekday and
    month name, today in and out of the month, days with and without entries, one and many more."""
    from datetime import date

    from calendar_events.selectors import MonthEntry, month_cells_html, month_days_html

    def entry(*state):
        made = MonthEntry.__new__(MonthEntry)
        made.__setstate__(state)
        return made

    shown = [
        entry("/calendar/events/a/", "09:00", "Tea <b>& chat</b>", "cancelled"),
        entry("/e/b/", "10:30", "Plain", "scheduled"),
    ]
    first = date(2026, 12, 28)  # a Monday: 56 weeks, every weekday and month name
    weeks = []
    for week in range(56):
        days = []
        for n in range(7):
            day = first + timedelta(days=7 * week + n)
            days.append(
                {
                    "date": day,
                    "in_month": day.month % 2 == 1,
                    "shown": shown[: day.day % 3],
                    "more": [0, 1, 2, 1500][day.day % 4],
                    "iso": day.isoformat(),
                    "number": day.day,
                }
            )
        weeks.append(days)
    today = date(2027, 3, 10)
    days_today = [day for week in weeks for day in week if day["date"] == today]
    assert days_today[0]["shown"] and days_today[0]["in_month"]  # today is shown in both layouts
    phone, rows = month_days_html(weeks, today=today, week_url="/calendar/week/", query=query)
    for week in weeks:
        for day in week:
            day["cells"] = month_cells_html(day["shown"])
    expected = Template(_MONTH_DAY_LOOPS).render(
        Context({"grid": {"weeks": weeks}, "today": today, "week_url": "/calendar/week/", "query": query})
    )
    assert f"{phone}|{rows}" == expected
    assert "table-info" in rows and "(today)" in phone and "and 1500 more" in rows
