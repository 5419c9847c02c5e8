"""Recurring events, in Europe/London wall-clock time.

A weekly class at 10:00 stays at 10:00 on both sides of a clock change, so occurrences are worked out
on naive local times (dateutil.rrule) and only then given their UTC offset. A wall-clock time that
does not exist (the hour the clocks skip in March) is refused when someone types it; inside a series
it is read with the offset before the change, as RFC 5545 says.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

from dateutil import rrule
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LONDON = ZoneInfo(settings.TIME_ZONE)
# A series may not run for ever: at most this many occurrences, and no further ahead than this.
MAX_OCCURRENCES = 520
MAX_SERIES_YEARS = 5

WEEKLY, FORTNIGHTLY, MONTHLY, ONCE = "weekly", "fortnightly", "monthly", "once"
RRULE_WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@dataclass(frozen=True, slots=True)
class Occurrence:
    event: object
    start: datetime  # aware, UTC-based
    end: datetime

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(LONDON)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(LONDON)


def wall_time_exists(naive: datetime) -> bool:
    """False for a Europe/London wall time in the gap when the clocks go forward."""
    aware = naive.replace(tzinfo=LONDON)
    return aware.astimezone(dt_timezone.utc).astimezone(LONDON).replace(tzinfo=None) == naive


def make_local(naive: datetime, *, field: str = "start") -> datetime:
    """A typed Europe/London wall time as an aware datetime, refusing one the clocks skip."""
    if not wall_time_exists(naive):
        raise ValidationError(
            {
                field: _(
                    "%(time)s does not exist in London: the clocks go forward an hour that night. "
                    "Choose a time before 01:00 or from 02:00."
                )
                % {"time": naive.strftime("%d/%m/%Y %H:%M")}
            }
        )
    # fold=0: an ambiguous time in October's repeated hour means the first (summer time) one.
    return naive.replace(tzinfo=LONDON)


def nth_weekday(day: date) -> int:
    """Which of its weekday in the month `day` is (1 to 4), or -1 for the last (a 5th is always last)."""
    n = (day.day - 1) // 7 + 1
    return -1 if n >= 5 else n


def rule_parts(frequency: str, local_start: datetime) -> dict | None:
    """The RRULE parts (as iCalendar writes them) for a frequency starting on this day."""
    weekday = RRULE_WEEKDAYS[local_start.weekday()]
    if frequency == WEEKLY:
        return {"FREQ": "WEEKLY"}
    if frequency == FORTNIGHTLY:
        return {"FREQ": "WEEKLY", "INTERVAL": 2}
    if frequency == MONTHLY:
        return {"FREQ": "MONTHLY", "BYDAY": f"{nth_weekday(local_start.date())}{weekday}"}
    return None


def _rrule(frequency: str, local_start: datetime, count: int | None, until: date | None) -> rrule.rrule:
    kwargs = {"dtstart": local_start, "count": count or None}
    if until and not count:
        kwargs["until"] = datetime.combine(until, datetime.max.time().replace(microsecond=0))
    if frequency == WEEKLY:
        return rrule.rrule(rrule.WEEKLY, **kwargs)
    if frequency == FORTNIGHTLY:
        return rrule.rrule(rrule.WEEKLY, interval=2, **kwargs)
    if frequency == MONTHLY:
        n = nth_weekday(local_start.date())
        return rrule.rrule(rrule.MONTHLY, byweekday=rrule.weekday(local_start.weekday(), n), **kwargs)
    raise ValueError(frequency)


def local_starts(
    *, start: datetime, frequency: str, count: int | None, until: date | None, exceptions=()
) -> list[datetime]:
    """Every occurrence's naive Europe/London start, exceptions left out."""
    local_start = start.astimezone(LONDON).replace(tzinfo=None)
    if frequency == ONCE:
        return [local_start]
    skipped = {str(day) for day in exceptions}
    starts = []
    for value in _rrule(frequency, local_start, count, until):
        if value.date().isoformat() not in skipped:
            starts.append(value)
        if len(starts) > MAX_OCCURRENCES:
            break
    return starts


def skipped_starts(*, start: datetime, frequency: str, count: int | None, until: date | None, exceptions) -> list[datetime]:
    """The naive Europe/London starts a series' exceptions take out (what iCalendar's EXDATE lists), in
    order: an exception on a date the series does not fall on takes out nothing. Worked out near each
    exception by arithmetic, without walking the series from its first date where it can be."""
    skipped = sorted({str(day) for day in exceptions or ()})
    if frequency == ONCE or not skipped:
        return []
    local_start = start.astimezone(LONDON).replace(tzinfo=None)
    found = []
    for day in skipped:
        try:
            low = datetime.combine(date.fromisoformat(day), datetime.min.time())
        except ValueError:
            continue  # not a date: no start falls on it
        near = _window_local_starts(
            frequency=frequency,
            local_start=local_start,
            count=count,
            until=until,
            exceptions=(),
            low=low,
            high=low + timedelta(days=1),
        )
        if near is None:  # a shape the arithmetic does not cover: walk the series
            series = local_starts(start=start, frequency=frequency, count=count, until=until)
            return [value for value in series if value.date().isoformat() in skipped]
        found.extend(value for value in near if value.date().isoformat() == day)
    return found


def to_aware(naive_local: datetime) -> datetime:
    return naive_local.replace(tzinfo=LONDON).astimezone(dt_timezone.utc)


def occurrences(event, *, window_start: datetime | None = None, window_end: datetime | None = None) -> list[Occurrence]:
    """An event's occurrences (all, or those overlapping [window_start, window_end))."""
    if event.frequency == ONCE:
        # The common case, kept cheap: the month view calls this for thousands of events.
        if (window_end is not None and event.start >= window_end) or (
            window_start is not None and event.end <= window_start
        ):
            return []
        return [
            Occurrence(
                event=event, start=event.start.astimezone(dt_timezone.utc), end=event.end.astimezone(dt_timezone.utc)
            )
        ]
    local_start = event.start.astimezone(LONDON).replace(tzinfo=None)
    local_end = event.end.astimezone(LONDON).replace(tzinfo=None)
    wall_length = local_end - local_start
    exceptions = event.exceptions or ()
    starts = _window_local_starts(
        frequency=event.frequency,
        local_start=local_start,
        count=event.repeat_count,
        until=event.repeat_until,
        exceptions=exceptions,
        low=None if window_start is None else window_start.astimezone(LONDON).replace(tzinfo=None) - wall_length,
        high=None if window_end is None else window_end.astimezone(LONDON).replace(tzinfo=None),
    )
    if starts is None:  # a shape the arithmetic does not cover: let dateutil work it out
        starts = local_starts(
            start=event.start,
            frequency=event.frequency,
            count=event.repeat_count,
            until=event.repeat_until,
            exceptions=exceptions,
        )
    result = []
    for start in starts:
        aware_start, aware_end = to_aware(start), to_aware(start + wall_length)
        if window_end is not None and aware_start >= window_end:
            break
        if window_start is not None and aware_end <= window_start:
            continue
        result.append(Occurrence(event=event, start=aware_start, end=aware_end))
    return result


_MARGIN = timedelta(days=2)  # wider than any UTC offset, so the naive bounds never cut a real occurrence


def _nth_weekday_of(year: int, month: int, weekday: int, n: int) -> int:
    """The day of the month of its nth (1 to 4, or -1 for the last) `weekday`."""
    if n > 0:
        return 1 + (weekday - calendar.weekday(year, month, 1)) % 7 + 7 * (n - 1)
    last = calendar.monthrange(year, month)[1]
    return last - (calendar.weekday(year, month, last) - weekday) % 7


def _window_local_starts(
    *,
    frequency: str,
    local_start: datetime,
    count: int | None,
    until: date | None,
    exceptions,
    low: datetime | None,
    high: datetime | None,
) -> list[datetime] | None:
    """The same naive starts as local_starts() gives, but only those near [low, high) (a superset of
    the ones that overlap it), by arithmetic rather than by walking the series from its first date.
    None when the series is one this does not cover (no end, or long enough for local_starts() to cut
    it short at MAX_OCCURRENCES): the caller then uses local_starts()."""
    if frequency not in (WEEKLY, FORTNIGHTLY, MONTHLY) or local_start.microsecond:
        return None
    local_start = local_start.replace(fold=0)  # as dateutil builds its values
    until_at = datetime.combine(until, datetime.max.time().replace(microsecond=0)) if until and not count else None
    if frequency == MONTHLY:
        weekday, n = local_start.weekday(), nth_weekday(local_start.date())
        first_index = local_start.year * 12 + local_start.month - 1
        clock = local_start.time()

        def value(index: int) -> datetime:
            year, month = divmod(first_index + index, 12)
            return datetime.combine(date(year, month + 1, _nth_weekday_of(year, month + 1, weekday, n)), clock)

        if count:
            total = count
        elif until_at is not None:
            total = until_at.year * 12 + until_at.month - 1 - first_index + 1
            if total > 0 and value(total - 1) > until_at:
                total -= 1
        else:
            return None
        low_index = 0 if low is None else (low - _MARGIN).year * 12 + (low - _MARGIN).month - 1 - first_index - 1
        high_index = total - 1 if high is None else (high + _MARGIN).year * 12 + (high + _MARGIN).month - 1 - first_index + 1
    else:
        step = timedelta(days=7 if frequency == WEEKLY else 14)

        def value(index: int) -> datetime:
            return local_start + step * index

        if count:
            total = count
        elif until_at is not None:
            total = (until_at - local_start) // step + 1 if until_at >= local_start else 0
        else:
            return None
        low_index = 0 if low is None else (low - _MARGIN - local_start) // step - 1
        high_index = total - 1 if high is None else (high + _MARGIN - local_start) // step + 1
    if total > MAX_OCCURRENCES:
        return None
    skipped = {str(day) for day in exceptions}
    starts = []
    for index in range(max(0, low_index), min(total - 1, high_index) + 1):
        start = value(index)
        if start.date().isoformat() not in skipped:
            starts.append(start)
    return starts


def validate_series(
    *, start: datetime, end: datetime, frequency: str, count: int | None, until: date | None, exceptions
) -> datetime:
    """Check a series' shape; return when its last occurrence ends (for Event.series_end)."""
    errors = {}
    if end <= start:
        errors["end"] = _("The end must be after the start.")
    if frequency != ONCE:
        if not count and not until:
            errors["repeat_count"] = _(
                "A repeating event needs an end: give the number of times it happens or the date it repeats until."
            )
        if count and until:
            errors["repeat_until"] = _("Give either the number of times or the end date, not both.")
        if count and count > MAX_OCCURRENCES:
            errors["repeat_count"] = _("An event can repeat at most %(n)s times.") % {"n": MAX_OCCURRENCES}
        if until and until < start.astimezone(LONDON).date():
            errors["repeat_until"] = _("The date it repeats until must be on or after the first date.")
        if until and until > start.astimezone(LONDON).date() + timedelta(days=366 * MAX_SERIES_YEARS):
            errors["repeat_until"] = _("An event can repeat for at most %(n)s years.") % {"n": MAX_SERIES_YEARS}
    for day in exceptions or ():
        try:
            date.fromisoformat(str(day))
        except ValueError:
            errors["exceptions"] = _("%(value)s is not a date (use YYYY-MM-DD).") % {"value": day}
    if errors:
        raise ValidationError(errors)
    if frequency == ONCE:
        return end
    starts = local_starts(start=start, frequency=frequency, count=count, until=until, exceptions=exceptions)
    if len(starts) > MAX_OCCURRENCES:
        raise ValidationError({"repeat_until": _("An event can repeat at most %(n)s times.") % {"n": MAX_OCCURRENCES}})
    if not starts:
        raise ValidationError({"exceptions": _("Every date of this event is an exception: it would never happen.")})
    wall_length = end.astimezone(LONDON).replace(tzinfo=None) - start.astimezone(LONDON).replace(tzinfo=None)
    return to_aware(starts[-1] + wall_length)
