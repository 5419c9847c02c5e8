"""referral_statistics: the evidence figures for a period and an area, against values worked out by hand.

The period is March 2026 in Europe/London: it starts at 00:00 GMT on 1 March and, with the clocks gone
forward on 29 March, ends at 00:00 BST on 1 April, which is 23:00 UTC on 31 March.
"""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals import services
from referrals.selectors import referral_statistics
from tests.factories import make_affiliation, make_organisation, make_user, term

from .factories import ask

pytestmark = pytest.mark.django_db

MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}


def utc(day: int, hour: int = 9, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _made(world, organisation, by, at, *, needs=None, provider="provider"):
    return ask(
        organisation=organisation,
        by=by,
        needs=needs or [world.funding],
        chosen_provider=getattr(world, provider) if provider else None,
        now=at,
    )


def _answer(referral, how, *, by, at, **extra):
    return getattr(services, how)(referral=referral, by=by, expected_version=referral.version, now=at, **extra)


@pytest.fixture
def march(world):
    """Bow East (the world's VCO): R1 to R6. Bow West: R7. No ward: R10. Outside the period: R8, R9.

    R1  1 Mar 00:00 (the first moment)   accepted after 2 h, closed resolved, feedback 5
    R2  10 Mar                           declined after 10 h
    R3  15 Mar                           passed on after 4 h; the next provider accepts 30 h later
    R4  31 Mar 22:30 UTC (23:30 BST)     not answered yet
    R5  20 Mar, to the network            routed 24 h later, accepted 6 h after that
    R6  5 Mar                            accepted after 1 h, withdrawn, feedback 4
    R7  12 Mar (Bow West)                accepted after 30 h, closed not resolved, feedback 2
    R10 18 Mar (no ward)                 accepted after 8 h
    R8  28 Feb 23:59 (before)            accepted after 100 h, closed resolved, feedback 1
    R9  31 Mar 23:30 UTC (1 Apr in London) accepted after 1 h
    """
    west = make_organisation(name="Bow West Tenants", ward=term("wards", "bow-west"))
    west_editor = make_user()
    make_affiliation(user=west_editor, organisation=west)
    # Training alone would route nowhere (the world's rule is for funding): R8 and R9 ask for both.
    both = [world.funding, term("needs", "training")]
    officer, other, editor, admin = world.officer, world.other_officer, world.editor, world.admin

    r1 = _made(world, world.vco, editor, utc(1, 0), needs=[world.funding, term("needs", "premises")])
    r1 = _answer(r1, "accept", by=officer, at=utc(1, 2))
    r1 = _answer(r1, "close", by=officer, at=utc(8), outcome="resolved")
    services.give_feedback(referral=r1, by=editor, satisfaction=5)

    r2 = _made(world, world.vco, editor, utc(10))
    _answer(r2, "decline", by=officer, at=utc(10, 19), reason="No capacity this month")

    r3 = _made(world, world.vco, editor, utc(15, 12))
    r3 = _answer(r3, "pass_on", by=officer, at=utc(15, 16), provider=world.other_provider, note="Better placed")
    _answer(r3, "accept", by=other, at=utc(16, 22))

    _made(world, world.vco, editor, utc(31, 22, 30))

    r5 = _made(world, world.vco, editor, utc(20), provider=None)
    r5 = _answer(r5, "send_to_provider", by=admin, at=utc(21), provider=world.provider, note="")
    _answer(r5, "accept", by=officer, at=utc(21, 15))

    r6 = _made(world, world.vco, editor, utc(5))
    r6 = _answer(r6, "accept", by=officer, at=utc(5, 10))
    r6 = _answer(r6, "withdraw", by=editor, at=utc(6))
    services.give_feedback(referral=r6, by=editor, satisfaction=4)

    r7 = _made(world, west, west_editor, utc(12))
    r7 = _answer(r7, "accept", by=officer, at=utc(13, 15))
    r7 = _answer(r7, "close", by=officer, at=utc(20), outcome="not_resolved")
    services.give_feedback(referral=r7, by=west_editor, satisfaction=2)

    r10 = _made(world, world.other_vco, world.other_editor, utc(18))
    _answer(r10, "accept", by=officer, at=utc(18, 17))

    r8 = _made(world, world.vco, editor, utc(28, 23, 59, month=2), needs=both)
    r8 = _answer(r8, "accept", by=officer, at=utc(28, 23, 59, month=2) + timedelta(hours=100))
    r8 = _answer(r8, "close", by=officer, at=utc(10, 12), outcome="resolved")
    services.give_feedback(referral=r8, by=editor, satisfaction=1)

    r9 = _made(world, world.vco, editor, utc(31, 23, 30), needs=both)
    _answer(r9, "accept", by=officer, at=utc(1, 0, 30, month=4))
    return SimpleNamespace(west=west)


def test_the_whole_borough(world, march):
    figures = referral_statistics(ward=None, **MARCH)
    assert figures["total"] == 8  # R1-R7 and R10; R8 and R9 fall outside the London dates
    by_need = dict(figures["by_need"])
    assert by_need["Funding and fundraising"] == 8 and by_need["Premises"] == 1
    assert by_need["Training"] == 0  # only R8 and R9 asked for training
    assert len(by_need) == 18  # every need of the vocabulary, so periods can be compared
    assert figures["by_outcome"] == [
        ("Submitted", 0),
        ("With provider", 1),  # R4
        ("Accepted", 3),  # R3 (by the second provider), R5, R10
        ("Declined", 1),  # R2
        ("In progress", 0),
        ("Resolved", 1),  # R1
        ("Partly resolved", 0),
        ("Not resolved", 1),  # R7
        ("Withdrawn", 1),  # R6
    ]
    assert sum(n for _label, n in figures["by_outcome"]) == figures["total"]
    # R1 2, R2 10, R3 4 (the pass-on is its first response), R5 6 (from routing, not from asking),
    # R6 1, R7 30, R10 8; R4 has no answer yet.
    assert sorted(figures["first_response_hours"]) == pytest.approx([1, 2, 4, 6, 8, 10, 30])
    assert figures["satisfaction"] == [
        ("5: very satisfied", 1),
        ("4: satisfied", 1),
        ("3: neither", 0),
        ("2: dissatisfied", 1),
        ("1: very dissatisfied", 0),  # R8's 1 is for a referral made in February
    ]


def test_one_ward(world, march):
    figures = referral_statistics(ward=term("wards", "bow-east"), **MARCH)
    assert figures["total"] == 6  # R1-R6: not R7 (Bow West) or R10 (no ward)
    assert dict(figures["by_need"])["Funding and fundraising"] == 6
    assert dict(figures["by_outcome"]) == {
        "Submitted": 0,
        "With provider": 1,
        "Accepted": 2,
        "Declined": 1,
        "In progress": 0,
        "Resolved": 1,
        "Partly resolved": 0,
        "Not resolved": 0,
        "Withdrawn": 1,
    }
    assert sorted(figures["first_response_hours"]) == pytest.approx([1, 2, 4, 6, 10])
    assert dict(figures["satisfaction"])["5: very satisfied"] == 1
    assert dict(figures["satisfaction"])["2: dissatisfied"] == 0
    west = referral_statistics(ward=march.west.ward, **MARCH)
    assert west["total"] == 1 and west["first_response_hours"] == pytest.approx([30])


def test_period_boundaries_are_london_dates_both_included(world, march):
    # One day at each end: 1 March holds R1 (at its first moment); 31 March holds R4 (23:30 BST) but
    # not R9 (00:30 BST on 1 April, though still 31 March in UTC).
    assert referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 1), ward=None)["total"] == 1
    last_day = referral_statistics(start=date(2026, 3, 31), end=date(2026, 3, 31), ward=None)
    assert last_day["total"] == 1 and dict(last_day["by_outcome"])["With provider"] == 1
    april = referral_statistics(start=date(2026, 4, 1), end=date(2026, 4, 30), ward=None)
    assert april["total"] == 1 and april["first_response_hours"] == pytest.approx([1])  # R9
    february = referral_statistics(start=date(2026, 2, 1), end=date(2026, 2, 28), ward=None)
    assert february["total"] == 1 and february["first_response_hours"] == pytest.approx([100])  # R8
    assert dict(february["satisfaction"])["1: very dissatisfied"] == 1


def test_an_empty_period(world):
    figures = referral_statistics(start=date(1990, 1, 1), end=date(1990, 12, 31), ward=None)
    assert figures["total"] == 0 and figures["first_response_hours"] == []
    assert all(n == 0 for _label, n in figures["by_need"] + figures["by_outcome"] + figures["satisfaction"])


def test_a_need_no_longer_offered_shows_while_referrals_named_it(world, march):
    from directory.models import TaxonomyTerm

    TaxonomyTerm.objects.filter(taxonomy__code="needs", code__in=["premises", "payroll"]).update(is_active=False)
    by_need = dict(referral_statistics(ward=None, **MARCH)["by_need"])
    assert by_need["Premises"] == 1 and "Payroll" not in by_need


def test_the_queries_do_not_grow_with_the_number_of_referrals(world, march):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            referral_statistics(ward=None, **MARCH)
        return len(captured)

    before = queries()
    for day in (2, 3, 4, 6, 7):
        referral = _made(world, world.vco, world.editor, utc(day))
        _answer(referral, "accept", by=world.officer, at=utc(day, 12))
    assert referral_statistics(ward=None, **MARCH)["total"] == 13
    assert queries() == before == 4
