"""The facets PostgreSQL keeps for each service (migration 0007, directory/facets.py): every kind of
write that changes what a filter should find refreshes them, whatever wrote it, and the codes the
database writes are the ones Django asks for. After every test here, whatever it wrote, the search rows
of migration 0010 hold each service's name, search words and facets exactly."""

import importlib

import pytest
from django.db import connection

from directory import facets
from directory.models import Location, Schedule, Service, ServiceAtLocation
from directory.search import ServiceFilters, filter_services
from organisations.models import Organisation
from tests.directory.search_rows import search_rows_apart
from tests.factories import make_location, make_organisation, make_service, term

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

@pytest.fixture(autouse=True)
def search_rows_kept():
    yield
    assert search_rows_apart() == []


def stored_facets(service) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT facets FROM directory_service WHERE id = %s", [service.pk])
        return set(cursor.fetchone()[0])


def test_day_codes_are_the_schedule_weekdays_in_order():
    assert list(facets.DAY_CODES) == list(Schedule.Weekday.values)


def test_a_new_service_has_its_terms_days_price_stages_and_listing_codes():
    ward = term("wards", "bow-east")
    need = term("needs", "payroll")
    service = make_service(
        needs=[need], wards=[ward], schedules=[("TU", "10:00", "12:00"), ("SA", "09:00", "10:00")], serves_stage_2=False
    )
    assert stored_facets(service) == {
        need.pk,
        ward.pk,
        facets.open_on("TU"),
        facets.open_on("SA"),
        facets.FREE,
        facets.serves_stage(1),
        facets.serves_stage(3),
        facets.PROVIDER_OPEN,
        facets.LISTED,
        facets.OWN,
    }


def test_term_lists_added_and_removed_through_the_orm_refresh_the_facets():
    service = make_service()
    need, language = term("needs", "premises"), term("languages", "so")
    service.needs.add(need)
    service.languages.set([language])
    assert {need.pk, language.pk} <= stored_facets(service)
    service.needs.remove(need)
    assert need.pk not in stored_facets(service)
    assert language.pk in stored_facets(service)


def test_regular_times_added_changed_and_deleted_refresh_the_days():
    service = make_service(schedules=[("MO", "10:00", "12:00")])
    schedule = service.schedules.get()
    Schedule.objects.filter(pk=schedule.pk).update(weekday="FR")
    assert facets.open_on("FR") in stored_facets(service)
    assert facets.open_on("MO") not in stored_facets(service)
    schedule.delete()
    assert not any(code in stored_facets(service) for code in map(facets.open_on, facets.DAY_CODES))


def test_a_place_and_its_ward_count_as_wards_served():
    provider = make_organisation()
    hall = make_location(organisation=provider, ward=term("wards", "island-gardens"))
    service = make_service(organisation=provider)
    ServiceAtLocation.objects.create(service=service, location=hall)
    assert term("wards", "island-gardens").pk in stored_facets(service)
    Location.objects.filter(pk=hall.pk).update(ward=term("wards", "bow-east"))
    assert term("wards", "bow-east").pk in stored_facets(service)
    assert term("wards", "island-gardens").pk not in stored_facets(service)
    ServiceAtLocation.objects.filter(service=service).delete()
    assert term("wards", "bow-east").pk not in stored_facets(service)


def test_closing_a_provider_or_a_service_takes_it_out_of_the_listing():
    provider = make_organisation()
    open_service, closing = make_service(organisation=provider), make_service(organisation=provider)
    closing.status = Service.Status.CLOSED
    closing.save()
    assert list(Service.objects.listed().filter(organisation=provider)) == [open_service]
    assert set(Service.objects.of_open_providers().filter(organisation=provider)) == {open_service, closing}
    Organisation.objects.filter(pk=provider.pk).update(is_active=False)
    assert not Service.objects.listed().filter(organisation=provider).exists()
    assert not Service.objects.of_open_providers().filter(organisation=provider).exists()
    Organisation.objects.filter(pk=provider.pk).update(is_active=True)
    assert list(Service.objects.listed().filter(organisation=provider)) == [open_service]


def test_price_and_stages_follow_the_service_row():
    service = make_service()
    Service.objects.filter(pk=service.pk).update(is_free=False, serves_stage_1=False)
    codes = stored_facets(service)
    assert facets.FREE not in codes and facets.serves_stage(1) not in codes
    assert facets.serves_stage(2) in codes


def test_harvested_services_are_not_own_and_leave_the_listing_when_hidden_or_withdrawn():
    from directory.models import HarvestSource

    source = HarvestSource.objects.create(name="Elsewhere", api_url="https://elsewhere.example.org/api/oruk")
    service = make_service(source=source, remote_id="one")
    assert {facets.PROVIDER_OPEN, facets.LISTED} <= stored_facets(service)
    assert facets.OWN not in stored_facets(service)
    for change in ({"is_hidden": True}, {"is_withdrawn": True}):
        Service.objects.filter(pk=service.pk).update(**change)
        assert not {facets.PROVIDER_OPEN, facets.LISTED} & stored_facets(service)
        assert not Service.objects.listed().filter(pk=service.pk).exists()
        assert not Service.objects.of_open_providers().filter(pk=service.pk).exists()
        Service.objects.filter(pk=service.pk).update(is_hidden=False, is_withdrawn=False)
        assert {facets.PROVIDER_OPEN, facets.LISTED} <= stored_facets(service)
    assert not Service.objects.own().filter(pk=service.pk).exists()
    assert Service.objects.own().filter(pk=make_service().pk).exists()


def _all_facets() -> dict[int, list[int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, facets FROM directory_service")
        return dict(cursor.fetchall())


def test_the_set_wise_refresh_gives_exactly_the_row_triggers_facets():
    """Migration 0006's statement (and 0007's function over it) against the row trigger, array for
    array, order included, over services unlike each other."""
    from directory.models import HarvestSource

    facets_of = importlib.import_module("directory.migrations.0006_harvest_facets").FACETS_OF
    source = HarvestSource.objects.create(name="Elsewhere", api_url="https://elsewhere.example.org/api/oruk")
    closed_provider = make_organisation(is_active=False)
    hall = make_location(organisation=closed_provider, ward=term("wards", "island-gardens"))
    made = [
        make_service(needs=[term("needs", "payroll")], wards=[term("wards", "bow-east")], schedules=[("SU", "10:00", "12:00"), ("MO", "09:00", "10:00")]),
        make_service(organisation=closed_provider, is_free=False, serves_stage_3=False, languages=[term("languages", "so")]),
        make_service(status=Service.Status.CLOSED),
        make_service(source=source, remote_id="one"),
        make_service(source=source, remote_id="two", is_hidden=True),
        make_service(source=source, remote_id="three", is_withdrawn=True, organisation=closed_provider),
    ]
    ServiceAtLocation.objects.create(service=made[1], location=hall)
    by_trigger = _all_facets()
    # Deferred, the row trigger keeps what it is given (the migration turns it off instead).
    with facets.deferred(), connection.cursor() as cursor:
        cursor.execute("UPDATE directory_service SET facets = '{}'")
        cursor.execute(facets_of.format(where="true"))
    assert _all_facets() == by_trigger
    with facets.deferred(), connection.cursor() as cursor:
        cursor.execute("UPDATE directory_service SET facets = '{}'")
        facets.refresh([service.pk for service in made[:3]])
    assert [_all_facets()[service.pk] for service in made] == [by_trigger[s.pk] for s in made[:3]] + [[], [], []]


def test_deferred_writes_leave_facets_until_the_refresh():
    service = make_service()
    before = stored_facets(service)
    need = term("needs", "premises")
    with facets.deferred():
        service.needs.add(need)
        Schedule.objects.create(service=service, weekday="WE", opens_at="10:00", closes_at="11:00")
        assert stored_facets(service) == before  # the triggers waited
        facets.refresh([service.pk])
        assert {need.pk, facets.open_on("WE")} <= stored_facets(service)
    # Outside, every write refreshes at once as before.
    service.needs.remove(need)
    assert need.pk not in stored_facets(service)


def test_a_directory_search_reads_the_listed_services_index_without_the_listed_code():
    """Migration 0009: over the listed services' GIN index, "listed" (nine services in ten) is the
    index's predicate, not a list the scan reads; the other filters and the words are."""
    make_service(name="Payroll bureau", description="Payroll.", is_free=True)
    results = filter_services(Service.objects.listed(), ServiceFilters(text="payroll", free_only=True))
    sql, params = results.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
        cursor.execute("SET LOCAL enable_seqscan = on")
    assert any("directory_service_listed_search_gin" in line for line in plan), plan
    condition = next(line for line in plan if "Index Cond" in line)
    assert f"{{{facets.LISTED}}}" not in condition and f"{{{facets.FREE}}}" in condition and "payrol" in condition  # the stemmed word


def test_search_rows_follow_new_renamed_reworded_refiled_and_deleted_services():
    service = make_service(name="Payroll bureau", description="Monthly payroll.")
    other = make_service(name="Trustee training")
    Service.objects.filter(pk=service.pk).update(name="Payroll desk", description="Weekly wages.")
    service.needs.add(term("needs", "premises"))
    Service.objects.bulk_create([Service(organisation=other.organisation, name="Bulk one", slug="bulk-one")])
    assert search_rows_apart() == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, search_vector::text FROM directory_service_search WHERE id = %s", [service.pk])
        name, words = cursor.fetchone()
    assert name == "Payroll desk" and "'wage'" in words and "'monthli'" not in words
    other.delete()
    Service.objects.filter(name__startswith="Bulk").delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM directory_service_search WHERE id = %s", [other.pk])
        assert cursor.fetchone()[0] == 0


def test_emptying_the_services_table_empties_the_search_rows():
    make_service()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the factories' foreign keys checked now, not at commit
        cursor.execute("TRUNCATE directory_service CASCADE")
        cursor.execute("SELECT count(*) FROM directory_service_search")
        assert cursor.fetchone()[0] == 0


def test_the_directory_page_reads_its_first_matches_from_the_search_rows(client):
    from django.test.utils import CaptureQueriesContext

    make_service(name="Payroll bureau", description="Payroll for small groups.", is_free=True)
    make_service(name="Trustee training", description="Governance.")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/directory/", {"q": "payroll", "free": "on"})
    assert "Payroll bureau" in response.content.decode() and "Trustee training" not in response.content.decode()
    reads = [query["sql"] for query in captured.captured_queries if "ts_rank" in query["sql"] and "EXPLAIN" not in query["sql"]]
    assert reads and all('FROM "directory_service_search" AS "directory_service"' in sql for sql in reads), reads
