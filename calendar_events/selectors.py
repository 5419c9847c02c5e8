"""Reads for the calendar and notice board, including the attendance figures the evidence app counts."""

import gc
import html
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import Collate, RowNumber, TruncDate
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from organisations.models import Organisation
from taxonomies.models import TaxonomyTerm

from . import recurrence
from .models import BookedDate, Booking, CalendarFeed, Category, DigestSubscription, Event, FeedImportLog, Notice
from .recurrence import Occurrence


@dataclass(frozen=True)
class EventFilters:
    q: str = ""
    category: str = ""
    organiser: Organisation | None = None
    segment: TaxonomyTerm | None = None
    community: TaxonomyTerm | None = None
    stage: int | None = None
    ward: TaxonomyTerm | None = None
    free: bool = False
    online: bool = False


def filtered_events(filters: EventFilters | None = None, *, base: QuerySet | None = None) -> QuerySet[Event]:
    events = base if base is not None else Event.objects.published()
    f = filters or EventFilters()
    for word in f.q.split():
        events = events.filter(
            Q(title__icontains=word) | Q(description__icontains=word) | Q(organiser__name__icontains=word)
        )
    if f.category:
        events = events.filter(category=f.category)
    if f.organiser is not None:
        events = events.filter(organiser=f.organiser)
    if f.segment is not None:
        events = events.filter(pk__in=Event.segments.through.objects.filter(taxonomyterm=f.segment).values("event_id"))
    if f.community is not None:
        events = events.filter(
            pk__in=Event.communities.through.objects.filter(taxonomyterm=f.community).values("event_id")
        )
    if f.stage in (1, 2, 3):
        events = events.filter(**{f"for_stage_{f.stage}": True})
    if f.ward is not None:
        events = events.filter(venue__ward=f.ward)
    if f.free:
        events = events.filter(is_free=True)
    if f.online:
        events = events.exclude(online_url="")
    return events


# Only what the list, week and month views show. They read plain rows into EventSummary objects:
# building 2,000 model instances (and their organisations) would cost more than everything else.
OCCURRENCE_FIELDS = (
    "pk",
    "uuid",
    "title",
    "category",
    "start",
    "end",
    "frequency",
    "repeat_count",
    "repeat_until",
    "exceptions",
    "status",
    "is_free",
    "cost",
    "booking_required",
    "online_url",
    "location_text",
    "organiser__name",
    "organiser__slug",
    "venue__name",
    "venue__postcode",
)
_UUID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
_STATUS_LABELS = dict(Event.Status.choices)
_CATEGORY_LABELS = dict(Category.choices)


@dataclass(frozen=True, slots=True)
class Named:
    name: str
    slug: str = ""
    postcode: str = ""

    def __str__(self) -> str:
        return f"{self.name}, {self.postcode}" if self.postcode else self.name


class EventSummary:
    """The fields of an Event that the calendar views show, with the same names as the model's."""

    __slots__ = (*(name for name in OCCURRENCE_FIELDS if "__" not in name), "organiser", "venue", "_url", "_url_template")

    def __init__(self, row: tuple, url_template: str):
        # Plain unpacking, in OCCURRENCE_FIELDS' order: the month view builds thousands of these.
        (
            self.pk,
            self.uuid,
            self.title,
            self.category,
            self.start,
            self.end,
            self.frequency,
            self.repeat_count,
            self.repeat_until,
            self.exceptions,
            self.status,
            self.is_free,
            self.cost,
            self.booking_required,
            self.online_url,
            self.location_text,
            organiser_name,
            organiser_slug,
            venue_name,
            venue_postcode,
        ) = row
        self.organiser = Named(organiser_name, organiser_slug)
        self.venue = Named(venue_name, postcode=venue_postcode) if venue_name else None
        self._url = None  # worked out when a page shows the event, not for every row read
        self._url_template = url_template

    def get_absolute_url(self) -> str:
        if self._url is None:
            self._url = self._url_template.replace(_UUID_PLACEHOLDER, str(self.uuid))
        return self._url

    def get_status_display(self) -> str:
        return str(_STATUS_LABELS.get(self.status, self.status))

    def get_category_display(self) -> str:
        return str(_CATEGORY_LABELS.get(self.category, self.category))

    @property
    def is_recurring(self) -> bool:
        return self.frequency != Event.Frequency.ONCE


def truncation_text() -> str:
    """What |truncatechars ends a shortened text with, in the current language: looked up once per
    month grid rather than twice for every title shortened."""
    from django.utils.translation import pgettext

    return pgettext("String to return when truncating text", "%(truncated_text)s…")


def _truncated(text: str, length: int, ending: str | None = None) -> str:
    """As |truncatechars (Truncator.chars), which first puts the text in NFC: a title that is short
    enough once normalised (most) comes back without its character-by-character walk. `ending` is
    truncation_text(), when the caller has it."""
    import unicodedata

    from django.utils.text import Truncator, add_truncation_text, calculate_truncate_chars_length

    normalised = unicodedata.normalize("NFC", text)
    if len(normalised) <= length:
        return normalised
    if normalised.isascii():
        # No combining characters: Truncator's walk would stop where the ending leaves room.
        return add_truncation_text(normalised[: calculate_truncate_chars_length(length, ending)], ending)
    return Truncator(text).chars(length, truncate=ending)


class MonthEntry:
    """One occurrence as a month view's cell shows it: its strings worked out once, in Python, so the
    cached grid is small and the template does no lookups or filters per occurrence."""

    __slots__ = ("url", "time", "title", "status")

    def __init__(self, occurrence: Occurrence, title_length: int, ending: str | None = None):
        event = occurrence.event
        self.url = event.get_absolute_url()
        self.time = occurrence.local_start.strftime("%H:%M")
        self.title = _truncated(event.title, title_length, ending)
        self.status = event.status

    def get_status_display(self) -> str:
        # At render time, in the reader's language, as the grid is cached for everyone.
        return str(_STATUS_LABELS.get(self.status, self.status))

    def __getstate__(self):
        return (self.url, self.time, self.title, self.status)

    def __setstate__(self, state):
        self.url, self.time, self.title, self.status = state


def month_cells_html(entries: list[MonthEntry]) -> SafeString:
    """A month view's day as list items, in the reader's language: written here rather than by a
    template loop, which cost more than working the month out (two loops over ~150 entries a page).
    Its strings are plain str, so the standard library's html.escape, which django.utils.html.escape
    calls, escapes them without Django's check of each argument for a lazy translation."""
    parts = []
    for entry in entries:
        badge = ""
        if entry.status != Event.Status.SCHEDULED:
            badge = f' <span class="badge text-bg-warning">{html.escape(entry.get_status_display())}</span>'
        parts.append(
            f'<li class="mb-1"><a href="{html.escape(entry.url)}">{html.escape(entry.time)} '
            f"{html.escape(entry.title)}</a>{badge}</li>"
        )
    return mark_safe("".join(parts))


def month_days_html(
    weeks: list[list[dict]], *, today: date, week_url: str, query: str
) -> tuple[SafeString, SafeString]:
    """A month view's days, in the reader's language: the phone list's entries and the grid's table
    rows, as event_month.html's loops wrote them (its comment marks where). Written here because the
    template's tags per day (links, labels, conditions) cost more than working the month out; each
    day's name and month name is looked up once per page, not once per day."""
    from django.utils.dates import MONTHS, WEEKDAYS
    from django.utils.formats import localize
    from django.utils.translation import gettext, ngettext

    link_start = conditional_escape(week_url) + "?" + (conditional_escape(query) + "&amp;" if query else "") + "date="
    weekdays = {number: str(name) for number, name in WEEKDAYS.items()}
    months = {number: str(name) for number, name in MONTHS.items()}
    today_note = f" ({conditional_escape(gettext('today'))})"
    phone, rows = [], []
    for week in weeks:
        rows.append("<tr>")
        for day in week:
            when = day["date"]
            is_today = when == today
            link = link_start + conditional_escape(day["iso"])
            name = f"{weekdays[when.weekday()]} {when.day} {months[when.month]}"
            cells = month_cells_html(day["shown"])
            more = ""
            if day["more"]:
                words = ngettext("and %(counter)s more", "and %(counter)s more", day["more"]) % {
                    "counter": conditional_escape(localize(day["more"]))
                }
                more = f'<a class="small" href="{link}">{words}</a>'
            if day["in_month"] and day["shown"]:
                phone.append(
                    f'\n  <h2 class="h6 mt-3 mb-1{" text-primary" if is_today else ""}"><a href="{link}">'
                    f"{conditional_escape(name)}</a>{today_note if is_today else ''}</h2>\n"
                    f'  <ul class="list-unstyled border-start ps-2 mb-0">{cells}{f"<li>{more}</li>" if more else ""}</ul>\n  '
                )
            grid_list = f'<ul class="list-unstyled small mb-0">{cells}</ul>'
            css = ("" if day["in_month"] else "text-muted bg-light") + (" table-info" if is_today else "")
            rows.append(
                f'\n    <td class="{css}">\n'
                f'      <div class="fw-bold"><a href="{link}" aria-label="{conditional_escape(f"{name} {when.year:04d}")}">'
                f"{conditional_escape(localize(day['number']))}</a></div>\n"
                f"      {grid_list if day['shown'] else ''}\n"
                f"      {more}\n    </td>"
            )
        rows.append("</tr>")
    return mark_safe("".join(phone)), mark_safe("".join(rows))


# Less again for the month view, whose cells show a time, a title and a status: half the columns of
# OCCURRENCE_FIELDS, and no join to organisers or venues, for thousands of rows a month.
MONTH_FIELDS = (
    "uuid", "title", "start", "end", "frequency", "repeat_count", "repeat_until", "exceptions", "status", "pk",
)  # fmt: skip


class MonthEvent:
    """The fields of an Event that a month view's cell (MonthEntry) and its recurrence read."""

    __slots__ = (*MONTH_FIELDS, "_url_template")

    def __init__(self, row: tuple, url_template: str):
        (
            self.uuid,
            self.title,
            self.start,
            self.end,
            self.frequency,
            self.repeat_count,
            self.repeat_until,
            self.exceptions,
            self.status,
            self.pk,
        ) = row
        self._url_template = url_template

    def get_absolute_url(self) -> str:
        return self._url_template.replace(_UUID_PLACEHOLDER, str(self.uuid))


def occurrences_between(start: datetime, end: datetime, filters: EventFilters | None = None) -> list[Occurrence]:
    """Every occurrence of a published event overlapping [start, end), in time order. One query,
    whatever the number of events: recurring events are expanded in Python."""
    from django.urls import reverse

    url_template = reverse("calendar_events:event_detail", kwargs={"event_uuid": _UUID_PLACEHOLDER})
    rows = filtered_events(filters).overlapping(start, end).order_by("start", "pk").values_list(*OCCURRENCE_FIELDS)
    found = []
    for row in rows:
        found.extend(recurrence.occurrences(EventSummary(row, url_template), window_start=start, window_end=end))
    found.sort(key=lambda occurrence: (occurrence.start, occurrence.event.title))
    return found


def calendar_version() -> str:
    """Changes whenever any event is added, changed or deleted: a key for caching calendar views."""
    from django.db.models import Max

    figures = Event.objects.aggregate(n=Count("pk"), latest=Max("updated_at"))
    return f"{figures['n']}-{figures['latest'].timestamp() if figures['latest'] else 0}"


@contextmanager
def _collector_paused():
    """Hold off Python's cyclic garbage collector while a busy month's thousands of short-lived row
    and occurrence objects are built (they hold no reference cycles: reference counting frees them).
    Otherwise they set off full collections of the whole process's heap, which were most of the
    slowest month views. Only the caller that found the collector on turns it back on, so
    overlapping threads leave it on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def local_midnight(day: date) -> datetime:
    return recurrence.to_aware(datetime.combine(day, datetime.min.time()))


# Text compared code point by code point: PostgreSQL's "C", SQLite's own BINARY (the embedded default).
CODE_POINT_COLLATION = {"postgresql": "C", "sqlite": "BINARY"}


def _first_one_offs_per_day(
    start: datetime, end: datetime, filters: EventFilters | None, per_day: int, url_template: str
) -> tuple[dict[date, list[Occurrence]], dict[date, int]]:
    """One-off events starting in [start, end), counted per local day in the database, of which only
    the first `per_day` of each day (in the month view's order) are read: a busy month's thousands of
    rows stay in PostgreSQL. Titles compare in the "C" collation, code point by code point, as Python
    sorts the recurring events' occurrences they are merged with."""
    local_day = TruncDate("start", tzinfo=recurrence.LONDON)
    ranked = (
        filtered_events(filters)
        .filter(frequency=Event.Frequency.ONCE, start__gte=start, start__lt=end)
        .annotate(
            local_day=local_day,
            day_rank=Window(
                RowNumber(),
                partition_by=[local_day],
                order_by=[F("start"), Collate(F("title"), CODE_POINT_COLLATION[connection.vendor]), F("pk")],
            ),
            day_total=Window(Count("pk"), partition_by=[local_day]),
        )
        .filter(day_rank__lte=per_day)
        .order_by()
        .values_list("pk", "local_day", "day_total")
    )
    # The ranking sorts narrow rows (a day, a time, a title); only the few shown are read in full.
    ranked = list(ranked)
    days = {pk: day for pk, day, _total in ranked}
    totals = {day: total for _pk, day, total in ranked}
    shown = defaultdict(list)
    for row in Event.objects.filter(pk__in=days).values_list(*MONTH_FIELDS):
        event = MonthEvent(row, url_template)
        shown[days[event.pk]].append(
            Occurrence(event=event, start=event.start.astimezone(dt_timezone.utc), end=event.end.astimezone(dt_timezone.utc))
        )
    return shown, totals


def _month_order(occurrence: Occurrence) -> tuple:
    # occurrences_between's order (time, then title), ties kept in its rows' order (first start, pk).
    event = occurrence.event
    return (occurrence.start, event.title, event.start, event.pk)


def month_grid(year: int, month: int, filters: EventFilters | None = None, *, per_day: int) -> dict:
    """The weeks (Monday first) of a month, each day with its first `per_day` occurrences (of
    MonthEvents) and how many it has in all. One-off events are counted per day in the database and
    only those shown are read; recurring ones (fewer, but each with many dates) are expanded here."""
    from django.urls import reverse

    first = date(year, month, 1)
    grid_start = first - timedelta(days=first.weekday())
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    grid_end = next_month + timedelta(days=(7 - next_month.weekday()) % 7)
    # Each grid day's first instant, worked out once: an occurrence's day is then a bisection, not a
    # time zone conversion per occurrence (and days 23 or 25 hours long at a clock change stay right).
    day_dates = [grid_start + timedelta(days=n) for n in range((grid_end - grid_start).days)]
    midnights = [local_midnight(day) for day in day_dates]
    grid_end_at = local_midnight(grid_end)
    url_template = reverse("calendar_events:event_detail", kwargs={"event_uuid": _UUID_PLACEHOLDER})
    by_day, totals = _first_one_offs_per_day(midnights[0], grid_end_at, filters, per_day, url_template)
    recurring = (
        filtered_events(filters)
        .exclude(frequency=Event.Frequency.ONCE)
        .overlapping(midnights[0], grid_end_at)
        .order_by("start", "pk")
        .values_list(*MONTH_FIELDS)
    )
    with _collector_paused():
        for row in recurring:
            for occurrence in recurrence.occurrences(
                MonthEvent(row, url_template), window_start=midnights[0], window_end=grid_end_at
            ):
                index = bisect_right(midnights, occurrence.start) - 1
                # One that began before the grid, overlapping into it, belongs to no day of it.
                if index >= 0:
                    by_day[day_dates[index]].append(occurrence)
                    totals[day_dates[index]] = totals.get(day_dates[index], 0) + 1
    days = []
    for day in day_dates:
        occurrences = by_day.get(day, [])
        if len(occurrences) > 1:
            occurrences = sorted(occurrences, key=_month_order)[:per_day]
        days.append(
            {"date": day, "in_month": day.month == month, "occurrences": occurrences, "total": totals.get(day, 0)}
        )
    return {
        "weeks": [days[index : index + 7] for index in range(0, len(days), 7)],
        "first": first,
        "previous": (first - timedelta(days=1)).replace(day=1),
        "next": next_month,
        "count": sum(day["total"] for day in days if day["in_month"]),
    }


def week_days(monday: date, filters: EventFilters | None = None) -> list[dict]:
    by_day = defaultdict(list)
    for occurrence in occurrences_between(local_midnight(monday), local_midnight(monday + timedelta(days=7)), filters):
        by_day[occurrence.local_start.date()].append(occurrence)
    return [
        {"date": monday + timedelta(days=n), "occurrences": by_day.get(monday + timedelta(days=n), [])}
        for n in range(7)
    ]


def event_page(event_uuid) -> Event | None:
    return (
        Event.objects.select_related("organiser", "venue", "venue__ward", "feed")
        .prefetch_related("segments", "communities", "languages")
        .filter(uuid=event_uuid)
        .first()
    )


def upcoming_occurrences(event: Event, *, now: datetime | None = None, limit: int = 60) -> list[Occurrence]:
    now = now or timezone.now()
    return recurrence.occurrences(event, window_start=now)[:limit]


def places_left(event: Event, occurrence_starts: list[datetime]) -> dict[datetime, int | None]:
    """Free places per occurrence (None: no limit), in one query."""
    counts = dict(
        event.bookings.filter(status=Booking.Status.BOOKED, occurrence_start__in=occurrence_starts)
        .values_list("occurrence_start")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        start: (None if event.capacity is None else max(event.capacity - counts.get(start, 0), 0))
        for start in occurrence_starts
    }


def bookings_of_user_for(event: Event, user) -> dict[datetime, Booking]:
    if not user.is_authenticated:
        return {}
    bookings = event.bookings.active().filter(user=user).with_waiting_position()
    return {booking.occurrence_start: booking for booking in bookings}


def bookings_of(user) -> QuerySet[Booking]:
    return (
        Booking.objects.active()
        .filter(user=user, occurrence_start__gte=timezone.now() - timedelta(hours=12))
        .with_waiting_position()
        .select_related("event", "event__organiser", "event__venue")
        .order_by("occurrence_start")
    )


def attendees(event: Event, occurrence_start: datetime | None = None) -> QuerySet[Booking]:
    bookings = (
        event.bookings.active()
        .select_related("user", "organisation")
        .order_by("occurrence_start", "status", "created_at")
    )
    if occurrence_start is not None:
        bookings = bookings.filter(occurrence_start=occurrence_start)
    return bookings


def events_for_feed(*, organiser: Organisation | None = None, category: str = "") -> QuerySet[Event]:
    """What a subscription feed carries: published events (cancelled ones too, marked so) from the
    last 90 days on. An event withdrawn from its partner's feed (or whose feed was removed) leaves."""
    events = Event.objects.published().filter(series_end__gte=timezone.now() - timedelta(days=90))
    if organiser is not None:
        events = events.filter(organiser=organiser)
    if category:
        events = events.filter(category=category)
    return events.select_related("organiser", "venue").order_by("start", "pk")


# What a feed writes of each event (calendar_events.ical.event_lines), read as plain values: building
# ten thousand Event and Organisation instances for a whole-calendar feed cost half its time.
FEED_FIELDS = (
    "uid", "uuid", "sequence", "start", "end", "frequency", "repeat_count", "repeat_until", "exceptions", "title",
    "description", "location_text", "online_url", "booking_required", "category", "status", "is_withdrawn",
    "updated_at", "organiser_id", "organiser__name", "organiser__email", "organiser__slug", "venue__name", "venue__address_line_1", "venue__address_line_2", "venue__town",
    "venue__postcode",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FeedOrganiser:
    name: str
    email: str
    slug: str

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("organisations:organisation_detail", kwargs={"slug": self.slug})


@dataclass(frozen=True, slots=True)
class FeedVenue:
    name: str
    address_line_1: str
    address_line_2: str
    town: str
    postcode: str


class FeedEvent:
    """The fields of an Event that a feed writes, with the same names as the model's."""

    __slots__ = (*(name for name in FEED_FIELDS if "__" not in name), "organiser", "venue")
    Status = Event.Status

    def __init__(self, row: tuple, organisers: dict[int, FeedOrganiser]):
        (
            self.uid,
            self.uuid,
            self.sequence,
            self.start,
            self.end,
            self.frequency,
            self.repeat_count,
            self.repeat_until,
            self.exceptions,
            self.title,
            self.description,
            self.location_text,
            self.online_url,
            self.booking_required,
            self.category,
            self.status,
            self.is_withdrawn,
            self.updated_at,
            self.organiser_id,
            organiser_name,
            organiser_email,
            organiser_slug,
            *venue,
        ) = row
        organiser = organisers.get(self.organiser_id)
        if organiser is None:
            organiser = organisers[self.organiser_id] = FeedOrganiser(organiser_name, organiser_email, organiser_slug)
        self.organiser = organiser
        self.venue = FeedVenue(*venue) if venue[0] is not None else None

    joining_link_for = Event.joining_link_for


def feed_events(events: QuerySet[Event], *, chunk_size: int = 2000) -> Iterator[FeedEvent]:
    """`events` (events_for_feed) as FeedEvents, in their order, in one streamed query; each organiser
    is one object shared by all its events."""
    organisers: dict[int, FeedOrganiser] = {}
    for row in events.values_list(*FEED_FIELDS).iterator(chunk_size=chunk_size):
        yield FeedEvent(row, organisers)


def events_awaiting_moderation() -> QuerySet[Event]:
    return Event.objects.filter(moderation=Event.Moderation.PENDING).select_related("organiser")


def events_of_organisation(organisation: Organisation, *, include_unpublished: bool = False) -> QuerySet[Event]:
    events = Event.objects.filter(organiser=organisation)
    if not include_unpublished:
        events = events.published()
    return events.select_related("venue").order_by("-start")


def organisation_upcoming(organisation: Organisation, *, limit: int = 5) -> dict:
    """For the organisation page: its next event dates and its current notices."""
    now = timezone.now()
    events = (
        Event.objects.published()
        .filter(organiser=organisation, series_end__gt=now)
        .select_related("venue", "organiser")
    )
    upcoming = []
    for event in events.order_by("start")[:200]:
        upcoming.extend(recurrence.occurrences(event, window_start=now)[:limit])
    upcoming.sort(key=lambda occurrence: occurrence.start)
    return {
        "occurrences": upcoming[:limit],
        "notices": list(Notice.objects.visible().filter(organisation=organisation)[:limit]),
    }


# Attendance figures, for the evidence app -------------------------------------------------------


def attendance_counts(
    *, organisation_ids=None, since: datetime | None = None, until: datetime | None = None
) -> dict[int, dict]:
    """Per organiser, for places booked (not cancelled) on event dates in [since, until): places
    booked, people marked as attended, event dates held (with a place booked), the events they belong
    to, and the dates held and attendance per event category ("categories": {category: {"sessions",
    "attended"}}). One query: the bookings already grouped by event date (BookedDate, a few rows per
    event rather than every booking), joined to their events for the organiser and category; added up
    here."""
    dates = BookedDate.objects.order_by()
    if organisation_ids is not None:
        organisation_ids = list(organisation_ids)
        if not organisation_ids:
            return {}  # no organisation, no events (and no statement to write)
        dates = dates.filter(event__organiser_id__in=organisation_ids)
    if since is not None:
        dates = dates.filter(occurrence_start__gte=since)
    if until is not None:
        dates = dates.filter(occurrence_start__lt=until)
    dates = dates.values_list("event__organiser_id", "event__category", "event_id", "booked", "attended")
    counts: dict[int, dict] = {}
    events: dict[int, set[int]] = defaultdict(set)
    for organiser_id, category, event_id, booked, attended in dates:
        row = counts.setdefault(
            organiser_id, {"booked": 0, "attended": 0, "sessions": 0, "events": 0, "categories": {}}
        )
        row["booked"] += booked
        row["attended"] += attended
        row["sessions"] += 1
        events[organiser_id].add(event_id)
        by_category = row["categories"].setdefault(category, {"sessions": 0, "attended": 0})
        by_category["sessions"] += 1
        by_category["attended"] += attended
    for organiser_id, event_ids in events.items():
        counts[organiser_id]["events"] = len(event_ids)
    return counts


def attendance_by_category(counts: dict[int, dict]) -> list[tuple[str, int, int]]:
    """(category, event dates held, people marked as attended) for every event category, in the
    calendar's order (training first), added up from attendance_counts() over its organisers: the
    training delivered, and the rest. No query."""
    held: dict[str, int] = defaultdict(int)
    attended: dict[str, int] = defaultdict(int)
    for row in counts.values():
        for category, figures in row["categories"].items():
            held[category] += figures["sessions"]
            attended[category] += figures["attended"]
    return [(str(label), held[value], attended[value]) for value, label in Category.choices]


def attendance_total(*, since: datetime | None = None, until: datetime | None = None) -> dict[str, int]:
    """The whole calendar's booked and attended counts: aggregates only, no personal data."""
    totals = {"booked": 0, "attended": 0, "sessions": 0, "events": 0}
    for counts in attendance_counts(since=since, until=until).values():
        for key in totals:
            totals[key] += counts[key]
    return totals


# Notices ------------------------------------------------------------------------------------------


def visible_notices(*, q: str = "", category: str = "") -> QuerySet[Notice]:
    notices = Notice.objects.visible()
    for word in q.split():
        notices = notices.filter(
            Q(title__icontains=word) | Q(text__icontains=word) | Q(organisation__name__icontains=word)
        )
    if category:
        notices = notices.filter(category=category)
    return notices.select_related("organisation")


def notice_page(notice_uuid) -> Notice | None:
    return Notice.objects.select_related("organisation").filter(uuid=notice_uuid).first()


def notices_of(organisations) -> QuerySet[Notice]:
    return Notice.objects.filter(organisation__in=organisations).select_related("organisation").order_by("-created_at")


def digest_items(*, since: datetime, today: date) -> dict:
    """New notices and new published events since a time, as plain values for an email."""
    notices = [
        {
            "title": notice.title,
            "organisation": notice.organisation.name,
            "url": notice.get_absolute_url(),
            "expires_on": notice.expires_on.isoformat(),
        }
        for notice in Notice.objects.visible(today).filter(published_at__gte=since).select_related("organisation")[:50]
    ]
    events = []
    for event in (
        Event.objects.published()
        .filter(created_at__gte=since, series_end__gt=timezone.now())
        .select_related("organiser")[:50]
    ):
        nxt = recurrence.occurrences(event, window_start=timezone.now())[:1]
        when = nxt[0].local_start.strftime("%a %-d %b %Y, %H:%M") if nxt else ""
        events.append(
            {"title": event.title, "organisation": event.organiser.name, "url": event.get_absolute_url(), "when": when}
        )
    return {"notices": notices, "events": events}


def is_subscribed(user) -> bool:
    return user.is_authenticated and DigestSubscription.objects.filter(user=user, is_active=True).exists()


def feeds_of(organisations) -> QuerySet[CalendarFeed]:
    return CalendarFeed.objects.filter(organisation__in=organisations).select_related("organisation")


def feed_logs(feed: CalendarFeed, *, limit: int = 20) -> QuerySet[FeedImportLog]:
    return feed.logs.all()[:limit]


CATEGORY_CHOICES = Category.choices
