"""The referral rules registered with the one permission helper (accounts.permissions.can)."""

import pytest

from accounts.permissions import can

from .factories import ask

EXPECTED = {
    # action: who may
    "referrals.view": {"editor", "officer", "colleague", "admin"},
    "referrals.view_contact": {"editor", "officer", "colleague", "admin"},
    "referrals.act": {"officer", "colleague", "admin"},
    "referrals.withdraw": {"editor", "admin"},
    "referrals.give_feedback": {"editor", "admin"},
    "referrals.route": {"admin"},
}
PEOPLE = ["editor", "other_editor", "officer", "colleague", "other_officer", "admin", "funder", "stranger"]


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_who_may_do_what_with_a_referral(world, action):
    referral = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    allowed = {name for name in PEOPLE if can(getattr(world, name), action, referral)}
    assert allowed == EXPECTED[action]


def test_anonymous_visitors_may_do_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    referral = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    for action in EXPECTED:
        assert not can(AnonymousUser(), action, referral)


def test_asking_inbox_figures_and_personal_data(world):
    assert {n for n in PEOPLE if can(getattr(world, n), "referrals.ask", world.vco)} == {
        "editor",
        "officer",
        "colleague",
        "other_officer",
        "admin",
    }
    assert {n for n in PEOPLE if can(getattr(world, n), "referrals.view_inbox", world.provider)} == {
        "officer",
        "colleague",
        "admin",
    }
    assert {n for n in PEOPLE if can(getattr(world, n), "referrals.manage_personal_data")} == {"admin"}
    assert {n for n in PEOPLE if not can(getattr(world, n), "referrals.use")} == {"funder"}
    assert {n for n in PEOPLE if can(getattr(world, n), "referrals.view_figures")} == {
        "officer",
        "colleague",
        "other_officer",
        "admin",
    }


def test_a_provider_loses_sight_of_a_referral_it_passed_on(world):
    from referrals import services

    referral = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    referral = services.pass_on(
        referral=referral,
        by=world.officer,
        expected_version=referral.version,
        provider=world.other_provider,
        note="Better placed",
    )
    assert not can(world.officer, "referrals.view", referral)
    assert can(world.other_officer, "referrals.view_contact", referral)
