"""Importing partners' iCalendar feeds.

Each feed is imported on its own (its own Celery task, its own transaction): fetched from a public
address only (core.outbound) with a connect and read timeout, an overall deadline and a byte cap
while streaming, parsed with icalendar, capped at a number of events, and only then written. An event
the calendar cannot hold (dates outside the window below, a repeat rule it does not support, a UID too
long...) is skipped with a warning in the log, never the whole feed; its text is cleaned of control
characters. A failure of the whole feed records a clear error on the feed and its log and leaves the
feed's events exactly as they were. Events are matched by UID; an event whose content is unchanged is
not written at all, so re-importing an unchanged feed writes nothing.
"""

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import icalendar
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import outbound

from . import recurrence
from .models import CalendarFeed, Event, FeedImportLog
from .permissions import publishes_directly

logger = logging.getLogger(__name__)


class FeedError(Exception):
    """A feed could not be imported; the message is for the feed's owner."""


# Fetching -----------------------------------------------------------------------------------------


def fetch(
    url: str, *, timeout: float | None = None, max_bytes: int | None = None, deadline_seconds: float | None = None
) -> bytes:
    """The feed's bytes, or FeedError: not a public address, unreachable, an HTTP error, too slow, or too
    large. core.outbound does the fetching (one DNS lookup, every address checked, the connection
    made to the checked address, redirects checked the same way)."""
    timeout = timeout if timeout is not None else settings.PORTAL_CALENDAR_FEED_TIMEOUT
    max_bytes = max_bytes if max_bytes is not None else settings.PORTAL_CALENDAR_FEED_MAX_BYTES
    deadline_seconds = deadline_seconds if deadline_seconds is not None else settings.PORTAL_CALENDAR_FEED_DEADLINE
    try:
        return outbound.fetch_public(
            url,
            timeout=timeout,
            max_bytes=max_bytes,
            deadline_seconds=deadline_seconds,
            headers={
                "User-Agent": f"{settings.SITE_NAME} calendar importer",
                "Accept": "text/calendar, */*;q=0.5",
            },
        )
    except outbound.FetchError as error:
        raise FeedError(str(error)) from None


# Parsing ------------------------------------------------------------------------------------------


# The dates an imported event may have. A date in year 1 or 9999 is a mistake in the partner's feed,
# which stored would be every page's problem: an event is skipped, with a warning, if it starts more
# than WINDOW_PAST ago or its last date ends more than WINDOW_FUTURE ahead. (The past reaches further
# than OLD_AFTER so that a weekly series that began years ago and still runs is kept.) Events whose
# last date ended more than OLD_AFTER ago are history: skipped too, with one line for them all.
WINDOW_PAST = timedelta(days=366 * 10)
WINDOW_FUTURE = timedelta(days=366 * 10)
OLD_AFTER = timedelta(days=366)
MAX_UID_LENGTH = Event._meta.get_field("remote_uid").max_length
# Control characters have no place in an event's text; PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Counting events before the full parse (which takes seconds per megabyte): lines unfolded first, any
# case, any parameters, so "begin:vevent" or a folded "BEG\r\n IN:VEVENT" count too. The count of the
# events the parser actually found is checked as well.
_FOLD = re.compile(rb"\r?\n[ \t]")
_BEGIN_VEVENT = re.compile(rb"^[ \t]*begin[^:\r\n]*:[ \t]*vevent", re.IGNORECASE | re.MULTILINE)


def clean_text(value, limit: int) -> str:
    """Text from a feed, as it may be stored: control characters (NUL among them) removed, cut to length."""
    return _CONTROL.sub("", str(value))[:limit]


@dataclass
class ParsedFeed:
    events: dict[str, dict] = field(default_factory=dict)  # remote UID -> field values
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0
    # UIDs of events skipped only for being history: one imported before stays as it was, not withdrawn.
    past: set[str] = field(default_factory=set)

    def skip(self, label: str, reason: str) -> None:
        self.skipped += 1
        self.warnings.append(
            _("Skipped “%(event)s”: %(reason)s.")
            % {"event": clean_text(label, 100), "reason": clean_text(reason, 300).rstrip(".")}
        )


def _as_aware(value) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: read as London wall time
            return recurrence.make_local(value)
        return value.astimezone(dt_timezone.utc)
    if isinstance(value, date):
        return recurrence.to_aware(datetime.combine(value, datetime.min.time()))
    raise ValueError(_("one of its dates could not be read (%(value)s)") % {"value": clean_text(value, 40)})


_FREQUENCIES = {
    ("WEEKLY", 1): Event.Frequency.WEEKLY,
    ("WEEKLY", 2): Event.Frequency.FORTNIGHTLY,
    ("MONTHLY", 1): Event.Frequency.MONTHLY,
}


def _recurrence_fields(component, start: datetime) -> dict:
    rule = component.get("RRULE")
    if rule is None:
        return {"frequency": Event.Frequency.ONCE, "repeat_count": None, "repeat_until": None, "exceptions": []}
    if isinstance(rule, list):
        raise ValueError(_("it has more than one repeat rule"))
    if not isinstance(rule, icalendar.vRecur):
        raise ValueError(_("its repeat rule (%(rule)s) could not be read") % {"rule": clean_text(rule, 100)})
    freq = (rule.get("FREQ") or [""])[0]
    interval = int((rule.get("INTERVAL") or [1])[0])
    frequency = _FREQUENCIES.get((freq, interval))
    local_start = start.astimezone(recurrence.LONDON)
    byday = [str(value) for value in rule.get("BYDAY", [])]
    weekday_code = recurrence.RRULE_WEEKDAYS[local_start.weekday()]
    if frequency in (Event.Frequency.WEEKLY, Event.Frequency.FORTNIGHTLY) and byday not in ([], [weekday_code]):
        frequency = None
    if frequency == Event.Frequency.MONTHLY:
        expected = f"{recurrence.nth_weekday(local_start.date())}{weekday_code}"
        if byday != [expected] and not (byday == [f"+{expected}"]):
            frequency = None
    extra = set(rule) - {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL", "WKST"}
    if frequency is None or extra:
        raise ValueError(
            _("its repeat rule (%(rule)s) is not one the calendar supports (weekly, fortnightly or monthly by weekday)")
            % {"rule": rule.to_ical().decode()}
        )
    count = rule.get("COUNT")
    until = rule.get("UNTIL")
    if not count and not until:
        raise ValueError(_("it repeats for ever (its repeat rule has no COUNT or UNTIL)"))
    if count and not 1 <= int(count[0]) <= recurrence.MAX_OCCURRENCES:
        raise ValueError(
            _("it repeats %(count)s times; the calendar takes 1 to %(max)s")
            % {"count": count[0], "max": recurrence.MAX_OCCURRENCES}
        )
    until_value = None
    if until:
        until_value = until[0]
        until_value = (
            until_value.astimezone(recurrence.LONDON).date()
            if isinstance(until_value, datetime) and until_value.tzinfo
            else (until_value.date() if isinstance(until_value, datetime) else until_value)
        )
    exceptions = set()
    exdates = component.get("EXDATE")
    for group in exdates if isinstance(exdates, list) else [exdates] if exdates is not None else []:
        for value in group.dts:
            dt = value.dt
            exceptions.add(
                (
                    dt.astimezone(recurrence.LONDON).date()
                    if isinstance(dt, datetime) and dt.tzinfo
                    else (dt.date() if isinstance(dt, datetime) else dt)
                ).isoformat()
            )
    return {
        "frequency": frequency,
        "repeat_count": int(count[0]) if count else None,
        "repeat_until": until_value if not count else None,
        "exceptions": sorted(exceptions),
    }


def _one(component, name: str):
    # A property given twice comes back as a list: the first one counts.
    value = component.get(name)
    return (value[0] if value else None) if isinstance(value, list) else value


def _day(value: datetime) -> str:
    try:
        return value.astimezone(recurrence.LONDON).date().isoformat()
    except OverflowError:  # a London date before year 1 or after 9999
        return value.date().isoformat()


def _too_many(count: int, max_events: int) -> FeedError:
    return FeedError(
        _("The feed has %(count)s events, more than the limit of %(max)s, so it was not imported.")
        % {"count": count, "max": max_events}
    )


def parse(data: bytes, *, max_events: int | None = None, now: datetime | None = None) -> ParsedFeed:
    """The feed's events as field values, keyed by UID. An event the calendar cannot hold is skipped with
    a warning, never the feed; FeedError only when the feed as a whole is not iCalendar or too big."""
    max_events = max_events if max_events is not None else settings.PORTAL_CALENDAR_FEED_MAX_EVENTS
    now = now or timezone.now()
    if b"BEGIN:VCALENDAR" not in data[:4096].upper():
        raise FeedError(
            _(
                "The address does not give an iCalendar feed (no BEGIN:VCALENDAR): check it is the calendar's .ics address, not a web page."
            )
        )
    # Count before the full parse: a feed with far too many events is refused without building them all.
    count = len(_BEGIN_VEVENT.findall(_FOLD.sub(b"", data)))
    if count > max_events:
        raise _too_many(count, max_events)
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as error:  # whatever the parser trips on, the answer is the same: not iCalendar
        reason = clean_text(error, 300) or error.__class__.__name__
        raise FeedError(_("The feed is not valid iCalendar: %(error)s") % {"error": reason}) from None
    if isinstance(calendar, list):
        calendar = calendar[0]
    components = calendar.walk("VEVENT")
    if len(components) > max_events:
        raise _too_many(len(components), max_events)
    parsed, old = ParsedFeed(), 0
    earliest, latest, old_before = now - WINDOW_PAST, now + WINDOW_FUTURE, now - OLD_AFTER
    for component in components:
        uid = clean_text(_one(component, "UID") or "", MAX_UID_LENGTH + 1).strip()
        label = clean_text(_one(component, "SUMMARY") or "", 200).strip() or uid or _("(an event with no title)")
        try:
            values = _event_values(component, uid, label, earliest=earliest, latest=latest)
        except (ValueError, KeyError, TypeError, ValidationError) as error:
            reason = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            parsed.skip(label, reason)
            continue
        except Exception as error:  # one event's oddity (a date past year 9999...) is that event's alone
            parsed.skip(label, _("it could not be read (%(kind)s)") % {"kind": error.__class__.__name__})
            continue
        if values["series_end"] < old_before:
            old += 1
            parsed.skipped += 1
            parsed.past.add(uid)
            continue
        if uid in parsed.events:
            parsed.skipped += 1
            parsed.warnings.append(_("Skipped a second event with the UID %(uid)s.") % {"uid": uid[:100]})
            continue
        parsed.events[uid] = values
    if old:
        parsed.warnings.append(
            ngettext(
                "Skipped %(n)s event that ended more than a year ago.",
                "Skipped %(n)s events that ended more than a year ago.",
                old,
            )
            % {"n": old}
        )
    return parsed


def _event_values(component, uid: str, label: str, *, earliest: datetime, latest: datetime) -> dict:
    """One VEVENT's field values, or an exception saying why the calendar cannot take it."""
    if not uid:
        raise ValueError(_("it has no UID"))
    if len(uid) > MAX_UID_LENGTH:
        raise ValueError(_("its UID is longer than %(n)s characters") % {"n": MAX_UID_LENGTH})
    if component.get("RECURRENCE-ID") is not None:
        raise ValueError(_("changes to single dates of a series are not supported"))
    if component.get("DTSTART") is None:
        raise ValueError(_("it has no start time"))
    raw_start = component.decoded("DTSTART")
    try:
        start = _as_aware(raw_start)
        if component.get("DTEND") is not None:
            end = _as_aware(component.decoded("DTEND"))
        elif component.get("DURATION") is not None:
            end = start + component.decoded("DURATION")
        elif isinstance(raw_start, date) and not isinstance(raw_start, datetime):
            end = _as_aware(raw_start + timedelta(days=1))
        else:
            end = start + timedelta(hours=1)
    except OverflowError:  # next to year 1 or 9999: far outside the window anyway
        raise ValueError(_("its dates are outside the dates the calendar takes from a feed")) from None
    # Before any arithmetic on the dates (a series' dates, time zone conversions), which fails near
    # years 1 and 9999.
    if start < earliest or end > latest:
        raise ValueError(_outside_window(start, end, earliest, latest))
    if end <= start:
        raise ValueError(_("it ends before it starts"))
    location = clean_text(_one(component, "LOCATION") or "", 500)
    values = {
        "title": label[:200],
        "description": clean_text(_one(component, "DESCRIPTION") or "", 20000),
        "location_text": location,
        "start": start,
        "end": end,
        "status": Event.Status.CANCELLED
        if str(_one(component, "STATUS") or "").upper() == "CANCELLED"
        else Event.Status.SCHEDULED,
        **_recurrence_fields(component, start),
    }
    url = clean_text(_one(component, "URL") or "", 1000).strip()
    online_url_length = Event._meta.get_field("online_url").max_length
    values["online_url"] = (
        url
        if url.lower().startswith(("http://", "https://")) and len(url) <= online_url_length and not location
        else ""
    )
    values["series_end"] = recurrence.validate_series(
        start=start,
        end=end,
        frequency=values["frequency"],
        count=values["repeat_count"],
        until=values["repeat_until"],
        exceptions=values["exceptions"],
    )
    if values["series_end"] > latest:
        raise ValueError(_outside_window(start, values["series_end"], earliest, latest))
    return values


def _outside_window(start: datetime, end: datetime, earliest: datetime, latest: datetime) -> str:
    return _(
        "its dates (%(start)s to %(end)s) are outside the dates the calendar takes from a feed "
        "(%(earliest)s to %(latest)s)"
    ) % {
        "start": _day(start),
        "end": _day(end),
        "earliest": _day(earliest),
        "latest": _day(latest),
    }


def _digest(values: dict) -> str:
    def plain(value):
        return value.isoformat() if isinstance(value, (date, datetime)) else value

    return hashlib.sha256(
        json.dumps({key: plain(value) for key, value in sorted(values.items())}, sort_keys=True, default=str).encode()
    ).hexdigest()


def imported_uid(feed_id: int, remote_uid: str) -> str:
    # Our own UID for an imported event: stable, and unique even if two feeds share a UID.
    return (
        f"feed-{feed_id}-{hashlib.sha256(remote_uid.encode()).hexdigest()[:32]}@{settings.PORTAL_CALENDAR_UID_DOMAIN}"
    )


# Importing ----------------------------------------------------------------------------------------


def import_feed(*, feed_id: int) -> FeedImportLog:
    """Fetch, parse and apply one feed. Always returns the log, and always records the attempt on the
    feed (so a failing feed shows its error to its owner and waits for the next interval, rather than
    staying due and failing every sweep); a failure leaves the events untouched."""
    feed = CalendarFeed.objects.select_related("organisation").get(pk=feed_id)
    log = FeedImportLog(feed=feed, started_at=timezone.now())
    # Recorded first: even a run that never finishes (a worker killed at its time limit) is not retried
    # before the next interval.
    CalendarFeed.objects.filter(pk=feed.pk).update(last_attempt_at=log.started_at)
    try:
        parsed = parse(fetch(feed.url))
        with transaction.atomic():
            _apply(feed=feed, parsed=parsed, log=log)
    except FeedError as error:
        log.error = str(error)
    except Exception as error:  # an unforeseen failure is still this feed's alone
        logger.exception("Importing feed %s failed", feed.pk)
        log.error = _unexpected(error)
    log.finished_at = timezone.now()
    _record(feed=feed, log=log)
    return log


def _unexpected(error: Exception) -> str:
    return _("The feed could not be imported because of an unexpected problem (%(kind)s).") % {
        "kind": error.__class__.__name__
    }


def _record(*, feed: CalendarFeed, log: FeedImportLog) -> None:
    """Save the log (when it says something new) and the feed's status. Nothing a feed sends can stop
    this: the texts are cleaned, and a log that still cannot be saved becomes the feed's error."""
    log.error = clean_text(log.error, 2000)
    log.warnings = [clean_text(warning, 500) for warning in log.warnings[:200]]
    log.succeeded = not log.error
    # A run that changed nothing is not logged (an unchanged feed imported every hour would fill the
    # log); the feed's own "last tried" time records it: one small update, no event is written.
    changed = log.created or log.updated or log.withdrawn or log.error or feed.status != CalendarFeed.Status.OK
    try:
        with transaction.atomic():
            if changed or log.warnings != (feed.logs.values_list("warnings", flat=True).first() or []):
                log.save()
    except Exception as error:
        logger.exception("Saving the import log of feed %s failed", feed.pk)
        log.error, log.succeeded = _unexpected(error), False
    feed.status = CalendarFeed.Status.ERROR if log.error else CalendarFeed.Status.OK
    feed.last_error = log.error
    feed.last_attempt_at = log.finished_at
    if not log.error:
        feed.last_success_at = log.finished_at
    CalendarFeed.objects.filter(pk=feed.pk).update(
        status=feed.status,
        last_error=feed.last_error,
        last_attempt_at=feed.last_attempt_at,
        last_success_at=feed.last_success_at,
    )


def _apply(*, feed: CalendarFeed, parsed: ParsedFeed, log: FeedImportLog) -> None:
    existing = {
        row["remote_uid"]: row
        for row in Event.objects.filter(feed=feed).values("pk", "remote_uid", "source_hash", "is_withdrawn")
    }
    approved = publishes_directly(feed.organisation)
    to_create, to_update = [], []
    for remote_uid, values in parsed.events.items():
        digest = _digest({**values, "category": feed.category})
        row = existing.get(remote_uid)
        if row and row["source_hash"] == digest and not row["is_withdrawn"]:
            log.unchanged += 1
            continue
        if row is None:
            to_create.append(
                Event(
                    feed=feed,
                    remote_uid=remote_uid,
                    uid=imported_uid(feed.pk, remote_uid),
                    organiser=feed.organisation,
                    category=feed.category,
                    source_hash=digest,
                    moderation=Event.Moderation.APPROVED if approved else Event.Moderation.PENDING,
                    **values,
                )
            )
        else:
            to_update.append((row["pk"], digest, values))
    Event.objects.bulk_create(to_create, batch_size=500)
    log.created = len(to_create)
    if to_update:
        from .services import _after_change, _snapshot

        events = Event.objects.select_for_update().in_bulk([pk for pk, _digest_value, _values in to_update])
        for pk, digest, values in to_update:
            event = events[pk]
            before = _snapshot(event)
            for name, value in values.items():
                setattr(event, name, value)
            event.category, event.source_hash, event.is_withdrawn = feed.category, digest, False
            event.sequence += 1
            event.save()
            changed = [name for name, value in before.items() if getattr(event, name) != value]
            _after_change(event=event, before=before, changed=changed)
        log.updated = len(to_update)
    gone = [
        row["pk"]
        for uid, row in existing.items()
        if uid not in parsed.events and uid not in parsed.past and not row["is_withdrawn"]
    ]
    if gone:
        from .services import notify_booked

        for event in Event.objects.select_for_update().filter(pk__in=gone).select_related("organiser"):
            event.is_withdrawn = True
            event.sequence += 1
            event.save(update_fields=["is_withdrawn", "sequence", "updated_at"])
            notify_booked(event=event, change="cancelled")
        log.withdrawn = len(gone)
    log.skipped = parsed.skipped
    log.warnings = parsed.warnings[:200]


def feeds_due(*, now: datetime | None = None):
    """Active feeds not tried within the import interval."""
    now = now or timezone.now()
    from django.db.models import Q

    cutoff = now - timedelta(seconds=settings.PORTAL_CALENDAR_FEED_INTERVAL)
    return CalendarFeed.objects.filter(is_active=True).filter(
        Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=cutoff)
    )
