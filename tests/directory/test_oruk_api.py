"""The Open Referral UK API (directory/api): every endpoint and parameter, validated against the
profile's schemas; CORS on every answer; 400 naming the parameter for bad input; throttling; and a
fixed number of queries per page whatever per_page is."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from directory.models import Service
from organisations import hooks
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm
from tests.directory.oruk_schemas import assert_valid, assert_valid_page
from tests.factories import make_location, make_organisation, make_service, term

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
API = "/api/oruk"


def get(client, path, **params):
    response = client.get(f"{API}{path}", params)
    assert response["Access-Control-Allow-Origin"] == "*"
    return response


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["contents"]]


# The endpoints ----------------------------------------------------------------------------------


def test_root_describes_the_api(client):
    response = get(client, "/")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "HSDS-UK-3.0"
    assert body["openapi_url"].endswith("/api/oruk/openapi.json")


def test_openapi_document_is_the_profiles_with_our_server(client, settings):
    settings.SITE_URL = "https://portal.example.org"
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    document = response.json()
    assert document["servers"] == [{"url": "https://portal.example.org/api/oruk"}]
    for path in ("/", "/services", "/services/{id}", "/service_at_locations", "/service_at_locations/{id}", "/taxonomies",
                 "/taxonomies/{id}", "/taxonomy_terms", "/taxonomy_terms/{id}", "/organizations", "/organizations/{id}"):
        assert path in document["paths"]


def test_services_list_validates_and_maps_status(client, directory):
    response = get(client, "/services")
    assert response.status_code == 200
    body = response.json()
    assert_valid_page(body, "service_list")
    assert body["total_items"] == 3 and body["page_number"] == 1 and body["first_page"] and body["last_page"]
    by_name = {item["name"]: item for item in body["contents"]}
    assert by_name["Funding advice surgery"]["status"] == "active"
    assert by_name["Youth volunteering brokerage"]["status"] == "temporarily closed"
    assert by_name["Youth volunteering brokerage"]["fees"] == "£5.00 per session"
    assert by_name["Payroll bureau"]["alert"]
    assert by_name["Funding advice surgery"]["organization"]["id"] == str(directory["funding"].organisation.uuid)
    assert by_name["Funding advice surgery"]["id"] == str(directory["funding"].uuid)


def test_closed_service_is_inactive_and_closed_organisation_hidden(client, directory, provider):
    Service.objects.filter(pk=directory["payroll"].pk).update(status=Service.Status.CLOSED)
    body = get(client, "/services").json()
    assert {item["name"]: item["status"] for item in body["contents"]}["Payroll bureau"] == "inactive"
    Organisation.objects.filter(pk=provider.pk).update(is_active=False)
    assert get(client, "/services").json()["total_items"] == 0
    assert get(client, f"/services/{directory['funding'].uuid}").status_code == 404


def test_service_detail_is_fully_nested_and_valid(client, directory):
    service = directory["funding"]
    response = get(client, f"/services/{service.uuid}")
    assert response.status_code == 200
    body = response.json()
    assert_valid(body, "service")
    assert body["schedules"][0]["byday"] == "TU" and body["schedules"][0]["opens_at"] == "10:00"
    assert body["schedules"][0]["description"] == "Tuesdays 10:00 to 13:00"
    location = body["service_at_locations"][0]["location"]
    assert location["addresses"][0]["postal_code"] == "E3 5ES"
    assert body["languages"][0]["code"] == "bn"
    assert body["contacts"][0]["name"] == "Amina Rahman"
    assert body["cost_options"][0]["amount"] == 0
    assert {attribute["taxonomy_term"]["name"] for attribute in body["attributes"]} == {
        "Funding and fundraising",
        "Information and advice",
    }
    assert body["organization"]["organization_identifiers"][0]["identifier"] == "1123456"
    # Stable ids: the same record gives the same ids next time.
    assert get(client, f"/services/{service.uuid}").json() == body


def test_service_detail_unknown_or_malformed_id_is_404_json(client, directory):
    for value in ("00000000-0000-0000-0000-000000000000", "not-a-uuid", "'; drop table--"):
        response = get(client, f"/services/{value}")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_accreditations_come_from_the_hook(client, directory, provider, monkeypatch):
    monkeypatch.setattr(hooks, "_accreditation_sources", [lambda ids: {provider.pk: ["Baseline standard", "Level 2"]}])
    body = get(client, "/services").json()
    assert {item["accreditations"] for item in body["contents"]} == {"Baseline standard; Level 2"}
    detail = get(client, f"/services/{directory['funding'].uuid}").json()
    assert detail["accreditations"] == "Baseline standard; Level 2"


def test_service_at_locations_list_and_detail(client, directory):
    body = get(client, "/service_at_locations").json()
    assert_valid_page(body, "service_at_location_list")
    assert body["total_items"] == 2
    link = directory["funding"].service_at_locations.get()
    detail = get(client, f"/service_at_locations/{link.uuid}").json()
    assert_valid(detail, "service_at_location")
    # The profile's openapi.json names compiled/service.json for this path: it satisfies that too.
    assert_valid(detail, "service")
    assert detail["service"]["id"] == str(directory["funding"].uuid)
    assert get(client, "/service_at_locations/not-an-id").status_code == 404


def test_service_at_locations_search_and_filters_apply_to_the_service_of_each_link(client, directory):
    # The service filters run as a subquery: the search and the facet test must read the subquery's
    # own service rows, not the outer query's.
    funding_need = term("needs", "funding-and-fundraising")
    for params in ({"search": "grant"}, {"taxonomy_term_id": str(funding_need.uuid)}, {"search": "grant", "day": "TU"}):
        body = get(client, "/service_at_locations", **params).json()
        assert [item["service"]["id"] for item in body["contents"]] == [str(directory["funding"].uuid)], params
    assert get(client, "/service_at_locations", search="grant", day="WE").json()["total_items"] == 0


def test_service_at_locations_full_is_fully_nested(client, directory):
    body = get(client, "/service_at_locations", full="true").json()
    for item in body["contents"]:
        assert_valid(item, "service_at_location")
        assert "schedules" in item["service"]


def test_organizations_list_and_detail(client, directory, provider):
    make_organisation(name="A small VCO")  # not a provider, no services: not listed
    body = get(client, "/organizations").json()
    assert_valid_page(body, "organization_list")
    assert [item["name"] for item in body["contents"]] == ["Bow Advice Trust"]
    detail = get(client, f"/organizations/{provider.uuid}").json()
    assert_valid(detail, "organization")
    assert len(detail["services"]) == 3
    full = get(client, f"/organizations/{provider.uuid}", full_service="true").json()
    assert_valid(full, "organization")
    assert any(service.get("schedules") for service in full["services"])
    searched = get(client, "/organizations", search="nothing like it").json()
    assert searched["total_items"] == 0 and searched["empty"] is True
    assert get(client, "/organizations", full_service="true").json()["contents"][0]["services"]


def test_a_charity_with_a_scottish_number_publishes_both_org_ids(client, directory, provider):
    before = get(client, f"/organizations/{provider.uuid}").json()["organization_identifiers"]
    provider.scottish_charity_number = "SC042386"
    provider.company_number = "09506232"
    provider.save()
    detail = get(client, f"/organizations/{provider.uuid}").json()
    assert_valid(detail, "organization")
    identifiers = detail["organization_identifiers"]
    assert [(item["identifier_scheme"], item["identifier"]) for item in identifiers] == [
        ("GB-CHC", "1123456"),
        ("GB-SC", "SC042386"),
        ("GB-COH", "09506232"),
    ]
    assert [item["identifier_type"] for item in identifiers] == [
        "Charity Commission/Comisiwn Elusennau",
        "Scottish Charity Register",
        "Companies House",
    ]
    assert all(item["organization_id"] == str(provider.uuid) for item in identifiers)
    assert len({item["id"] for item in identifiers}) == 3
    # The charity number's entry keeps the id it was first published with.
    assert identifiers[0]["id"] == before[0]["id"]
    # The service's nested organisation carries them too.
    service = get(client, f"/services/{directory['funding'].uuid}").json()
    assert_valid(service, "service")
    assert [item["identifier_scheme"] for item in service["organization"]["organization_identifiers"]] == [
        "GB-CHC",
        "GB-SC",
        "GB-COH",
    ]


def test_taxonomies_and_terms(client):
    body = get(client, "/taxonomies").json()
    assert_valid_page(body, "taxonomy")
    assert body["total_items"] == Taxonomy.objects.count()
    needs = Taxonomy.objects.get(code="needs")
    detail = get(client, f"/taxonomies/{needs.uuid}").json()
    assert_valid(detail, "taxonomy")
    assert detail["name"] == needs.name
    terms = get(client, "/taxonomy_terms", taxonomy_id=str(needs.uuid), per_page=100).json()
    assert_valid_page(terms, "taxonomy_term")
    assert terms["total_items"] == TaxonomyTerm.objects.filter(taxonomy=needs, is_active=True).count()
    payroll = term("needs", "payroll")
    one = get(client, f"/taxonomy_terms/{payroll.uuid}").json()
    assert_valid(one, "taxonomy_term")
    assert one["taxonomy_id"] == str(needs.uuid)
    child = TaxonomyTerm.objects.filter(parent__isnull=False).select_related("parent").first()
    children = get(client, "/taxonomy_terms", parent_id=str(child.parent.uuid)).json()
    assert child.name in [item["name"] for item in children["contents"]]
    assert get(client, "/taxonomy_terms", search="payroll").json()["contents"][0]["name"] == "Payroll"
    assert get(client, "/taxonomies/nope").status_code == 404
    assert get(client, "/taxonomy_terms/nope").status_code == 404


# Every query parameter --------------------------------------------------------------------------


def test_search(client, directory):
    assert names(get(client, "/services", search="payroll")) == ["Payroll bureau"]
    assert names(get(client, "/services", search="grant applications")) == ["Funding advice surgery"]
    assert get(client, "/services", search="zzzz").json()["empty"] is True


@pytest.mark.parametrize("text", ['"quoted', "100%", "a_b", "back\\slash", "مرحبا", "😀 emoji", "'; drop table directory_service;--", "-", "!!!", "&|!:*"])
def test_search_survives_any_text(client, directory, text):
    response = get(client, "/services", search=text)
    assert response.status_code == 200
    assert_valid_page(response.json(), "service_list")


def test_pagination(client, directory):
    body = get(client, "/services", per_page=2).json()
    assert body["total_pages"] == 2 and body["size"] == 2 and not body["last_page"]
    second = get(client, "/services", per_page=2, page=2).json()
    assert second["size"] == 1 and second["last_page"] and not second["first_page"]
    assert set(names(get(client, "/services", per_page=2))) | set(
        item["name"] for item in second["contents"]
    ) == {"Funding advice surgery", "Youth volunteering brokerage", "Payroll bureau"}


def test_taxonomy_term_id_and_taxonomy_id(client, directory):
    needs_payroll = term("needs", "payroll")
    assert names(get(client, "/services", taxonomy_term_id=str(needs_payroll.uuid))) == ["Payroll bureau"]
    both = f"{needs_payroll.uuid},{term('needs', 'funding-and-fundraising').uuid}"
    assert names(get(client, "/services", taxonomy_term_id=both)) == ["Funding advice surgery", "Payroll bureau"]
    communities = Taxonomy.objects.get(code="communities")
    assert names(get(client, "/services", taxonomy_id=str(communities.uuid))) == ["Youth volunteering brokerage"]


def test_ages(client, directory):
    assert names(get(client, "/services", minimum_age="17")) == ["Funding advice surgery"]
    assert names(get(client, "/services", maximum_age="30")) == ["Youth volunteering brokerage"]
    assert names(get(client, "/services", minimum_age="16", maximum_age="25")) == ["Youth volunteering brokerage"]


def test_day_and_times(client, directory):
    assert names(get(client, "/services", day="TU")) == ["Funding advice surgery"]
    assert names(get(client, "/services", day="thursday")) == ["Youth volunteering brokerage"]
    assert names(get(client, "/services", start_time="09:30")) == ["Funding advice surgery", "Youth volunteering brokerage"]
    assert names(get(client, "/services", end_time="13:00")) == ["Funding advice surgery"]
    assert names(get(client, "/services", day="MO", start_time="09:00", end_time="17:00:00")) == ["Payroll bureau"]
    assert names(get(client, "/services", day="MO", start_time="10:00")) == []
    # RFC 3339 times, as the OpenAPI document's clients send them: the offset is not applied.
    assert names(get(client, "/services", start_time="00:00:00Z", end_time="13:00:00+01:00")) == ["Funding advice surgery"]
    # No opening time can start at 14:00 and end by 10:00: no services (the document cannot call it an error).
    assert names(get(client, "/services", start_time="14:00", end_time="10:00")) == []


def test_organization_id_and_modified_after(client, directory, provider):
    other = make_service(name="Another provider's service")
    assert "Another provider's service" not in names(get(client, "/services", organization_id=str(provider.uuid)))
    assert names(get(client, "/services", organization_id=str(other.organisation.uuid))) == ["Another provider's service"]
    Service.objects.filter(pk=directory["payroll"].pk).update(updated_at=timezone.now() - timedelta(days=30))
    recent = names(get(client, "/services", modified_after=(timezone.now() - timedelta(days=1)).isoformat()))
    assert "Payroll bureau" not in recent and "Funding advice surgery" in recent
    assert "Payroll bureau" in names(get(client, "/services", modified_after="2000-01-01"))


def test_modified_after_with_an_offset_postgresql_cannot_store(client, directory):
    """Found by Schemathesis: ISO 8601 allows +21:32, PostgreSQL only ±15:59; the moment is sent in UTC."""
    for path in ("/services", "/organizations"):
        assert get(client, path, modified_after="2000-02-12T14:55:44.6+21:32").status_code == 200
        assert get(client, path, modified_after="4054-02-12T14:55:44.6+21:32").json()["contents"] == []
    assert "Payroll bureau" in names(get(client, "/services", modified_after="2000-01-01T00:00:00+21:32"))


def test_minimal_and_full(client, directory):
    minimal = get(client, "/services", minimal="true").json()
    # Just what a client syncing the list needs, and still items of the declared schema.
    assert set(minimal["contents"][0]) == {"id", "name", "status", "last_modified"}
    assert_valid_page(minimal, "service_list")
    full = get(client, "/services", full="true").json()
    assert_valid_page(full, "service")
    assert all("schedules" in item for item in full["contents"])


def test_postcode_and_proximity(client, directory):
    body = get(client, "/service_at_locations", postcode="e35es").json()
    assert [item["location"]["name"] for item in body["contents"]] == ["Bow office"]
    near = get(client, "/service_at_locations", postcode="E3 5ES", proximity="2000").json()
    assert [item["location"]["name"] for item in near["contents"]] == ["Bow office"]
    wide = get(client, "/service_at_locations", postcode="E3 5ES", proximity="10000").json()
    assert {item["location"]["name"] for item in wide["contents"]} == {"Bow office", "Island hall"}
    filtered = get(client, "/service_at_locations", postcode="E3 5ES", proximity="10000", day="TH").json()
    assert [item["location"]["name"] for item in filtered["contents"]] == ["Island hall"]
    # A distance from nowhere is ignored (the document cannot declare that one parameter needs another).
    assert get(client, "/service_at_locations", proximity="500").json()["total_items"] == 2


# Bad parameters: 400 with a JSON body naming the parameter, never a 500 -------------------------


@pytest.mark.parametrize(
    "path, params, parameter",
    [
        ("/services", {"page": "abc"}, "page"),
        ("/services", {"page": "0"}, "page"),
        ("/services", {"page": "-1"}, "page"),
        ("/services", {"page": "1" * 40}, "page"),
        ("/services", {"per_page": "x"}, "per_page"),
        ("/services", {"per_page": "0"}, "per_page"),
        ("/services", {"per_page": "100000"}, "per_page"),
        ("/services", {"per_page": "1.5"}, "per_page"),
        ("/services", {"taxonomy_term_id": "not-a-uuid"}, "taxonomy_term_id"),
        ("/services", {"taxonomy_term_id": f"{'00000000-0000-0000-0000-000000000000,' * 50}00000000-0000-0000-0000-000000000001"}, "taxonomy_term_id"),
        ("/services", {"taxonomy_term_id": "00000000-0000-0000-0000-000000000000,"}, "taxonomy_term_id"),
        ("/services", {"minimum_age": "old"}, "minimum_age"),
        ("/services", {"minimum_age": "-3"}, "minimum_age"),
        ("/services", {"maximum_age": "NaN"}, "maximum_age"),
        ("/services", {"maximum_age": "1e400"}, "maximum_age"),
        ("/services", {"day": "Funday"}, "day"),
        ("/services", {"day": "🙂"}, "day"),
        ("/services", {"start_time": "25:00"}, "start_time"),
        ("/services", {"start_time": "10am"}, "start_time"),
        ("/services", {"end_time": "10:61"}, "end_time"),
        ("/services", {"start_time": "09:30:00Q"}, "start_time"),
        ("/services", {"modified_after": "yesterday"}, "modified_after"),
        ("/services", {"modified_after": "2025-13-45"}, "modified_after"),
        ("/services", {"minimal": "perhaps"}, "minimal"),
        ("/services", {"full": "2"}, "full"),
        ("/services", {"search": "x" * 10_000}, "search"),
        ("/services", {"search": "nul\x00byte"}, "search"),
        ("/service_at_locations", {"postcode": "NOT A POSTCODE"}, "postcode"),
        ("/service_at_locations", {"postcode": "E3 5ES", "proximity": "far"}, "proximity"),
        # Given with no value: refused, not taken as absent.
        ("/services", {"page": ""}, "page"),
        ("/services", {"search": ""}, "search"),
        ("/services", {"search": "  "}, "search"),
        ("/services", {"day": ""}, "day"),
        ("/services", {"minimal": ""}, "minimal"),
        ("/service_at_locations", {"postcode": " "}, "postcode"),
        ("/organizations", {"per_page": "-5"}, "per_page"),
        ("/organizations", {"full_service": "maybe"}, "full_service"),
        ("/taxonomies", {"page": "two"}, "page"),
        ("/taxonomy_terms", {"taxonomy_id": "nope"}, "taxonomy_id"),
        ("/taxonomy_terms", {"per_page": "1000"}, "per_page"),
    ],
)
def test_bad_parameters_give_400_naming_the_parameter(client, directory, path, params, parameter):
    response = get(client, path, **params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["parameter"] == parameter
    assert body["message"]


@pytest.mark.parametrize(
    "path, params, parameter",
    [
        ("/services", {"page": "99"}, "page"),
        ("/services", {"taxonomy_term_id": "00000000-0000-0000-0000-000000000000"}, "taxonomy_term_id"),
        ("/services", {"taxonomy_id": "00000000-0000-0000-0000-000000000000"}, "taxonomy_id"),
        ("/services", {"organization_id": "00000000-0000-0000-0000-000000000000"}, "organization_id"),
        ("/service_at_locations", {"postcode": "SW1A 1AA", "proximity": "500"}, "postcode"),
        ("/taxonomy_terms", {"parent_id": "00000000-0000-0000-0000-000000000000"}, "parent_id"),
    ],
)
def test_well_formed_parameters_naming_no_record_give_404_naming_the_parameter(client, directory, path, params, parameter):
    response = get(client, path, **params)
    assert response.status_code == 404, response.content
    body = response.json()
    assert body["error"] == "not_found" and body["parameter"] == parameter and body["message"]


def test_cors_on_every_answer_including_errors_and_preflight(client, directory):
    for path in ("/", "/services", "/services/nope", "/nowhere/at/all", "/services?page=x"):
        response = client.get(f"{API}{path}")
        assert response["Access-Control-Allow-Origin"] == "*", path
    preflight = client.options(f"{API}/services", HTTP_ORIGIN="https://elsewhere.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight["Access-Control-Allow-Methods"]


def test_throttling_is_polite(client, directory, settings):
    settings.PORTAL_ORUK_THROTTLE_RATE = "3/minute"
    for _ in range(3):
        assert client.get(f"{API}/services").status_code == 200
    response = client.get(f"{API}/services")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json()["error"] == "throttled"


# Query counts do not grow with the page size --------------------------------------------------


def _many_services(provider, count):
    place = make_location(organisation=provider)
    for n in range(count):
        service = make_service(
            organisation=provider,
            name=f"Bulk service {n:03d}",
            needs=[term("needs", "payroll")],
            functions=[term("functions", "training")],
            languages=[term("languages", "en")],
            wards=[term("wards", "poplar")],
            locations=[place],
            schedules=[("WE", "10:00", "12:00"), ("FR", "10:00", "12:00")],
        )
        service.contacts.create(name=f"Contact {n}")


def _queries(client, path, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{API}{path}", params).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "path, params",
    [
        ("/services", {}),
        ("/services", {"full": "true"}),
        ("/services", {"search": "bulk", "day": "WE"}),
        ("/service_at_locations", {}),
        ("/service_at_locations", {"full": "true"}),
        ("/organizations", {"full_service": "true"}),
        ("/taxonomy_terms", {}),
    ],
)
def test_queries_per_page_do_not_grow_with_per_page(client, provider, path, params):
    _many_services(provider, 30)
    small = _queries(client, path, per_page=2, **params)
    large = _queries(client, path, per_page=30, **params)
    assert large == small, f"{path} {params}: {small} queries for 2 items, {large} for 30"


def test_service_detail_query_count_is_fixed(client, provider, django_assert_max_num_queries):
    _many_services(provider, 3)
    service = Service.objects.filter(organisation=provider).first()
    # Up to 6 of them are the throttle's count in the shared (database) cache; the service's terms of
    # every relation come in one query (selectors.with_service_relations).
    with django_assert_max_num_queries(13):
        assert client.get(f"{API}/services/{service.uuid}").status_code == 200


def test_service_relations_read_together_equal_each_relation_read_alone(provider):
    """with_service_relations (all six term relations in one query, then places, times and contacts, as
    plain values) gives each service exactly the rows, in the order and with the values, that reading
    each relation on its own gives."""
    from directory.models import ServiceContact
    from directory.selectors import (
        TERM_RELATIONS,
        prefetched,
        service_prefetches,
        with_service_relations,
    )

    needs = list(TaxonomyTerm.objects.filter(taxonomy__code="needs").order_by("pk")[:4])
    languages = list(TaxonomyTerm.objects.filter(taxonomy__code="languages").order_by("-pk")[:3])
    wards = list(TaxonomyTerm.objects.filter(taxonomy__code="wards")[:2])
    place = make_location(ward=wards[0], latitude="51.523456", longitude="-0.041234", town="Bow", address_line_2="Unit 2")
    rich = make_service(
        organisation=provider,
        needs=needs,
        languages=languages,
        wards=wards,
        functions=list(TaxonomyTerm.objects.filter(taxonomy__code="functions")[:2]),
        locations=[place, make_location()],
        schedules=[("WE", "10:00", "12:00"), ("MO", "09:00", "11:00")],
    )
    ServiceContact.objects.create(service=rich, name="Bo", email="bo@example.org")
    ServiceContact.objects.create(service=rich, name="Al", title="Adviser", phone="020 7946 0000")
    rich.schedules.filter(weekday="WE").update(
        attending_type="online", valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31), notes="Term time"
    )
    shared = make_service(organisation=provider, needs=needs[1:3], languages=languages[:1])
    bare = make_service(organisation=provider)
    services = [Service.objects.get(pk=rich.pk), Service.objects.get(pk=shared.pk), Service.objects.get(pk=bare.pk)]
    services.append(Service.objects.get(pk=rich.pk))  # the same service twice, as two links to it give it
    with CaptureQueriesContext(connection) as queries:
        with_service_relations(services)
    assert len(queries) == 4
    for service in services:
        # Each relation as service pages read it: one prefetch per relation, model instances.
        alone = Service.objects.prefetch_related(*service_prefetches()).get(pk=service.pk)
        for relation in TERM_RELATIONS:
            expected = [
                (term.uuid, term.code, term.name, term.description, term.taxonomy.name, term.taxonomy.uuid)
                for term in getattr(alone, relation).all()
            ]
            found = [
                (term.uuid, term.code, term.name, term.description, term.taxonomy.name, term.taxonomy.uuid)
                for term in prefetched(service, relation)
            ]
            assert found == expected, relation
        place_fields = ("uuid", "name", "description", "address_line_1", "address_line_2", "town", "postcode", "accessibility")

        def coordinates(place):
            return [None if value is None else float(value) for value in (place.latitude, place.longitude)]

        def ward(place):
            term = place.ward
            return term and (term.uuid, term.code, term.name, term.description, term.taxonomy.name, term.taxonomy.uuid)

        def places(links):
            return [(link.uuid, *(getattr(link.location, name) for name in place_fields), *coordinates(link.location), ward(link.location)) for link in links]

        assert places(prefetched(service, "service_at_locations")) == places(alone.service_at_locations.all())
        time_fields = ("uuid", "weekday", "opens_at", "closes_at", "attending_type", "valid_from", "valid_to", "notes", "__str__")

        def times(rows):
            return [tuple(getattr(row, name) if name != "__str__" else str(row) for name in time_fields) for row in rows]

        assert times(prefetched(service, "schedules")) == times(alone.schedules.all())
        contact_fields = ("uuid", "name", "title", "email", "phone")
        assert [tuple(getattr(row, name) for name in contact_fields) for row in prefetched(service, "contacts")] == [
            tuple(getattr(row, name) for name in contact_fields) for row in alone.contacts.all()
        ]
    assert len(prefetched(services[0], "needs")) == 4 and not prefetched(services[2], "needs")
    assert [row.weekday for row in prefetched(services[0], "schedules")] == ["MO", "WE"]
    assert [contact.name for contact in prefetched(services[0], "contacts")] == ["Al", "Bo"]
