"""calendar_events.feeds_in: importing partners' feeds served by a real local HTTP server."""

import threading
import time
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendar_events import feeds_in, services
from calendar_events.models import CalendarFeed, Event, FeedImportLog
from calendar_events.recurrence import LONDON
from core import outbound
from notifications.models import Reminder
from tests.factories import make_organisation, make_provider, make_user
from tests.local_server import serving

pytestmark = pytest.mark.django_db

ROUTES: dict[str, tuple] = {}


def _respond(handler) -> None:
    route = ROUTES.get(handler.path)
    if route is None:
        handler.not_found()
        return
    kind, body = route
    if kind == "slow":
        time.sleep(body)
        handler.send(200, {}, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", length=False)
        return
    if kind == "trickle":
        handler.send_response(200)
        handler.end_headers()
        for _ in range(40):
            handler.wfile.write(b"X" * 10)
            handler.wfile.flush()
            time.sleep(0.1)
        return
    if kind == "error":
        handler.send(500, {}, b"", length=False)
        return
    if kind == "hang":  # accepts, then says nothing at all for a long time
        time.sleep(body)
        return
    if kind == "drip":  # a body that never ends, one byte at a time, each well within the read timeout
        handler.send_response(200)
        handler.end_headers()
        for _ in range(body):
            try:
                handler.wfile.write(b"B")
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(0.05)
        return
    handler.send(200, {"Content-Type": "text/calendar"}, body, length=kind != "nolength")


@pytest.fixture(scope="module")
def server():
    with serving(_respond) as url:
        yield url


@pytest.fixture(autouse=True)
def _feed_settings(settings, monkeypatch):
    # The test server is on 127.0.0.1, which the SSRF guard refuses: allowed here, explicitly, only.
    monkeypatch.setattr(outbound, "ALLOWED_TEST_ADDRESSES", frozenset({"127.0.0.1"}))
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


def test_private_addresses_refused_unless_allowed(monkeypatch, server):
    monkeypatch.setattr(outbound, "ALLOWED_TEST_ADDRESSES", frozenset())
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
    monkeypatch.setattr(tasks.import_feed, "apply_async", lambda args, **kwargs: queued.append((args[0], kwargs["queue"])))
    assert tasks.queue_due_feeds() == 1 and queued == [(due.pk, "long")]  # on the long-task queue, not the reminders' queue


# Hostile feeds (issue 12) ---------------------------------------------------------------------------


def raw(uid, lines, summary=None):
    """A VEVENT with the given raw lines (DTSTART and the rest), written as a partner's server might."""
    return f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{summary or uid}\r\n{lines}END:VEVENT\r\n"


def good(n):
    return vevent(f"good{n}@p", f"Good {n}", datetime(2027, 6, 1, 10) + timedelta(days=n))


def _many(template: str, count: int) -> bytes:
    return b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + b"".join(
        template.format(n=n).encode() for n in range(count)
    ) + b"END:VCALENDAR\r\n"


PRODUCTION_LIMITS = {"MAX_BYTES": 10 * 1024 * 1024, "MAX_EVENTS": 5000, "DEADLINE": 20, "TIMEOUT": 5}

# name: (route, limits, created, skipped, error, words in the warnings)
HOSTILE = {
    "year-1-start": (
        (
            "ok",
            calendar(
                good(1),
                raw("y1-date", "DTSTART;VALUE=DATE:00010101\r\n"),
                raw("y1-utc", "DTSTART:00010101T000000Z\r\nDTEND:00010101T010000Z\r\n"),
                raw("y1-berlin", "DTSTART;TZID=Europe/Berlin:00010101T000000\r\n"),
                raw("y1-floating", "DTSTART:00010101T000000\r\nDTEND:20270601T100000\r\n"),
                good(2),
            ),
        ),
        {},
        2,
        4,
        "",
        ["outside the dates the calendar takes"],
    ),
    "year-9999-end": (
        (
            "ok",
            calendar(
                good(1),
                raw("e-date", "DTSTART;VALUE=DATE:20270601\r\nDTEND;VALUE=DATE:99991231\r\n"),
                raw("e-utc", "DTSTART:20270601T100000Z\r\nDTEND:99991231T235959Z\r\n"),
                raw("s-9999", "DTSTART;VALUE=DATE:99991231\r\n"),
                raw("duration", "DTSTART:20270601T100000Z\r\nDURATION:P99999999D\r\n"),
                good(2),
            ),
        ),
        {},
        2,
        4,
        "",
        ["outside the dates the calendar takes"],
    ),
    "100000-lowercase-events": (
        (
            "ok",
            _many("begin:vevent\r\nuid:{n}\r\ndtstart:20270601T100000Z\r\nsummary:x\r\nend:vevent\r\n", 100_000),
        ),
        PRODUCTION_LIMITS,
        0,
        0,
        "The feed has 100000 events, more than the limit of 5000",
        [],
    ),
    "100000-folded-events": (
        (
            "ok",
            _many("BEG\r\n IN:VEV\r\n\tENT\r\nUID:{n}\r\nDTSTART:20270601T100000Z\r\nEND:VEVENT\r\n", 100_000),
        ),
        PRODUCTION_LIMITS,
        0,
        0,
        "The feed has 100000 events, more than the limit of 5000",
        [],
    ),
    "nul-bytes": (
        (
            "ok",
            calendar(
                good(1),
                raw(
                    "nul\x00uid",
                    "DTSTART:20270601T100000Z\r\nDESCRIPTION:a\x00b\r\nLOCATION:Hall\x00 1\r\n",
                    summary="Tea\x00 party",
                ),
                raw("nul-skipped", "DTSTART:20270601T100000Z\r\nDTEND:20270601T090000Z\r\n", summary="Bad\x00 one"),
            ),
        ),
        {},
        2,
        1,
        "",
        ["Bad one", "ends before it starts"],
    ),
    "2000-character-uid": (
        ("ok", calendar(good(1), raw("u" * 2000, "DTSTART:20270601T100000Z\r\n", summary="Long UID"), good(2))),
        {},
        2,
        1,
        "",
        ["UID is longer than 500 characters"],
    ),
    "malformed-among-good": (
        (
            "ok",
            calendar(
                good(1),
                "BEGIN:VEVENT\r\nSUMMARY:No UID\r\nDTSTART:20270601T100000Z\r\nEND:VEVENT\r\n",
                raw("no-start", ""),
                raw("bad-start", "DTSTART:20271399T250000\r\n"),
                raw("bad-param", 'DTSTART;TZID="unterminated:20270601T100000Z\r\n'),
                raw("negative-count", "DTSTART:20270601T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=-5\r\n"),
                raw("broken-rule", "DTSTART:20270601T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=99999999999999999999\r\n"),
                raw("nonsense-rule", "DTSTART:20270601T100000Z\r\nRRULE:FREQ=SOMETIMES;INTERVAL=x\r\n"),
                raw("moved", "DTSTART:20270601T100000Z\r\nRECURRENCE-ID:20270601T100000Z\r\n"),
                raw("junk-line", "this line has no colon\r\nDTSTART:20270602T100000Z\r\n"),
                raw("twice", "DTSTART:20270603T100000Z\r\n", summary="Once\r\nSUMMARY:Twice"),
                good(1).replace("Good 1", "Good 1 again"),
                good(2),
            ),
        ),
        {},
        4,
        9,
        "",
        ["no UID", "no start time", "dates could not be read", "repeat rule (FREQ=SOMETIMES", "second event"],
    ),
    "not-icalendar-at-all": (
        ("ok", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20),
        {},
        0,
        0,
        "not give an iCalendar feed",
        [],
    ),
    "garbage-after-header": (
        ("ok", b"BEGIN:VCALENDAR\r\n" + bytes(range(256)) * 20),
        {},
        0,
        0,
        "not valid iCalendar",
        [],
    ),
    "broken-timezone": (
        (
            "ok",
            b"BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Weird\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
            b"TZOFFSETFROM:+9959\r\nTZOFFSETTO:+9959\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
            + calendar(raw("w", "DTSTART;TZID=Weird:20270601T100000\r\n"))[len(b"BEGIN:VCALENDAR\r\n") :],
        ),
        {},
        0,
        0,
        "not valid iCalendar",
        [],
    ),
    "endless-and-huge-repeats": (
        (
            "ok",
            calendar(
                good(1),
                raw("huge-count", "DTSTART:20270601T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=1000000000\r\n"),
                raw("no-end", "DTSTART:20270601T100000Z\r\nRRULE:FREQ=WEEKLY\r\n"),
                raw("until-9999", "DTSTART:20270601T100000Z\r\nRRULE:FREQ=WEEKLY;UNTIL=99991231T000000Z\r\n"),
                raw("monthly-520", "DTSTART:20270601T100000Z\r\nRRULE:FREQ=MONTHLY;BYDAY=1TU;COUNT=520\r\n"),
            ),
        ),
        {},
        1,
        4,
        "",
        ["1000000000 times", "repeats for ever", "at most 5 years", "outside the dates"],
    ),
    "timezone-weirdness": (
        (
            "ok",
            calendar(
                raw("unknown-zone", "DTSTART;TZID=Mars/Olympus:20270601T100000\r\n"),
                raw("berlin", "DTSTART;TZID=Europe/Berlin:20270601T100000\r\n"),
                raw("gap", "DTSTART;TZID=Europe/London:20270328T013000\r\n"),  # read as 02:30 BST (RFC 5545)
                raw("gap-floating", "DTSTART:20270328T013000\r\n"),
                raw("mixed", "DTSTART;TZID=Europe/London:20270601T100000\r\nDTEND:20270601T100000Z\r\n"),
                raw("utc-end-before", "DTSTART;TZID=Europe/London:20270601T103000\r\nDTEND:20270601T093000Z\r\n"),
            ),
        ),
        {},
        4,
        2,
        "",
        ["does not exist in London", "ends before it starts"],
    ),
    "old-events": (
        ("ok", calendar(good(1), *[raw(f"old{n}", f"DTSTART:2020010{n}T100000Z\r\n") for n in range(1, 6)])),
        {},
        1,
        5,
        "",
        ["Skipped 5 events that ended more than a year ago."],
    ),
    "hangs": (("hang", 10), {}, 0, 0, "took too long", []),
    "drips-for-ever": (("drip", 2000), {}, 0, 0, "took too long", []),
    "huge-body": (
        ("nolength", b"BEGIN:VCALENDAR\r\n" + b"X" * (30 * 1024 * 1024)),
        PRODUCTION_LIMITS,
        0,
        0,
        "larger than the limit of 10 MB",
        [],
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_feed_is_logged_and_never_crashes_the_sweep(settings, server, name):
    from calendar_events import tasks

    route, limits, created, skipped, error, words = HOSTILE[name]
    for key, value in limits.items():
        setattr(settings, f"PORTAL_CALENDAR_FEED_{key}", value)
    ROUTES["/hostile.ics"] = route
    feed = _feed(server, "/hostile.ics")
    started = time.monotonic()
    succeeded = tasks.import_feed(feed.pk)  # the task the sweep queues: it must not raise
    took = time.monotonic() - started
    feed.refresh_from_db()
    log = feed.logs.get()
    print(
        f"\nREPORT {name}: {'imported' if succeeded else 'FAILED'} created={log.created} skipped={log.skipped} "
        f"error={log.error!r} warnings={[w[:110] for w in log.warnings]} took={took:.2f}s"
    )
    assert succeeded is (not error) and log.succeeded is (not error)
    assert (log.created, log.skipped) == (created, skipped)
    assert Event.objects.filter(feed=feed).count() == created
    assert error in log.error
    for word in words:
        assert any(word in warning for warning in log.warnings), (word, log.warnings)
    assert not any("\x00" in text for text in [log.error, *log.warnings])
    assert feed.status == (CalendarFeed.Status.ERROR if error else CalendarFeed.Status.OK)
    assert feed.last_error == log.error
    # Tried, so not due again before the interval: a hostile feed does not come back every sweep.
    assert feed.last_attempt_at is not None and not feeds_in.feeds_due().filter(pk=feed.pk).exists()
    assert took < limits.get("DEADLINE", 2) + 10


def test_nul_bytes_are_removed_from_what_is_stored(server):
    ROUTES["/nul.ics"] = HOSTILE["nul-bytes"][0]
    feed = _feed(server, "/nul.ics")
    feeds_in.import_feed(feed_id=feed.pk)
    event = Event.objects.get(feed=feed, remote_uid="nuluid")
    assert (event.title, event.description, event.location_text) == ("Tea party", "ab", "Hall 1")


def test_the_event_cap_counts_the_events_parsed(monkeypatch):
    """Whatever the quick count before parsing misses, the events the parser found are counted too."""
    import re

    monkeypatch.setattr(feeds_in, "_BEGIN_VEVENT", re.compile(rb"(?!)"))
    data = calendar(*[vevent(f"e{n}@p", "Many", datetime(2027, 6, 1, 10)) for n in range(60)])
    with pytest.raises(feeds_in.FeedError, match="60 events, more than the limit of 50"):
        feeds_in.parse(data)


def test_a_log_that_cannot_be_saved_still_marks_the_feed_failed(server, monkeypatch):
    from django.db import DataError

    ROUTES["/f.ics"] = ("ok", calendar(good(1)))
    feed = _feed(server, "/f.ics")

    def refuse(*args, **kwargs):
        raise DataError("value too long")

    monkeypatch.setattr(FeedImportLog, "save", refuse)
    log = feeds_in.import_feed(feed_id=feed.pk)
    feed.refresh_from_db()
    assert not log.succeeded and "unexpected problem (DataError)" in feed.last_error
    assert feed.status == CalendarFeed.Status.ERROR and not feeds_in.feeds_due().filter(pk=feed.pk).exists()


def test_failing_feed_shown_to_its_owner(client, server):
    from django.urls import reverse

    from tests.factories import make_affiliation

    provider = make_provider()
    ROUTES["/f.ics"] = ("ok", b"<html>Our events page</html>")
    feed = _feed(server, "/f.ics", organisation=provider)
    feeds_in.import_feed(feed_id=feed.pk)
    owner = make_user()
    make_affiliation(user=owner, organisation=provider)
    client.force_login(owner)
    for page in (reverse("calendar_events:my_events"), reverse("calendar_events:feed_detail", args=[feed.pk])):
        text = client.get(page).content.decode()
        assert "Failed" in text and "does not give an iCalendar feed" in text, page


def test_events_that_became_history_are_kept_not_withdrawn(server):
    """A feed still listing last year's events: they are skipped (one line in the log), and the ones
    imported before stay as they were; an event that disappears, or now has impossible dates, is withdrawn."""
    from django.utils import timezone

    now = timezone.now()
    ROUTES["/h.ics"] = ("ok", calendar(good(1), good(2), good(3)))
    feed = _feed(server, "/h.ics")
    assert feeds_in.import_feed(feed_id=feed.pk).created == 3
    one, two = Event.objects.get(remote_uid="good1@p"), Event.objects.get(remote_uid="good2@p")
    ROUTES["/h.ics"] = (
        "ok",
        calendar(good(1), raw("good2@p", "DTSTART;VALUE=DATE:00010101\r\n")),
    )
    later = now + timedelta(days=800)  # good1 now ended more than a year ago
    parsed = feeds_in.parse(ROUTES["/h.ics"][1], now=later)
    assert parsed.past == {"good1@p"} and parsed.events == {}
    log = FeedImportLog(feed=feed)
    feeds_in._apply(feed=feed, parsed=parsed, log=log)
    one.refresh_from_db(), two.refresh_from_db()
    assert not one.is_withdrawn and one.sequence == 0
    assert two.is_withdrawn and Event.objects.get(remote_uid="good3@p").is_withdrawn
