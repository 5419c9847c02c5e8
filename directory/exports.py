"""The directory download: services as CSV, XLSX or JSON. The writer itself is ``core.exports``."""

import functools
import itertools
import operator
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from core import org_id
from core.exports import MULTI_VALUE_SEPARATOR, Column, dated_filename, export_rows, tabular_response

# Services: the directory download ----------------------------------------------------------------
#
# Read as plain values, a chunk at a time: the services' own fields in one streamed query, and each
# chunk's related rows (terms, locations, regular times, contacts) in one query per relation, into
# dicts. Labels (choices, days, "Free") are translated once per download. Building model instances and
# prefetching them cost nine tenths of the time of a full download (issue 15).

# Rows read per chunk; memory stays flat however big the directory is.
EXPORT_CHUNK = 2000

# The service's own fields the columns read, with its provider's name and register numbers.
_SERVICE_FIELDS = (
    "pk", "name", "slug", "description", "status", "serves_stage_1", "serves_stage_2", "serves_stage_3",
    "minimum_age", "maximum_age", "geographic_level", "area_served", "is_online", "offers_outreach",
    "schedule_notes", "access_drop_in", "access_self_referral", "access_portal_referral", "access_booking",
    "is_free", "fee_amount", "fee_description", "accessibility", "email", "phone", "url",
    "accepting_referrals", "last_reviewed_on", "organisation__name",
)  # fmt: skip
_TERM_RELATIONS = ("functions", "needs", "segments", "communities", "wards", "languages")


def _getter(key: str) -> Callable[[dict], Any]:
    return operator.itemgetter(key)


SERVICE_COLUMNS: tuple[Column, ...] = (
    Column(_("service"), _getter("name")),
    Column(_("provider"), _getter("organisation__name")),
    Column(_("provider org-id"), _getter("provider_org_id")),
    Column(_("description"), _getter("description")),
    Column(_("status"), _getter("status_label")),
    Column(_("infrastructure functions"), _getter("functions")),
    Column(_("support needs met"), _getter("needs")),
    Column(_("specialist segments"), _getter("segments")),
    Column(_("communities served"), _getter("communities")),
    Column(_("development stages"), _getter("stages")),
    Column(_("ages"), _getter("ages")),
    Column(_("area served"), _getter("area_label")),
    Column(_("area served, in words"), _getter("area_served")),
    Column(_("wards served"), _getter("wards")),
    Column(_("locations"), _getter("locations")),
    Column(_("online"), _getter("is_online")),
    Column(_("outreach"), _getter("offers_outreach")),
    Column(_("regular times"), _getter("schedules")),
    Column(_("term-time or seasonal notes"), _getter("schedule_notes")),
    Column(_("how to get it"), _getter("access")),
    Column(_("cost"), _getter("cost")),
    Column(_("languages"), _getter("languages")),
    Column(_("accessibility"), _getter("accessibility")),
    Column(_("contacts"), _getter("contacts")),
    Column(_("email"), _getter("email")),
    Column(_("phone"), _getter("phone")),
    Column(_("web page"), _getter("url")),
    Column(_("accepting new referrals"), _getter("accepting_referrals")),
    Column(_("last reviewed"), _getter("last_reviewed_on")),
    Column(_("directory page"), _getter("directory_page")),
)


@functools.cache
def _service_path_pattern() -> str:
    from django.urls import reverse

    return reverse("directory:service_detail", kwargs={"slug": "-"})


class _Labels:
    """What the rows show in words, in the request's language, worked out once per download."""

    def __init__(self):
        from organisations.models import Organisation
        from taxonomies.models import TaxonomyTerm

        from .models import Schedule, Service

        self.status = {value: str(label) for value, label in Service.Status.choices}
        self.area = {value: str(label) for value, label in Organisation.GeographicLevel.choices}
        self.weekdays = {code: str(label) for code, label in Schedule.WEEKDAY_PLURALS.items()}
        self.access = (
            ("access_drop_in", str(_("drop in"))),
            ("access_self_referral", str(_("self-referral"))),
            ("access_portal_referral", str(_("referral through the portal"))),
            ("access_booking", str(_("booking needed"))),
        )
        self.free = str(_("Free"))
        self.path_pattern = _service_path_pattern()
        # Each term's name and its place in its vocabulary (order, then name), for every relation.
        self.terms = {
            pk: (order, name, pk) for pk, order, name in TaxonomyTerm.objects.values_list("pk", "order", "name")
        }
        # The register numbers in the order Organisation.primary_org_id picks them.
        self.identifiers = [
            (f"organisation__{field}", org_id.LISTS[scheme]) for scheme, field in Organisation.IDENTIFIER_FIELDS.items()
        ]


def _joined(rows) -> dict[int, str]:
    """Each service's related texts, in the order `rows` gives them, joined as a multi-value cell."""
    found: dict[int, list[str]] = {}
    for service_id, text in rows:
        found.setdefault(service_id, []).append(text)
    return {service_id: MULTI_VALUE_SEPARATOR.join(texts) for service_id, texts in found.items()}


def _related_texts(service_ids: list[int], labels: _Labels) -> dict[str, dict[int, str]]:
    """A chunk's related rows as text, one query per relation: {relation: {service id: text}}."""
    from .models import Service, ServiceAtLocation, ServiceContact
    from .selectors import schedules_in_week_order

    texts: dict[str, dict[int, str]] = {}
    terms = labels.terms
    for relation in _TERM_RELATIONS:
        found: dict[int, list] = {}
        links = getattr(Service, relation).through.objects.filter(service_id__in=service_ids)
        for service_id, term_id in links.values_list("service_id", "taxonomyterm_id"):
            found.setdefault(service_id, []).append(terms[term_id])
        texts[relation] = {
            service_id: MULTI_VALUE_SEPARATOR.join(term[1] for term in sorted(found_terms))
            for service_id, found_terms in found.items()
        }
    places = (
        ServiceAtLocation.objects.filter(service_id__in=service_ids)
        .order_by("location__name", "pk")
        .values_list(
            "service_id", "location__name", "location__address_line_1", "location__address_line_2",
            "location__town", "location__postcode",
        )  # fmt: skip
    )
    texts["locations"] = _joined(
        (row[0], ", ".join(part for part in row[1:] if part)) for row in places
    )
    weekdays = labels.weekdays
    times = schedules_in_week_order().filter(service_id__in=service_ids)
    texts["schedules"] = _joined(
        (
            (service_id, f"{weekdays.get(day, day)} {opens:%H:%M} to {closes:%H:%M}")
            for service_id, day, opens, closes in times.values_list("service_id", "weekday", "opens_at", "closes_at")
        )
    )
    contacts = (
        ServiceContact.objects.filter(service_id__in=service_ids)
        .order_by("name", "pk")
        .values_list("service_id", "name", "title", "email", "phone")
    )
    texts["contacts"] = _joined(
        (row[0], ", ".join(part for part in row[1:] if part)) for row in contacts
    )
    return texts


def _with_shown_values(row: dict, related: dict[str, dict[int, str]], labels: _Labels) -> dict:
    """A service's values with what its derived columns show (as the model's own methods would)."""
    pk = row["pk"]
    for relation, texts in related.items():
        row[relation] = texts.get(pk, "")
    row["provider_org_id"] = next(
        (register.org_id(row[key]) for key, register in labels.identifiers if row[key]), ""
    )
    row["status_label"] = labels.status.get(row["status"], row["status"])
    row["area_label"] = labels.area.get(row["geographic_level"], row["geographic_level"])
    row["stages"] = MULTI_VALUE_SEPARATOR.join(str(n) for n in (1, 2, 3) if row[f"serves_stage_{n}"])
    low, high = row["minimum_age"], row["maximum_age"]
    row["ages"] = (
        "" if low is None and high is None else f"{low if low is not None else ''}-{high if high is not None else ''}"
    )
    row["access"] = MULTI_VALUE_SEPARATOR.join(label for field, label in labels.access if row[field])
    if row["is_free"]:
        row["cost"] = labels.free
    else:
        amount = f"£{row['fee_amount']:.2f}" if row["fee_amount"] is not None else ""
        row["cost"] = " ".join(part for part in (amount, row["fee_description"]) if part)
    # reverse() once per download, not once per row: it is slow enough to show over 60,000 rows.
    row["directory_page"] = labels.path_pattern.replace("/-/", f"/{row['slug']}/")
    return row


def service_rows(queryset) -> Iterator[dict]:
    """Each service of `queryset`, in its order, as a dict the SERVICE_COLUMNS read."""
    from organisations.models import Organisation

    labels = _Labels()
    fields = (*_SERVICE_FIELDS, *(f"organisation__{field}" for field in Organisation.IDENTIFIER_FIELDS.values()))
    values = queryset.values_list(*fields).iterator(chunk_size=EXPORT_CHUNK)
    while chunk := [dict(zip(fields, row, strict=True)) for row in itertools.islice(values, EXPORT_CHUNK)]:
        related = _related_texts([row["pk"] for row in chunk], labels)
        for row in chunk:
            yield _with_shown_values(row, related, labels)


def services_response(queryset, *, fmt: str) -> HttpResponse:
    return tabular_response(
        filename=dated_filename("directory"),
        headers=[str(column.header) for column in SERVICE_COLUMNS],
        rows=export_rows(SERVICE_COLUMNS, service_rows(queryset)),
        fmt=fmt,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value if isinstance(value, bool | int | float | type(None)) else str(value)


def services_json_response(queryset) -> StreamingHttpResponse:
    """The same rows as the CSV, as a streamed JSON array of objects keyed by the column headers."""
    import json

    headers = [str(column.header) for column in SERVICE_COLUMNS]

    def chunks() -> Iterator[str]:
        yield "["
        for index, row in enumerate(export_rows(SERVICE_COLUMNS, service_rows(queryset))):
            item = {header: _json_value(value) for header, value in zip(headers, row, strict=True)}
            yield ("," if index else "") + "\n" + json.dumps(item, ensure_ascii=False)
        yield "\n]\n"

    response = StreamingHttpResponse(chunks(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{dated_filename('directory')}.json"
    )
    return response
