"""The router: which providers are suggested for a request, in what order, and why."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.models import Service
from referrals.selectors import suggest_providers
from tests.factories import term

from .factories import make_provider, make_rule, make_service


@pytest.fixture
def need(db):
    return term("needs", "ict-support")


def names(routing):
    return [s.provider.name for s in routing.suggestions]


def test_providers_come_in_the_rules_order_with_a_reason_each(need):
    first, second, third = make_provider(name="First"), make_provider(name="Second"), make_provider(name="Third")
    make_rule(need, [second, first, third], name="ICT help")
    routing = suggest_providers(needs=[need])
    assert names(routing) == ["Second", "First", "Third"]
    assert "ICT support" in routing.suggestions[0].reasons[0]
    reasons = [suggestion.reasons[0] for suggestion in routing.suggestions]
    assert "key referral agency" in reasons[0]
    assert "(its second choice)" in reasons[1] and "(its third choice)" in reasons[2]
    assert not any("ICT help" in reason or "rule" in reason for reason in reasons), "no rule names reach a group"


def test_a_narrower_rule_that_fits_beats_a_general_one(need):
    general, ward_specialist = make_provider(name="General"), make_provider(name="Bow specialist")
    make_rule(need, [general], name="Everyone", priority=1)
    make_rule(need, [ward_specialist], name="Bow only", ward=term("wards", "bow-east"), priority=50)
    in_bow = suggest_providers(needs=[need], ward=term("wards", "bow-east"))
    assert names(in_bow) == ["Bow specialist", "General"]
    assert "Bow East ward" in in_bow.suggestions[0].reasons[0]
    elsewhere = suggest_providers(needs=[need], ward=term("wards", "poplar"))
    assert names(elsewhere) == ["General"]


@pytest.mark.parametrize(
    "field,value,fits,misses",
    [
        ("segment", ("segments", "bme-vcos"), {"segments": [("segments", "bme-vcos")]}, {"segments": []}),
        (
            "community",
            ("communities", "older-people"),
            {"communities": [("communities", "older-people")]},
            {"communities": [("communities", "women")]},
        ),
        ("language", ("languages", "bn"), {"language": ("languages", "bn")}, {"language": ("languages", "so")}),
    ],
)
def test_rules_narrowed_by_segment_community_or_language_apply_only_to_groups_that_fit(
    need, field, value, fits, misses
):
    narrow = make_provider(name="Narrow")
    make_rule(need, [narrow], **{field: term(*value)})

    def resolve(kwargs):
        resolved = {}
        for key, item in kwargs.items():
            resolved[key] = [term(*pair) for pair in item] if isinstance(item, list) else term(*item)
        return resolved

    assert names(suggest_providers(needs=[need], **resolve(fits))) == ["Narrow"]
    assert names(suggest_providers(needs=[need], **resolve(misses))) == []


def test_rules_narrowed_by_stage(need):
    make_rule(need, [make_provider(name="Start-up help")], stage=1)
    assert names(suggest_providers(needs=[need], stage=1)) == ["Start-up help"]
    assert names(suggest_providers(needs=[need], stage=3)) == []
    assert names(suggest_providers(needs=[need], stage=None)) == []


def test_priority_orders_equally_specific_rules(need):
    late, early = make_provider(name="Late"), make_provider(name="Early")
    make_rule(need, [late], priority=20)
    make_rule(need, [early], priority=10)
    assert names(suggest_providers(needs=[need])) == ["Early", "Late"]


def test_inactive_rules_and_other_needs_are_ignored(need):
    make_rule(need, [make_provider(name="Switched off")], is_active=False)
    make_rule(term("needs", "payroll"), [make_provider(name="Payroll people")])
    assert names(suggest_providers(needs=[need])) == []


def test_paused_or_full_services_are_skipped_and_the_reason_given(need):
    paused, full, open_provider, closed_org = (make_provider(name=n) for n in ("Paused", "Full", "Open", "Closed org"))
    make_service(paused, needs=[need], status=Service.Status.PAUSED)
    make_service(full, needs=[need], accepting_referrals=False)
    make_service(open_provider, needs=[need])
    closed_org.is_active = False
    closed_org.save()
    make_rule(need, [paused, full, open_provider, closed_org])
    routing = suggest_providers(needs=[need])
    assert names(routing) == ["Open"]
    skipped = dict(routing.skipped)
    assert "paused or full" in skipped["Paused"] and "paused or full" in skipped["Full"]
    assert "closed" in skipped["Closed org"]


def test_a_rule_naming_a_paused_service_skips_that_service(need):
    provider = make_provider(name="Two services")
    named = make_service(provider, needs=[need], status=Service.Status.PAUSED, name="Paused clinic")
    routing = suggest_providers(needs=[need])
    make_rule(need, [(provider, named)])
    routing = suggest_providers(needs=[need])
    assert names(routing) == []
    assert "Paused clinic" in dict(routing.skipped)["Two services"]
    # An open service of the same provider can still be offered, for what it is: not the rule's choice.
    make_service(provider, needs=[need], name="Open desk")
    routing = suggest_providers(needs=[need])
    assert names(routing) == ["Two services"]
    assert routing.suggestions[0].service.name == "Open desk"
    assert "Open desk" in routing.suggestions[0].reasons[0]


def test_the_existing_relationship_provider_always_comes_first(need):
    ranked_first, existing = make_provider(name="Ranked first"), make_provider(name="We know them")
    make_rule(need, [ranked_first, existing])
    routing = suggest_providers(needs=[need], existing_provider=existing)
    assert names(routing) == ["We know them", "Ranked first"]
    assert routing.suggestions[0].existing
    assert "already work with" in routing.suggestions[0].reasons[0]
    # Even when no rule names it at all.
    outsider = make_provider(name="Outsider")
    assert names(suggest_providers(needs=[need], existing_provider=outsider))[0] == "Outsider"


def test_directory_services_fill_in_when_rules_give_too_few(need):
    provider = make_provider(name="Has a service")
    make_service(provider, needs=[need], name="ICT drop-in")
    make_service(make_provider(name="Stage 3 only"), needs=[need], serves_stage_1=False)
    routing = suggest_providers(needs=[need], stage=1)
    assert names(routing) == ["Has a service"]
    assert "ICT drop-in" in routing.suggestions[0].reasons[0]


def test_the_router_costs_the_same_few_queries_however_many_rules_match(need):
    for n in range(3):
        make_rule(need, [make_provider(name=f"P{n}-{m}") for m in range(3)])
    with CaptureQueriesContext(connection) as few:
        suggest_providers(needs=[need], limit=50)
    for n in range(20):
        make_rule(need, [make_provider(name=f"Q{n}-{m}") for m in range(3)])
    with CaptureQueriesContext(connection) as many:
        routing = suggest_providers(needs=[need], limit=50)
    assert len(routing.suggestions) == 50
    assert len(many.captured_queries) <= len(few.captured_queries) <= 4
