"""Reads for the provider directory: services, their listing details, pages and review state."""

import functools
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connections
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Lower
from django.utils.text import capfirst

from core.links import place
from organisations.models import Organisation
from organisations.selectors import HISTORY_BOOKKEEPING_FIELDS
from taxonomies.models import Taxonomy, TaxonomyTerm
from taxonomies.selectors import built_from_terms

from . import links
from .models import Service

# Services -----------------------------------------------------------------------------------------

# Everything a service page, a download row or a fully nested API record shows, fetched in a fixed
# number of queries whatever the number of services.
SERVICE_RELATIONS = (
    "functions",
    "needs",
    "segments",
    "communities",
    "wards",
    "languages",
    "service_at_locations",
    "schedules",
    "contacts",
)
TERM_RELATIONS = SERVICE_RELATIONS[:6]


def _related_querysets() -> dict[str, QuerySet]:
    """Each of SERVICE_RELATIONS as its rows are shown: terms in vocabulary order, places by name,
    times Monday first, contacts by name."""
    from .models import ServiceAtLocation, ServiceContact

    terms = TaxonomyTerm.objects.select_related("taxonomy").order_by("order", "name")
    return {
        **{name: terms for name in TERM_RELATIONS},
        "service_at_locations": ServiceAtLocation.objects.select_related("location__ward__taxonomy").order_by(
            "location__name", "pk"
        ),
        "schedules": schedules_in_week_order(),
        "contacts": ServiceContact.objects.order_by("name", "pk"),
    }


def service_prefetches() -> list:
    """Prefetches of every one of SERVICE_RELATIONS, for prefetch_related() (service pages, the print view)."""
    from django.db.models import Prefetch

    return [Prefetch(name, queryset=queryset) for name, queryset in _related_querysets().items()]


@dataclass(frozen=True)
class TermTaxonomy:
    name: str
    uuid: uuid.UUID


@dataclass(frozen=True)
class ServiceTerm:
    """A term of a service as the API shows it: plain values, not a TaxonomyTerm instance."""

    uuid: uuid.UUID
    code: str
    name: str
    description: str
    taxonomy: TermTaxonomy


@dataclass(frozen=True)
class Place:
    """A service's location as the API shows it: plain values, the attributes of a Location it reads."""

    uuid: uuid.UUID
    name: str
    description: str
    address_line_1: str
    address_line_2: str
    town: str
    postcode: str
    latitude: float | None
    longitude: float | None
    accessibility: str
    ward: ServiceTerm | None


@dataclass(frozen=True)
class ServicePlace:
    """A service's link to a place (a ServiceAtLocation), as plain values."""

    uuid: uuid.UUID
    location: Place


@dataclass(frozen=True)
class ServiceTime:
    """A regular time of a service (a Schedule), as plain values."""

    uuid: uuid.UUID
    weekday: str
    opens_at: object  # datetime.time
    closes_at: object
    attending_type: str
    valid_from: object  # datetime.date, or None
    valid_to: object
    notes: str

    def __str__(self) -> str:
        from .models import Schedule

        return Schedule.describe(self.weekday, self.opens_at, self.closes_at)


@dataclass(frozen=True)
class Contact:
    """A contact of a service (a ServiceContact), as plain values."""

    uuid: uuid.UUID
    name: str
    title: str
    email: str
    phone: str


def _as_uuid(value) -> uuid.UUID:
    """A UUID column as read on a plain cursor: a UUID, or its text (hex on SQLite)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def with_service_relations(services: Iterable[Service]) -> None:
    """Store every one of SERVICE_RELATIONS of these services as a plain list (`service.functions_list`,
    ...; read them with `prefetched`): much cheaper for hundreds of rows (the API), or one (a fully
    nested service), than Django building model instances per row and a queryset per relation. Four
    hand-written queries whatever the number of services, in the orders of _related_querysets: the terms
    of all six term relations in one (as ServiceTerm values), then places, times and contacts (as Place,
    ServiceTime and Contact values)."""
    from .models import Location, Schedule, ServiceAtLocation, ServiceContact

    services = list(services)
    by_id: dict[int, list[Service]] = {}
    for service in services:
        by_id.setdefault(service.pk, []).append(service)
        for relation in SERVICE_RELATIONS:
            setattr(service, f"{relation}_list", [])
    if not services:
        return
    ids = list(by_id)
    placeholders = ", ".join(["%s"] * len(ids))
    term_table, taxonomy_table = TaxonomyTerm._meta.db_table, Taxonomy._meta.db_table
    # Written out rather than composed by the ORM: compiling the querysets costs more than the
    # database takes to answer them.
    fields = [Service._meta.get_field(relation) for relation in TERM_RELATIONS]
    links = " UNION ALL ".join(
        f"SELECT {index} AS relation, {field.m2m_column_name()} AS service_id, {field.m2m_reverse_name()} AS term_id"
        f" FROM {field.m2m_db_table()} WHERE {field.m2m_column_name()} IN ({placeholders})"
        for index, field in enumerate(fields)
    )
    day_order = " ".join(f"WHEN '{code}' THEN {index}" for index, code in enumerate(Schedule.Weekday.values))
    taxonomies: dict[str, TermTaxonomy] = {}

    def term(term_uuid, code, name, description, taxonomy_name, taxonomy_uuid) -> ServiceTerm:
        taxonomy = taxonomies.get(taxonomy_uuid)
        if taxonomy is None:
            taxonomy = taxonomies[taxonomy_uuid] = TermTaxonomy(taxonomy_name, _as_uuid(taxonomy_uuid))
        return ServiceTerm(_as_uuid(term_uuid), code, name, description, taxonomy)

    def add(relation: str, service_id: int, row) -> None:
        for service in by_id[service_id]:
            getattr(service, f"{relation}_list").append(row)

    with connections[Service.objects.db].cursor() as cursor:
        cursor.execute(
            "SELECT l.relation, l.service_id, t.uuid, t.code, t.name, t.description, x.name, x.uuid"
            f" FROM ({links}) l JOIN {term_table} t ON t.id = l.term_id JOIN {taxonomy_table} x ON x.id = t.taxonomy_id"
            f' ORDER BY l.relation, t."order", t.name, t.id',
            ids * len(TERM_RELATIONS),
        )
        for index, service_id, *values in cursor.fetchall():
            add(TERM_RELATIONS[index], service_id, term(*values))
        cursor.execute(
            "SELECT s.service_id, s.uuid, p.uuid, p.name, p.description, p.address_line_1, p.address_line_2, p.town,"
            " p.postcode, p.latitude, p.longitude, p.accessibility, t.uuid, t.code, t.name, t.description, x.name, x.uuid"
            f" FROM {ServiceAtLocation._meta.db_table} s JOIN {Location._meta.db_table} p ON p.id = s.location_id"
            f" LEFT JOIN {term_table} t ON t.id = p.ward_id LEFT JOIN {taxonomy_table} x ON x.id = t.taxonomy_id"
            f" WHERE s.service_id IN ({placeholders}) ORDER BY p.name, s.id",
            ids,
        )
        for row in cursor.fetchall():
            service_id, link_uuid, place_uuid, *address, latitude, longitude, accessibility = row[:12]
            ward = row[12:]
            # Coordinates as floats: a Decimal on PostgreSQL, a float (or int) on SQLite.
            place = Place(
                _as_uuid(place_uuid),
                *address,
                float(latitude) if latitude is not None else None,
                float(longitude) if longitude is not None else None,
                accessibility,
                term(*ward) if ward[0] else None,
            )
            add("service_at_locations", service_id, ServicePlace(_as_uuid(link_uuid), place))
        cursor.execute(
            "SELECT service_id, uuid, weekday, opens_at, closes_at, attending_type, valid_from, valid_to, notes"
            f" FROM {Schedule._meta.db_table} WHERE service_id IN ({placeholders})"
            f" ORDER BY CASE weekday {day_order} END, opens_at, id",
            ids,
        )
        for service_id, time_uuid, *values in cursor.fetchall():
            add("schedules", service_id, ServiceTime(_as_uuid(time_uuid), *values))
        cursor.execute(
            f"SELECT service_id, uuid, name, title, email, phone FROM {ServiceContact._meta.db_table}"
            f" WHERE service_id IN ({placeholders}) ORDER BY name, id",
            ids,
        )
        for service_id, contact_uuid, *values in cursor.fetchall():
            add("contacts", service_id, Contact(_as_uuid(contact_uuid), *values))


def prefetched(service, relation: str) -> list:
    """A service's related rows, from `with_service_relations` when it was used."""
    rows = getattr(service, f"{relation}_list", None)
    return rows if rows is not None else list(getattr(service, relation).all())


def schedules_in_week_order() -> QuerySet:
    """Regular times Monday first (the day codes do not sort that way by themselves)."""
    from django.db.models import Case, IntegerField, Value, When

    from .models import Schedule

    day_order = Case(
        *[When(weekday=code, then=Value(index)) for index, code in enumerate(Schedule.Weekday.values)],
        output_field=IntegerField(),
    )
    return Schedule.objects.alias(day_order=day_order).order_by("day_order", "opens_at", "pk")


# Counting results: exactly when the last result is at most this many past the page's first; otherwise
# an estimate ("about 12,000"), so that a search for a common word, or the whole directory page by page,
# costs the same however large the directory grows.
COUNT_EXACTLY_UP_TO = 500


@dataclass(frozen=True)
class ResultCount:
    """How many results there are: exact, or (`estimated`) the database planner's estimate, only ever
    given when there are more than COUNT_EXACTLY_UP_TO after the page's first result."""

    number: int
    estimated: bool = False


def count_of(
    results: QuerySet,
    *,
    estimate: bool = False,
    start: int = 0,
    at_least: int = 0,
    expected: int | None = None,
    counted_from_start: int | None = None,
) -> ResultCount:
    """How many results: exact; with `estimate`, exact when there are at most COUNT_EXACTLY_UP_TO from
    result `start` on, else an estimate of at least start + COUNT_EXACTLY_UP_TO, at a cost bounded by
    where the page starts (the database stops counting there). So the pages near the end always have
    the exact count, and a page with an estimate always has a next one. `at_least`: how many results
    the caller already knows there are; `expected`: the planner's estimate, if the caller has it;
    `counted_from_start`: how many results there are from `start` on, up to COUNT_EXACTLY_UP_TO + 1, if
    the caller has read them."""
    matches = results.order_by().values("pk")
    if not (estimate and connections[matches.db].vendor == "postgresql"):
        return ResultCount(matches.count())
    if at_least > start + COUNT_EXACTLY_UP_TO:
        beyond = COUNT_EXACTLY_UP_TO + 1
    elif counted_from_start is not None:
        beyond = min(counted_from_start, COUNT_EXACTLY_UP_TO + 1)
    else:
        beyond = matches[start : start + COUNT_EXACTLY_UP_TO + 1].count()
    if beyond == 0 and start:
        return ResultCount(matches.count())  # past the end: where is it?
    if beyond <= COUNT_EXACTLY_UP_TO:
        return ResultCount(start + beyond)
    if expected is None:
        expected = _planner_estimate(matches)
    return ResultCount(max(_two_figures(expected), start + COUNT_EXACTLY_UP_TO), estimated=True)


def _two_figures(number: int) -> int:
    """12,345 as 12,000: an estimate shown with no more precision than it has."""
    return int(float(f"{number:.2g}"))


def _planner_estimate(matches: QuerySet) -> int:
    """The rows PostgreSQL's planner expects the query to return (its statistics, no rows read)."""
    from .search import planner_rows

    sql, params = matches.query.sql_with_params()
    with connections[matches.db].cursor() as cursor:
        return planner_rows(cursor, sql, params)


def page_of(
    results: QuerySet,
    *,
    number: int,
    per_page: int,
    search_text: str = "",
    estimate: bool = False,
    rows: Callable | None = None,
    statement: tuple[str, tuple] | None = None,
) -> tuple[list, ResultCount]:
    """Page `number` (from 1) of an ordered queryset and how many results there are in all (exact, or
    with `estimate` possibly an estimate: see count_of), in a fixed number of queries: the page's ids over narrow rows (results ranked by `search_text`
    through search.ranked_ids, which ranks a bounded number of them), then the page's rows, `rows(ids)`
    or the queryset's own with everything it selects and prefetches. Beyond the last page: ([], count).
    `statement`: search.matches_statement's for the results, if the caller has it."""
    from .search import RANK_LIMIT, first_matches, ranked_ids

    start = (number - 1) * per_page
    ids_only = results.prefetch_related(None)
    first = None
    if search_text:
        # The planner's estimate comes with the first matches (search.first_matches): it said how to
        # read them, and beyond RANK_LIMIT it is the count shown.
        first = first_matches(ids_only, search_text, statement=statement)
    window = None
    if first is not None and len(first.found) <= RANK_LIMIT:
        count = ResultCount(len(first.found))  # every match found: no need to count them again
    elif not search_text and estimate and connections[results.db].vendor == "postgresql":
        # The page's ids and the count from its first result on come from one read of the ordered
        # index, not from two reads that each skip `start` rows.
        window = list(ids_only.values_list("pk", flat=True)[start : start + max(per_page, COUNT_EXACTLY_UP_TO + 1)])
        count = count_of(results, estimate=True, start=start, counted_from_start=len(window))
    else:
        found = len(first.found) if first else 0
        expected = first.expected if first else None
        count = count_of(results, estimate=estimate, start=start, at_least=found, expected=expected)
    if start >= count.number:
        return [], count
    if search_text:
        ids = ranked_ids(ids_only, search_text, start, start + per_page, first=first)
    elif window is not None:
        ids = window[:per_page]
    else:
        ids = list(ids_only.values_list("pk", flat=True)[start : start + per_page])
    if not ids:
        return [], count
    if rows is not None:
        return rows(ids), count
    by_id = {row.pk: row for row in results.filter(pk__in=ids).order_by()}
    return [by_id[pk] for pk in ids if pk in by_id], count


def listed_services() -> QuerySet:
    """Services the public directory shows (not closed, from an open organisation)."""
    return Service.objects.listed()


def search_directory(filters) -> QuerySet:
    """The directory page's results for validated `filters` (a directory.search.ServiceFilters)."""
    from .search import filter_services

    return filter_services(_listed_with_providers(), filters)


@functools.cache
def _listed_with_providers() -> QuerySet:
    """listed_services() with their providers and sources, built once per process (Django resolving
    its conditions was a third of search_directory's time): never evaluated itself, only the start
    of each search's own queryset (filter_services filters it, which copies it)."""
    return listed_services().select_related("organisation", "source")


@dataclass
class ListedService:
    """A directory result as the page shows it: plain values, its links made without reverse() per row."""

    pk: int
    name: str
    url: str
    status: str
    is_free: bool
    description: str
    provider_name: str
    provider_url: str
    shown_terms: list[str]
    regular_times: list[str]
    source_name: str | None  # the other directory a harvested service is listed by; None for our own


def _read_shown_terms() -> dict[int, tuple[int, str]]:
    """Every need and function term (inactive ones too: a service may keep one) as id -> (order, name)."""
    terms = TaxonomyTerm.objects.filter(taxonomy__code__in=[Taxonomy.NEEDS, Taxonomy.FUNCTIONS])
    return {pk: (order, name) for pk, order, name in terms.values_list("pk", "order", "name")}


def directory_listing(ids: list[int]) -> list[ListedService]:
    """The directory page's results for these service ids, in this order: each with the needs it meets
    or, with none, its functions (names in vocabulary order) and its regular times (Monday first), as
    plain values: in one query on PostgreSQL (_listing_rows), three elsewhere."""
    from .models import Schedule

    service_url = links.slug_url("directory:service_detail")
    provider_url = links.slug_url("organisations:organisation_detail")
    rows = _listing_rows(ids)
    # Kept while the taxonomies stay unchanged; read afresh if a term was added without a signal.
    term_names = built_from_terms("directory-shown-terms", _read_shown_terms)
    if any(term_id not in term_names for row in rows for term_id in (*row.need_ids, *row.function_ids)):
        term_names = _read_shown_terms()
    # Monday first, sorted here: twenty services' few times do not need schedules_in_week_order's SQL.
    day_order = {code: index for index, code in enumerate(Schedule.Weekday.values)}
    day_names = _kept_day_names(place())
    by_id = {}
    for row in rows:
        shown = sorted(term_names[term_id] for term_id in (row.need_ids or row.function_ids))
        times = sorted(row.schedules, key=lambda time: (day_order.get(time[0], 7), time[1], time[3]))
        by_id[row.pk] = ListedService(
            pk=row.pk,
            name=row.name,
            url=service_url(row.slug),
            status=row.status,
            is_free=row.is_free,
            description=row.description,
            provider_name=row.provider_name,
            provider_url=provider_url(row.provider_slug),
            shown_terms=[name for _order, name in shown],
            regular_times=[
                Schedule.describe(weekday, opens_at, closes_at, day_names=day_names) for weekday, opens_at, closes_at, _pk in times
            ],
            source_name=row.source_name,
        )
    return [by_id[pk] for pk in ids if pk in by_id]


@functools.lru_cache(maxsize=16)
def _kept_day_names(_place: tuple) -> dict[str, str]:
    """Schedule.day_names(), kept per language (core.links.place)."""
    from .models import Schedule

    return Schedule.day_names()


@dataclass
class _ListingRow:
    pk: int
    name: str
    slug: str
    status: str
    is_free: bool
    description: str
    provider_name: str
    provider_slug: str
    source_name: str | None
    need_ids: list[int]
    function_ids: list[int]
    schedules: list[tuple]  # (weekday, opens_at, closes_at, pk)


_LISTING_COLUMNS = (
    "pk", "name", "slug", "status", "is_free", "description", "organisation__name", "organisation__slug", "source__name"
)


def _listing_rows(ids: list[int]) -> list[_ListingRow]:
    """The listing's values for these services. On PostgreSQL one query, the related rows as arrays
    (a result page is read in one round trip, with no SQL built per request); elsewhere a query for
    the services, one for their terms and one for their times."""
    from .models import Schedule, Service

    if not ids:
        return []
    database = connections[Service.objects.db]
    if database.vendor == "postgresql":
        with database.cursor() as cursor:
            try:
                cursor.execute(_listing_statement(database.connection), [list(ids)])
            except Exception:
                _listing_prepared_on.discard(database.connection)  # prepared or not: prepared afresh next time
                raise
            return [
                _ListingRow(*values, need_ids, function_ids, list(zip(weekdays, opens, closes, schedule_ids, strict=True)))
                for *values, need_ids, function_ids, weekdays, opens, closes, schedule_ids in cursor.fetchall()
            ]
    rows = {
        values[0]: _ListingRow(*values, [], [], [])
        for values in Service.objects.filter(pk__in=ids).order_by().values_list(*_LISTING_COLUMNS)
    }
    for relation in ("needs", "functions"):
        for service_id, term_id in getattr(Service, relation).through.objects.filter(service_id__in=ids).values_list(
            "service_id", "taxonomyterm_id"
        ):
            getattr(rows[service_id], "need_ids" if relation == "needs" else "function_ids").append(term_id)
    schedules = Schedule.objects.filter(service_id__in=ids).order_by().values_list("service_id", "weekday", "opens_at", "closes_at", "pk")
    for service_id, *time in schedules:
        rows[service_id].schedules.append(tuple(time))
    return list(rows.values())


# The database sessions (psycopg2 connections) that have _listing_sql prepared: planning it was about half
# of its cost, and its plan is the same for every page of ids.
_LISTING_STATEMENT = "directory_listing"
_listing_prepared_on = weakref.WeakSet()


def _listing_statement(session) -> str:
    """The statement that reads the listing for an array of ids (%s): EXECUTE of the prepared query, sent
    with its PREPARE the first time in this session (one round trip either way). A prepared statement
    lasts as long as the session, whatever its transactions do, so one whose EXECUTE failed may be
    left: DEALLOCATE ALL first (the portal prepares nothing else)."""
    execute = f"EXECUTE {_LISTING_STATEMENT} (%s::bigint[])"
    if session in _listing_prepared_on:
        return execute
    _listing_prepared_on.add(session)
    prepare = f"PREPARE {_LISTING_STATEMENT} (bigint[]) AS {_listing_sql().replace('%s', '$1')}"
    return f"DEALLOCATE ALL; {prepare}; {execute}"


@functools.cache
def _listing_sql() -> str:
    """_listing_rows's PostgreSQL query, its table and column names from the models."""
    from .models import HarvestSource, Schedule, Service

    def table(model) -> str:
        return connections[Service.objects.db].ops.quote_name(model._meta.db_table)

    needs, functions = (table(getattr(Service, relation).through) for relation in ("needs", "functions"))
    schedule = table(Schedule)
    times = [
        f"ARRAY(SELECT t.{column} FROM {schedule} t WHERE t.service_id = s.id ORDER BY t.id)"
        for column in ("weekday", "opens_at", "closes_at", "id")
    ]
    return (
        "SELECT s.id, s.name, s.slug, s.status, s.is_free, s.description, o.name, o.slug, h.name, "
        f"ARRAY(SELECT n.taxonomyterm_id FROM {needs} n WHERE n.service_id = s.id), "
        f"ARRAY(SELECT f.taxonomyterm_id FROM {functions} f WHERE f.service_id = s.id), "
        + ", ".join(times)
        + f" FROM {table(Service)} s JOIN {table(Organisation)} o ON o.id = s.organisation_id"
        f" LEFT JOIN {table(HarvestSource)} h ON h.id = s.source_id WHERE s.id = ANY(%s)"
    )


def service_page(slug: str):
    """A service with everything its page shows, or None."""
    return (
        Service.objects.select_related("organisation", "last_reviewed_by", "source")
        .prefetch_related(*service_prefetches())
        .filter(slug=slug)
        .first()
    )


def services_of(organisation: Organisation, *, include_closed: bool = False) -> QuerySet:
    services = organisation.services.all()
    if not include_closed:
        services = services.exclude(status="closed")
    from django.db.models import Prefetch

    return services.prefetch_related(
        "functions", Prefetch("schedules", queryset=schedules_in_week_order())
    ).order_by(Lower("name"), "pk")


def locations_of(organisation: Organisation) -> QuerySet:
    return organisation.locations.select_related("ward").order_by("name", "pk")


# How many regional and national providers the whole directory's page lists; the rest are a search away.
REGIONAL_SHOWN = 20


@dataclass(frozen=True)
class RegionalProviders:
    """The first providers working beyond the borough, each with `open_services` set; how many there
    are in all; and the levels they work at (value, label), for a search by area served."""

    shown: list[Organisation]
    total: int
    levels: list[tuple[str, str]]


def regional_and_national_providers(shown: int = REGIONAL_SHOWN) -> RegionalProviders:
    """Providers working beyond the borough (sub-regional, regional, national): the first `shown` by
    level and name with their open services counted, and how many there are per level. Three small
    queries however many providers there are."""
    levels = [
        Organisation.GeographicLevel.SUB_REGIONAL,
        Organisation.GeographicLevel.REGIONAL,
        Organisation.GeographicLevel.NATIONAL,
    ]
    provider_kind = Organisation.kinds.through.objects.filter(
        organisation_id=OuterRef("pk"), taxonomyterm__code__in=Organisation.PROVIDER_KINDS
    )
    providers = Organisation.objects.active().filter(Exists(provider_kind), geographic_level__in=levels)
    first = list(providers.order_by("geographic_level", Lower("name"), "pk")[:shown])
    open_services = dict(
        Service.objects.filter(organisation__in=[provider.pk for provider in first])
        .exclude(status=Service.Status.CLOSED)
        .order_by()
        .values_list("organisation")
        .annotate(Count("pk"))
    )
    for provider in first:
        provider.open_services = open_services.get(provider.pk, 0)
    per_level = dict(providers.order_by().values_list("geographic_level").annotate(Count("pk")))
    return RegionalProviders(
        shown=first,
        total=sum(per_level.values()),
        levels=[(level.value, level.label) for level in levels if per_level.get(level.value)],
    )


def services_needing_review_of(organisation: Organisation) -> QuerySet:
    return organisation.services.needs_review().order_by(Lower("name"), "pk")


def service_change_log(service) -> list:
    """A service's history, newest first: (when, who, what changed as labels)."""
    records = list(service.history.select_related("history_user").order_by("-history_date", "-history_id")[:200])
    entries = []
    for index, record in enumerate(records):
        previous = records[index + 1] if index + 1 < len(records) else None
        changed = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous)
            labels = {f.name: capfirst(f.verbose_name) for f in service._meta.get_fields() if hasattr(f, "verbose_name")}
            changed = sorted(
                {str(labels.get(change.field, change.field)) for change in delta.changes if change.field not in HISTORY_BOOKKEEPING_FIELDS}
            )
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "kind": record.get_history_type_display(),
                "created": record.history_type == "+",
                "changes": changed,
                "reason": record.history_change_reason or "",
            }
        )
    return entries
