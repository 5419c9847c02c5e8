"""Writing iCalendar (RFC 5545) feeds.

Written directly rather than through the icalendar library's object model, because a whole-calendar
feed of ten thousand events must come out in well under a second; the tests and the benchmark parse
every feed back with icalendar to prove it is valid. Times are local Europe/London with a TZID and
the VTIMEZONE that defines it, so calendar programs keep a recurring 10:00 at 10:00 across the
clock changes.
"""

import html
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from datetime import timezone as dt_timezone

import nh3
from django.conf import settings
from django.utils import timezone

from .recurrence import LONDON, rule_parts, skipped_starts

PRODID = "-//THIN Community Portal//Calendar//EN"
TZID = "Europe/London"
# The rules the UK has used since 1996: last Sunday of March 01:00 UTC, last Sunday of October.
VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    f"TZID:{TZID}",
    "X-LIC-LOCATION:Europe/London",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0000",
    "TZOFFSETTO:+0100",
    "TZNAME:BST",
    "DTSTART:19700329T010000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0000",
    "TZNAME:GMT",
    "DTSTART:19701025T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
)


_NEEDS_ESCAPING = re.compile(r"[\\;,\r\n]")


def escape_text(value: str) -> str:
    value = str(value)
    if not _NEEDS_ESCAPING.search(value):
        return value
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    if line.isascii():
        # One octet a character: cut by slicing, the common case for long English text.
        if len(line) <= 75:
            return line
        return "\r\n ".join([line[:75], *(line[start : start + 74] for start in range(75, len(line), 74))])
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        # Step back off UTF-8 continuation bytes (10xxxxxx) so a character is never split.
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(encoded[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines start with a space
    return "\r\n ".join(parts)


def _basic(value: datetime) -> str:
    """YYYYMMDDTHHMMSS (isoformat is quicker than strftime, which shows over ten thousand events)."""
    return value.isoformat()[:19].replace("-", "").replace(":", "")


def _local(value: datetime) -> str:
    return _basic(value.astimezone(LONDON))


def _utc(value: datetime) -> str:
    return _basic(value.astimezone(dt_timezone.utc)) + "Z"


# Text without these comes out of nh3 (with its escapes undone) exactly as it went in: no tag or entity
# to drop, no carriage return or NUL for the HTML parser to rewrite, no byte order mark to strip.
_NEEDS_CLEANING = re.compile("[<&\r\x00\ufeff]")


def plain_text(markdown_text: str) -> str:
    """Descriptions go out as plain text: the organiser's Markdown source (readable as it is) with any
    HTML tags dropped. nh3 does this in microseconds; rendering Markdown for 10,000 events would not;
    most descriptions have nothing to drop and skip even that."""
    if not _NEEDS_CLEANING.search(markdown_text):
        return markdown_text.strip()
    return html.unescape(nh3.clean(markdown_text, tags=set())).strip()


def _location_text(event) -> str:
    venue = event.venue
    if venue is not None:
        parts = [venue.name, venue.address_line_1, venue.address_line_2, venue.town, venue.postcode]
        return ", ".join(part for part in parts if part)
    if event.online_url:
        return event.joining_link_for(has_place=False) or "Online"  # the link only where no place is needed
    return ""


def event_lines(event, *, stamp: datetime, site_url: str, links: "_Links | None" = None) -> Iterator[str]:
    links = links or _Links(site_url)
    local_start = event.start.astimezone(LONDON)
    yield "BEGIN:VEVENT"
    yield f"UID:{escape_text(event.uid)}"
    yield f"DTSTAMP:{links.stamp}"
    yield f"SEQUENCE:{event.sequence}"
    yield f"DTSTART;TZID={TZID}:{_local(event.start)}"
    yield f"DTEND;TZID={TZID}:{_local(event.end)}"
    parts = rule_parts(event.frequency, local_start)
    if parts:
        rule = ";".join(f"{key}={value}" for key, value in parts.items())
        if event.repeat_count:
            rule += f";COUNT={event.repeat_count}"
        elif event.repeat_until:
            # UNTIL must be in UTC when DTSTART has a TZID: the end of that local day.
            until_local = datetime.combine(event.repeat_until, datetime.max.time().replace(microsecond=0)).replace(
                tzinfo=LONDON
            )
            rule += f";UNTIL={_utc(until_local)}"
        yield f"RRULE:{rule}"
        if event.exceptions:
            skipped = skipped_starts(
                start=event.start,
                frequency=event.frequency,
                count=event.repeat_count,
                until=event.repeat_until,
                exceptions=event.exceptions,
            )
            exdates = [value.strftime("%Y%m%dT%H%M%S") for value in skipped]
            if exdates:
                yield f"EXDATE;TZID={TZID}:{','.join(exdates)}"
    yield fold(f"SUMMARY:{escape_text(event.title)}")
    description = plain_text(event.description) if event.description else ""
    if description:
        yield fold(f"DESCRIPTION:{escape_text(description)}")
    location = _location_text(event) or event.location_text
    if location:
        yield fold(f"LOCATION:{escape_text(location)}")
    yield fold(f"URL:{links.event_url(event)}")
    yield fold(f"ORGANIZER;CN={_param(event.organiser.name)}:{links.organiser_address(event)}")
    yield f"CATEGORIES:{links.category(event.category)}"
    if event.status == event.Status.CANCELLED or event.is_withdrawn:
        yield "STATUS:CANCELLED"
    elif event.status == event.Status.POSTPONED:
        yield "STATUS:TENTATIVE"
    else:
        yield "STATUS:CONFIRMED"
    yield f"LAST-MODIFIED:{_utc(event.updated_at or stamp)}"
    yield "END:VEVENT"


def _param(value: str) -> str:
    # Parameter values may not hold quotes; quote them whenever they hold : ; or ,
    cleaned = str(value).replace('"', "'")
    return f'"{cleaned}"' if any(char in cleaned for char in ":;,") else cleaned


class _Links:
    """Addresses and labels worked out once per feed rather than once per event (reverse() and
    translations cost more than the rest of an event's lines together)."""

    _PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

    def __init__(self, site_url: str):
        from django.urls import reverse

        from .models import Category

        self.site_url = site_url
        self.stamp = _utc(timezone.now())
        self._event_url = site_url + reverse("calendar_events:event_detail", kwargs={"event_uuid": self._PLACEHOLDER})
        self._categories = {value: escape_text(str(label)) for value, label in Category.choices}
        self._organisers: dict[int, str] = {}

    def event_url(self, event) -> str:
        return self._event_url.replace(self._PLACEHOLDER, str(event.uuid))

    def category(self, value: str) -> str:
        return self._categories.get(value, escape_text(value))

    def organiser_address(self, event) -> str:
        address = self._organisers.get(event.organiser_id)
        if address is None:
            organiser = event.organiser
            address = (
                f"mailto:{organiser.email}" if organiser.email else f"{self.site_url}{organiser.get_absolute_url()}"
            )
            self._organisers[event.organiser_id] = address
        return address


def calendar_text(events: Iterable, *, name: str, stamp: datetime | None = None, method_publish: bool = True) -> str:
    stamp = stamp or timezone.now()
    site_url = settings.SITE_URL
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
    ]
    if method_publish:
        lines.append("METHOD:PUBLISH")
    lines.append(fold(f"X-WR-CALNAME:{escape_text(name)}"))
    lines.append(f"X-WR-TIMEZONE:{TZID}")
    lines.extend(VTIMEZONE)
    links = _Links(site_url)
    links.stamp = _utc(stamp)
    for event in events:
        lines.extend(event_lines(event, stamp=stamp, site_url=site_url, links=links))
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def webcal(url: str) -> str:
    """The webcal:// form of a feed's address, which calendar programs offer to subscribe to."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return url
