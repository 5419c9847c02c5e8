"""Reads for the provider directory: services, their listing details, pages and review state."""

from collections import defaultdict

from django.db import connections
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.text import capfirst

from organisations.models import Organisation
from organisations.selectors import HISTORY_BOOKKEEPING_FIELDS
from taxonomies.models import TaxonomyTerm

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


def service_prefetches(prefix: str = "", *, as_lists: bool = False) -> list:
    """`prefix` reaches the service through a relation, e.g. "service__" from a ServiceAtLocation.

    With `as_lists` each relation is stored as a plain list (`service.functions_list`...; read them with
    `prefetched`): much cheaper for thousands of rows (downloads, the API) than Django building a
    queryset per row and relation.
    """
    from django.db.models import Prefetch

    from .models import ServiceAtLocation, ServiceContact

    terms = TaxonomyTerm.objects.select_related("taxonomy").order_by("order", "name")
    querysets = {
        **{name: terms for name in SERVICE_RELATIONS[:6]},
        "service_at_locations": ServiceAtLocation.objects.select_related("location__ward__taxonomy").order_by(
            "location__name", "pk"
        ),
        "schedules": schedules_in_week_order(),
        "contacts": ServiceContact.objects.order_by("name", "pk"),
    }
    return [
        Prefetch(f"{prefix}{name}", queryset=queryset, to_attr=f"{name}_list" if as_lists else None)
        for name, queryset in querysets.items()
    ]


def prefetched(service, relation: str) -> list:
    """A service's related rows, from `service_prefetches(as_lists=True)` when it was used."""
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


def page_of(results: QuerySet, *, number: int, per_page: int, ranked: bool = False) -> tuple[list, int]:
    """Page `number` (from 1) of an ordered queryset and how many results there are in all, in a fixed
    number of queries: the page's ids over narrow rows, then the page's rows with everything `results`
    selects and prefetches. Ranked results (a search) must score every match anyway, so one query
    takes all their ids in order, a few bytes each, and the count is its length; otherwise the count
    and the page's ids are two queries that indexes answer. Beyond the last page: ([], total)."""
    start = (number - 1) * per_page
    ids_only = results.prefetch_related(None).values_list("pk", flat=True)
    if ranked:
        every_id = _every_id(ids_only)
        total, ids = len(every_id), every_id[start : start + per_page]
    else:
        total = results.count()
        ids = list(ids_only[start : start + per_page]) if start < total else []
    if not ids:
        return [], total
    by_id = {row.pk: row for row in results.filter(pk__in=ids).order_by()}
    return [by_id[pk] for pk in ids if pk in by_id], total


def _every_id(ids_only: QuerySet) -> list[int]:
    """A values_list("pk", flat=True) queryset's ids in its order, fetched in one go: Django's own
    iteration converts rows a hundred at a time, which costs more than the query for tens of thousands."""
    sql, params = ids_only.query.sql_with_params()
    with connections[ids_only.db].cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def listed_services() -> QuerySet:
    """Services the public directory shows (not closed, from an open organisation)."""
    from .models import Service

    return Service.objects.listed()


def search_directory(filters) -> QuerySet:
    """The directory page's results for validated `filters` (a directory.search.ServiceFilters)."""
    from .search import filter_services

    return filter_services(listed_services().select_related("organisation", "source"), filters)


def with_listing_details(services: list) -> list:
    """What a result list shows of each service besides its own fields and its provider, set on each
    as `shown_terms` (the needs it meets or, with none, its functions: names in vocabulary order) and
    `regular_times` (Monday first); three queries for the page, the terms read as plain values."""
    from .models import Service

    ids = [service.pk for service in services]

    def names(relation: str, service_ids: list[int]) -> dict[int, list[str]]:
        found = defaultdict(list)
        rows = (
            getattr(Service, relation)
            .through.objects.filter(service_id__in=service_ids)
            .order_by("taxonomyterm__order", "taxonomyterm__name")
            .values_list("service_id", "taxonomyterm__name")
        )
        for service_id, name in rows:
            found[service_id].append(name)
        return found

    needs, functions = names("needs", ids), names("functions", ids)
    times = defaultdict(list)
    for schedule in schedules_in_week_order().filter(service_id__in=ids):
        times[schedule.service_id].append(schedule)
    for service in services:
        service.shown_terms = needs.get(service.pk) or functions.get(service.pk, [])
        service.regular_times = times[service.pk]
    return services


def service_page(slug: str):
    """A service with everything its page shows, or None."""
    from .models import Service

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


def regional_and_national_providers() -> QuerySet[Organisation]:
    """Providers working beyond the borough (sub-regional, regional, national), with their service counts."""
    from django.db.models import Exists, OuterRef

    levels = [
        Organisation.GeographicLevel.SUB_REGIONAL,
        Organisation.GeographicLevel.REGIONAL,
        Organisation.GeographicLevel.NATIONAL,
    ]
    provider_kind = Organisation.kinds.through.objects.filter(
        organisation_id=OuterRef("pk"), taxonomyterm__code__in=Organisation.PROVIDER_KINDS
    )
    return (
        Organisation.objects.active()
        .filter(Exists(provider_kind), geographic_level__in=levels)
        .annotate(open_services=Count("services", filter=~Q(services__status="closed")))
        .order_by("geographic_level", Lower("name"), "pk")
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
