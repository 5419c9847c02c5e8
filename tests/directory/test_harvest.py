"""directory.harvest: other directories' Open Referral UK APIs, served by a real local HTTP server."""

import json
import os
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from core import outbound
from directory import harvest
from directory.models import HarvestedOrganisation, HarvestRun, HarvestSource, Location, Schedule, Service
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm
from tests.directory.search_rows import search_rows_apart
from tests.factories import make_service, term
from tests.local_server import serving

pytestmark = pytest.mark.django_db

# path -> callable(query dict) -> (status, headers, body bytes) or a special kind
ROUTES: dict[str, object] = {}
REQUESTS: list[str] = []


def _respond(handler) -> None:
    REQUESTS.append(handler.path)
    parts = urllib.parse.urlsplit(handler.path)
    route = ROUTES.get(parts.path)
    if route is None:
        handler.not_found()
        return
    status, headers, body = route(dict(urllib.parse.parse_qsl(parts.query)))
    if status == "slow":
        time.sleep(body)
        return
    handler.send(status, headers, body, length="Location" not in headers)


@pytest.fixture(scope="module")
def server():
    with serving(_respond) as url:
        yield url


@pytest.fixture(autouse=True)
def _harvest_settings(settings, monkeypatch):
    # The test server is on 127.0.0.1, which the SSRF guard refuses: allowed here, explicitly, only.
    monkeypatch.setattr(outbound, "ALLOWED_TEST_ADDRESSES", frozenset({"127.0.0.1"}))
    # Time limits a page from the local server meets with room to spare on a busy machine (a 1-second
    # timeout once failed two ordinary harvests at a load of 5 on 2 cores); the slow server's case sets
    # tight ones of its own, against a server far slower still.
    settings.PORTAL_HARVEST_TIMEOUT = 10
    settings.PORTAL_HARVEST_PAGE_DEADLINE = 20
    settings.PORTAL_HARVEST_DEADLINE = 60
    settings.PORTAL_HARVEST_MAX_PAGE_BYTES = 200_000
    settings.PORTAL_HARVEST_PER_PAGE = 2
    settings.PORTAL_HARVEST_MAX_PAGES = 10
    settings.PORTAL_HARVEST_MAX_RECORDS = 15
    ROUTES.clear()
    REQUESTS.clear()


def remote_service(n: int, *, name: str | None = None, organisation: int = 1, status: str = "active", **extra) -> dict:
    """A fully nested service as another THIN portal's API gives it."""
    service_id = f"00000000-0000-4000-8000-{n:012d}"
    need = term("needs", "payroll")
    return {
        "id": service_id,
        "organization_id": f"00000000-0000-4000-9000-{organisation:012d}",
        "name": name or f"Remote service {n}",
        "description": "Help for groups in another borough.",
        "url": "https://elsewhere.example.org/service",
        "status": status,
        "last_modified": "2027-01-01T10:00:00+00:00",
        "organization": {
            "id": f"00000000-0000-4000-9000-{organisation:012d}",
            "name": f"Remote organisation {organisation}",
            "description": "A CVS in another borough.",
            "website": "https://elsewhere.example.org/",
        },
        "schedules": [
            {"id": f"00000000-0000-4000-a000-{n:012d}", "freq": "WEEKLY", "byday": "TU", "opens_at": "10:00", "closes_at": "13:00"}
        ],
        "service_at_locations": [
            {
                "id": f"00000000-0000-4000-b000-{n:012d}",
                "location": {
                    "id": f"00000000-0000-4000-c000-{n:012d}",
                    "location_type": "physical",
                    "name": "Elsewhere hall",
                    "addresses": [
                        {
                            "id": f"00000000-0000-4000-d000-{n:012d}",
                            "address_1": "1 High Street",
                            "city": "London",
                            "state_province": "Greater London",
                            "postal_code": "n1 9gu",
                            "country": "GB",
                            "address_type": "physical",
                        }
                    ],
                },
            }
        ],
        "attributes": [
            {
                "id": f"00000000-0000-4000-e000-{n:012d}",
                "link_id": service_id,
                "link_type": "service_needs",
                "taxonomy_term_id": str(need.uuid),
                "taxonomy_term": {
                    "id": str(need.uuid),
                    "name": need.name,
                    "description": "",
                    "taxonomy": need.taxonomy.name,
                    "term": need.code,
                },
            }
        ],
        **extra,
    }


def pages(records: list[dict], *, per_page: int = 2):
    """A route answering /services with `records`, a page at a time."""

    def route(query):
        number = int(query.get("page", 1))
        total_pages = max(1, -(-len(records) // per_page))
        contents = records[(number - 1) * per_page : number * per_page]
        body = {
            "total_items": len(records),
            "total_pages": total_pages,
            "page_number": number,
            "size": len(contents),
            "first_page": number == 1,
            "last_page": number >= total_pages,
            "empty": not records,
            "contents": contents,
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    return route


def source(server, path="/api", **overrides) -> HarvestSource:
    return HarvestSource.objects.create(name="Hackney Connect", api_url=server + path, **overrides)


def harvested(src) -> dict[str, Service]:
    return {service.remote_id: service for service in Service.objects.filter(source=src)}


def test_a_harvest_adds_services_read_only_with_their_source_places_times_and_terms(server):
    ROUTES["/api/services"] = pages([remote_service(1), remote_service(2), remote_service(3, organisation=2)])
    src = source(server)
    run = harvest.harvest_source(source_id=src.pk)
    assert run.error == "" and not run.warnings, run.warnings
    assert (run.succeeded, run.kind, run.pages, run.created, run.updated, run.withdrawn) == (True, "full", 2, 3, 0, 0)
    services = harvested(src)
    one = services["00000000-0000-4000-8000-000000000001"]
    assert one.name == "Remote service 1" and one.is_harvested and one.source == src
    assert one.organisation.name == "Remote organisation 1" and one.organisation.is_harvested
    assert one.organisation.harvest_record.remote_id == "00000000-0000-4000-9000-000000000001"
    assert services["00000000-0000-4000-8000-000000000002"].organisation == one.organisation
    assert [str(schedule) for schedule in one.schedules.all()] == ["Tuesdays 10:00 to 13:00"]
    place = one.locations.get()
    assert (place.name, place.postcode, place.organisation) == ("Elsewhere hall", "N1 9GU", one.organisation)
    assert list(one.needs.all()) == [term("needs", "payroll")]
    # Referrals go to the directory that lists it; reviews are its business too.
    assert not one.accepting_referrals and not one.access_portal_referral
    assert not Service.objects.filter(source=src).needs_review(timezone.localdate() + timedelta(days=800)).exists()
    assert set(Service.objects.listed().filter(source=src)) == set(services.values())
    src.refresh_from_db()
    assert (src.status, src.last_error, src.last_full_at) == ("ok", "", run.started_at)


def test_ids_here_stay_the_same_and_unchanged_records_are_not_written(server):
    ROUTES["/api/services"] = pages([remote_service(1), remote_service(2)])
    src = source(server)
    harvest.harvest_source(source_id=src.pk)
    before = {remote: (service.uuid, service.slug, service.updated_at) for remote, service in harvested(src).items()}
    run = harvest.harvest_source(source_id=src.pk)
    assert (run.created, run.updated, run.unchanged) == (0, 0, 2)
    assert {remote: (s.uuid, s.slug, s.updated_at) for remote, s in harvested(src).items()} == before
    ROUTES["/api/services"] = pages([remote_service(1, name="Renamed service"), remote_service(2)])
    run = harvest.harvest_source(source_id=src.pk)
    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    renamed = harvested(src)["00000000-0000-4000-8000-000000000001"]
    assert renamed.name == "Renamed service" and renamed.uuid == before[renamed.remote_id][0]


def test_a_service_the_source_no_longer_lists_is_withdrawn_and_comes_back(server):
    ROUTES["/api/services"] = pages([remote_service(1), remote_service(2)])
    src = source(server)
    harvest.harvest_source(source_id=src.pk)
    ROUTES["/api/services"] = pages([remote_service(1)])
    run = harvest.harvest_source(source_id=src.pk)
    assert run.withdrawn == 1
    gone = harvested(src)["00000000-0000-4000-8000-000000000002"]
    assert gone.is_withdrawn
    assert gone not in Service.objects.listed() and gone not in Service.objects.of_open_providers()
    ROUTES["/api/services"] = pages([remote_service(1), remote_service(2)])
    run = harvest.harvest_source(source_id=src.pk)
    assert (run.updated, run.withdrawn) == (1, 0)
    assert harvested(src)["00000000-0000-4000-8000-000000000002"] in Service.objects.listed()


def test_invalid_records_are_skipped_and_logged_and_never_withdraw_what_was_there(server):
    ROUTES["/api/services"] = pages([remote_service(1), remote_service(2)])
    src = source(server)
    harvest.harvest_source(source_id=src.pk)
    broken = remote_service(2)
    broken["status"] = "sleeping"  # not one of the profile's statuses
    ROUTES["/api/services"] = pages([remote_service(1), broken, {"id": "x", "name": ""}, "not an object", remote_service(4)])
    run = harvest.harvest_source(source_id=src.pk)
    assert run.succeeded and (run.created, run.skipped, run.withdrawn) == (1, 3, 0)
    assert any("Remote service 2" in warning and "status" in warning for warning in run.warnings), run.warnings
    assert len(run.warnings) == 3
    kept = harvested(src)["00000000-0000-4000-8000-000000000002"]
    assert kept.name == "Remote service 2" and not kept.is_withdrawn


def test_parts_the_directory_cannot_hold_are_left_out_with_a_note(server):
    odd = remote_service(1, minimum_age=30, maximum_age=20)
    odd["schedules"].append({"id": "00000000-0000-4000-a000-000000000099", "byday": "TU", "opens_at": "15:00", "closes_at": "09:00"})
    odd["service_at_locations"][0]["location"]["addresses"][0]["postal_code"] = "not a postcode"
    ROUTES["/api/services"] = pages([odd])
    src = source(server)
    run = harvest.harvest_source(source_id=src.pk)
    service = harvested(src)["00000000-0000-4000-8000-000000000001"]
    assert (service.minimum_age, service.maximum_age) == (None, None)
    assert service.schedules.count() == 1
    assert service.locations.get().postcode == ""
    assert any("closes before it opens" in warning for warning in run.warnings)


def _prime(server) -> HarvestSource:
    ROUTES["/api/services"] = pages([remote_service(1), remote_service(2)])
    src = source(server)
    assert harvest.harvest_source(source_id=src.pk).succeeded
    return src


def _json_route(body: bytes, status: int = 200, headers=None):
    return lambda query: (status, {"Content-Type": "application/json", **(headers or {})}, body)


def _endless(query):
    number = int(query.get("page", 1))
    body = {
        "total_items": 10**6,
        "total_pages": 10**6,
        "page_number": number,
        "size": 1,
        "first_page": number == 1,
        "last_page": False,
        "empty": False,
        "contents": [remote_service(1000 + number)],
    }
    return 200, {}, json.dumps(body).encode()


def _many_per_page(query):
    number = int(query.get("page", 1))
    records = [remote_service(2000 + number * 100 + i) for i in range(8)]
    body = {"total_items": 80, "total_pages": 10, "page_number": number, "size": 8, "first_page": number == 1,
            "last_page": number == 10, "empty": False, "contents": records}
    return 200, {}, json.dumps(body).encode()


def _stuck_on_page_one(query):
    return pages([remote_service(1), remote_service(2), remote_service(3)])({"page": "1"})


# The slow server answers long after the limits its case sets (a 1-second timeout, a 2-second page
# deadline): giving up sooner than that shows the harvest stopped at its limit, not at the answer.
SLOW_SERVER_SECONDS = 10

HOSTILE = {
    "malformed JSON": (_json_route(b'{"total_items": 3, "contents": [{"id": '), "did not answer with JSON"),
    "not a page": (_json_route(b'{"services": []}'), "not answer with an Open Referral UK page"),
    "HTML": (lambda query: (200, {"Content-Type": "text/html"}, b"<html>Sign in</html>"), "did not answer with JSON"),
    "server error": (_json_route(b"{}", status=500), "HTTP 500"),
    "huge page": (_json_route(b'{"contents": [' + b'"x",' * 100_000 + b'"x"]}'), "larger than the limit"),
    "slow server": (lambda query: ("slow", {}, SLOW_SERVER_SECONDS), "took too long"),
    "endless pagination": (_endless, "more than 10 pages"),
    "too many records": (_many_per_page, "more than 15 services"),
    "same page again": (_stuck_on_page_one, "answered with page 1"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_source_fails_with_a_clear_log_and_changes_nothing(server, name, settings):
    src = _prime(server)
    before = {remote: (s.name, s.updated_at, s.is_withdrawn) for remote, s in harvested(src).items()}
    route, message = HOSTILE[name]
    ROUTES["/api/services"] = route
    if name == "slow server":
        settings.PORTAL_HARVEST_TIMEOUT = 1
        settings.PORTAL_HARVEST_PAGE_DEADLINE = 2
    started = time.monotonic()
    run = harvest.harvest_source(source_id=src.pk)
    assert not run.succeeded and message in run.error, run.error
    if name == "slow server":
        assert time.monotonic() - started < SLOW_SERVER_SECONDS, "waited for the server, not for its limit"
    assert (run.created, run.updated, run.withdrawn) == (0, 0, 0)
    assert HarvestRun.objects.filter(source=src).first().error == run.error
    assert {remote: (s.name, s.updated_at, s.is_withdrawn) for remote, s in harvested(src).items()} == before
    src.refresh_from_db()
    assert src.status == "error" and message in src.last_error
    assert src.last_full_at is not None  # the last complete harvest's, kept


def test_a_redirect_to_a_private_address_is_refused(server, monkeypatch):
    src = _prime(server)
    ROUTES["/api/services"] = lambda query: (302, {"Location": "http://10.0.0.1/api/services"}, b"")
    run = harvest.harvest_source(source_id=src.pk)
    assert not run.succeeded and "private network" in run.error
    assert Service.objects.filter(source=src, is_withdrawn=False).count() == 2


def test_private_addresses_are_refused_unless_allowed(server, monkeypatch):
    monkeypatch.setattr(outbound, "ALLOWED_TEST_ADDRESSES", frozenset())
    ROUTES["/api/services"] = pages([remote_service(1)])
    run = harvest.harvest_source(source_id=source(server).pk)
    assert not run.succeeded and "private network" in run.error
    assert REQUESTS == []


def test_incremental_harvests_ask_for_changes_and_never_withdraw(server, settings):
    src = source(server, supports_modified_after=True)
    ROUTES["/api/services"] = pages([remote_service(1), remote_service(2)])
    first = harvest.harvest_source(source_id=src.pk)
    assert first.kind == "full" and "modified_after" not in REQUESTS[0]
    REQUESTS.clear()
    ROUTES["/api/services"] = pages([remote_service(2, name="Changed")])
    run = harvest.harvest_source(source_id=src.pk)
    assert run.kind == "incremental" and run.succeeded
    asked = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(REQUESTS[0]).query))
    assert asked["modified_after"] == (first.started_at - harvest.OVERLAP).isoformat(timespec="seconds")
    assert (run.updated, run.withdrawn) == (1, 0)
    assert not harvested(src)["00000000-0000-4000-8000-000000000001"].is_withdrawn
    # A day on, the full harvest comes round again and withdraws what the source dropped.
    src.refresh_from_db()
    HarvestSource.objects.filter(pk=src.pk).update(last_full_at=src.last_full_at - timedelta(seconds=settings.PORTAL_HARVEST_FULL_INTERVAL))
    run = harvest.harvest_source(source_id=src.pk)
    assert run.kind == "full" and run.withdrawn == 1


def test_our_own_api_output_is_harvested_faithfully(server, client, directory):
    """The harvester reads what a THIN portal publishes: our own /services?full=true, served back."""
    body = client.get("/api/oruk/services", {"full": "true", "per_page": 200}).content
    ROUTES["/api/services"] = _json_route(body)
    src = source(server)
    run = harvest.harvest_source(source_id=src.pk)
    assert run.succeeded and run.created == 3 and run.skipped == 0, run.warnings
    original = directory["funding"]
    copy = Service.objects.get(source=src, remote_id=str(original.uuid))
    assert (copy.name, copy.description, copy.url, copy.email) == (original.name, original.description, original.url, original.email)
    assert (copy.minimum_age, copy.maximum_age, copy.last_reviewed_on) == (18, 99, original.last_reviewed_on)
    assert set(copy.needs.all()) == set(original.needs.all()) and set(copy.functions.all()) == set(original.functions.all())
    assert list(copy.languages.all()) == list(original.languages.all())
    assert [str(s) for s in copy.schedules.all()] == [str(s) for s in original.schedules.all()]
    assert copy.locations.get().postcode == "E3 5ES" and not copy.wards.exists()
    assert [(c.name, c.phone) for c in copy.contacts.all()] == [("Amina Rahman", "020 7946 0123")]
    assert copy.organisation.name == original.organisation.name and copy.organisation.is_harvested
    youth = Service.objects.get(source=src, remote_id=str(directory["youth"].uuid))
    assert (youth.status, youth.is_free, youth.fee_amount) == ("paused", False, directory["youth"].fee_amount)
    # Harvested copies are not published again by default: the API lists our own three only.
    listed = client.get("/api/oruk/services").json()
    assert listed["total_items"] == 3


def test_hidden_services_leave_the_directory_and_come_back(server):
    src = _prime(server)
    hidden = harvested(src)["00000000-0000-4000-8000-000000000001"]
    own = make_service()
    assert harvest.set_hidden(services=Service.objects.filter(pk__in=[hidden.pk, own.pk]), hidden=True) == 1
    assert hidden not in Service.objects.listed() and own in Service.objects.listed()
    # A later harvest brings its changes but keeps it hidden.
    ROUTES["/api/services"] = pages([remote_service(1, name="Still hidden"), remote_service(2)])
    harvest.harvest_source(source_id=src.pk)
    hidden.refresh_from_db()
    assert hidden.name == "Still hidden" and hidden.is_hidden and hidden not in Service.objects.listed()
    harvest.set_hidden(services=Service.objects.filter(pk=hidden.pk), hidden=False)
    assert hidden in Service.objects.listed()


def test_deleting_a_source_deletes_what_was_harvested_from_it(server):
    src = _prime(server)
    organisation_ids = list(Service.objects.filter(source=src).values_list("organisation_id", flat=True))
    harvest.delete_source(source=src)
    assert not Service.objects.filter(remote_id__startswith="00000000-0000-4000-8000").exists()
    assert not Organisation.objects.filter(pk__in=organisation_ids).exists()


def test_sources_due_and_the_sweep_queues_each(monkeypatch, server, settings):
    from directory import tasks

    assert "directory.tasks.sweep_harvests" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    due = source(server)
    source(server, path="/other", is_active=False)
    recent = source(server, path="/recent")
    HarvestSource.objects.filter(pk=recent.pk).update(last_attempt_at=timezone.now())
    assert list(harvest.sources_due()) == [due]
    queued = []
    monkeypatch.setattr(tasks.harvest_source, "apply_async", lambda args, **kwargs: queued.append((args, kwargs["queue"])))
    assert tasks.sweep_harvests() == 1
    assert queued == [([due.pk], "long")]


def test_vocabulary_terms_are_matched_by_vocabulary_name_and_code(server):
    record = remote_service(1)
    record["attributes"].append(
        {
            "id": "00000000-0000-4000-e000-000000000777",
            "link_id": record["id"],
            "link_type": "service_functions",
            "taxonomy_term_id": "00000000-0000-4000-f000-000000000001",
            "taxonomy_term": {"id": "00000000-0000-4000-f000-000000000001", "name": "Unknown", "description": "", "taxonomy": "Someone else's list", "term": "payroll"},
        }
    )
    ROUTES["/api/services"] = pages([record])
    src = source(server)
    harvest.harvest_source(source_id=src.pk)
    service = harvested(src)[record["id"]]
    assert list(service.needs.all()) == [term("needs", "payroll")]
    assert not service.functions.exists()
    assert Taxonomy.objects.get(code="needs").name == term("needs", "payroll").taxonomy.name


def test_a_record_the_database_refuses_is_skipped_alone(server):
    """Records are written in bulk; a chunk the database refuses is written again a record at a time,
    so the one it refuses (here: its web address is one of our own services') is the only one lost."""
    records = [remote_service(1), remote_service(2), remote_service(3)]
    ROUTES["/api/services"] = pages(records)
    src = source(server)
    refused = records[1]["id"]
    make_service(slug=harvest._slug("Remote service 2", harvest.local_uuid(src.pk, "service", refused)))
    run = harvest.harvest_source(source_id=src.pk)
    assert run.succeeded and (run.created, run.skipped) == (2, 1)
    assert any("Remote service 2" in warning and "could not store it" in warning for warning in run.warnings)
    assert set(harvested(src)) == {records[0]["id"], records[2]["id"]}
    # Nothing of it half written (its savepoint undone): neither its place nor its times.
    place = harvest.local_uuid(src.pk, "location", records[1]["service_at_locations"][0]["location"]["id"])
    assert not Location.objects.filter(uuid=place).exists()
    assert Schedule.objects.filter(service__source=src).count() == 2
    # Refused again next time (still listed by the source, so never withdrawn), the others unchanged.
    run = harvest.harvest_source(source_id=src.pk)
    assert (run.created, run.unchanged, run.skipped, run.withdrawn) == (0, 2, 1, 0)


# What a harvest writes, row for row ------------------------------------------------------------------

# The rows the one-record-at-a-time harvest wrote for VARIED_PAGE and then VARIED_CHANGES (before the
# harvest wrote in bulk): a bulk write must leave exactly these.
ROWS_BEFORE = Path(__file__).with_name("harvest_rows_before.json")


def _attribute(n: int, taxonomy_code: str, position: int = 0) -> dict:
    chosen = TaxonomyTerm.objects.filter(taxonomy__code=taxonomy_code).order_by("code")[position]
    return {
        "id": f"00000000-0000-4000-e{position:03d}-{n:012d}",
        "link_id": f"00000000-0000-4000-8000-{n:012d}",
        "link_type": f"service_{taxonomy_code}",
        "taxonomy_term_id": str(chosen.uuid),
        "taxonomy_term": {"id": str(chosen.uuid), "name": chosen.name, "description": "", "taxonomy": chosen.taxonomy.name, "term": chosen.code},
    }


def _place(n: int, k: int, **location) -> dict:
    return {
        "id": f"00000000-0000-4000-b{k:03d}-{n:012d}",
        "location": {
            "id": f"00000000-0000-4000-c{k:03d}-{n:012d}",
            "location_type": "physical",
            "name": f"Hall {k}",
            "addresses": [{"id": f"00000000-0000-4000-d{k:03d}-{n:012d}", "address_1": f"{k} Mare Street", "city": "London",
                           "state_province": "", "postal_code": "e8 1dy", "country": "GB", "address_type": "physical"}],
            **location,
        },
    }


def varied_page() -> list[dict]:
    """Records unlike each other: shared and differing organisations, every vocabulary, several places
    and times, fees, ages, statuses, a term from a list we do not keep, and one record to skip."""
    first = remote_service(1)
    first["attributes"] += [_attribute(1, "functions"), _attribute(1, "communities"), _attribute(1, "segments", 1)]
    language = TaxonomyTerm.objects.filter(taxonomy__code="languages").order_by("code")[1]
    first["languages"] = [{"id": "00000000-0000-4000-f100-000000000001", "name": language.name, "code": language.code}]
    second = remote_service(2, status="temporarily closed", email="help@elsewhere.example.org",
                            cost_options=[{"id": "00000000-0000-4000-f200-000000000002", "amount": 12.5, "option": "per session"}])
    second["schedules"].append({"id": "00000000-0000-4000-a001-000000000002", "byday": "MO,WE", "opens_at": "18:00",
                                "closes_at": "20:30", "attending_type": "online"})
    second["service_at_locations"].append(_place(2, 2, latitude=51.546, longitude=-0.055))
    second["contacts"] = [{"id": "00000000-0000-4000-f300-000000000002", "name": "Ruth Okafor", "title": "Adviser",
                           "email": "ruth@elsewhere.example.org", "phones": [{"id": "00000000-0000-4000-f400-000000000002", "number": "020 7946 0999"}]}]
    third = remote_service(3, organisation=2, status="inactive", minimum_age=16, maximum_age=25,
                           service_areas=[{"id": "00000000-0000-4000-f500-000000000003", "name": "North London", "extent_type": "regional"}])
    third["attributes"] = [_attribute(3, "needs", 2), _attribute(3, "functions", 1)]
    fourth = remote_service(4, organisation=2, fees="£5 a year for members")
    fourth["organization"] = {**fourth["organization"], "name": "Remote organisation 2, renamed in a later record"}
    fourth["service_at_locations"] = []
    fifth = remote_service(5, organisation=3, url="ftp://elsewhere.example.org/")
    fifth["attributes"].append({**_attribute(5, "functions"), "taxonomy_term": {**_attribute(5, "functions")["taxonomy_term"], "taxonomy": "Someone else's list"}})
    broken = remote_service(6, status="sleeping")
    return [first, second, third, fourth, fifth, broken]


def varied_changes() -> list[dict]:
    """The same source later: one renamed with other terms and a place less, one gone (withdrawn), one
    new, an organisation's details changed, the rest as they were."""
    first, second, _third, fourth, fifth, _broken = varied_page()
    first["name"] = "Remote service 1, renamed"
    first["attributes"] = [_attribute(1, "communities", 1)]
    second["service_at_locations"] = second["service_at_locations"][1:]
    fourth["organization"]["description"] = "A CVS that has moved."
    seventh = remote_service(7, organisation=3)
    return [first, second, fourth, fifth, seventh]


def _facet(code: int, terms: dict[int, str]):
    return terms.get(code, code)


def written_rows(src) -> dict:
    """Everything a harvest of `src` wrote, with our ids (which differ between databases) put as the
    source's ids and term ids as their vocabulary and code: comparable with ROWS_BEFORE. (Services'
    checksums are left out: the records name our terms' ids, which each test database draws afresh.)"""
    terms = {pk: f"{taxonomy}:{code}" for pk, taxonomy, code in TaxonomyTerm.objects.values_list("pk", "taxonomy__code", "code")}
    listed = set(Service.objects.listed().filter(source=src).values_list("pk", flat=True))
    services = {}
    for service in Service.objects.filter(source=src).order_by("remote_id"):
        assert service.uuid == harvest.local_uuid(src.pk, "service", service.remote_id)
        assert service.slug.endswith(service.uuid.hex[:12])
        places = {harvest.local_uuid(src.pk, "location", f"00000000-0000-4000-c{k:03d}-{n:012d}"): f"c{k}-{n}" for n in range(1, 8) for k in range(3)}
        latest = service.history.order_by("-history_date", "-history_id").first()
        # The service's history ends with the service as last written, terms and all (a withdrawal is
        # a flag set on every service the source dropped at once, outside the history).
        assert (latest.name, latest.status, latest.source_checksum) == (service.name, service.status, service.source_checksum)
        for relation in ("functions", "needs", "segments", "communities", "wards", "languages"):
            assert sorted(getattr(latest, relation).values_list("taxonomyterm_id", flat=True)) == sorted(
                getattr(service, relation).values_list("pk", flat=True)
            ), relation
        # The facets column is PostgreSQL's (directory.facets); the embedded SQLite default has none.
        facets = (
            Service.objects.filter(pk=service.pk).extra(select={"f": "facets"}).values_list("f", flat=True)[0]
            if connection.vendor == "postgresql"
            else None
        )
        services[service.remote_id] = {
            "slug": service.slug[:-13],
            "organisation": service.organisation.harvest_record.remote_id,
            **{
                name: str(getattr(service, name))
                for name in (
                    "name", "description", "url", "email", "status", "minimum_age", "maximum_age", "geographic_level",
                    "area_served", "last_reviewed_on", "is_online", "is_free", "fee_amount", "fee_description",
                    "accepting_referrals", "access_portal_referral", "is_withdrawn", "is_hidden",
                )
            },
            **{
                relation: sorted(terms[pk] for pk in getattr(service, relation).values_list("pk", flat=True))
                for relation in ("functions", "needs", "segments", "communities", "wards", "languages")
            },
            "facets": None
            if facets is None
            else sorted(_facet(code, terms) for code in facets if code < 0) + sorted(_facet(code, terms) for code in facets if code > 0),
            "listed": service.pk in listed,
            "places": sorted(
                [places[place.uuid], place.name, place.address_line_1, place.town, place.postcode, str(place.latitude),
                 str(place.longitude), place.organisation.harvest_record.remote_id]
                for place in service.locations.all()
            ),
            "times": [[t.weekday, str(t.opens_at), str(t.closes_at), t.attending_type] for t in service.schedules.order_by("weekday", "opens_at")],
            "contacts": [[c.name, c.title, c.email, c.phone] for c in service.contacts.all()],
        }
    organisations = {}
    for link in HarvestedOrganisation.objects.filter(source=src).select_related("organisation").order_by("remote_id"):
        organisation = link.organisation
        assert organisation.uuid == harvest.local_uuid(src.pk, "organisation", link.remote_id)
        latest = organisation.history.order_by("-history_date", "-history_id").first()
        assert (latest.name, latest.activities) == (organisation.name, organisation.activities)
        organisations[link.remote_id] = {
            "slug": organisation.slug[:-13],
            "checksum": link.checksum,
            **{name: str(getattr(organisation, name)) for name in ("name", "activities", "email", "website", "is_active", "is_harvested")},
        }
    return {"services": services, "organisations": organisations}


@pytest.mark.parametrize("chunk", [harvest.CHUNK, 1])
def test_a_harvest_writes_the_rows_it_always_wrote(server, settings, monkeypatch, chunk):
    """A varied page, then changes to it: services, their terms, wards, facets, places, times, contacts
    and organisations as the one-record-at-a-time harvest wrote them (ROWS_BEFORE), whether written in
    bulk or (as after a refusal) a record at a time."""
    monkeypatch.setattr(harvest, "CHUNK", chunk)
    settings.PORTAL_HARVEST_PER_PAGE = 4
    ROUTES["/api/services"] = pages(varied_page(), per_page=4)
    src = source(server)
    first = harvest.harvest_source(source_id=src.pk)
    assert (first.created, first.updated, first.skipped) == (5, 0, 1), first.warnings
    after_first = written_rows(src)
    ROUTES["/api/services"] = pages(varied_changes(), per_page=4)
    second = harvest.harvest_source(source_id=src.pk)
    assert (second.created, second.updated, second.unchanged, second.withdrawn) == (1, 3, 1, 1), second.warnings
    written = {"first": after_first, "then": written_rows(src)}
    if os.environ.get("PORTAL_WRITE_HARVEST_ROWS"):  # how ROWS_BEFORE was made, with the earlier harvest
        ROWS_BEFORE.write_text(json.dumps(written, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    before = json.loads(ROWS_BEFORE.read_text())
    if connection.vendor != "postgresql":
        for rows in before.values():
            for row in rows["services"].values():
                row["facets"] = None
    assert written == before
    if connection.vendor == "postgresql":  # bulk writes keep the search rows (migration 0010) too
        assert search_rows_apart() == []
    # The search finds them as before: the listed ones by their words, with the source's name.
    found = {row.remote_id for row in Service.objects.listed().filter(source=src)}
    assert found == {remote for remote, row in written["then"]["services"].items() if row["listed"]}
