"""calendar_events.ical and the feed views: RFC 5545 out, parsed back with icalendar and compared."""

from datetime import datetime, timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_events import ical, recurrence, services
from calendar_events.models import Event
from calendar_events.recurrence import LONDON
from tests.factories import make_event, make_location, make_provider

pytestmark = pytest.mark.django_db


def _parse(text: str) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(text)


def test_feed_round_trip_matches_events():
    provider = make_provider(email="events@example.org")
    venue = make_location(organisation=provider, name="Hall; with, punctuation")
    start = datetime(2027, 3, 17, 10, 0, tzinfo=LONDON)
    weekly = make_event(
        organiser=provider,
        start=start,
        frequency="weekly",
        repeat_count=6,
        exceptions=["2027-03-31"],
        venue=venue,
        title="Weekly drop-in, Bow",
        description="Line one\n\nLine *two* with ünïcödé " + "x" * 120,
    )
    monthly = make_event(
        organiser=provider,
        start=datetime(2027, 1, 12, 14, 0, tzinfo=LONDON),
        frequency="monthly",
        repeat_until=datetime(2027, 6, 30).date(),
    )
    cancelled = make_event(organiser=provider, status=Event.Status.CANCELLED)
    calendar = _parse(ical.calendar_text(Event.objects.all(), name="Test"))
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/London"
    by_uid = {str(c["UID"]): c for c in calendar.walk("VEVENT")}
    assert set(by_uid) == {weekly.uid, monthly.uid, cancelled.uid}

    component = by_uid[weekly.uid]
    assert str(component["SUMMARY"]) == "Weekly drop-in, Bow"
    assert component.decoded("DTSTART") == start
    assert component.decoded("DTSTART").tzinfo.key == "Europe/London"
    assert dict(component["RRULE"]) == {"FREQ": ["WEEKLY"], "COUNT": [6]}
    exdates = [value.dt for value in component["EXDATE"].dts]
    assert exdates == [datetime(2027, 3, 31, 10, 0, tzinfo=LONDON)]
    assert "Hall; with, punctuation" in str(component["LOCATION"])
    assert "ünïcödé" in str(component["DESCRIPTION"]) and "<" not in str(component["DESCRIPTION"])
    # icalendar's own expansion agrees with ours, clock change included.
    from dateutil.rrule import rrulestr

    rule = rrulestr(component["RRULE"].to_ical().decode(), dtstart=component.decoded("DTSTART"))
    theirs = [value for value in rule if value not in exdates]
    assert [value.astimezone(LONDON) for value in theirs] == [o.local_start for o in recurrence.occurrences(weekly)]

    assert dict(by_uid[monthly.uid]["RRULE"])["BYDAY"] == ["2TU"]
    assert str(by_uid[cancelled.uid]["STATUS"]) == "CANCELLED"
    assert str(by_uid[weekly.uid]["STATUS"]) == "CONFIRMED"


def test_uid_stable_and_sequence_bumped_on_change():
    event = make_event()
    first = _parse(ical.calendar_text([event], name="x")).walk("VEVENT")[0]
    services.save_event(event=Event.objects.get(pk=event.pk), data={"title": "New title"})
    event.refresh_from_db()
    second = _parse(ical.calendar_text([event], name="x")).walk("VEVENT")[0]
    assert str(first["UID"]) == str(second["UID"]) == event.uid
    assert (int(first["SEQUENCE"]), int(second["SEQUENCE"])) == (0, 1)


def test_long_lines_are_folded_at_75_octets():
    text = ical.calendar_text([make_event(title="é" * 150)], name="x")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_feed_views_whole_organiser_category_and_single_event(client):
    provider = make_provider()
    training = make_event(organiser=provider, category="training")
    social = make_event(category="social")
    pending = make_event(organiser=provider)
    Event.objects.filter(pk=pending.pk).update(moderation=Event.Moderation.PENDING)

    def uids(url):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
        return {str(c["UID"]) for c in _parse(response.content).walk("VEVENT")}

    assert uids(reverse("calendar_events:feed_all")) == {training.uid, social.uid}
    assert uids(reverse("calendar_events:feed_organiser", args=[provider.slug])) == {training.uid}
    assert uids(reverse("calendar_events:feed_category", args=["social"])) == {social.uid}
    assert uids(reverse("calendar_events:event_ics", args=[training.uuid])) == {training.uid}
    assert client.get(reverse("calendar_events:feed_category", args=["nonsense"])).status_code == 404


def test_webcal_links():
    assert (
        ical.webcal("https://portal.example.org/calendar/calendar.ics")
        == "webcal://portal.example.org/calendar/calendar.ics"
    )
    assert ical.webcal("http://127.0.0.1:8000/x.ics") == "webcal://127.0.0.1:8000/x.ics"


def test_old_events_leave_the_feed():
    old = make_event(start=timezone.now().replace(microsecond=0) - timedelta(days=200))
    from calendar_events import selectors

    assert old not in list(selectors.events_for_feed())
