"""calendar_events.selectors: reads whose shortcuts must give what the plain way gives."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from calendar_events import selectors
from calendar_events.recurrence import LONDON, make_local
from tests.factories import make_event, make_provider

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year + 2
# The last Sunday of March: London's clocks go forward that night.
CLOCK_CHANGE = max(date(YEAR, 3, 31) - timedelta(days=n) for n in range(7) if (date(YEAR, 3, 31) - timedelta(days=n)).weekday() == 6)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return make_local(datetime(day.year, day.month, day.day, hour, minute))


def _every_occurrence_by_day(year: int, month: int, filters=None) -> dict[date, list]:
    """The plain way: every occurrence in the grid's range, in time order, by its local day."""
    first = date(year, month, 1)
    grid_start = first - timedelta(days=first.weekday())
    by_day = {}
    for occurrence in selectors.occurrences_between(
        selectors.local_midnight(grid_start), selectors.local_midnight(grid_start + timedelta(days=42)), filters
    ):
        by_day.setdefault(occurrence.local_start.date(), []).append(occurrence)
    return by_day


def _shown(occurrences) -> list[tuple]:
    return [(str(occurrence.event.uuid), occurrence.start) for occurrence in occurrences]


@pytest.mark.parametrize("per_day", [1, 3, 50])
def test_month_grid_shows_the_first_of_each_day_and_counts_every_occurrence(per_day):
    """One-off events are counted per day in the database and only those shown are read; recurring
    ones are expanded in Python and merged in: the same days, order, counts as every occurrence gives."""
    provider = make_provider()
    busy = CLOCK_CHANGE + timedelta(days=3)
    # Ties in time (and in title, even against a recurring event's date), titles whose order differs
    # between code points and a natural-language collation, and a day just after midnight in summer
    # time (23:30 UTC the day before).
    for title in ("apple", "Zebra", "Émile", "Apple", "apple", "Ångström", "zeta"):
        make_event(organiser=provider, start=_at(busy, 10), title=title)
    make_event(organiser=provider, start=_at(busy, 9, 30), title="Early")
    make_event(organiser=provider, start=_at(busy + timedelta(days=1), 0, 30), title="Just after midnight")
    make_event(organiser=provider, start=_at(CLOCK_CHANGE, 3), title="On the night the clocks change")
    make_event(organiser=provider, start=_at(busy, 18), title="Cancelled one", status="cancelled")
    make_event(organiser=provider, start=_at(busy, 19), title="Networking", category="networking")
    weekly = make_event(
        organiser=provider,
        start=_at(busy - timedelta(days=21), 10),
        title="apple",
        frequency="weekly",
        repeat_count=8,
        exceptions=[(busy - timedelta(days=7)).isoformat()],
    )
    make_event(organiser=provider, start=_at(date(YEAR, 1, 9), 10), title="Monthly", frequency="monthly", repeat_count=6)
    # Begins before the grid and runs into it: on no day of the grid (as before).
    make_event(organiser=provider, start=_at(date(YEAR, 2, 20), 10), hours=24 * 20, title="Long one")

    for filters in (None, selectors.EventFilters(category="networking"), selectors.EventFilters(q="apple")):
        every = _every_occurrence_by_day(YEAR, 3, filters)
        grid = selectors.month_grid(YEAR, 3, filters, per_day=per_day)
        days = [day for week in grid["weeks"] for day in week]
        assert len(days) in (35, 42)
        for day in days:
            expected = every.get(day["date"], [])
            assert day["total"] == len(expected), day["date"]
            assert _shown(day["occurrences"]) == _shown(expected[:per_day]), day["date"]
        assert grid["count"] == sum(len(value) for key, value in every.items() if key.month == 3)
    busy_day = next(day for week in selectors.month_grid(YEAR, 3, per_day=50)["weeks"] for day in week if day["date"] == busy)
    titles = [occurrence.event.title for occurrence in busy_day["occurrences"]]
    # Code point order, ties by the series' first date then creation: the weekly "apple" first of the apples.
    assert titles[:8] == ["Early", "Apple", "Zebra", "apple", "apple", "apple", "zeta", "Ångström"]
    assert busy_day["occurrences"][3].event.pk == weekly.pk
    assert busy_day["occurrences"][0].start.astimezone(LONDON).hour == 9
