"""Two officers acting on the same referral at the same moment: exactly one wins, the other is told
to reload. Really races two transactions on PostgreSQL, each thread on its own connection."""

import threading

import pytest
from django.db import connection, connections

from referrals import services
from referrals.models import Referral, ReferralEvent

from .factories import ask

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*moves):
    """Run each move in its own thread, lined up on a barrier; return what each returned or raised."""
    barrier = threading.Barrier(len(moves))
    results = [None] * len(moves)

    def run(index, move):
        try:
            barrier.wait(timeout=10)
            results[index] = move()
        except Exception as error:  # collected and checked by the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, move)) for i, move in enumerate(moves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_officers_accept_and_decline_at_once_exactly_one_wins(world):
    assert connection.vendor == "postgresql"
    for round_ in range(5):
        referral = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
        version = referral.version
        results = race(
            lambda: services.accept(
                referral=Referral.objects.get(pk=referral.pk), by=world.officer, expected_version=version
            ),
            lambda: services.decline(
                referral=Referral.objects.get(pk=referral.pk),
                by=world.colleague,
                expected_version=version,
                reason="Full up",
            ),
        )
        winners = [r for r in results if isinstance(r, Referral)]
        losers = [r for r in results if isinstance(r, services.StaleReferral)]
        assert len(winners) == 1 and len(losers) == 1, (round_, results)
        referral.refresh_from_db()
        assert referral.status == winners[0].status
        assert referral.version == version + 1
        decisions = ReferralEvent.objects.filter(referral=referral, kind__in=["accepted", "declined"])
        assert decisions.count() == 1 and decisions.get().kind == referral.status


def test_the_same_move_twice_at_once_happens_once(world):
    referral = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    version = referral.version
    results = race(
        *[
            lambda who=who: services.accept(
                referral=Referral.objects.get(pk=referral.pk), by=who, expected_version=version
            )
            for who in (world.officer, world.colleague)
        ]
    )
    assert sum(isinstance(r, Referral) for r in results) == 1
    assert sum(isinstance(r, services.StaleReferral) for r in results) == 1
    assert ReferralEvent.objects.filter(referral=referral, kind="accepted").count() == 1
