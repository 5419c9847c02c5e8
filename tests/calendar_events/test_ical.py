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


def test_feed_read_as_values_writes_what_the_events_themselves_write():
    """The feeds read plain values (selectors.feed_events), not Event instances: the text must be the
    same, byte for byte, for every kind of event a feed carries."""
    from calendar_events import selectors

    with_email, without_email = make_provider(email="events@example.org"), make_provider(email="")
    venue = make_location(organisation=with_email, name="Hall; with, punctuation", address_line_2="Back door")
    make_event(organiser=with_email, venue=venue, title="At a hall", description="<b>Bold</b> &amp; plain\r\ntext")
    make_event(organiser=without_email, online_url="https://meet.example.org/a", booking_required=True, title="Booked")
    make_event(organiser=without_email, online_url="https://meet.example.org/b", title="Open to all, online")
    make_event(
        organiser=with_email,
        start=datetime(2027, 3, 17, 10, 0, tzinfo=LONDON),
        frequency="weekly",
        repeat_count=6,
        exceptions=["2027-03-31"],
        title="ünïcödé " * 20,
        description="\ufeffStarts with a byte order mark, " + "long " * 40,
    )
    make_event(organiser=with_email, status=Event.Status.POSTPONED, location_text="Somewhere, E1")
    stamp = timezone.now()
    events = selectors.events_for_feed()
    assert len(events) == 5
    from_values = ical.calendar_text(selectors.feed_events(events), name="Test", stamp=stamp)
    assert from_values == ical.calendar_text(list(events), name="Test", stamp=stamp)
    assert "mailto:events@example.org" in from_values and "meet.example.org/b" in from_values
    assert "meet.example.org/a" not in from_values  # booking needed: the link is for people with a place


@pytest.mark.parametrize(
    "text",
    ["plain words", "  padded  ", "a > b, \"quoted\" 'text'", "<i>tag</i>", "fish &amp; chips", "&lt;", "a\r\nb",
     "a\rb", "nul\x00here", "\ufeffbom", "mid\ufeffbom", "\xa0non-breaking\xa0", "emoji 😀 and ünïcödé", ""],
)
def test_plain_text_skips_nh3_only_when_nh3_would_change_nothing(text):
    import html

    import nh3

    assert ical.plain_text(text) == html.unescape(nh3.clean(text, tags=set())).strip()


@pytest.mark.parametrize("length", [74, 75, 76, 149, 150, 151, 400])
def test_ascii_lines_fold_as_utf8_lines_do(length):
    line = "".join(chr(ord("a") + n % 26) for n in range(length))
    parts = ical.fold(line).split("\r\n")
    assert parts[0] == line[:75]
    assert all(part.startswith(" ") for part in parts[1:])
    assert all(len(part) == 75 for part in parts[:-1]) and 0 < len(parts[-1]) <= 75
    assert "".join([parts[0], *(part[1:] for part in parts[1:])]) == line

