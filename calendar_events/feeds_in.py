"""Importing partners' iCalendar feeds.

Each feed is imported on its own (its own Celery task, its own transaction): fetched with a connect
and read timeout, an overall deadline and a byte cap while streaming, parsed with icalendar, capped at
a number of events, and only then written. Any failure records a clear error on the feed and its log
and leaves the feed's events exactly as they were. Events are matched by UID; an event whose content
is unchanged is not written at all, so re-importing an unchanged feed writes nothing.
"""

import hashlib
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import icalendar
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import recurrence
from .models import CalendarFeed, Event, FeedImportLog
from .permissions import publishes_directly

logger = logging.getLogger(__name__)
CHUNK = 64 * 1024


class FeedError(Exception):
    """A feed could not be imported; the message is for the feed's owner."""


# Fetching -----------------------------------------------------------------------------------------


def _check_host(url: str) -> None:
    """Refuse addresses inside our own network (a feed URL must not reach internal services)."""
    if settings.PORTAL_CALENDAR_FEED_ALLOW_PRIVATE:
        return
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        raise FeedError(_("The feed's server (%(host)s) could not be found.") % {"host": host}) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            raise FeedError(_("The feed's address points inside a private network, which is not allowed."))


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not newurl.lower().startswith(("http://", "https://")):
            raise FeedError(_("The feed redirected to an address that is not http or https."))
        _check_host(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(
    url: str, *, timeout: float | None = None, max_bytes: int | None = None, deadline_seconds: float | None = None
) -> bytes:
    """The feed's bytes, or FeedError: unreachable, an HTTP error, too slow, or too large."""
    timeout = timeout if timeout is not None else settings.PORTAL_CALENDAR_FEED_TIMEOUT
    max_bytes = max_bytes if max_bytes is not None else settings.PORTAL_CALENDAR_FEED_MAX_BYTES
    deadline_seconds = deadline_seconds if deadline_seconds is not None else settings.PORTAL_CALENDAR_FEED_DEADLINE
    if not url.lower().startswith(("http://", "https://")):
        raise FeedError(_("The feed address must start with http:// or https://."))
    _check_host(url)
    opener = urllib.request.build_opener(_CheckedRedirects)
    request = urllib.request.Request(
        url, headers={"User-Agent": f"{settings.SITE_NAME} calendar importer", "Accept": "text/calendar, */*;q=0.5"}
    )
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FeedError(_too_large(max_bytes))
            chunks, size = [], 0
            while True:
                # A server that sends a trickle never trips the per-read timeout: the deadline does.
                if time.monotonic() - started > deadline_seconds:
                    raise FeedError(_too_slow(deadline_seconds))
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FeedError(_too_large(max_bytes))
                chunks.append(chunk)
            return b"".join(chunks)
    except FeedError:
        raise
    except urllib.error.HTTPError as error:
        raise FeedError(
            _("The feed's server answered with an error: HTTP %(code)s %(reason)s.")
            % {"code": error.code, "reason": error.reason}
        ) from None
    except (TimeoutError, socket.timeout):
        raise FeedError(_too_slow(timeout)) from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise FeedError(_too_slow(timeout)) from None
        raise FeedError(_("The feed could not be reached: %(reason)s.") % {"reason": reason}) from None
    except (OSError, ValueError) as error:
        raise FeedError(_("The feed could not be reached: %(reason)s.") % {"reason": error}) from None


def _too_large(max_bytes: int) -> str:
    return _("The feed is larger than the limit of %(size)s MB, so it was not imported.") % {
        "size": f"{max_bytes / (1024 * 1024):g}"
    }


def _too_slow(seconds: float) -> str:
    return _("The feed's server took too long to answer (more than %(seconds)s seconds).") % {"seconds": f"{seconds:g}"}


# Parsing ------------------------------------------------------------------------------------------


@dataclass
class ParsedFeed:
    events: dict[str, dict] = field(default_factory=dict)  # remote UID -> field values
    warnings: list[str] = field(default_factory=list)


def _as_aware(value) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: read as London wall time
            return recurrence.make_local(value)
        return value.astimezone(dt_timezone.utc)
    if isinstance(value, date):
        return recurrence.to_aware(datetime.combine(value, datetime.min.time()))
    raise ValueError("not a date")


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


def parse(data: bytes, *, max_events: int | None = None) -> ParsedFeed:
    """The feed's events as field values, keyed by UID. Events the calendar cannot hold are skipped with a warning."""
    max_events = max_events if max_events is not None else settings.PORTAL_CALENDAR_FEED_MAX_EVENTS
    if b"BEGIN:VCALENDAR" not in data[:4096].upper():
        raise FeedError(
            _(
                "The address does not give an iCalendar feed (no BEGIN:VCALENDAR): check it is the calendar's .ics address, not a web page."
            )
        )
    # Count before the full parse: a feed with far too many events is refused without building them all.
    count = data.count(b"BEGIN:VEVENT")
    if count > max_events:
        raise FeedError(
            _("The feed has %(count)s events, more than the limit of %(max)s, so it was not imported.")
            % {"count": count, "max": max_events}
        )
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise FeedError(_("The feed is not valid iCalendar: %(error)s") % {"error": str(error)[:300]}) from None
    if isinstance(calendar, list):
        calendar = calendar[0]
    parsed = ParsedFeed()
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", "")).strip()
        label = str(component.get("SUMMARY", "")).strip() or uid or _("(an event with no title)")
        try:
            if not uid:
                raise ValueError(_("it has no UID"))
            if component.get("RECURRENCE-ID") is not None:
                raise ValueError(_("changes to single dates of a series are not supported"))
            if component.get("DTSTART") is None:
                raise ValueError(_("it has no start time"))
            raw_start = component.decoded("DTSTART")
            start = _as_aware(raw_start)
            if component.get("DTEND") is not None:
                end = _as_aware(component.decoded("DTEND"))
            elif component.get("DURATION") is not None:
                end = start + component.decoded("DURATION")
            elif isinstance(raw_start, date) and not isinstance(raw_start, datetime):
                end = _as_aware(raw_start + timedelta(days=1))
            else:
                end = start + timedelta(hours=1)
            if end <= start:
                raise ValueError(_("it ends before it starts"))
            values = {
                "title": label[:200],
                "description": str(component.get("DESCRIPTION", ""))[:20000],
                "location_text": str(component.get("LOCATION", ""))[:500],
                "start": start,
                "end": end,
                "status": Event.Status.CANCELLED
                if str(component.get("STATUS", "")).upper() == "CANCELLED"
                else Event.Status.SCHEDULED,
                **_recurrence_fields(component, start),
            }
            url = str(component.get("URL", "")).strip()
            values["online_url"] = (
                url[:200] if url.lower().startswith(("http://", "https://")) and not values["location_text"] else ""
            )
            values["series_end"] = recurrence.validate_series(
                start=start,
                end=end,
                frequency=values["frequency"],
                count=values["repeat_count"],
                until=values["repeat_until"],
                exceptions=values["exceptions"],
            )
        except (ValueError, KeyError, TypeError, ValidationError) as error:
            reason = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            parsed.warnings.append(_("Skipped “%(event)s”: %(reason)s.") % {"event": label[:100], "reason": reason})
            continue
        if uid in parsed.events:
            parsed.warnings.append(_("Skipped a second event with the UID %(uid)s.") % {"uid": uid[:100]})
            continue
        parsed.events[uid] = values
    return parsed


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
    """Fetch, parse and apply one feed. Always returns the log; a failure leaves the events untouched."""
    feed = CalendarFeed.objects.select_related("organisation").get(pk=feed_id)
    log = FeedImportLog(feed=feed, started_at=timezone.now())
    try:
        parsed = parse(fetch(feed.url))
        with transaction.atomic():
            _apply(feed=feed, parsed=parsed, log=log)
    except FeedError as error:
        log.error = str(error)
    except Exception as error:  # an unforeseen failure is still this feed's alone
        logger.exception("Importing feed %s failed", feed.pk)
        log.error = _("The feed could not be imported because of an unexpected problem (%(kind)s).") % {
            "kind": error.__class__.__name__
        }
    log.finished_at = timezone.now()
    log.succeeded = not log.error
    # A run that changed nothing is not logged (an unchanged feed imported every hour would fill the
    # log); the feed's own "last tried" time records it: one small update, no event is written.
    changed = log.created or log.updated or log.withdrawn or log.error or feed.status != CalendarFeed.Status.OK
    if changed or log.warnings != (feed.logs.values_list("warnings", flat=True).first() or []):
        log.save()
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
    return log


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
    gone = [row["pk"] for uid, row in existing.items() if uid not in parsed.events and not row["is_withdrawn"]]
    if gone:
        from .services import notify_booked

        for event in Event.objects.select_for_update().filter(pk__in=gone).select_related("organiser"):
            event.is_withdrawn = True
            event.sequence += 1
            event.save(update_fields=["is_withdrawn", "sequence", "updated_at"])
            notify_booked(event=event, change="cancelled")
        log.withdrawn = len(gone)
    log.skipped = len(parsed.warnings)
    log.warnings = parsed.warnings[:200]


def feeds_due(*, now: datetime | None = None):
    """Active feeds not tried within the import interval."""
    now = now or timezone.now()
    from django.db.models import Q

    cutoff = now - timedelta(seconds=settings.PORTAL_CALENDAR_FEED_INTERVAL)
    return CalendarFeed.objects.filter(is_active=True).filter(
        Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=cutoff)
    )
