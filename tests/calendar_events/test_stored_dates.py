"""No stored event makes a calendar page or feed fail (issue 12): the database refuses events with dates
outside the calendar's window (written straight to it, bypassing the import and the forms), events at
the window's limits show everywhere, and events withdrawn from their partner's feed or whose feed was
removed leave every feed."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import icalendar
import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from calendar_events import services
from calendar_events.models import CalendarFeed, Category, Event
from core.parameters import EARLIEST, LATEST
from tests.factories import make_affiliation, make_event, make_provider, make_user

pytestmark = pytest.mark.django_db

UTC = dt_timezone.utc
YEAR_1 = datetime(1, 1, 1, tzinfo=UTC)
YEAR_9999 = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def _utc(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _store(organiser, uid, start, end, *, series_end=None, **fields):
    return Event.objects.create(
        uid=uid,
        title=uid,
        organiser=organiser,
        start=start,
        end=end,
        series_end=series_end or end,
        moderation=Event.Moderation.APPROVED,
        online_url="https://meet.example.org/x",
        **fields,
    )


def _uids(response) -> set[str]:
    assert response.status_code == 200, response
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(component["UID"]) for component in calendar.walk("VEVENT")}


def test_the_database_refuses_events_outside_the_calendar_window():
    """Events at Python's limits broke /calendar/, every .ics and the admin for everyone: none can be stored,
    whatever writes it (a feed import, a form, the admin, a script)."""
    organiser = make_provider()
    outside = [
        ("year-1-to-9999", YEAR_1, YEAR_9999, {}),
        ("year-1", YEAR_1, YEAR_1 + timedelta(hours=1), {}),
        ("year-9999", YEAR_9999 - timedelta(hours=1), YEAR_9999, {}),
        (
            "weekly-from-year-1",
            YEAR_1,
            YEAR_1 + timedelta(hours=1),
            {"series_end": YEAR_1 + timedelta(weeks=500), "frequency": "weekly", "repeat_count": 500},
        ),
        (
            "monthly-into-year-10000",
            YEAR_9999 - timedelta(days=3),
            YEAR_9999 - timedelta(days=3, hours=-1),
            {"series_end": YEAR_9999, "frequency": "monthly", "repeat_count": 500},
        ),
        ("just-before", _utc(EARLIEST) - timedelta(hours=14), _utc(EARLIEST) + timedelta(hours=10), {}),
        (
            "series-past-the-end",
            _utc(LATEST),
            _utc(LATEST) + timedelta(hours=1),
            {"series_end": _utc(LATEST) + timedelta(days=7), "frequency": "weekly", "repeat_count": 2},
        ),
    ]
    for uid, start, end, fields in outside:
        with pytest.raises(IntegrityError, match="event_dates_in_calendar_window"), transaction.atomic():
            _store(organiser, uid, start, end, **fields)
    assert not Event.objects.exists()


def test_events_at_the_window_limits_show_on_every_page_and_feed(client):
    organiser = make_provider()
    normal = make_event(organiser=organiser, title="An ordinary event")
    ten, eleven = timedelta(hours=10), timedelta(hours=11)
    first_day = _store(organiser, "first-day", _utc(EARLIEST) + ten, _utc(EARLIEST) + eleven)
    last_day = _store(organiser, "last-day", _utc(LATEST) + ten, _utc(LATEST) + eleven)
    client.raise_request_exception = False

    pages = [
        reverse("calendar_events:event_list"),
        reverse("calendar_events:event_week"),
        reverse("calendar_events:event_month"),
        organiser.get_absolute_url(),
    ]
    for day in (EARLIEST, LATEST):
        pages += [
            f"{reverse('calendar_events:event_list')}?from={day.isoformat()}",
            f"{reverse('calendar_events:event_week')}?date={day.isoformat()}",
            f"{reverse('calendar_events:event_month')}?month={day.year}-{day.month:02d}",
        ]
    for page in pages:
        assert client.get(page).status_code == 200, page
    assert b"first-day" in client.get(pages[5]).content and b"last-day" in client.get(pages[8]).content

    feeds = [
        reverse("calendar_events:feed_all"),
        reverse("calendar_events:feed_organiser", args=[organiser.slug]),
        *(reverse("calendar_events:feed_category", args=[value]) for value in Category.values),
    ]
    for feed in feeds:
        _uids(client.get(feed))
    assert {normal.uid, last_day.uid} <= _uids(client.get(feeds[0]))

    for event in [normal, first_day, last_day]:
        assert client.get(event.get_absolute_url()).status_code == 200
        assert _uids(client.get(reverse("calendar_events:event_ics", args=[event.uuid]))) == {event.uid}

    owner = make_user()
    make_affiliation(user=owner, organisation=organiser)
    client.force_login(owner)
    assert client.get(reverse("calendar_events:my_events")).status_code == 200

    client.force_login(make_user(is_staff=True, is_superuser=True))
    changelist = reverse("admin:calendar_events_event_changelist")
    for page in [changelist, f"{changelist}?start__year=1900", f"{changelist}?start__year=2200&start__month=12"]:
        assert client.get(page).status_code == 200, page
    assert b"first-day" in client.get(changelist).content and b"last-day" in client.get(changelist).content
    for event in [first_day, last_day]:
        response = client.get(reverse("admin:calendar_events_event_change", args=[event.pk]))
        assert response.status_code == 200 and event.uid.encode() in response.content


def test_withdrawn_events_and_removed_feeds_leave_every_feed(client):
    organiser = make_provider()
    feed = CalendarFeed.objects.create(organisation=organiser, url="https://partner.example.org/cal.ics")
    kept = make_event(organiser=organiser, category="training", title="Still in its feed")
    withdrawn = make_event(organiser=organiser, category="training", title="Gone from its feed")
    removed = make_event(organiser=organiser, category="training", title="From a removed feed")
    for event in (kept, withdrawn):
        Event.objects.filter(pk=event.pk).update(feed=feed, remote_uid=event.title)
    Event.objects.filter(pk=withdrawn.pk).update(is_withdrawn=True)
    other_feed = CalendarFeed.objects.create(organisation=organiser, url="https://partner.example.org/other.ics")
    Event.objects.filter(pk=removed.pk).update(feed=other_feed, remote_uid="r")
    services.remove_feed(feed=other_feed)

    feeds = [
        reverse("calendar_events:feed_all"),
        reverse("calendar_events:feed_organiser", args=[organiser.slug]),
        reverse("calendar_events:feed_category", args=["training"]),
    ]
    for url in feeds:
        uids = _uids(client.get(url))
        assert kept.uid in uids and withdrawn.uid not in uids and removed.uid not in uids, url
    listing = client.get(reverse("calendar_events:event_list")).content.decode()
    assert kept.title in listing and withdrawn.title not in listing and removed.title not in listing

