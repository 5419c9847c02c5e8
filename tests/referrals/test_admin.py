"""The admin: network admins keep routing rules (need, narrowing, ordered providers) and look up
referrals, whose status only the workflow changes."""

from django.urls import reverse

from referrals.models import RoutingRule

from .factories import ask


def test_routing_rules_list_and_add_with_ordered_providers(world, client_as):
    client = client_as(world.admin)
    page = client.get(reverse("admin:referrals_routingrule_changelist"))
    assert page.status_code == 200 and "Funding advice" in page.content.decode()
    assert "1. Tower Hamlets CVS, 2. Island Support" in page.content.decode()
    assert client.get(reverse("admin:referrals_routingrule_add")).status_code == 200
    data = {
        "name": "Funding for Bow groups",
        "need": world.funding.pk,
        "priority": 10,
        "is_active": "on",
        "ward": world.vco.ward_id,
        "segment": "",
        "community": "",
        "stage": "",
        "language": "",
        "notes": "",
        "entries-TOTAL_FORMS": 2,
        "entries-INITIAL_FORMS": 0,
        "entries-MIN_NUM_FORMS": 0,
        "entries-MAX_NUM_FORMS": 1000,
        "entries-0-position": 1,
        "entries-0-provider": world.other_provider.pk,
        "entries-0-service": "",
        "entries-1-position": 2,
        "entries-1-provider": world.vco.pk,
        "entries-1-service": "",
    }
    response = client.post(reverse("admin:referrals_routingrule_add"), data)
    assert response.status_code == 200 and "is not an infrastructure provider" in response.content.decode()
    assert not RoutingRule.objects.filter(name="Funding for Bow groups").exists()
    data["entries-1-provider"] = world.provider.pk
    response = client.post(reverse("admin:referrals_routingrule_add"), data)
    assert response.status_code == 302
    rule = RoutingRule.objects.get(name="Funding for Bow groups")
    assert [e.provider for e in rule.entries.all()] == [world.other_provider, world.provider]


def test_referrals_and_feedback_in_the_admin(world, client_as):
    referral = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    client = client_as(world.admin)
    assert client.get(reverse("admin:referrals_referral_changelist")).status_code == 200
    page = client.get(reverse("admin:referrals_referral_change", args=[referral.pk]))
    assert page.status_code == 200 and "Sent to provider" in page.content.decode()
    assert client.get(reverse("admin:referrals_feedback_changelist")).status_code == 200


def test_officers_do_not_get_the_admin(world, client_as):
    assert client_as(world.officer).get(reverse("admin:referrals_routingrule_changelist")).status_code == 302
