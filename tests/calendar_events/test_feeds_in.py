"""calendar_events.feeds_in: importing partners' feeds served by a real local HTTP server."""

import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendar_events import feeds_in, services
from calendar_events.models import CalendarFeed, Event, FeedImportLog
from calendar_events.recurrence import LONDON
from directory.models import Reminder
from tests.factories import make_organisation, make_provider, make_user

pytestmark = pytest.mark.django_db

ROUTES: dict[str, tuple] = {}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        route = ROUTES.get(self.path)
        if route is None:
            self.send_response(404)
            self.end_headers()
            return
        kind, body = route
        if kind == "slow":
            time.sleep(body)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
            return
        if kind == "trickle":
            self.send_response(200)
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"X" * 10)
                self.wfile.flush()
                time.sleep(0.1)
            return
        if kind == "error":
            self.send_response(500)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        if kind == "nolength":
            self.end_headers()
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(autouse=True)
def _feed_settings(settings):
    settings.PORTAL_CALENDAR_FEED_ALLOW_PRIVATE = True
    settings.PORTAL_CALENDAR_FEED_TIMEOUT = 1
    settings.PORTAL_CALENDAR_FEED_DEADLINE = 2
    settings.PORTAL_CALENDAR_FEED_MAX_BYTES = 20_000
    settings.PORTAL_CALENDAR_FEED_MAX_EVENTS = 50
    ROUTES.clear()


def vevent(uid, summary, start, *, hours=1, extra=""):
    end = start + timedelta(hours=hours)
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:{summary}\r\n"
        f"DTSTART;TZID=Europe/London:{start:%Y%m%dT%H%M%S}\r\nDTEND;TZID=Europe/London:{end:%Y%m%dT%H%M%S}\r\n{extra}END:VEVENT\r\n"
    )


def calendar(*events):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Partner//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n"
    ).encode()


def _feed(server, path, organisation=None):
    return CalendarFeed.objects.create(
        organisation=organisation or make_provider(), url=server + path, category="training"
    )


def test_create_update_withdraw_and_unchanged_reimport_writes_nothing(server):
    start = datetime(2027, 6, 1, 10, 0)
    ROUTES["/a.ics"] = (
        "ok",
        calendar(
            vevent("one@partner", "One", start),
            vevent(
                "two@partner",
                "Two",
                start + timedelta(days=1),
                extra="RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=Europe/London:20270609T100000\r\n",
            ),
            vevent("three@partner", "Three", start + timedelta(days=2)),
        ),
    )
    feed = _feed(server, "/a.ics")
    log = feeds_in.import_feed(feed_id=feed.pk)
    assert (log.succeeded, log.created, log.updated, log.withdrawn) == (True, 3, 0, 0)
    two = Event.objects.get(feed=feed, remote_uid="two@partner")
    assert (two.frequency, two.repeat_count, two.exceptions) == ("weekly", 4, ["2027-06-09"])
    assert two.start == start.replace(tzinfo=LONDON) + timedelta(days=1)
    assert Event.objects.published().filter(feed=feed).count() == 3  # a provider's feed publishes directly

    with CaptureQueriesContext(connection) as queries:
        log = feeds_in.import_feed(feed_id=feed.pk)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "DELETE"))
        or (q["sql"].lstrip().upper().startswith("UPDATE") and "calendar_events_event" in q["sql"])
    ]
    assert log.unchanged == 3 and writes == []
    assert FeedImportLog.objects.filter(feed=feed).count() == 1

    user = make_user()
    three = Event.objects.get(feed=feed, remote_uid="three@partner")
    Event.objects.filter(pk=three.pk).update(booking_required=True)
    services.book(event=Event.objects.get(pk=three.pk), occurrence_start=three.start, user=user)
    ROUTES["/a.ics"] = (
        "ok",
        calendar(
            vevent("one@partner", "One, renamed", start),
            vevent(
                "two@partner",
                "Two",
                start + timedelta(days=1),
                extra="RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=Europe/London:20270609T100000\r\n",
            ),
        ),
    )
    log = feeds_in.import_feed(feed_id=feed.pk)
    assert (log.created, log.updated, log.withdrawn, log.unchanged) == (0, 1, 1, 1)
    one = Event.objects.get(feed=feed, remote_uid="one@partner")
    assert one.title == "One, renamed" and one.sequence == 1
    three.refresh_from_db()
    assert three.is_withdrawn and not Event.objects.published().filter(pk=three.pk).exists()
    assert Reminder.objects.filter(kind="calendar-change", recipients=[user.email]).exists()

    # It comes back: restored, not duplicated.
    ROUTES["/a.ics"] = (
        "ok",
        calendar(
            vevent("one@partner", "One, renamed", start), vevent("three@partner", "Three", start + timedelta(days=2))
        ),
    )
    log = feeds_in.import_feed(feed_id=feed.pk)
    assert Event.objects.filter(feed=feed, remote_uid="three@partner", is_withdrawn=False).count() == 1


def test_vco_feed_events_wait_for_moderation(server):
    ROUTES["/vco.ics"] = ("ok", calendar(vevent("x@vco", "Coffee morning", datetime(2027, 6, 1, 10))))
    feed = _feed(server, "/vco.ics", organisation=make_organisation())
    feeds_in.import_feed(feed_id=feed.pk)
    assert Event.objects.get(feed=feed).moderation == Event.Moderation.PENDING


def test_unsupported_events_skipped_with_reasons(server):
    start = datetime(2027, 6, 1, 10)
    ROUTES["/mixed.ics"] = (
        "ok",
        calendar(
            vevent("ok@p", "Fine", start),
            vevent("forever@p", "Forever", start, extra="RRULE:FREQ=WEEKLY\r\n"),
            vevent("daily@p", "Daily", start, extra="RRULE:FREQ=DAILY;COUNT=3\r\n"),
            vevent("backwards@p", "Backwards", start, hours=-1),
        ),
    )
    feed = _feed(server, "/mixed.ics")
    log = feeds_in.import_feed(feed_id=feed.pk)
    assert log.succeeded and log.created == 1 and log.skipped == 3
    text = " ".join(log.warnings)
    assert "repeats for ever" in text and "not one the calendar supports" in text and "ends before it starts" in text


def _prime(server):
    """A feed with one imported event, then broken: the event must survive every failure."""
    ROUTES["/f.ics"] = ("ok", calendar(vevent("keep@p", "Keep me", datetime(2027, 6, 1, 10))))
    feed = _feed(server, "/f.ics")
    assert feeds_in.import_feed(feed_id=feed.pk).succeeded
    return feed


@pytest.mark.parametrize(
    "route, message",
    [
        (("error", b""), "HTTP 500"),
        (("ok", b"<html><body>Our events page</body></html>"), "not give an iCalendar feed"),
        (("ok", b"BEGIN:VCALENDAR\r\nthis is not : valid\r\nBEGIN:VEVENT\r\n"), "not valid iCalendar"),
        (
            ("ok", b"BEGIN:VCALENDAR\r\n" + b"X-FILLER:" + b"y" * 30_000 + b"\r\nEND:VCALENDAR\r\n"),
            "larger than the limit",
        ),
        (
            ("nolength", b"BEGIN:VCALENDAR\r\n" + b"X-FILLER:" + b"y" * 30_000 + b"\r\nEND:VCALENDAR\r\n"),
            "larger than the limit",
        ),
        (
            ("ok", calendar(*[vevent(f"e{n}@p", "Many", datetime(2027, 6, 1, 10)) for n in range(60)])),
            "more than the limit of 50",
        ),
        (("slow", 3), "took too long"),
        (("trickle", None), "took too long"),
    ],
    ids=[
        "http-error",
        "web-page",
        "malformed",
        "too-large",
        "too-large-streamed",
        "too-many-events",
        "slow",
        "trickle",
    ],
)
def test_broken_feed_records_error_and_leaves_events_untouched(server, route, message):
    feed = _prime(server)
    before = list(Event.objects.filter(feed=feed).values("pk", "title", "sequence", "is_withdrawn"))
    ROUTES["/f.ics"] = route
    started = time.monotonic()
    log = feeds_in.import_feed(feed_id=feed.pk)
    assert time.monotonic() - started < 5
    feed.refresh_from_db()
    assert not log.succeeded and message in log.error
    assert feed.status == CalendarFeed.Status.ERROR and message in feed.last_error
    assert list(Event.objects.filter(feed=feed).values("pk", "title", "sequence", "is_withdrawn")) == before


def test_unreachable_feed(server):
    feed = CalendarFeed.objects.create(organisation=make_provider(), url="http://127.0.0.1:9/none.ics")
    log = feeds_in.import_feed(feed_id=feed.pk)
    assert not log.succeeded and "could not be reached" in log.error


def test_private_addresses_refused_unless_allowed(settings, server):
    settings.PORTAL_CALENDAR_FEED_ALLOW_PRIVATE = False
    ROUTES["/p.ics"] = ("ok", calendar())
    feed = _feed(server, "/p.ics")
    log = feeds_in.import_feed(feed_id=feed.pk)
    assert "private network" in log.error


def test_slow_feed_does_not_delay_others(server):
    """Each feed is its own task: run side by side, the good feed is done long before the slow one times out."""
    ROUTES["/slow.ics"] = ("slow", 3)
    ROUTES["/good.ics"] = ("ok", calendar(vevent("g@p", "Good", datetime(2027, 6, 1, 10))))
    slow, good = _feed(server, "/slow.ics"), _feed(server, "/good.ics")
    timings = {}

    def run(feed, name):
        started = time.monotonic()
        try:
            feeds_in.parse(feeds_in.fetch(feed.url))
        except feeds_in.FeedError:
            pass
        timings[name] = time.monotonic() - started

    threads = [threading.Thread(target=run, args=(slow, "slow")), threading.Thread(target=run, args=(good, "good"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert timings["good"] < 0.5 < timings["slow"]
    assert feeds_in.import_feed(feed_id=good.pk).created == 1


def test_register_feed_refuses_duplicates_and_bad_schemes():
    from django.core.exceptions import ValidationError

    provider = make_provider()
    services.register_feed(organisation=provider, url="https://partner.example.org/cal.ics", category="training")
    with pytest.raises(ValidationError, match="registered"):
        services.register_feed(organisation=provider, url="https://partner.example.org/cal.ics", category="training")
    with pytest.raises(ValidationError):
        services.register_feed(organisation=provider, url="ftp://partner.example.org/cal.ics", category="training")


def test_sweep_queues_each_due_feed(monkeypatch):
    from calendar_events import tasks

    provider = make_provider()
    due = CalendarFeed.objects.create(organisation=provider, url="https://a.example.org/1.ics")
    CalendarFeed.objects.create(organisation=provider, url="https://a.example.org/2.ics", is_active=False)
    queued = []
    monkeypatch.setattr(tasks.import_feed, "apply_async", lambda args, **kwargs: queued.append(args[0]))
    assert tasks.queue_due_feeds() == 1 and queued == [due.pk]
