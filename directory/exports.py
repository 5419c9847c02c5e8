"""The directory download: services as CSV, XLSX or JSON. The writer itself is ``core.exports``."""

import functools
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from core.exports import MULTI_VALUE_SEPARATOR, Column, dated_filename, export_rows, tabular_response

# Services: the directory download ----------------------------------------------------------------


def _related(service, name: str) -> list:
    from .selectors import prefetched

    return prefetched(service, name)


def _service_terms(name: str) -> Callable[[Any], str]:
    return lambda service: MULTI_VALUE_SEPARATOR.join(term.name for term in _related(service, name))


def _service_locations(service) -> str:
    places = []
    for link in _related(service, "service_at_locations"):
        location = link.location
        parts = [location.name, location.address_line_1, location.address_line_2, location.town, location.postcode]
        places.append(", ".join(part for part in parts if part))
    return MULTI_VALUE_SEPARATOR.join(places)


def _service_schedules(service) -> str:
    return MULTI_VALUE_SEPARATOR.join(str(schedule) for schedule in _related(service, "schedules"))


def _service_access(service) -> str:
    ways = [
        (service.access_drop_in, _("drop in")),
        (service.access_self_referral, _("self-referral")),
        (service.access_portal_referral, _("referral through the portal")),
        (service.access_booking, _("booking needed")),
    ]
    return MULTI_VALUE_SEPARATOR.join(str(label) for on, label in ways if on)


def _service_cost(service) -> str:
    if service.is_free:
        return str(_("Free"))
    amount = f"£{service.fee_amount:.2f}" if service.fee_amount is not None else ""
    return " ".join(part for part in (amount, service.fee_description) if part)


def _service_contacts(service) -> str:
    return MULTI_VALUE_SEPARATOR.join(
        ", ".join(part for part in (contact.name, contact.title, contact.email, contact.phone) if part)
        for contact in _related(service, "contacts")
    )


def _service_ages(service) -> str:
    low, high = service.minimum_age, service.maximum_age
    if low is None and high is None:
        return ""
    return f"{low if low is not None else ''}-{high if high is not None else ''}"


@functools.cache
def _service_path_pattern() -> str:
    from django.urls import reverse

    return reverse("directory:service_detail", kwargs={"slug": "-"})


def _service_path(slug: str) -> str:
    # reverse() once, not once per row: it is slow enough to show over 60,000 rows.
    return _service_path_pattern().replace("/-/", f"/{slug}/")


SERVICE_COLUMNS: tuple[Column, ...] = (
    Column(_("service"), lambda service: service.name),
    Column(_("provider"), lambda service: service.organisation.name),
    Column(_("provider org-id"), lambda service: service.organisation.primary_org_id),
    Column(_("description"), lambda service: service.description),
    Column(_("status"), lambda service: service.get_status_display()),
    Column(_("infrastructure functions"), _service_terms("functions")),
    Column(_("support needs met"), _service_terms("needs")),
    Column(_("specialist segments"), _service_terms("segments")),
    Column(_("communities served"), _service_terms("communities")),
    Column(
        _("development stages"),
        lambda service: MULTI_VALUE_SEPARATOR.join(str(stage) for stage in service.stages_served),
    ),
    Column(_("ages"), _service_ages),
    Column(_("area served"), lambda service: service.get_geographic_level_display()),
    Column(_("area served, in words"), lambda service: service.area_served),
    Column(_("wards served"), _service_terms("wards")),
    Column(_("locations"), _service_locations),
    Column(_("online"), lambda service: service.is_online),
    Column(_("outreach"), lambda service: service.offers_outreach),
    Column(_("regular times"), _service_schedules),
    Column(_("term-time or seasonal notes"), lambda service: service.schedule_notes),
    Column(_("how to get it"), _service_access),
    Column(_("cost"), _service_cost),
    Column(_("languages"), _service_terms("languages")),
    Column(_("accessibility"), lambda service: service.accessibility),
    Column(_("contacts"), _service_contacts),
    Column(_("email"), lambda service: service.email),
    Column(_("phone"), lambda service: service.phone),
    Column(_("web page"), lambda service: service.url),
    Column(_("accepting new referrals"), lambda service: service.accepting_referrals),
    Column(_("last reviewed"), lambda service: service.last_reviewed_on),
    Column(_("directory page"), lambda service: _service_path(service.slug)),
)

# Rows are fetched in chunks of this many, each with its related rows prefetched: memory stays flat
# however big the directory is.
EXPORT_CHUNK = 500


def services_response(queryset, *, fmt: str, prefetches: Sequence) -> HttpResponse:
    services = queryset.select_related("organisation").prefetch_related(*prefetches)
    return tabular_response(
        filename=dated_filename("directory"),
        headers=[str(column.header) for column in SERVICE_COLUMNS],
        rows=export_rows(SERVICE_COLUMNS, services.iterator(chunk_size=EXPORT_CHUNK)),
        fmt=fmt,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value if isinstance(value, bool | int | float | type(None)) else str(value)


def services_json_response(queryset, *, prefetches: Sequence) -> StreamingHttpResponse:
    """The same rows as the CSV, as a streamed JSON array of objects keyed by the column headers."""
    import json

    services = queryset.select_related("organisation").prefetch_related(*prefetches)
    headers = [str(column.header) for column in SERVICE_COLUMNS]

    def chunks() -> Iterator[str]:
        yield "["
        for index, row in enumerate(export_rows(SERVICE_COLUMNS, services.iterator(chunk_size=EXPORT_CHUNK))):
            item = {header: _json_value(value) for header, value in zip(headers, row, strict=True)}
            yield ("," if index else "") + "\n" + json.dumps(item, ensure_ascii=False)
        yield "\n]\n"

    response = StreamingHttpResponse(chunks(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{dated_filename('directory')}.json"
    )
    return response
