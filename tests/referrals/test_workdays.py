"""The working-day clock: weekends and England-and-Wales bank holidays do not count."""

from datetime import date, datetime

import pytest
from django.utils import timezone

from referrals import workdays


@pytest.mark.parametrize(
    "day,expected",
    [
        (date(2026, 12, 25), False),  # Christmas Day
        (date(2026, 12, 28), False),  # Boxing Day falls on a Saturday: the Monday is the bank holiday
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2027, 3, 26), False),  # Good Friday
        (date(2026, 11, 21), False),  # a Saturday
        (date(2026, 12, 24), True),
        (date(2027, 3, 30), True),
    ],
)
def test_is_working_day(day, expected):
    assert workdays.is_working_day(day) is expected


def test_five_working_days_across_christmas_and_new_year():
    # Wed 23 Dec 2026: Thu 24 (1), [Fri 25 Christmas, weekend, Mon 28 Boxing Day observed], Tue 29 (2),
    # Wed 30 (3), Thu 31 (4), [Fri 1 Jan New Year's Day, weekend], Mon 4 Jan (5).
    assert workdays.add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 4)


def test_five_working_days_across_easter():
    # Thu 25 Mar 2027: [Good Friday 26, weekend, Easter Monday 29], Tue 30 (1) ... Mon 5 Apr (5).
    assert workdays.add_working_days(date(2027, 3, 25), 5) == date(2027, 4, 5)


def test_an_ordinary_week():
    assert workdays.add_working_days(date(2026, 11, 16), 5) == date(2026, 11, 23)  # Monday to Monday
    assert workdays.add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)  # Saturday to Monday


def test_working_days_between():
    assert workdays.working_days_between(date(2026, 12, 23), date(2027, 1, 4)) == 5
    assert workdays.working_days_between(date(2027, 1, 4), date(2026, 12, 23)) == 0


def test_deadline_is_the_end_of_the_last_working_day_in_london():
    sent = timezone.make_aware(datetime(2026, 12, 23, 16, 30))
    due = timezone.localtime(workdays.deadline_after(sent, 5))
    assert (due.date(), due.hour, due.minute) == (date(2027, 1, 4), 23, 59)


def test_the_referral_deadline_uses_the_configured_number_of_days(settings):
    from referrals.services import _deadlines

    sent = timezone.make_aware(datetime(2026, 12, 23, 10, 0))
    settings.PORTAL_REFERRAL_RESPONSE_DAYS = 2
    settings.PORTAL_REFERRAL_ESCALATE_AFTER_DAYS = 1
    dates = {name: timezone.localtime(value) for name, value in _deadlines(sent).items()}
    assert dates["response_due_at"].date() == date(2026, 12, 29)
    assert (dates["remind_at"].date(), dates["remind_at"].hour) == (date(2026, 12, 29), 9)
    assert dates["escalate_at"].date() == date(2026, 12, 30)
