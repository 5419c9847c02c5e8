"""The Open Referral UK API (HSDS 3.0 UK profile), read-only, public, no key.

Every response, errors included, carries ``Access-Control-Allow-Origin: *`` so that any web page may
read the directory. Clients are throttled politely (a generous rate per address; 429 with Retry-After).
A bad query parameter gives 400 with a JSON body naming it; a well-formed one naming a record (or page)
that does not exist gives 404, naming it too. The answers are as the served OpenAPI document
(openapi.py) declares, which tests/directory/test_oruk_contract.py checks with Schemathesis. List pages
cost a fixed number of queries whatever ``per_page`` is: related rows come in one prefetch query per
relation.
"""

import math
import uuid

from django.conf import settings
from django.db.models import (
    Avg,
    Exists,
    ExpressionWrapper,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Lower
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from organisations import hooks
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from .. import selectors
from ..models import Location, Service, ServiceAtLocation
from ..search import RANKED_ORDER, has_any_term, schedule_match, text_search
from . import openapi, params, serializers

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type",
    "Access-Control-Max-Age": "86400",
}


def add_cors(response):
    for name, value in CORS_HEADERS.items():
        response[name] = value
    return response


class OrukThrottle(AnonRateThrottle):
    """Per client address, counted in the shared cache (settings.CACHES) so that every worker process
    adds to one count. The address is REMOTE_ADDR, or with PORTAL_TRUSTED_PROXIES=N the N-th address
    from the right of X-Forwarded-For, the one the outermost trusted proxy wrote (DRF's get_ident with
    NUM_PROXIES). The rate is PORTAL_ORUK_THROTTLE_RATE (600/minute unless set)."""

    scope = "oruk"

    def get_rate(self):
        return settings.PORTAL_ORUK_THROTTLE_RATE


class OrukView(APIView):
    # The API describes itself with the profile's own OpenAPI document (openapi_document below), not
    # with a generated one, so these views stay out of drf-spectacular's schema.
    schema = None
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [OrukThrottle]
    renderer_classes = [JSONRenderer]

    def handle_exception(self, exc):
        if isinstance(exc, params.UnknownRecord):
            return Response(
                {"error": "not_found", "parameter": exc.parameter, "message": exc.message}, status=404
            )
        if isinstance(exc, params.BadParameter):
            return Response(
                {"error": "bad_parameter", "parameter": exc.parameter, "message": exc.message}, status=400
            )
        if isinstance(exc, Http404 | NotFound):
            return Response({"error": "not_found", "message": _("There is no record with this id.")}, status=404)
        if isinstance(exc, Throttled):
            response = super().handle_exception(exc)
            response.data = {
                "error": "throttled",
                "message": _("Too many requests: please wait %(seconds)s seconds and try again.")
                % {"seconds": math.ceil(exc.wait or 1)},
            }
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        return add_cors(super().finalize_response(request, response, *args, **kwargs))


def _page(request, queryset: QuerySet, build, *, search_text: str = "") -> dict:
    """One page in the profile's Page wrapper. `build` turns the page's rows into records; `search_text`
    is the words the queryset is ranked by, if it is (see selectors.page_of). total_items is exact
    whenever the last result is at most selectors.COUNT_EXACTLY_UP_TO past the page's first, and an
    estimate otherwise; last_page is always right, and a page is only refused when it is past the end."""
    query = request.query_params
    per_page = params.integer(query, "per_page", default=params.DEFAULT_PER_PAGE, minimum=1, maximum=params.MAX_PER_PAGE)
    page_number = params.integer(query, "page", default=1, minimum=1, maximum=params.MAX_PAGE)
    rows, count = selectors.page_of(
        queryset, number=page_number, per_page=per_page, search_text=search_text, estimate=True
    )
    total = count.number
    total_pages = max(1, math.ceil(total / per_page))
    if page_number > total_pages:
        raise params.UnknownRecord(
            "page", _("There are only %(pages)s pages of results: “page” must be 1 to %(pages)s.") % {"pages": total_pages}
        )
    contents = build(rows)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": len(contents),
        "first_page": page_number == 1,
        "last_page": page_number == total_pages,
        "empty": total == 0,
        "contents": contents,
    }


def _accreditations(organisation_ids) -> dict[int, list[str]]:
    return hooks.accreditations_for(sorted(set(organisation_ids)))


def _by_uuid(queryset: QuerySet, value):
    try:
        return queryset.get(uuid=uuid.UUID(str(value)))
    except (ValueError, queryset.model.DoesNotExist):
        raise NotFound from None


# Services -----------------------------------------------------------------------------------------


def api_services(*, include_harvested: bool = False) -> QuerySet[Service]:
    """Services the API publishes: every service of an open organisation. Closed ones are kept, as
    "inactive", so that a client syncing with modified_after learns that a service has closed. Services
    harvested from other directories only when asked for (include_harvested), hidden or withdrawn ones
    never: directories that harvest each other must not re-publish each other in circles."""
    services = Service.objects.of_open_providers()
    if not include_harvested:
        services = services.own()
    return services.select_related("organisation")



def _existing(model, parameter: str, ids) -> list[int]:
    if not ids:
        return []
    found = dict(model.objects.filter(uuid__in=ids).values_list("uuid", "pk"))
    missing = [str(value) for value in ids if value not in found]
    if missing:
        raise params.UnknownRecord(
            parameter, _("Unknown %(parameter)s: %(ids)s.") % {"parameter": parameter, "ids": ", ".join(missing)}
        )
    return list(found.values())


def filtered_services(query) -> tuple[QuerySet[Service], str]:
    """/services and /service_at_locations filters, from the profile's query parameters: the services,
    and the search words they are ranked by ("" when they are in name order)."""
    services = api_services(include_harvested=params.boolean(query, "include_harvested"))
    term_ids = _existing(TaxonomyTerm, "taxonomy_term_id", params.uuids(query, "taxonomy_term_id"))
    if term_ids:
        services = services.filter(has_any_term(term_ids))
    taxonomy_ids = _existing(Taxonomy, "taxonomy_id", params.uuids(query, "taxonomy_id"))
    if taxonomy_ids:
        in_taxonomies = TaxonomyTerm.objects.filter(taxonomy_id__in=taxonomy_ids).values_list("pk", flat=True)
        services = services.filter(has_any_term(list(in_taxonomies)))
    organisation_ids = _existing(Organisation, "organization_id", params.uuids(query, "organization_id"))
    if organisation_ids:
        services = services.filter(organisation_id__in=organisation_ids)
    minimum_age = params.number(query, "minimum_age")
    if minimum_age is not None:
        services = services.filter(minimum_age__gte=minimum_age)
    maximum_age = params.number(query, "maximum_age")
    if maximum_age is not None:
        services = services.filter(maximum_age__lte=maximum_age)
    day = params.day(query)
    # An end_time no later than start_time is not an error: no opening time meets both, so no service.
    opens_from = params.clock_time(query, "start_time")
    closes_by = params.clock_time(query, "end_time")
    if day or opens_from or closes_by:
        services = services.filter(schedule_match(day=day, opens_from=opens_from, closes_by=closes_by))
    modified_after = params.moment(query, "modified_after")
    if modified_after:
        services = services.filter(updated_at__gte=modified_after)
    text = params.search_text(query)
    services = text_search(services, text)
    if text:
        return services.order_by(*RANKED_ORDER), text
    return services.order_by(Lower("name"), "pk"), ""


class ServiceListView(OrukView):
    def get(self, request):
        query = request.query_params
        minimal = params.boolean(query, "minimal")
        full = params.boolean(query, "full")
        services, search_text = filtered_services(query)
        if minimal:
            services = services.only("uuid", "updated_at", "name", "status").select_related(None)

            def build(rows):
                return [serializers.service_minimal(row) for row in rows]

        elif full:

            def build(rows):
                selectors.with_service_relations(rows)
                accreditations = _accreditations(row.organisation_id for row in rows)
                return [serializers.service_full(row, accreditations=accreditations.get(row.organisation_id)) for row in rows]

        else:

            def build(rows):
                accreditations = _accreditations(row.organisation_id for row in rows)
                return [
                    serializers.service_summary(row, accreditations=accreditations.get(row.organisation_id)) for row in rows
                ]

        return Response(_page(request, services, build, search_text=search_text))


class ServiceDetailView(OrukView):
    def get(self, request, id):
        include_harvested = params.boolean(request.query_params, "include_harvested")
        service = _by_uuid(api_services(include_harvested=include_harvested), id)
        selectors.with_service_relations([service])
        accreditations = _accreditations([service.organisation_id]).get(service.organisation_id)
        return Response(serializers.service_full(service, accreditations=accreditations))


# Services at locations ----------------------------------------------------------------------------


def _postcode_centre(postcode: str) -> tuple[float, float]:
    """Where a postcode is, from the locations the directory knows (the portal keeps no postcode
    database): those at the postcode itself, else those in its district."""
    located = Location.objects.filter(latitude__isnull=False, longitude__isnull=False)
    for places in (located.filter(postcode=postcode), located.filter(postcode__startswith=postcode.split(" ")[0] + " ")):
        centre = places.aggregate(lat=Avg("latitude"), lng=Avg("longitude"))
        if centre["lat"] is not None:
            return float(centre["lat"]), float(centre["lng"])
    raise params.UnknownRecord(
        "postcode",
        _("The directory has no places near %(postcode)s, so it cannot measure a distance from it: try without “proximity”.")
        % {"postcode": postcode},
    )


def _within(links: QuerySet, centre: tuple[float, float], metres: int) -> QuerySet:
    """Links whose location is within `metres` of `centre`: a flat-earth distance, exact enough over a
    city and computable by any database."""
    lat, lng = centre
    metres_per_degree = 111_320.0
    lng_scale = math.cos(math.radians(lat))
    spread = metres / metres_per_degree
    links = links.filter(
        location__latitude__range=(lat - spread, lat + spread),
        location__longitude__range=(lng - spread / max(lng_scale, 0.01), lng + spread / max(lng_scale, 0.01)),
    )
    dy = (Cast("location__latitude", FloatField()) - Value(lat)) * Value(metres_per_degree)
    dx = (Cast("location__longitude", FloatField()) - Value(lng)) * Value(metres_per_degree * lng_scale)
    return links.alias(distance_sq=ExpressionWrapper(dy * dy + dx * dx, output_field=FloatField())).filter(
        distance_sq__lte=float(metres) ** 2
    )


def _links() -> QuerySet[ServiceAtLocation]:
    return ServiceAtLocation.objects.select_related("service__organisation", "location__ward__taxonomy")


class ServiceAtLocationListView(OrukView):
    def get(self, request):
        query = request.query_params
        full = params.boolean(query, "full")
        postcode = params.postcode(query)
        # A distance from the postcode: without one there is nothing to measure from, so it is ignored
        # (as the document says; it cannot declare that one parameter needs another).
        proximity = params.proximity(query)
        services, _search_text = filtered_services(query)
        links = _links().filter(service__in=Subquery(services.order_by().values("pk")))
        if postcode and proximity:
            links = _within(links, _postcode_centre(postcode), proximity)
        elif postcode:
            # Without a distance, the postcode's district ("E1" of "E1 6AN") is the area covered.
            links = links.filter(location__postcode__startswith=postcode.split(" ")[0] + " ")
        links = links.order_by(Lower("service__name"), "location__name", "pk")
        if full:

            def build(rows):
                selectors.with_service_relations(row.service for row in rows)
                accreditations = _accreditations(row.service.organisation_id for row in rows)
                return [
                    serializers.service_at_location_full(row, accreditations=accreditations.get(row.service.organisation_id))
                    for row in rows
                ]

        else:

            def build(rows):
                accreditations = _accreditations(row.service.organisation_id for row in rows)
                return [
                    serializers.service_at_location_summary(row, accreditations=accreditations.get(row.service.organisation_id))
                    for row in rows
                ]

        return Response(_page(request, links, build))


class ServiceAtLocationDetailView(OrukView):
    def get(self, request, id):
        link = _by_uuid(_links().filter(service__organisation__is_active=True), id)
        include_harvested = params.boolean(request.query_params, "include_harvested")
        service = _by_uuid(api_services(include_harvested=include_harvested), link.service.uuid)
        selectors.with_service_relations([service])
        link.service = service
        accreditations = _accreditations([service.organisation_id]).get(service.organisation_id)
        return Response(serializers.service_at_location_full(link, accreditations=accreditations))


# Organizations -----------------------------------------------------------------------------------


def api_organisations(*, include_harvested: bool = False) -> QuerySet[Organisation]:
    """Infrastructure providers and any other open organisation that lists a service; organisations
    harvested from other directories only when asked for (see api_services)."""
    provider_kind = Organisation.kinds.through.objects.filter(
        organisation_id=OuterRef("pk"), taxonomyterm__code__in=Organisation.PROVIDER_KINDS
    )
    has_service = Service.objects.filter(organisation_id=OuterRef("pk"))
    organisations = Organisation.objects.active()
    if include_harvested:
        has_service = has_service.shown()
    else:
        organisations = organisations.filter(is_harvested=False)
    return organisations.filter(Q(Exists(provider_kind)) | Q(Exists(has_service)))


class OrganizationListView(OrukView):
    def get(self, request):
        query = request.query_params
        full_service = params.boolean(query, "full_service")
        full = params.boolean(query, "full") or full_service
        organisations = api_organisations(include_harvested=params.boolean(query, "include_harvested"))
        text = params.search_text(query)
        for word in text.split():
            organisations = organisations.filter(Q(name__icontains=word) | Q(activities__icontains=word))
        modified_after = params.moment(query, "modified_after")
        if modified_after:
            organisations = organisations.filter(updated_at__gte=modified_after)
        organisations = organisations.order_by(Lower("name"), "pk")
        if full:
            organisations = organisations.prefetch_related(_services_prefetch())

        def build(rows):
            if not full:
                return [serializers.organization(row) for row in rows]
            if full_service:
                selectors.with_service_relations(service for row in rows for service in row.api_services)
            return [_organisation_record(row, full_service) for row in rows]

        return Response(_page(request, organisations, build))


def _services_prefetch() -> Prefetch:
    services = Service.objects.shown().select_related("organisation").order_by(Lower("name"), "pk")
    return Prefetch("services", queryset=services, to_attr="api_services")


def _organisation_record(row: Organisation, full_service: bool) -> dict:
    accreditations = _accreditations([row.pk]).get(row.pk) if row.api_services else None
    build = serializers.service_full if full_service else serializers.service_summary
    services = []
    for service in row.api_services:
        record = build(service, accreditations=accreditations)
        record.pop("organization", None)
        services.append(record)
    return serializers.organization(row, full=True, services=services)


class OrganizationDetailView(OrukView):
    def get(self, request, id):
        full_service = params.boolean(request.query_params, "full_service")
        organisations = api_organisations(include_harvested=params.boolean(request.query_params, "include_harvested"))
        organisation = _by_uuid(organisations.prefetch_related(_services_prefetch()), id)
        if full_service:
            selectors.with_service_relations(organisation.api_services)
        return Response(_organisation_record(organisation, full_service))


# Taxonomies --------------------------------------------------------------------------------------


class TaxonomyListView(OrukView):
    def get(self, request):
        taxonomies = Taxonomy.objects.order_by("name", "pk")
        text = params.search_text(request.query_params)
        for word in text.split():
            taxonomies = taxonomies.filter(Q(name__icontains=word) | Q(description__icontains=word))
        return Response(_page(request, taxonomies, lambda rows: [serializers.taxonomy(row) for row in rows]))


class TaxonomyDetailView(OrukView):
    def get(self, request, id):
        return Response(serializers.taxonomy(_by_uuid(Taxonomy.objects.all(), id)))


def _terms() -> QuerySet[TaxonomyTerm]:
    return TaxonomyTerm.objects.filter(is_active=True).select_related("taxonomy", "parent")


class TaxonomyTermListView(OrukView):
    def get(self, request):
        query = request.query_params
        terms = _terms()
        taxonomy_ids = _existing(Taxonomy, "taxonomy_id", params.uuids(query, "taxonomy_id"))
        if taxonomy_ids:
            terms = terms.filter(taxonomy_id__in=taxonomy_ids)
        parent_ids = _existing(TaxonomyTerm, "parent_id", params.uuids(query, "parent_id"))
        if parent_ids:
            terms = terms.filter(parent_id__in=parent_ids)
        text = params.search_text(query)
        for word in text.split():
            terms = terms.filter(Q(name__icontains=word) | Q(description__icontains=word) | Q(code__icontains=word))
        terms = terms.order_by("taxonomy__name", "order", "name", "pk")
        return Response(_page(request, terms, lambda rows: [serializers.taxonomy_term(row) for row in rows]))


class TaxonomyTermDetailView(OrukView):
    def get(self, request, id):
        return Response(serializers.taxonomy_term(_by_uuid(_terms(), id)))


# About the API -----------------------------------------------------------------------------------


class RootView(OrukView):
    def get(self, request):
        return Response(
            {
                "version": "HSDS-UK-3.0",
                "profile": "https://openreferraluk.org",
                "openapi_url": f"{settings.SITE_URL}{reverse('oruk:openapi')}",
            }
        )


def openapi_document(request):
    # A shallow copy: only the server and the description differ per site, and the cached document
    # (some 250 kB with the profile's schemas inline) is not copied per request.
    document = openapi.served_document()
    description = (
        f"{settings.SITE_NAME}: the directory of infrastructure support, as Open Referral UK (HSDS 3.0 UK "
        "profile). Public, no key needed. Based on the Open Referral UK profile's OpenAPI description "
        "(CC BY-SA 4.0)."
    )
    document = {
        **document,
        "servers": [{"url": f"{settings.SITE_URL}{reverse('oruk:root').rstrip('/')}"}],
        "info": {**document["info"], "description": description},
    }
    return add_cors(JsonResponse(document, json_dumps_params={"indent": 2}))


def not_found(request, rest: str = ""):
    return add_cors(
        JsonResponse({"error": "not_found", "message": _("There is no such address in the API: see /api/oruk/openapi.json.")}, status=404)
    )


def preflight_or(view):
    """Answer a CORS preflight without touching the view."""

    def wrapped(request, *args, **kwargs):
        if request.method == "OPTIONS":
            return add_cors(HttpResponse(status=204))
        return view(request, *args, **kwargs)

    return wrapped

