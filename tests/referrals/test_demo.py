"""The demo routing rules: loaded on top of the demo borough, idempotent, and they route."""

import pytest
from django.core.management import CommandError, call_command

from directory.demo import load_demo_data
from organisations.demo import DEMO_VCO
from organisations.models import Organisation
from referrals.models import RoutingRule
from referrals.selectors import suggest_providers
from tests.factories import term


def test_refuses_without_providers(db, settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="load_demo_data"):
        call_command("load_referral_demo")


def test_refuses_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_referral_demo")


def test_demo_rules_route_the_demo_borough(db, settings):
    settings.DEBUG = True
    load_demo_data()
    call_command("load_referral_demo")
    count = RoutingRule.objects.count()
    assert count >= 18
    call_command("load_referral_demo")
    assert RoutingRule.objects.count() == count
    vco = Organisation.objects.get(slug=DEMO_VCO)
    routing = suggest_providers(
        needs=[term("needs", "funding-and-fundraising")], communities=vco.communities_served.all(), ward=vco.ward_id
    )
    assert routing.suggestions and routing.suggestions[0].reasons
