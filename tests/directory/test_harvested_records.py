"""Harvested services and organisations in the portal: listed with their source, read-only on our
pages and in the admin, hidden by an admin, and in our own API only when asked for."""

import pytest
from django.urls import reverse

from directory import harvest
from directory.models import HarvestedOrganisation, HarvestRun, HarvestSource, Service
from tests.directory.oruk_schemas import assert_valid, assert_valid_page
from tests.factories import make_organisation, make_service, term

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere():
    """A source with one harvested organisation offering two services, as the harvester leaves them."""
    source = HarvestSource.objects.create(name="Hackney Connect", api_url="https://hackney.example.org/api/oruk")
    organisation = make_organisation(name="Hackney CVS", is_harvested=True)
    HarvestedOrganisation.objects.create(source=source, remote_id="org-1", organisation=organisation)
    common = {"organisation": organisation, "source": source, "accepting_referrals": False, "access_portal_referral": False}
    shown = make_service(name="Hackney funding clinic", remote_id="one", needs=[term("needs", "payroll")], **common)
    other = make_service(name="Hackney trustee network", remote_id="two", **common)
    return {"source": source, "organisation": organisation, "shown": shown, "other": other}


def test_directory_search_lists_harvested_services_with_their_source(client, elsewhere):
    own = make_service(name="Bow funding clinic")
    page = client.get(reverse("directory:directory"), {"q": "funding clinic"})
    body = page.content.decode()
    assert own.name in body and elsewhere["shown"].name in body
    assert "listed by Hackney Connect" in body
    assert body.count("listed by") == 1


def test_hidden_and_withdrawn_services_leave_the_search_and_their_pages(client, elsewhere, client_as, people):
    harvest.set_hidden(services=Service.objects.filter(pk=elsewhere["shown"].pk), hidden=True)
    Service.objects.filter(pk=elsewhere["other"].pk).update(is_withdrawn=True)
    body = client.get(reverse("directory:directory"), {"q": "Hackney"}).content.decode()
    assert "Hackney funding clinic" not in body and "Hackney trustee network" not in body
    gone = (elsewhere["shown"], elsewhere["other"])
    assert [client.get(service.get_absolute_url()).status_code for service in gone] == [404, 404]
    admin = client_as(people.admin)  # (the same client, logged in)
    assert [admin.get(service.get_absolute_url()).status_code for service in gone] == [200, 200]


def test_harvested_pages_say_where_they_come_from_and_offer_no_editing(client_as, people, elsewhere):
    admin = client_as(people.admin)
    service = elsewhere["shown"]
    page = admin.get(service.get_absolute_url()).content.decode()
    assert "Listed by Hackney Connect" in page
    assert reverse("directory:service_edit", args=[service.slug]) not in page
    assert "Ask for support" not in page and "Not taking new referrals" not in page
    assert admin.get(reverse("directory:service_edit", args=[service.slug])).status_code == 403
    assert admin.post(reverse("directory:service_mark_reviewed", args=[service.slug])).status_code == 403
    organisation = elsewhere["organisation"]
    assert admin.get(reverse("directory:service_create", args=[organisation.slug])).status_code == 403
    organisation_page = admin.get(organisation.get_absolute_url()).content.decode()
    assert "Listed by Hackney Connect" in organisation_page
    assert reverse("organisations:organisation_edit", args=[organisation.slug]) not in organisation_page
    assert admin.get(reverse("organisations:organisation_edit", args=[organisation.slug])).status_code == 403
    assert admin.post(reverse("organisations:organisation_confirm", args=[organisation.slug])).status_code == 403
    service.refresh_from_db()
    assert service.last_reviewed_on is None


def test_the_admin_shows_harvested_records_read_only(client_as, people, elsewhere):
    admin = client_as(people.admin)
    service, organisation = elsewhere["shown"], elsewhere["organisation"]
    change = reverse("admin:directory_service_change", args=[service.pk])
    page = admin.get(change)
    assert page.status_code == 200
    assert not page.context["has_change_permission"] and not page.context["has_delete_permission"]
    assert 'name="name"' not in page.content.decode()
    assert admin.post(change, {"name": "Changed"}).status_code == 403
    assert admin.post(reverse("admin:directory_service_delete", args=[service.pk]), {"post": "yes"}).status_code == 403
    page = admin.get(reverse("admin:organisations_organisation_change", args=[organisation.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    service.refresh_from_db()
    assert service.name == "Hackney funding clinic"
    # Our own services stay editable.
    own = make_service()
    assert admin.get(reverse("admin:directory_service_change", args=[own.pk])).context["has_change_permission"]


def test_an_admin_hides_harvested_services_from_the_list(client_as, people, elsewhere):
    admin = client_as(people.admin)
    own = make_service()
    response = admin.post(
        reverse("admin:directory_service_changelist"),
        {"action": "hide_harvested", "_selected_action": [elsewhere["shown"].pk, own.pk]},
        follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert "Hidden: 1 harvested services." in messages
    assert any("portal's own" in message for message in messages)
    assert list(Service.objects.filter(is_hidden=True)) == [elsewhere["shown"]]
    admin.post(reverse("admin:directory_service_changelist"), {"action": "show_harvested", "_selected_action": [elsewhere["shown"].pk]})
    assert not Service.objects.filter(is_hidden=True).exists()


def test_the_admin_registers_sources_and_deletes_one_with_what_came_from_it(client_as, people, elsewhere):
    admin = client_as(people.admin)
    response = admin.post(
        reverse("admin:directory_harvestsource_add"),
        {
            "name": "National directory",
            "api_url": "https://national.example.org/api/oruk",
            "is_active": "on",
            "runs-TOTAL_FORMS": "0",
            "runs-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert HarvestSource.objects.filter(name="National directory").exists()
    HarvestRun.objects.create(source=elsewhere["source"], error="The server took too long to answer.", warnings=["Skipped “Odd one”: no name."])
    page = admin.get(reverse("admin:directory_harvestsource_change", args=[elsewhere["source"].pk])).content.decode()
    assert "The server took too long to answer." in page and "Skipped “Odd one”: no name." in page
    # The log (core.admin.RunLogInline) is read-only, for network admins too: no fields, no delete boxes.
    assert 'name="runs-0-error"' not in page and 'name="runs-0-DELETE"' not in page
    delete = reverse("admin:directory_harvestsource_delete", args=[elsewhere["source"].pk])
    assert admin.post(delete, {"post": "yes"}).status_code == 302
    assert not Service.objects.filter(pk__in=[elsewhere["shown"].pk, elsewhere["other"].pk]).exists()
    assert not type(elsewhere["organisation"]).objects.filter(pk=elsewhere["organisation"].pk).exists()


def test_harvest_now_queues_a_full_harvest(client_as, people, elsewhere, monkeypatch):
    from directory import tasks

    queued = []
    monkeypatch.setattr(tasks.harvest_source, "apply_async", lambda args, **kwargs: queued.append(args))
    client_as(people.admin).post(
        reverse("admin:directory_harvestsource_changelist"), {"action": "harvest_now", "_selected_action": [elsewhere["source"].pk]}
    )
    assert queued == [[elsewhere["source"].pk, "full"]]


def test_our_api_publishes_harvested_records_only_when_asked(client, elsewhere, fresh_cache):
    own = make_service(organisation=make_organisation(name="Bow Advice"))
    harvest.set_hidden(services=Service.objects.filter(pk=elsewhere["other"].pk), hidden=True)
    default = client.get("/api/oruk/services").json()
    assert [item["id"] for item in default["contents"]] == [str(own.uuid)]
    both = client.get("/api/oruk/services", {"include_harvested": "true", "full": "true"}).json()
    assert_valid_page(both, "service")
    assert {item["id"] for item in both["contents"]} == {str(own.uuid), str(elsewhere["shown"].uuid)}
    shown = str(elsewhere["shown"].uuid)
    assert client.get(f"/api/oruk/services/{shown}").status_code == 404
    detail = client.get(f"/api/oruk/services/{shown}", {"include_harvested": "true"})
    assert detail.status_code == 200
    assert_valid(detail.json(), "service")
    organisation = str(elsewhere["organisation"].uuid)
    assert organisation not in {item["id"] for item in client.get("/api/oruk/organizations").json()["contents"]}
    assert client.get(f"/api/oruk/organizations/{organisation}").status_code == 404
    listed = client.get("/api/oruk/organizations", {"include_harvested": "true", "full_service": "true"}).json()
    record = next(item for item in listed["contents"] if item["id"] == organisation)
    assert [service["name"] for service in record["services"]] == ["Hackney funding clinic"]  # the hidden one left out
    assert client.get("/api/oruk/service_at_locations", {"include_harvested": "maybe"}).status_code == 400
    assert "include_harvested" in client.get("/api/oruk/openapi.json").json()["components"]["parameters"]


def test_the_borough_coverage_counts_our_own_services_only(elsewhere):
    from evidence.selectors import coverage_matrix

    function = term("functions", "information-and-advice")
    elsewhere["shown"].functions.set([function])
    own = make_service(functions=[function])
    _functions, wards, coverage = coverage_matrix()
    assert coverage.providers(function.pk, [wards[0].pk]) == {own.organisation_id}


def test_a_charged_service_with_no_amount_is_a_valid_record(client, fresh_cache):
    """Found by the harvest benchmark: such a service was published with "amount": null, which the
    schema refuses, so another portal's harvester (ours too) skipped it."""
    service = make_service(is_free=False, fee_amount=None, fee_description="Ask us")
    record = client.get(f"/api/oruk/services/{service.uuid}").json()
    assert_valid(record, "service")
    assert "amount" not in record["cost_options"][0] and record["cost_options"][0]["option"] == "Ask us"
    assert harvest.read_record(record).values["is_free"] is False
