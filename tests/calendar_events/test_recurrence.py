"""calendar_events.recurrence: series keep their London wall-clock time across the clock changes."""

from datetime import date, datetime
from datetime import timezone as dt_timezone
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from calendar_events import recurrence
from calendar_events.recurrence import LONDON


def _event(start_naive, end_naive, frequency="weekly", count=None, until=None, exceptions=()):
    return SimpleNamespace(
        start=start_naive.replace(tzinfo=LONDON),
        end=end_naive.replace(tzinfo=LONDON),
        frequency=frequency,
        repeat_count=count,
        repeat_until=until,
        exceptions=list(exceptions),
    )


def test_weekly_series_keeps_local_time_across_spring_clock_change():
    # 2027: the clocks go forward on Sunday 28 March.
    event = _event(datetime(2027, 3, 17, 10, 0), datetime(2027, 3, 17, 12, 0), count=4)
    found = recurrence.occurrences(event)
    assert [o.local_start.strftime("%Y-%m-%d %H:%M") for o in found] == [
        "2027-03-17 10:00",
        "2027-03-24 10:00",
        "2027-03-31 10:00",
        "2027-04-07 10:00",
    ]
    assert [o.start.astimezone(dt_timezone.utc).hour for o in found] == [10, 10, 9, 9]
    assert all((o.end - o.start).total_seconds() == 7200 for o in found)


def test_weekly_series_keeps_local_time_across_autumn_clock_change():
    # 2027: the clocks go back on Sunday 31 October.
    event = _event(datetime(2027, 10, 24, 9, 30), datetime(2027, 10, 24, 11, 0), count=2)
    found = recurrence.occurrences(event)
    assert [o.local_start.hour for o in found] == [9, 9]
    assert [o.start.astimezone(dt_timezone.utc).hour for o in found] == [8, 9]


def test_event_spanning_the_clock_change_night_keeps_wall_clock_end():
    event = _event(datetime(2027, 3, 27, 22, 0), datetime(2027, 3, 28, 4, 0), frequency="once")
    (only,) = recurrence.occurrences(event)
    assert only.local_end.hour == 4
    assert (only.end - only.start).total_seconds() == 5 * 3600  # an hour is skipped that night


def test_fortnightly_with_exception():
    event = _event(
        datetime(2027, 1, 5, 18, 0),
        datetime(2027, 1, 5, 19, 0),
        frequency="fortnightly",
        count=4,
        exceptions=["2027-01-19"],
    )
    assert [o.local_start.date().isoformat() for o in recurrence.occurrences(event)] == [
        "2027-01-05",
        "2027-02-02",
        "2027-02-16",
    ]


def test_monthly_by_weekday_second_tuesday_until():
    event = _event(
        datetime(2027, 1, 12, 14, 0), datetime(2027, 1, 12, 15, 0), frequency="monthly", until=date(2027, 5, 31)
    )
    starts = [o.local_start for o in recurrence.occurrences(event)]
    assert [s.date().isoformat() for s in starts] == [
        "2027-01-12",
        "2027-02-09",
        "2027-03-09",
        "2027-04-13",
        "2027-05-11",
    ]
    assert all(s.weekday() == 1 and s.hour == 14 for s in starts)


def test_monthly_on_a_fifth_weekday_means_last():
    assert recurrence.nth_weekday(date(2027, 3, 29)) == -1  # the fifth Monday of March 2027
    assert recurrence.rule_parts("monthly", datetime(2027, 3, 29, 10, tzinfo=LONDON)) == {
        "FREQ": "MONTHLY",
        "BYDAY": "-1MO",
    }


def test_window_limits_occurrences():
    event = _event(datetime(2027, 1, 4, 10, 0), datetime(2027, 1, 4, 11, 0), count=52)
    window = recurrence.occurrences(
        event, window_start=datetime(2027, 2, 1, tzinfo=LONDON), window_end=datetime(2027, 3, 1, tzinfo=LONDON)
    )
    assert len(window) == 4


def test_time_in_clock_change_gap_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError) as error:
        recurrence.make_local(datetime(2027, 3, 28, 1, 30))
    assert "does not exist in London" in error.value.message_dict["start"][0]
    assert recurrence.make_local(datetime(2027, 3, 28, 2, 30)).utcoffset().total_seconds() == 3600


def test_ambiguous_autumn_time_is_accepted_as_the_first():
    value = recurrence.make_local(datetime(2027, 10, 31, 1, 30))
    assert value.utcoffset().total_seconds() == 3600


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"frequency": "weekly", "count": None, "until": None}, "repeat_count"),
        ({"frequency": "weekly", "count": 5000, "until": None}, "repeat_count"),
        ({"frequency": "weekly", "count": 3, "until": date(2027, 5, 1)}, "repeat_until"),
        ({"frequency": "weekly", "count": None, "until": date(2026, 1, 1)}, "repeat_until"),
        ({"frequency": "weekly", "count": 2, "until": None, "exceptions": ["not-a-date"]}, "exceptions"),
    ],
)
def test_validate_series_refuses_bad_series(kwargs, field):
    start = datetime(2027, 3, 1, 10, tzinfo=LONDON)
    with pytest.raises(ValidationError) as error:
        recurrence.validate_series(
            start=start, end=start.replace(hour=11), exceptions=kwargs.pop("exceptions", []), **kwargs
        )
    assert field in error.value.message_dict


def test_validate_series_refuses_end_before_start():
    start = datetime(2027, 3, 1, 10, tzinfo=LONDON)
    with pytest.raises(ValidationError) as error:
        recurrence.validate_series(
            start=start, end=start.replace(hour=9), frequency="once", count=None, until=None, exceptions=[]
        )
    assert "end" in error.value.message_dict


def test_series_end_is_last_occurrence_end():
    start = datetime(2027, 3, 1, 10, tzinfo=LONDON)
    end = recurrence.validate_series(
        start=start, end=start.replace(hour=11), frequency="weekly", count=3, until=None, exceptions=[]
    )
    assert end == datetime(2027, 3, 15, 11, tzinfo=LONDON)


@pytest.mark.parametrize(
    "frequency, start, count, until",
    [
        ("weekly", datetime(2027, 1, 25, 9, 30), None, date(2027, 12, 1)),
        ("weekly", datetime(2027, 1, 25, 9, 30), 520, None),
        ("fortnightly", datetime(2027, 3, 14, 1, 30), 30, None),
        ("monthly", datetime(2027, 1, 25, 18, 0), 12, None),  # the last Monday
        ("monthly", datetime(2027, 3, 9, 10, 0), None, date(2028, 6, 30)),
        ("weekly", datetime(2027, 1, 25, 9, 30, 15, 7), 10, None),  # microseconds: the walk's way
    ],
)
def test_skipped_starts_are_the_series_dates_its_exceptions_name(frequency, start, count, until):
    """What EXDATE lists: the starts the exceptions take out, found near each exception, are those the
    whole series walked by dateutil has on the exceptions' dates, in order."""
    aware = start.replace(tzinfo=LONDON)
    series = recurrence.local_starts(start=aware, frequency=frequency, count=count, until=until)
    # Every tenth date of the series, the day after each (not a date of it) and one that is no date.
    exceptions = [value.date().isoformat() for value in series[::10]]
    exceptions += [date.fromordinal(value.toordinal() + 1).isoformat() for value in series[::10]]
    exceptions += ["not a date", "2099-01-01"]
    named = set(exceptions)
    expected = [value for value in series if value.date().isoformat() in named]
    assert len(expected) == len(series[::10])
    assert (
        recurrence.skipped_starts(
            start=aware, frequency=frequency, count=count, until=until, exceptions=list(reversed(exceptions))
        )
        == expected
    )
    assert recurrence.skipped_starts(start=aware, frequency="once", count=None, until=None, exceptions=exceptions) == []
