"""referral_statistics: the evidence figures for a period and an area, against values worked out by hand.

The period is March 2026 in Europe/London: it starts at 00:00 GMT on 1 March and, with the clocks gone
forward on 29 March, ends at 00:00 BST on 1 April, which is 23:00 UTC on 31 March.
"""

import importlib
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals import services
from referrals.models import Referral
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
    r2 = _answer(r2, "decline", by=officer, at=utc(10, 19), reason="No capacity this month")

    r3 = _made(world, world.vco, editor, utc(15, 12))
    r3 = _answer(r3, "pass_on", by=officer, at=utc(15, 16), provider=world.other_provider, note="Better placed")
    r3 = _answer(r3, "accept", by=other, at=utc(16, 22))

    r4 = _made(world, world.vco, editor, utc(31, 22, 30))

    r5 = _made(world, world.vco, editor, utc(20), provider=None)
    r5 = _answer(r5, "send_to_provider", by=admin, at=utc(21), provider=world.provider, note="")
    r5 = _answer(r5, "accept", by=officer, at=utc(21, 15))

    r6 = _made(world, world.vco, editor, utc(5))
    r6 = _answer(r6, "accept", by=officer, at=utc(5, 10))
    r6 = _answer(r6, "withdraw", by=editor, at=utc(6))
    services.give_feedback(referral=r6, by=editor, satisfaction=4)

    r7 = _made(world, west, west_editor, utc(12))
    r7 = _answer(r7, "accept", by=officer, at=utc(13, 15))
    r7 = _answer(r7, "close", by=officer, at=utc(20), outcome="not_resolved")
    services.give_feedback(referral=r7, by=west_editor, satisfaction=2)

    r10 = _made(world, world.other_vco, world.other_editor, utc(18))
    r10 = _answer(r10, "accept", by=officer, at=utc(18, 17))

    r8 = _made(world, world.vco, editor, utc(28, 23, 59, month=2), needs=both)
    r8 = _answer(r8, "accept", by=officer, at=utc(28, 23, 59, month=2) + timedelta(hours=100))
    r8 = _answer(r8, "close", by=officer, at=utc(10, 12), outcome="resolved")
    services.give_feedback(referral=r8, by=editor, satisfaction=1)

    r9 = _made(world, world.vco, editor, utc(31, 23, 30), needs=both)
    r9 = _answer(r9, "accept", by=officer, at=utc(1, 0, 30, month=4))
    return SimpleNamespace(west=west, r1=r1, r2=r2, r3=r3, r4=r4, r5=r5, r6=r6, r7=r7, r8=r8, r9=r9, r10=r10)


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
    # R6 1, R7 30, R10 8; R4 has no answer yet. In order 1, 2, 4, 6, 8, 10, 30: the middle one is 6.
    assert figures["first_response"] == {"median_hours": pytest.approx(6), "count": 7}
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
    assert figures["first_response"] == {"median_hours": pytest.approx(4), "count": 5}  # 1, 2, 4, 6, 10
    assert dict(figures["satisfaction"])["5: very satisfied"] == 1
    assert dict(figures["satisfaction"])["2: dissatisfied"] == 0
    west = referral_statistics(ward=march.west.ward, **MARCH)
    assert west["total"] == 1 and west["first_response"] == {"median_hours": pytest.approx(30), "count": 1}


def test_period_boundaries_are_london_dates_both_included(world, march):
    # One day at each end: 1 March holds R1 (at its first moment); 31 March holds R4 (23:30 BST) but
    # not R9 (00:30 BST on 1 April, though still 31 March in UTC).
    assert referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 1), ward=None)["total"] == 1
    last_day = referral_statistics(start=date(2026, 3, 31), end=date(2026, 3, 31), ward=None)
    assert last_day["total"] == 1 and dict(last_day["by_outcome"])["With provider"] == 1
    april = referral_statistics(start=date(2026, 4, 1), end=date(2026, 4, 30), ward=None)
    assert april["total"] == 1 and april["first_response"] == {"median_hours": pytest.approx(1), "count": 1}  # R9
    february = referral_statistics(start=date(2026, 2, 1), end=date(2026, 2, 28), ward=None)
    assert february["total"] == 1 and february["first_response"]["median_hours"] == pytest.approx(100)  # R8
    assert dict(february["satisfaction"])["1: very dissatisfied"] == 1


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(world, march):
    # 1 to 12 March: R6 1, R1 2, R2 10, R7 30; the middle two are 2 and 10.
    borough = referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 12), ward=None)
    assert borough["first_response"] == {"median_hours": pytest.approx(6), "count": 4}
    # Bow East, 1 to 15 March: R6 1, R1 2, R3 4, R2 10; the middle two are 2 and 4.
    bow_east = referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 15), ward=term("wards", "bow-east"))
    assert bow_east["first_response"] == {"median_hours": pytest.approx(3), "count": 4}
    # 1 to 5 March: R6 1 and R1 2.
    two = referral_statistics(start=date(2026, 3, 1), end=date(2026, 3, 5), ward=None)
    assert two["first_response"] == {"median_hours": pytest.approx(1.5), "count": 2}


def test_an_empty_period(world):
    figures = referral_statistics(start=date(1990, 1, 1), end=date(1990, 12, 31), ward=None)
    assert figures["total"] == 0 and figures["first_response"] == {"median_hours": None, "count": 0}
    assert all(n == 0 for _label, n in figures["by_need"] + figures["by_outcome"] + figures["satisfaction"])


def test_a_need_no_longer_offered_shows_while_referrals_named_it(world, march):
    from taxonomies.models import TaxonomyTerm

    TaxonomyTerm.objects.filter(taxonomy__code="needs", code__in=["premises", "payroll"]).update(is_active=False)
    by_need = dict(referral_statistics(ward=None, **MARCH)["by_need"])
    assert by_need["Premises"] == 1 and "Payroll" not in by_need


def test_the_queries_do_not_grow_with_the_number_of_referrals(world, march):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            referral_statistics(ward=None, **MARCH)
        # Without Redis the shared cache is a database table: reading the taxonomies' version there is
        # not one of the figures' queries.
        return sum(1 for query in captured.captured_queries if "portal_cache" not in query["sql"])

    referral_statistics(ward=None, **MARCH)  # March summarised
    before = queries()
    for day in (2, 3, 4, 6, 7):
        referral = _made(world, world.vco, world.editor, utc(day))
        _answer(referral, "accept", by=world.officer, at=utc(day, 12))
    assert referral_statistics(ward=None, **MARCH)["total"] == 13  # March summarised again
    # The summaries' check (one statement), the month's rows and needs, and the median (the summaries'
    # check, the answers per hour waited, the middle hour's answers); the needs are kept per process
    # (taxonomies.selectors.built_from_terms).
    assert queries() == before == 6


def test_the_first_answer_is_kept_once_timed_from_the_sending_it_answers(world):
    referral = _made(world, world.vco, world.editor, utc(2))
    assert referral.first_response_at is None and referral.first_response_after is None
    referral = _answer(
        referral, "pass_on", by=world.officer, at=utc(2, 13), provider=world.other_provider, note="Better placed"
    )
    assert (referral.first_response_at, referral.first_response_after) == (utc(2, 13), timedelta(hours=4))
    # The next provider's clock starts afresh, but its decline is not the referral's first answer.
    referral = _answer(referral, "decline", by=world.other_officer, at=utc(4, 9), reason="No capacity")
    assert (referral.first_response_at, referral.first_response_after) == (utc(2, 13), timedelta(hours=4))

    accepted = _made(world, world.vco, world.editor, utc(3))
    accepted = _answer(accepted, "accept", by=world.officer, at=utc(3, 9, 45))
    accepted = _answer(
        accepted, "pass_on", by=world.officer, at=utc(5), provider=world.other_provider, note="Over to you"
    )
    assert (accepted.first_response_at, accepted.first_response_after) == (utc(3, 9, 45), timedelta(minutes=45))

    # Routed by the network's co-ordinators: timed from the routing; withdrawing is not an answer.
    routed = _made(world, world.vco, world.editor, utc(6), provider=None)
    routed = _answer(routed, "send_to_provider", by=world.admin, at=utc(7), provider=world.provider, note="")
    assert routed.first_response_at is None
    routed = _answer(routed, "decline", by=world.officer, at=utc(7, 12), reason="Full")
    assert routed.first_response_after == timedelta(hours=3)
    withdrawn = _answer(_made(world, world.vco, world.editor, utc(8)), "withdraw", by=world.editor, at=utc(9))
    assert withdrawn.first_response_at is None and withdrawn.first_response_after is None


def test_the_backfill_migration_works_first_answers_out_from_the_history(world, march, monkeypatch):
    backfill = importlib.import_module("referrals.migrations.0004_backfill_first_response")
    monkeypatch.setattr(backfill, "BATCH", 3)  # ten referrals: four batches
    # As before the fields were kept: only the history knows.
    Referral.objects.update(first_response_at=None, first_response_after=None)
    backfill.backfill_first_responses(apps, SimpleNamespace(connection=connection))
    r8_made = utc(28, 23, 59, month=2)
    expected = {
        "r1": (utc(1, 2), 2),
        "r2": (utc(10, 19), 10),
        "r3": (utc(15, 16), 4),  # the pass-on, not the next provider's acceptance
        "r5": (utc(21, 15), 6),  # from the routing, not from the asking
        "r6": (utc(5, 10), 1),
        "r7": (utc(13, 15), 30),
        "r8": (r8_made + timedelta(hours=100), 100),
        "r9": (utc(1, 0, 30, month=4), 1),
        "r10": (utc(18, 17), 8),
    }
    for name, (at, hours) in expected.items():
        referral = Referral.objects.get(pk=getattr(march, name).pk)
        assert (referral.first_response_at, referral.first_response_after) == (at, timedelta(hours=hours)), name
    unanswered = Referral.objects.get(pk=march.r4.pk)
    assert unanswered.first_response_at is None and unanswered.first_response_after is None
    assert referral_statistics(ward=None, **MARCH)["first_response"] == {"median_hours": pytest.approx(6), "count": 7}

    # Run again (as after a stop part-way): only referrals still without a first answer are filled in.
    Referral.objects.filter(pk=march.r1.pk).update(first_response_after=timedelta(hours=99))
    Referral.objects.filter(pk=march.r2.pk).update(first_response_at=None, first_response_after=None)
    backfill.backfill_first_responses(apps, SimpleNamespace(connection=connection))
    assert Referral.objects.get(pk=march.r1.pk).first_response_after == timedelta(hours=99)
    assert Referral.objects.get(pk=march.r2.pk).first_response_after == timedelta(hours=10)
