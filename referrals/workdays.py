"""The working-day clock: weekends and England-and-Wales bank holidays do not count.

Deadlines fall at the end of a working day in the borough's time zone, so "five working days" means
an officer has the whole of the fifth working day to answer.
"""

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from django.utils import timezone


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    # England's calendar is the same as Wales's (the package files both under subdivision ENG/WLS).
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (which itself never counts)."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if `end` is not after `start`)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def start_of_working_day(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def deadline_after(moment: datetime, working_days: int) -> datetime:
    """The end of the `working_days`-th working day after the day of `moment` (local time)."""
    return end_of_day(add_working_days(timezone.localdate(moment), working_days))
