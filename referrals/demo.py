"""Demo routing rules for the demo borough (directory/demo.py), so that "Ask for support" suggests
providers with reasons out of the box. Loaded by `manage.py load_referral_demo`, after
`manage.py load_demo_data`; it never changes the directory's demo data, and the directory's command
does not depend on it.

Idempotent: rules are found by name; a rule that exists (perhaps edited by an admin) is left alone.
"""

import random
from dataclasses import dataclass

from django.db import transaction

from directory.models import Organisation, Taxonomy, TaxonomyTerm

from .models import RoutingRule, RoutingRuleProvider

# The demo borough's council for voluntary service: the general provider every need can go to.
MAIN_PROVIDER = "tower-hamlets-voluntary-action"
BME_SEGMENT = "bme-vcos"
BME_COMMUNITY = "black-and-minority-ethnic-communities"
# Needs where BME groups have their own key referral agencies.
BME_NEEDS = ("funding-and-fundraising", "governance-and-trustees", "bme-specialist-support", "setting-up-a-new-group")


@dataclass
class DemoReport:
    rules_created: int
    rules_existing: int


@transaction.atomic
def load_referral_demo(*, seed: int = 4) -> DemoReport:
    providers = list(Organisation.objects.providers().active().order_by("name"))
    if not providers:
        raise LookupError("There are no providers to route to: run `manage.py load_demo_data` first.")
    rng = random.Random(seed)
    main = next((p for p in providers if p.slug == MAIN_PROVIDER), providers[0])
    others = [p for p in providers if p.pk != main.pk]
    bme_providers = [p for p in others if p.segments.filter(code=BME_SEGMENT).exists()]
    bme = TaxonomyTerm.objects.filter(taxonomy__code=Taxonomy.COMMUNITIES, code=BME_COMMUNITY).first()
    created = existing = 0

    def rule(name: str, need: TaxonomyTerm, ranked: list[Organisation], **narrowing) -> None:
        nonlocal created, existing
        found, is_new = RoutingRule.objects.get_or_create(
            name=name,
            defaults={"need": need, "notes": "Demo rule (referrals/demo.py).", **narrowing},
        )
        if not is_new:
            existing += 1
            return
        created += 1
        RoutingRuleProvider.objects.bulk_create(
            [
                RoutingRuleProvider(rule=found, provider=provider, position=n)
                for n, provider in enumerate(ranked, start=1)
            ]
        )

    for need in TaxonomyTerm.objects.in_taxonomy(Taxonomy.NEEDS).order_by("order", "name"):
        rule(
            f"{need.name}: key referral agencies", need, [main, *rng.sample(others, min(2, len(others)))], priority=100
        )
        if need.code in BME_NEEDS and bme is not None and bme_providers:
            rule(
                f"{need.name}: BME groups",
                need,
                rng.sample(bme_providers, min(3, len(bme_providers))),
                community=bme,
                priority=50,
            )
    return DemoReport(rules_created=created, rules_existing=existing)
