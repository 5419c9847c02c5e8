"""Open Referral UK (HSDS 3.0 UK profile) records built from the directory's models.

Plain functions rather than DRF serializers: the shapes are fixed by the standard, and building dicts
straight from prefetched rows keeps a page of 200 fully nested services fast. Field names are the
standard's. Optional values that are empty are left out rather than sent as null, because the
standard's schemas type them as strings and numbers.

Ids are the records' stable UUIDs. Records the portal keeps as columns rather than rows (an address, a
language, a cost, an attribute) get a UUID derived from their owner's, so the same record always has the
same id.
"""

import uuid
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.urls import reverse

from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from ..models import Location, Schedule, Service, ServiceAtLocation
from ..selectors import prefetched

# HSDS status for each of the portal's service statuses.
STATUS = {
    Service.Status.ACTIVE: "active",
    Service.Status.PAUSED: "temporarily closed",
    Service.Status.CLOSED: "inactive",
}
ATTENDING = {"in_person": "in person", "online": "online", "phone": "phone"}
# Terms of these relations become the service's attributes.
ATTRIBUTE_RELATIONS = ("functions", "needs", "segments", "communities")
_NAMESPACE = uuid.UUID("2b0f5c55-6f0e-4b5c-9a9e-6a0c1f6f3d10")


def derived_id(*parts) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(part) for part in parts)))


def _compact(record: dict, keep: Iterable[str] = ()) -> dict:
    keep = set(keep)
    return {key: value for key, value in record.items() if key in keep or value not in (None, "", [])}


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


@cache
def _page_pattern(name: str) -> str:
    return reverse(name, kwargs={"slug": "-"})


def page_url(name: str, slug: str) -> str:
    """The public page of a record; reverse() once, not once per record of a long list."""
    return absolute(_page_pattern(name).replace("/-/", f"/{slug}/"))


def taxonomy(record: Taxonomy) -> dict:
    return _compact(
        {
            "id": str(record.uuid),
            "name": record.name,
            "description": record.description,
            "uri": record.uri,
            "version": record.version,
        },
        keep=("description",),
    )


def taxonomy_term(term: TaxonomyTerm, *, parent_uuid: uuid.UUID | None = None) -> dict:
    """A term; its taxonomy (and parent, for the parent's id) must be loaded with it."""
    parent = parent_uuid if parent_uuid is not None else (term.parent.uuid if term.parent_id else None)
    return _compact(
        {
            "id": str(term.uuid),
            "code": term.code,
            "name": term.name,
            "description": term.description,
            "parent_id": str(parent) if parent else None,
            "taxonomy": term.taxonomy.name,
            "taxonomy_id": str(term.taxonomy.uuid),
            "term": term.code,
        },
        keep=("description",),
    )


def _attribute(owner_uuid, term: TaxonomyTerm, link_type: str) -> dict:
    return {
        "id": derived_id("attribute", owner_uuid, term.uuid),
        "link_id": str(owner_uuid),
        "link_type": link_type,
        "taxonomy_term_id": str(term.uuid),
        "taxonomy_term": _compact(
            {
                "id": str(term.uuid),
                "name": term.name,
                "description": term.description,
                "taxonomy": term.taxonomy.name,
                "taxonomy_id": str(term.taxonomy.uuid),
                "term": term.code,
            },
            keep=("description",),
        ),
    }


# Charity and company numbers were published before the other org-id lists, under these id parts;
# keeping them keeps their ids stable.
_IDENTIFIER_ID_PARTS = {"GB-CHC": "charity", "GB-COH": "company"}


def organization(record: Organisation, *, full: bool = False, services: list | None = None) -> dict:
    data = {
        "id": str(record.uuid),
        "name": record.name,
        "description": record.activities or "",
        "email": record.email if record.shows("email") else "",
        "website": record.website,
        "logo": absolute(record.logo.url) if record.logo else "",
        "uri": page_url("organisations:organisation_detail", record.slug),
    }
    if full:
        identifiers = [
            {
                "id": derived_id(_IDENTIFIER_ID_PARTS.get(identifier.list.code, identifier.list.code), record.uuid),
                "organization_id": str(record.uuid),
                "identifier_scheme": identifier.list.code,
                "identifier_type": identifier.list.register,
                "identifier": identifier.number,
            }
            for identifier in record.identifiers
        ]
        data["organization_identifiers"] = identifiers
        if services is not None:
            data["services"] = services
    return _compact(data, keep=("description", "organization_identifiers", "services"))


def _schedule(record: Schedule, service_uuid) -> dict:
    return _compact(
        {
            "id": str(record.uuid),
            "service_id": str(service_uuid),
            "service_at_location_id": None,
            "freq": "WEEKLY",
            "interval": 1,
            "byday": record.weekday,
            "opens_at": record.opens_at.strftime("%H:%M"),
            "closes_at": record.closes_at.strftime("%H:%M"),
            "valid_from": record.valid_from.isoformat() if record.valid_from else None,
            "valid_to": record.valid_to.isoformat() if record.valid_to else None,
            "description": str(record),
            "attending_type": ATTENDING.get(record.attending_type, record.attending_type),
            "notes": record.notes,
        }
    )


def location(record: Location) -> dict:
    """A place: a Location with its ward (and the ward's taxonomy) loaded, or a selectors.Place."""
    address = _compact(
        {
            "id": derived_id("address", record.uuid),
            "location_id": str(record.uuid),
            "address_1": record.address_line_1,
            "address_2": record.address_line_2,
            "city": record.town or "London",
            "state_province": "Greater London" if (record.town or "London") == "London" else record.town,
            "postal_code": record.postcode,
            "country": "GB",
            "address_type": "physical",
        },
        keep=("address_1", "city", "state_province", "postal_code", "country", "address_type"),
    )
    data = {
        "id": str(record.uuid),
        "location_type": "physical",
        "name": record.name,
        "description": record.description,
        "latitude": float(record.latitude) if record.latitude is not None else None,
        "longitude": float(record.longitude) if record.longitude is not None else None,
        "addresses": [address],
        "accessibility": (
            [{"id": derived_id("accessibility", record.uuid), "location_id": str(record.uuid), "description": record.accessibility}]
            if record.accessibility
            else []
        ),
        "attributes": [_attribute(record.uuid, record.ward, "location_ward")] if record.ward else [],
    }
    return _compact(data, keep=("addresses",))


def _service_at_location_nested(link: ServiceAtLocation, service_uuid) -> dict:
    return {
        "id": str(link.uuid),
        "service_id": str(service_uuid),
        "location_id": str(link.location.uuid),
        "location": location(link.location),
    }


def _fees(record: Service) -> str:
    if record.is_free:
        return ""
    amount = f"£{record.fee_amount:.2f}" if record.fee_amount is not None else ""
    return " ".join(part for part in (amount, record.fee_description) if part)


def _alert(record: Service) -> str:
    if record.status == Service.Status.PAUSED:
        return "This service is paused for now."
    if not record.accepting_referrals:
        return "Not taking new referrals at the moment."
    return ""


def _status(record: Service) -> str:
    return STATUS.get(record.status, "inactive")


def service_summary(record: Service, *, accreditations: list[str] | None = None) -> dict:
    """The one-to-one fields of a service with its organization: an item of /services."""
    return _compact(
        {
            "id": str(record.uuid),
            "organization_id": str(record.organisation.uuid),
            "name": record.name,
            "description": record.description,
            "url": record.url,
            "email": record.email,
            "status": _status(record),
            "fees": _fees(record),
            "accreditations": "; ".join(accreditations or []),
            "minimum_age": record.minimum_age,
            "maximum_age": record.maximum_age,
            "assured_date": record.last_reviewed_on.isoformat() if record.last_reviewed_on else None,
            "alert": _alert(record),
            "last_modified": record.updated_at.isoformat(),
            "organization": organization(record.organisation),
        }
    )


def service_minimal(record: Service) -> dict:
    """An item of /services?minimal=true: what a client syncing the list needs, and the fields the
    list's item schema (service_list.json) requires, so the item is still one of those."""
    return {
        "id": str(record.uuid),
        "name": record.name,
        "status": _status(record),
        "last_modified": record.updated_at.isoformat(),
    }


def service_full(record: Service, *, accreditations: list[str] | None = None) -> dict:
    """A fully nested service: everything the portal knows about it (needs selectors.with_service_relations)."""
    data = service_summary(record, accreditations=accreditations)
    service_uuid = record.uuid
    attributes = []
    for relation in ATTRIBUTE_RELATIONS:
        for term in prefetched(record, relation):
            attributes.append(_attribute(service_uuid, term, f"service_{relation}"))
    wards = prefetched(record, "wards")
    if wards:
        areas = [
            {"id": derived_id("area", service_uuid, ward.uuid), "service_id": str(service_uuid), "name": ward.name, "extent_type": "ward"}
            for ward in wards
        ]
    else:
        areas = [
            _compact(
                {
                    "id": derived_id("area", service_uuid, record.geographic_level),
                    "service_id": str(service_uuid),
                    "name": record.area_served or record.get_geographic_level_display(),
                    "extent_type": record.geographic_level,
                }
            )
        ]
    cost = {
        "id": derived_id("cost", service_uuid),
        "service_id": str(service_uuid),
        "option": "Free" if record.is_free else (record.fee_description or "Charged"),
        "amount": 0 if record.is_free else (float(record.fee_amount) if record.fee_amount is not None else None),
        "currency": "GBP",
        "amount_description": "" if record.is_free else record.fee_description,
    }
    data.update(
        {
            "schedules": [_schedule(schedule, service_uuid) for schedule in prefetched(record, "schedules")],
            "service_areas": areas,
            "service_at_locations": [
                _service_at_location_nested(link, service_uuid) for link in prefetched(record, "service_at_locations")
            ],
            "languages": [
                {"id": derived_id("language", service_uuid, term.uuid), "service_id": str(service_uuid), "name": term.name, "code": term.code}
                for term in prefetched(record, "languages")
            ],
            "organization": organization(record.organisation, full=True),
            "funding": [],
            # A charged service with no amount on record leaves the amount out (the schema wants a number).
            "cost_options": [_compact(cost, keep=("amount",) if cost["amount"] is not None else ())],
            "contacts": [
                _compact(
                    {
                        "id": str(contact.uuid),
                        "service_id": str(service_uuid),
                        "name": contact.name,
                        "title": contact.title,
                        "email": contact.email,
                        "phones": [{"id": derived_id("phone", contact.uuid), "contact_id": str(contact.uuid), "number": contact.phone}]
                        if contact.phone
                        else [],
                    }
                )
                for contact in prefetched(record, "contacts")
            ],
            "attributes": attributes,
        }
    )
    return data


def service_at_location_summary(link: ServiceAtLocation, *, accreditations: list[str] | None = None) -> dict:
    """An item of /service_at_locations: the link with its location and its service's one-to-one fields."""
    return {
        "id": str(link.uuid),
        "service_id": str(link.service.uuid),
        "location_id": str(link.location.uuid),
        "location": location(link.location),
        "service": service_summary(link.service, accreditations=accreditations),
    }


def service_at_location_full(link: ServiceAtLocation, *, accreditations: list[str] | None = None) -> dict:
    """/service_at_locations/{id}: the link, its location and its fully nested service.

    The service's name, description and status are repeated at the top level, so the record also
    satisfies the schema the profile's openapi.json names for this path (compiled/service.json).
    """
    service = service_full(link.service, accreditations=accreditations)
    return {
        "id": str(link.uuid),
        "name": service["name"],
        "description": service.get("description", ""),
        "status": service["status"],
        "service_id": service["id"],
        "location_id": str(link.location.uuid),
        "location": location(link.location),
        "service": service,
    }
