"""The monthly summaries of the referral figures (referrals.summaries): whatever writes the referrals,
their needs, feedback or an organisation's ward, and however a period falls across months in London
time, the figures read through the summaries are the figures counted live."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from referrals import services, summaries
from referrals.models import Feedback, Referral, ReferralChange, SummarisedMonth
from referrals.selectors import delivery_by_ward, referral_statistics
from tests.factories import term

from .test_statistics import _answer, _made, utc
from .test_statistics import march as march  # the fixture

pytestmark = pytest.mark.django_db

PERIODS = [
    (date(2026, 3, 1), date(2026, 3, 31)),  # one whole month
    (date(2026, 2, 1), date(2026, 4, 30)),  # three whole months
    (date(2026, 2, 15), date(2026, 4, 10)),  # partial months at both ends around a whole one
    (date(2026, 3, 10), date(2026, 4, 5)),  # two partial months, no whole one
    (date(2026, 1, 1), date(2026, 12, 31)),  # a year
    (date(2026, 3, 29), date(2026, 10, 25)),  # partial months from and to a change of the clocks
    (date(2026, 3, 31), date(2026, 4, 1)),  # the days either side of a month's end in London time
    (date(2026, 2, 28), date(2026, 3, 1)),
    (date(2026, 2, 17), date(2026, 3, 14)),  # the period before 15 March to 9 April, by days
    (date(2026, 3, 5), timezone.localdate() + timedelta(days=3)),  # into the current month (counted live)
]


def assert_summaries_match_live():
    for start, end in PERIODS:
        for ward in (None, term("wards", "bow-east"), term("wards", "bow-west")):
            live = referral_statistics(start=start, end=end, ward=ward, use_summaries=False)
            assert referral_statistics(start=start, end=end, ward=ward) == live, (start, end, ward)
        live = delivery_by_ward(start=start, end=end, use_summaries=False)
        assert delivery_by_ward(start=start, end=end) == live, (start, end)


def test_the_summaries_are_the_live_figures(world, march):
    assert_summaries_match_live()
    # The whole months were read from summaries (so the comparison above compared something).
    assert set(SummarisedMonth.objects.values_list("month", flat=True)) >= {date(2026, m, 1) for m in range(1, 13)}
    assert referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 31), ward=None)["total"] == 8


def test_a_page_memo_shares_the_borough_figures_and_gives_the_same(world, march, monkeypatch):
    """The referral section and delivery by area of one page count the borough's referrals and work out its
    medians once (through the page's memo), with the figures each gives alone; a ward's median is taken
    from the medians by ward once they are worked out."""
    bow_east = term("wards", "bow-east")
    for start, end in PERIODS:
        alone = [referral_statistics(start=start, end=end, ward=ward) for ward in (None, bow_east)]
        delivery = delivery_by_ward(start=start, end=end)
        assert alone[0]["first_response"]["count"], (start, end)  # so that the medians are shared
        memo: dict = {}
        assert referral_statistics(start=start, end=end, ward=None, memo=memo) == alone[0], (start, end)
        with CaptureQueriesContext(connection) as queries:
            assert delivery_by_ward(start=start, end=end, memo=memo) == delivery, (start, end)
        assert len(queries) == 0, (start, end)
        medians_worked_out = []
        period_medians = summaries.period_medians
        monkeypatch.setattr(summaries, "period_medians", lambda **kwargs: medians_worked_out.append(kwargs) or period_medians(**kwargs))
        assert referral_statistics(start=start, end=end, ward=bow_east, memo=memo) == alone[1], (start, end)
        assert referral_statistics(start=start, end=end, ward=bow_east, memo={}) == alone[1], (start, end)
        assert len(medians_worked_out) == 1, (start, end)  # only without the memo's medians by ward
        monkeypatch.setattr(summaries, "period_medians", period_medians)


def test_a_page_memo_checks_the_summaries_once_per_period(world, march, monkeypatch):
    """A period's counts and its medians read the same months: with a page's memo they are checked (and
    brought up to date) once, not once each, and the figures are those worked out without the memo."""
    checked = []
    summarise = summaries.summarise
    monkeypatch.setattr(summaries, "summarise", lambda wanted: checked.append(set(wanted)) or summarise(wanted))
    start, end = date(2026, 2, 1), date(2026, 4, 30)
    months = {date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)}
    for ward in (None, term("wards", "bow-east")):
        checked.clear()
        alone = referral_statistics(start=start, end=end, ward=ward)
        assert alone["first_response"]["count"], ward  # so that the medians were worked out
        assert checked == [months, months], ward  # the counts and the medians, a check each
        checked.clear()
        memo: dict = {}
        assert referral_statistics(start=start, end=end, ward=ward, memo=memo) == alone, ward
        delivery_by_ward(start=start, end=end, memo=memo)
        assert checked == [months], ward


def test_writes_through_the_services_are_counted(world, march):
    assert_summaries_match_live()
    before = referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 31), ward=None)
    referral = _made(world, world.vco, world.editor, utc(11))
    referral = _answer(referral, "accept", by=world.officer, at=utc(11, 12))
    referral = _answer(referral, "close", by=world.officer, at=utc(12), outcome="resolved")
    services.give_feedback(referral=referral, by=world.editor, satisfaction=3)
    after = referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 31), ward=None)
    assert after["total"] == before["total"] + 1
    assert dict(after["satisfaction"])["3: neither"] == dict(before["satisfaction"])["3: neither"] + 1
    assert_summaries_match_live()


def test_bulk_updates_and_deletions_behind_the_orm_are_counted(world, march):
    assert_summaries_match_live()
    # A queryset update (no save(), no signals) of status, outcome and first answer.
    Referral.objects.filter(status=Referral.Status.ACCEPTED).update(status=Referral.Status.CLOSED, outcome="partly_resolved")
    Referral.objects.filter(first_response_after__gt=timedelta(hours=20)).update(first_response_after=timedelta(hours=1))
    assert_summaries_match_live()
    # Feedback changed and removed in bulk; needs added and removed.
    Feedback.objects.filter(satisfaction=5).update(satisfaction=1)
    Feedback.objects.filter(satisfaction=4).delete()
    some = Referral.objects.filter(submitted_at__month=3).order_by("pk")
    some.first().needs.add(term("needs", "training"))
    some.last().needs.clear()
    assert_summaries_match_live()
    # Deletions, as erasure or an administrator would.
    Referral.objects.filter(pk=some.first().pk).delete()
    assert_summaries_match_live()
    assert referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 31), ward=None)["total"] == 7


def test_raw_sql_and_an_organisations_new_ward_are_counted(world, march):
    assert_summaries_match_live()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE referrals_referral SET status = 'declined' WHERE status = 'with_provider'")
    assert_summaries_match_live()
    # The VCO moves ward: every month its referrals fall in is counted again, for both wards.
    type(world.vco).objects.filter(pk=world.vco.pk).update(ward=term("wards", "bow-west"))
    assert_summaries_match_live()
    assert referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 31), ward=term("wards", "bow-east"))["total"] == 0
    assert not ReferralChange.objects.exists()  # every note was taken care of


@pytest.mark.parametrize(
    "moved_to, london_month",
    [
        (datetime(2026, 3, 31, 22, 30, tzinfo=UTC), 3),  # 23:30 BST on 31 March
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), 4),  # 00:30 BST on 1 April, still March in UTC
        (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), 10),  # 23:30 GMT on 31 October
        (datetime(2026, 4, 30, 23, 0, tzinfo=UTC), 5),  # midnight BST: 1 May in London
    ],
)
def test_a_referral_moved_across_a_month_boundary_in_london_time(world, march, moved_to, london_month):
    assert_summaries_match_live()
    referral = Referral.objects.order_by("pk").first()
    Referral.objects.filter(pk=referral.pk).update(submitted_at=moved_to)
    assert_summaries_match_live()
    month = date(2026, london_month, 1)
    end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    live = referral_statistics(start=month, end=end, ward=None, use_summaries=False)["total"]
    assert referral_statistics(start=month, end=end, ward=None)["total"] == live >= 1


def test_a_new_response_deadline_counts_the_months_again(world, march, settings):
    assert_summaries_match_live()
    settings.PORTAL_REFERRAL_RESPONSE_DAYS = 0  # answered the day it arrived
    strict = delivery_by_ward(start=date(2026, 3, 1), end=date(2026, 3, 31))["borough"]["in_time"]
    assert strict == delivery_by_ward(start=date(2026, 3, 1), end=date(2026, 3, 31), use_summaries=False)["borough"]["in_time"]
    settings.PORTAL_REFERRAL_RESPONSE_DAYS = 5
    assert delivery_by_ward(start=date(2026, 3, 1), end=date(2026, 3, 31))["borough"]["in_time"] > strict
    assert_summaries_match_live()


def test_forgetting_the_summaries_counts_every_month_again(world, march):
    assert_summaries_match_live()
    # Behind the triggers' back: the summaries say March had no referrals.
    from referrals.models import ReferralMonth

    ReferralMonth.objects.filter(month=date(2026, 3, 1)).delete()
    assert referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 31), ward=None)["total"] == 0
    call_command("summarise_referrals", stdout=open("/dev/null", "w"))
    assert not SummarisedMonth.objects.exists()
    assert referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 31), ward=None)["total"] == 8
    assert_summaries_match_live()


def test_the_partial_months_days_are_read_from_the_day_rows(world, march):
    """An ended month's partial days come from ReferralDay (so the comparisons above compared something),
    and the same day rows serve a period that is only those days; a month summarised again rewrites them."""
    from referrals.models import ReferralDay

    assert_summaries_match_live()
    day = date(2026, 3, 15)  # R3
    assert summaries._parts(date(2026, 3, 10), date(2026, 4, 5)) == (
        {date(2026, 3, 1), date(2026, 4, 1)}, [(date(2026, 3, 10), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 4, 5))], []
    )
    assert referral_statistics(start=day, end=day, ward=None)["total"] == 1
    ReferralDay.objects.filter(day=day).delete()  # behind the triggers' back
    assert referral_statistics(start=day, end=day, ward=None)["total"] == 0
    assert referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 31), ward=None)["total"] == 8  # the month's own row
    Referral.objects.filter(submitted_at__date=date(2026, 3, 10)).update(outcome="resolved")  # notes March
    assert referral_statistics(start=day, end=day, ward=None)["total"] == 1
    assert_summaries_match_live()


def test_the_current_months_days_are_counted_live():
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    start = last_month + timedelta(days=3)
    assert summaries._parts(start, today) == ({last_month}, [(start, this_month - timedelta(days=1))], [(this_month, today)])
    assert summaries._parts(start, today, use_summaries=False) == (set(), [], [(start, today)])


def test_whole_months_and_edges():
    assert summaries._whole_months(date(2026, 3, 1), date(2026, 3, 31)) == (date(2026, 3, 1), date(2026, 3, 1))
    assert summaries._whole_months(date(2026, 3, 2), date(2026, 3, 31)) is None
    assert summaries._whole_months(date(2026, 2, 15), date(2026, 4, 10)) == (date(2026, 3, 1), date(2026, 3, 1))
    assert summaries._edges(date(2026, 2, 15), date(2026, 4, 10)) == [(date(2026, 2, 15), date(2026, 2, 28)), (date(2026, 4, 1), date(2026, 4, 10))]
    assert summaries._edges(date(2026, 3, 10), date(2026, 3, 20)) == [(date(2026, 3, 10), date(2026, 3, 20))]
    assert summaries._whole_months(date(2024, 2, 1), date(2024, 2, 29)) == (date(2024, 2, 1), date(2024, 2, 1))
