"""Test data for referrals: providers with services, routing rules and referrals in any state."""

import itertools

from django.utils import timezone

from accounts.models import User
from directory.models import Service
from organisations.models import Affiliation, Organisation
from referrals import services
from referrals.models import Referral, RoutingRule, RoutingRuleProvider
from tests.factories import make_affiliation, make_organisation, make_user, term

_sequence = itertools.count(1)


def make_provider(**overrides) -> Organisation:
    overrides.setdefault("kinds", [term("organisation-kinds", Organisation.KIND_GENERAL)])
    overrides.setdefault("email", f"provider{next(_sequence)}@example.org")
    return make_organisation(**overrides)


def make_officer(provider: Organisation, **overrides) -> User:
    officer = make_user(User.Role.OFFICER, **overrides)
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    return officer


def make_service(provider: Organisation, *, needs=(), **overrides) -> Service:
    n = next(_sequence)
    fields = {"name": f"Service {n}", "slug": f"referral-service-{n}", "description": "Help for groups.", **overrides}
    service = Service.objects.create(organisation=provider, **fields)
    service.needs.set(needs)
    return service


def make_rule(need, providers, **overrides) -> RoutingRule:
    """A rule for `need` listing `providers` in order; an item may be (provider, service)."""
    rule = RoutingRule.objects.create(name=overrides.pop("name", f"Rule {next(_sequence)}"), need=need, **overrides)
    for position, item in enumerate(providers, start=1):
        provider, service = item if isinstance(item, tuple) else (item, None)
        RoutingRuleProvider.objects.create(rule=rule, provider=provider, service=service, position=position)
    return rule


def ask(*, organisation, by, needs, chosen_provider=None, **overrides) -> Referral:
    fields = {
        "description": "We need help writing our first funding bid.",
        "urgency": Referral.Urgency.ROUTINE,
        "stage": 1,
        "communities": [],
        "language": None,
        "existing_provider": None,
        "service": None,
        "contact_name": "Asha Begum",
        "contact_email": "asha@example.org",
        "contact_phone": "020 7946 0001",
        "consent": True,
        **overrides,
    }
    return services.submit_referral(
        organisation=organisation, by=by, needs=list(needs), chosen_provider=chosen_provider, **fields
    )


def now():
    return timezone.now()
