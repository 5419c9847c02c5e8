"""Harvesting other directories' Open Referral UK APIs (another borough's portal, a council's or a
national directory), so that their services appear in ours, "listed by" them, read-only.

Each source is harvested on its own (its own Celery task, its own transaction), with the safety of
calendar feeds (calendar_events.feeds_in): pages are fetched from public addresses only
(core.outbound: the address checked is the one connected to, redirects checked the same way), each
with a read timeout, a deadline and a byte cap; a harvest reads at most PORTAL_HARVEST_MAX_PAGES pages
and PORTAL_HARVEST_MAX_RECORDS services within PORTAL_HARVEST_DEADLINE seconds. Every page must be the
profile's Page wrapper, every service valid against the profile's service schema: a record that is
not, or that the directory cannot hold, is skipped with a warning in the run's log, never the whole
source. Only when every page has been read is anything written, in one transaction: a failed run
(unreachable, too slow, too big, not JSON, endless pages...) records its error and changes nothing.
Records are written CHUNK at a time in bulk (a statement per table, history included, the facets
worked out once per chunk); a chunk the database refuses is written again a record at a time, so only
the record it refuses is skipped.

A harvest is full (every page of /services) or, for a source that supports modified_after, only the
services changed since the last successful run; a full one runs at least every
PORTAL_HARVEST_FULL_INTERVAL. A record whose checksum is the one stored is not written at all. After a
complete full harvest, services the source no longer lists are withdrawn (and come back if it lists
them again); an incremental or failed harvest never withdraws anything.

Harvested services and organisations keep their source and the source's ids; their own ids here are
derived from those, so they stay the same from one harvest to the next. They take no referrals
through this portal, and are not asked for reviews or confirmations: the source looks after them.
"""

import hashlib
import json
import logging
import re
import time as clock
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.text import slugify
from django.utils.translation import gettext as _
from simple_history import utils

from core import outbound
from core.fields import POSTCODE_RE, normalise_postcode
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import facets
from .api import validation
from .models import (
    HarvestedOrganisation,
    HarvestRun,
    HarvestSource,
    Location,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceContact,
)

logger = logging.getLogger(__name__)


class HarvestError(Exception):
    """The source could not be harvested; the message is for the network admin who registered it."""


# Reading a record ---------------------------------------------------------------------------------

_NAMESPACE = uuid.UUID("0c8e6a4e-54a4-4f57-9d1e-6f3f6b1a2c77")
# Control characters have no place in a directory's text; PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])")
STATUSES = {
    "active": Service.Status.ACTIVE,
    "temporarily closed": Service.Status.PAUSED,
    "inactive": Service.Status.CLOSED,
    "defunct": Service.Status.CLOSED,
}
ATTENDING = {"in person": "in_person", "online": "online", "phone": "phone"}
# Terms of these of our vocabularies are taken from a record's attributes (matched by vocabulary name
# and term code); wards are the source's area's, not ours.
TERM_RELATIONS = {
    Taxonomy.FUNCTIONS: "functions",
    Taxonomy.NEEDS: "needs",
    Taxonomy.SEGMENTS: "segments",
    Taxonomy.COMMUNITIES: "communities",
}
MAX_REMOTE_ID = Service._meta.get_field("remote_id").max_length
# Records written together, in bulk (a statement per table for each chunk); rows per INSERT, and per
# UPDATE (whose CASE per column grows with the rows it holds).
CHUNK = 1000
BATCH = 2000
UPDATE_BATCH = 100


# The fields a harvest writes (as read_record, _organisation and _locations read them), for bulk updates.
SERVICE_FIELDS = [
    "name", "description", "url", "email", "status", "minimum_age", "maximum_age", "geographic_level", "area_served",
    "last_reviewed_on", "is_online", "is_free", "fee_amount", "fee_description",
    "organisation", "source_checksum", "is_withdrawn", "accepting_referrals", "access_portal_referral", "updated_at",
]
ORGANISATION_FIELDS = ["name", "activities", "email", "website"]
PLACE_FIELDS = [
    "name", "description", "address_line_1", "address_line_2", "town", "postcode", "latitude", "longitude", "accessibility",
]


def text(value, limit: int) -> str:
    """Text from a source, as it may be stored: control characters removed, spaces trimmed, cut to length."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return _CONTROL.sub("", str(value)).strip()[:limit]


def _web_address(value, limit: int = 200) -> str:
    address = text(value, 2000)
    return address if address.lower().startswith(("http://", "https://")) and len(address) <= limit else ""


def _email(value) -> str:
    address = text(value, 300)
    try:
        EmailValidator()(address)
    except ValidationError:
        return ""
    return address if len(address) <= 254 else ""


def _date(value):
    try:
        return parse_date(str(value or "")[:10])
    except ValueError:  # well formed but not a date (2027-02-30)
        return None


def _age(value) -> int | None:
    return int(value) if isinstance(value, (int, float)) and 0 <= value <= 120 else None


def local_uuid(source_id: int, kind: str, remote_id: str) -> uuid.UUID:
    """Our id for a harvested record: the same at every harvest, and distinct across sources."""
    return uuid.uuid5(_NAMESPACE, f"{source_id}:{kind}:{remote_id}")


def checksum(record: dict) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass
class Record:
    """One service as read from a source: its fields, organisation, places, times, contacts and terms."""

    remote_id: str
    checksum: str
    values: dict
    organisation: dict
    locations: list[dict] = field(default_factory=list)
    schedules: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    terms: list[tuple[str, str]] = field(default_factory=list)  # (vocabulary name, term code), lower case
    languages: list[str] = field(default_factory=list)  # language codes
    notes: list[str] = field(default_factory=list)  # parts left out, for the log


def _cost(record: dict) -> dict:
    """is_free, fee_amount and fee_description from the record's cost options (or its fees text)."""
    for option in record.get("cost_options") or []:
        amount = option.get("amount")
        if isinstance(amount, (int, float)) and amount > 0:
            try:
                fee = Decimal(str(amount)).quantize(Decimal("0.01"))
            except InvalidOperation:
                fee = None
            if fee is not None and fee >= Decimal("1000000"):
                fee = None
            description = text(option.get("amount_description") or option.get("option") or record.get("fees"), 300)
            return {"is_free": False, "fee_amount": fee, "fee_description": description}
    fees = text(record.get("fees"), 300)
    return {"is_free": not fees, "fee_amount": None, "fee_description": fees}


def _schedules(record: dict, notes: list[str]) -> list[dict]:
    found = []
    for schedule in record.get("schedules") or []:
        opens, closes = _TIME.match(str(schedule.get("opens_at") or "")), _TIME.match(str(schedule.get("closes_at") or ""))
        days = [day.strip().upper() for day in str(schedule.get("byday") or "").split(",") if day.strip()]
        days = [day[-2:] for day in days]  # "1MO" (the first Monday) is read as Mondays
        if not opens or not closes or not days or any(day not in Schedule.Weekday.values for day in days):
            notes.append(_("a regular time that is not weekly on given days with opening hours"))
            continue
        opens_at, closes_at = opens.group(0), closes.group(0)
        if opens_at >= closes_at:
            notes.append(_("a regular time that closes before it opens (%(opens)s to %(closes)s)") % {"opens": opens_at, "closes": closes_at})
            continue
        attending = ATTENDING.get(str(schedule.get("attending_type") or "").lower(), Schedule.AttendingType.IN_PERSON)
        for day in dict.fromkeys(days):
            found.append(
                {
                    "weekday": day,
                    "opens_at": opens_at,
                    "closes_at": closes_at,
                    "attending_type": attending,
                    "valid_from": _date(schedule.get("valid_from")),
                    "valid_to": _date(schedule.get("valid_to")),
                    "notes": text(schedule.get("notes") or schedule.get("description"), 300),
                }
            )
    return found


def _locations(record: dict) -> list[dict]:
    found = {}
    for link in record.get("service_at_locations") or []:
        place = link.get("location") or {}
        remote_id = text(place.get("id") or link.get("location_id"), MAX_REMOTE_ID)
        if not remote_id:
            continue
        address = next(iter(place.get("addresses") or []), {}) or {}
        postcode = normalise_postcode(text(address.get("postal_code"), 20))
        name = text(place.get("name"), 200) or text(address.get("address_1"), 200) or _("Place")
        latitude, longitude = place.get("latitude"), place.get("longitude")
        located = isinstance(latitude, (int, float)) and isinstance(longitude, (int, float))
        located = located and -90 <= latitude <= 90 and -180 <= longitude <= 180
        found[remote_id] = {
            "name": name,
            "description": text(place.get("description"), 2000),
            "address_line_1": text(address.get("address_1"), 200) or name,
            "address_line_2": text(address.get("address_2"), 200),
            "town": text(address.get("city"), 100),
            "postcode": postcode if POSTCODE_RE.match(postcode) else "",
            "latitude": Decimal(str(round(latitude, 6))) if located else None,
            "longitude": Decimal(str(round(longitude, 6))) if located else None,
            "accessibility": text(
                "\n".join(text(item.get("description"), 2000) for item in place.get("accessibility") or []), 2000
            ),
        }
    return [{"remote_id": remote_id, **values} for remote_id, values in found.items()]


def _contacts(record: dict) -> list[dict]:
    contacts = []
    for contact in record.get("contacts") or []:
        name = text(contact.get("name"), 200)
        phone = next((text(phone.get("number"), 30) for phone in contact.get("phones") or [] if phone.get("number")), "")
        email = _email(contact.get("email"))
        if name or phone or email:
            contacts.append({"name": name or _("Contact"), "title": text(contact.get("title"), 200), "email": email, "phone": phone})
    return contacts


def _organisation(record: dict) -> dict:
    organisation = record.get("organization") or {}
    remote_id = text(organisation.get("id") or record.get("organization_id"), MAX_REMOTE_ID)
    if not remote_id:
        raise ValueError(_("it names no organisation"))
    name = text(organisation.get("name"), 200)
    if not name:
        raise ValueError(_("its organisation has no name"))
    values = {
        "name": name,
        "activities": text(organisation.get("description"), 2000),
        "email": _email(organisation.get("email")),
        "website": _web_address(organisation.get("website")),
    }
    return {"remote_id": remote_id, "checksum": checksum(organisation), "values": values}


def read_record(record) -> Record:
    """One item of a source's /services as a Record, or ValueError saying why the directory cannot take it
    (not valid against the profile's service schema, no name, no organisation...)."""
    if not isinstance(record, dict):
        raise ValueError(_("it is not a JSON object"))
    invalid = validation.problems(record, "service")
    if invalid:
        raise ValueError(_("it is not a valid Open Referral UK service (%(problems)s)") % {"problems": "; ".join(invalid)})
    remote_id = text(record.get("id"), MAX_REMOTE_ID + 1)
    if not remote_id or len(remote_id) > MAX_REMOTE_ID:
        raise ValueError(_("its id is empty or longer than %(n)s characters") % {"n": MAX_REMOTE_ID})
    name = text(record.get("name"), 200)
    if not name:
        raise ValueError(_("it has no name"))
    status = STATUSES.get(str(record.get("status") or "").lower())
    if status is None:
        raise ValueError(_("its status (%(status)s) is not one of the profile's") % {"status": text(record.get("status"), 40)})
    minimum_age, maximum_age = _age(record.get("minimum_age")), _age(record.get("maximum_age"))
    if minimum_age is not None and maximum_age is not None and minimum_age > maximum_age:
        minimum_age = maximum_age = None
    areas = record.get("service_areas") or []
    extent = text(areas[0].get("extent_type"), 20) if areas else ""
    notes: list[str] = []
    values = {
        "name": name,
        "description": text(record.get("description"), 10000),
        "url": _web_address(record.get("url")),
        "email": _email(record.get("email")),
        "status": status,
        "minimum_age": minimum_age,
        "maximum_age": maximum_age,
        "geographic_level": extent if extent in Organisation.GeographicLevel.values else Organisation.GeographicLevel.LOCAL,
        "area_served": text(areas[0].get("name"), 200) if areas else "",
        "last_reviewed_on": _date(record.get("assured_date")),
        "is_online": any(str(s.get("attending_type") or "").lower() == "online" for s in record.get("schedules") or []),
        **_cost(record),
    }
    terms = []
    for attribute in record.get("attributes") or []:
        term = attribute.get("taxonomy_term") or {}
        code, vocabulary = text(term.get("term") or term.get("code"), 100).lower(), text(term.get("taxonomy"), 200).lower()
        if code and vocabulary:
            terms.append((vocabulary, code))
    return Record(
        remote_id=remote_id,
        checksum=checksum(record),
        values=values,
        organisation=_organisation(record),
        locations=_locations(record),
        schedules=_schedules(record, notes),
        contacts=_contacts(record),
        terms=terms,
        languages=[text(language.get("code"), 100).lower() for language in record.get("languages") or [] if language.get("code")],
        notes=notes,
    )


# Reading a source ---------------------------------------------------------------------------------


@dataclass
class Harvest:
    """Everything one run read from a source, before anything is written."""

    kind: str
    records: dict[str, Record] = field(default_factory=dict)
    # Ids of records skipped as unreadable: still listed by the source, so never withdrawn for it.
    skipped_ids: set[str] = field(default_factory=set)
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    pages: int = 0

    def skip(self, label: str, reason: str, remote_id: str = "") -> None:
        self.skipped += 1
        if remote_id:
            self.skipped_ids.add(remote_id)
        if len(self.warnings) < 200:
            self.warnings.append(
                _("Skipped “%(service)s”: %(reason)s.") % {"service": text(label, 100), "reason": text(reason, 400).rstrip(".")}
            )


def services_url(source: HarvestSource, *, page: int, modified_after: datetime | None = None) -> str:
    query = {"page": page, "per_page": settings.PORTAL_HARVEST_PER_PAGE, "full": "true"}
    if modified_after is not None:
        query["modified_after"] = modified_after.isoformat(timespec="seconds")
    return f"{source.api_url.rstrip('/')}/services?{urllib.parse.urlencode(query)}"


def fetch_page(url: str, *, deadline: float) -> dict:
    """One page of a source's /services: the profile's Page wrapper, or HarvestError."""
    remaining = deadline - clock.monotonic()
    if remaining <= 0:
        raise HarvestError(_too_slow())
    try:
        body = outbound.fetch_public(
            url,
            timeout=settings.PORTAL_HARVEST_TIMEOUT,
            max_bytes=settings.PORTAL_HARVEST_MAX_PAGE_BYTES,
            deadline_seconds=min(settings.PORTAL_HARVEST_PAGE_DEADLINE, remaining),
            headers={"User-Agent": f"{settings.SITE_NAME} directory harvester", "Accept": "application/json"},
        )
    except outbound.FetchError as error:
        raise HarvestError(_("%(url)s: %(error)s") % {"url": url, "error": error}) from None
    try:
        page = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise HarvestError(_("%(url)s did not answer with JSON (%(error)s).") % {"url": url, "error": text(error, 200)}) from None
    invalid = validation.problems(page, "page")
    if invalid:
        raise HarvestError(
            _("%(url)s did not answer with an Open Referral UK page of results (%(problems)s).")
            % {"url": url, "problems": "; ".join(invalid)}
        )
    return page


def _too_slow() -> str:
    return _("The harvest took longer than the limit of %(seconds)s seconds, so nothing was changed.") % {
        "seconds": f"{settings.PORTAL_HARVEST_DEADLINE:g}"
    }


def read_source(source: HarvestSource, *, kind: str, modified_after: datetime | None = None) -> Harvest:
    """Every page of the source's /services (changed ones only with `modified_after`), each record read
    or skipped with a warning; HarvestError when the source as a whole cannot be read within the caps."""
    harvest = Harvest(kind=kind)
    deadline = clock.monotonic() + settings.PORTAL_HARVEST_DEADLINE
    seen = 0
    page_number = 1
    while True:
        if page_number > settings.PORTAL_HARVEST_MAX_PAGES:
            raise HarvestError(
                _("The source has more than %(n)s pages of services, the limit, so nothing was changed.")
                % {"n": settings.PORTAL_HARVEST_MAX_PAGES}
            )
        page = fetch_page(services_url(source, page=page_number, modified_after=modified_after), deadline=deadline)
        harvest.pages += 1
        if page["page_number"] != page_number:
            raise HarvestError(
                _("Asked for page %(asked)s, the source answered with page %(got)s, so nothing was changed.")
                % {"asked": page_number, "got": page["page_number"]}
            )
        seen += len(page["contents"])
        if seen > settings.PORTAL_HARVEST_MAX_RECORDS:
            raise HarvestError(
                _("The source lists more than %(n)s services, the limit, so nothing was changed.")
                % {"n": settings.PORTAL_HARVEST_MAX_RECORDS}
            )
        for item in page["contents"]:
            _read_into(harvest, item)
        if page["last_page"] or page["empty"] or not page["contents"] or page_number >= page["total_pages"]:
            return harvest
        page_number += 1


def _read_into(harvest: Harvest, item) -> None:
    remote_id = text(item.get("id"), MAX_REMOTE_ID) if isinstance(item, dict) else ""
    label = (text(item.get("name"), 100) if isinstance(item, dict) else "") or remote_id or _("(a service with no name)")
    try:
        record = read_record(item)
    except ValueError as error:
        harvest.skip(label, str(error), remote_id)
        return
    except Exception as error:  # one record's oddity is that record's alone
        harvest.skip(label, _("it could not be read (%(kind)s)") % {"kind": error.__class__.__name__}, remote_id)
        return
    if record.remote_id in harvest.records:
        harvest.skip(label, _("the source lists its id (%(id)s) twice") % {"id": record.remote_id}, record.remote_id)
        return
    harvest.records[record.remote_id] = record
    for note in record.notes[:3]:
        if len(harvest.warnings) < 200:
            harvest.warnings.append(_("“%(service)s”: left out %(part)s.") % {"service": label, "part": note})


# Writing -------------------------------------------------------------------------------------------


class _Vocabulary:
    """Our terms that records may name: by (vocabulary name, code) and languages by code."""

    def __init__(self):
        self.terms: dict[tuple[str, str], TaxonomyTerm] = {}
        self.languages: dict[str, TaxonomyTerm] = {}
        for term in TaxonomyTerm.objects.filter(taxonomy__code__in=[*TERM_RELATIONS, Taxonomy.LANGUAGES]).select_related("taxonomy"):
            if term.taxonomy.code == Taxonomy.LANGUAGES:
                self.languages[term.code.lower()] = term
            else:
                self.terms[(term.taxonomy.name.lower(), term.code.lower())] = term


def _slug(name: str, key: uuid.UUID) -> str:
    """A web address for a harvested record: its name, and part of its (derived) id to keep it unique."""
    return f"{slugify(name)[:190].strip('-') or 'record'}-{key.hex[:12]}"


def _history(model, objects: list, *, created: bool) -> None:
    """The history rows saving `objects` one at a time would have ended with, in bulk: one per object,
    with its many-to-many fields as they now are."""
    if not objects:
        return
    historical = model.history.model
    rows = model.history.bulk_history_create(objects, update=not created, default_change_reason=None)
    history_of = {row.id: row.pk for row in rows}
    for relation in historical._history_m2m_fields:
        through = getattr(model, relation.name).through
        own = f"{utils.get_m2m_field_name(relation)}_id"
        snapshot = getattr(historical, relation.name).model
        columns = [f.attname for f in through._meta.fields]
        links = through.objects.filter(**{f"{own}__in": list(history_of)}).values(*columns)
        snapshot.objects.bulk_create([snapshot(history_id=history_of[link[own]], **link) for link in links], batch_size=BATCH)


def _write_organisations(source: HarvestSource, records: list[Record], known: dict[str, int], now: datetime) -> dict[str, int]:
    """The organisations of `records` not yet written this run, created or brought up to date (each once
    per run, from the first record that names it). Returns {remote id: our organisation's pk}."""
    wanted: dict[str, dict] = {}
    for record in records:
        if record.organisation["remote_id"] not in known:
            wanted.setdefault(record.organisation["remote_id"], record.organisation)
    links = {
        link.remote_id: link
        for link in HarvestedOrganisation.objects.filter(source=source, remote_id__in=list(wanted)).select_related("organisation")
    }
    created, new_ids, changed, changed_links = [], [], [], []
    for remote_id, data in wanted.items():
        link = links.get(remote_id)
        if link is None:
            new_ids.append(remote_id)
            key = local_uuid(source.pk, "organisation", remote_id)
            created.append(Organisation(uuid=key, slug=_slug(data["values"]["name"], key), is_harvested=True, **data["values"]))
        elif link.checksum != data["checksum"] or not link.organisation.is_active:
            organisation = link.organisation
            for name, value in data["values"].items():
                setattr(organisation, name, value)
            organisation.is_active, organisation.updated_at = True, now
            changed.append(organisation)
            link.checksum = data["checksum"]
            changed_links.append(link)
    Organisation.objects.bulk_create(created, batch_size=BATCH)
    _history(Organisation, created, created=True)
    HarvestedOrganisation.objects.bulk_create(
        [
            HarvestedOrganisation(source=source, remote_id=remote_id, organisation=organisation, checksum=wanted[remote_id]["checksum"])
            for remote_id, organisation in zip(new_ids, created, strict=True)
        ],
        batch_size=BATCH,
    )
    Organisation.objects.bulk_update(changed, [*ORGANISATION_FIELDS, "is_active", "updated_at"], batch_size=UPDATE_BATCH)
    _history(Organisation, changed, created=False)
    HarvestedOrganisation.objects.bulk_update(changed_links, ["checksum"], batch_size=UPDATE_BATCH)
    return {remote_id: link.organisation_id for remote_id, link in links.items()} | {
        remote_id: organisation.pk for remote_id, organisation in zip(new_ids, created, strict=True)
    }


def _write_places(source: HarvestSource, records: list[Record], services: dict[str, Service], now: datetime) -> None:
    """The records' places (the last record naming a place has the last word, as saving them in turn
    would) and which of them each service runs at."""
    wanted: dict[uuid.UUID, dict] = {}
    for record in records:
        for place in record.locations:
            values = {key: value for key, value in place.items() if key != "remote_id"}
            wanted[local_uuid(source.pk, "location", place["remote_id"])] = {"organisation_id": services[record.remote_id].organisation_id, **values}
    places = {place.uuid: place for place in Location.objects.filter(uuid__in=list(wanted))}
    created, changed = [], []
    for key, values in wanted.items():
        place = places.get(key)
        if place is None:
            places[key] = place = Location(uuid=key, **values)
            created.append(place)
        else:
            for name, value in values.items():
                setattr(place, name, value)
            place.updated_at = now
            changed.append(place)
    Location.objects.bulk_create(created, batch_size=BATCH)
    Location.objects.bulk_update(changed, [*PLACE_FIELDS, "organisation_id", "updated_at"], batch_size=UPDATE_BATCH)
    _history(Location, created, created=True)
    _history(Location, changed, created=False)
    # Links kept where they stay (their ids are the API's service_at_location ids), the rest replaced.
    wanted_links = {
        (services[record.remote_id].pk, places[local_uuid(source.pk, "location", place["remote_id"])].pk)
        for record in records
        for place in record.locations
    }
    service_ids = [service.pk for service in services.values()]
    links = ServiceAtLocation.objects.filter(service_id__in=service_ids)
    existing = {(service_id, location_id): pk for pk, service_id, location_id in links.values_list("pk", "service_id", "location_id")}
    ServiceAtLocation.objects.filter(pk__in=[pk for pair, pk in existing.items() if pair not in wanted_links]).delete()
    ServiceAtLocation.objects.bulk_create(
        [ServiceAtLocation(service_id=s, location_id=p) for s, p in sorted(wanted_links) if (s, p) not in existing], batch_size=BATCH
    )


def _write(source: HarvestSource, records: list[Record], *, existing: dict, known: dict[str, int], vocabulary: _Vocabulary) -> dict[str, int]:
    """Write `records` (new or changed) in bulk: their organisations, the services, their terms,
    places, times and contacts, their history, then their facets once, set-wise. Returns the
    organisations written, {remote id: pk}."""
    now = timezone.now()
    organisations = _write_organisations(source, records, known, now)
    organisation_of = known | organisations
    stored = Service.objects.in_bulk([existing[r.remote_id]["pk"] for r in records if r.remote_id in existing])
    services: dict[str, Service] = {}
    created, changed = [], []
    for record in records:
        row = existing.get(record.remote_id)
        if row is None:
            key = local_uuid(source.pk, "service", record.remote_id)
            service = Service(uuid=key, slug=_slug(record.values["name"], key), source=source, remote_id=record.remote_id)
            created.append(service)
        else:
            service = stored[row["pk"]]
            service.updated_at = now
            changed.append(service)
        for name, value in record.values.items():
            setattr(service, name, value)
        service.organisation_id = organisation_of[record.organisation["remote_id"]]
        service.source_checksum = record.checksum
        service.is_withdrawn = False
        # Referrals go to the directory that lists it, not through this portal.
        service.accepting_referrals = service.access_portal_referral = False
        services[record.remote_id] = service
    with facets.deferred():
        Service.objects.bulk_create(created, batch_size=BATCH)
        Service.objects.bulk_update(changed, SERVICE_FIELDS, batch_size=UPDATE_BATCH)
        service_ids = [service.pk for service in services.values()]
        changed_ids = [service.pk for service in changed]
        for relation in [*TERM_RELATIONS.values(), "languages"]:
            through = getattr(Service, relation).through
            through.objects.filter(service_id__in=changed_ids).delete()
            rows = {}
            for record in records:
                for term in _terms(record, relation, vocabulary):
                    rows[(services[record.remote_id].pk, term.pk)] = through(service_id=services[record.remote_id].pk, taxonomyterm_id=term.pk)
            through.objects.bulk_create(list(rows.values()), batch_size=BATCH)
        _write_places(source, records, services, now)
        Schedule.objects.filter(service_id__in=changed_ids).delete()
        Schedule.objects.bulk_create(
            [Schedule(service=services[r.remote_id], **schedule) for r in records for schedule in r.schedules], batch_size=BATCH
        )
        ServiceContact.objects.filter(service_id__in=changed_ids).delete()
        ServiceContact.objects.bulk_create(
            [ServiceContact(service=services[r.remote_id], **contact) for r in records for contact in r.contacts], batch_size=BATCH
        )
        facets.refresh(service_ids)
    _history(Service, created, created=True)
    _history(Service, changed, created=False)
    return organisations


def _terms(record: Record, relation: str, vocabulary: _Vocabulary) -> list[TaxonomyTerm]:
    if relation == "languages":
        return [vocabulary.languages[code] for code in record.languages if code in vocabulary.languages]
    found = (vocabulary.terms.get(wanted) for wanted in record.terms)
    return [term for term in found if term is not None and TERM_RELATIONS[term.taxonomy.code] == relation]


def apply(*, source: HarvestSource, harvest: Harvest, run: HarvestRun) -> None:
    """Write what was read (inside the caller's transaction), CHUNK records at a time in bulk. A chunk
    the database refuses is written again a record at a time, so that the record it refuses is
    skipped with a warning (its savepoint undone), never the whole harvest."""
    existing = {
        row["remote_id"]: row
        for row in Service.objects.filter(source=source).values("pk", "remote_id", "source_checksum", "is_withdrawn")
    }
    vocabulary = _Vocabulary()
    known: dict[str, int] = {}  # organisations written this run: {remote id: pk}
    changed = []
    for remote_id, record in harvest.records.items():
        row = existing.get(remote_id)
        if row is not None and row["source_checksum"] == record.checksum and not row["is_withdrawn"]:
            run.unchanged += 1
        else:
            changed.append(record)
    for start in range(0, len(changed), CHUNK):
        chunk = changed[start : start + CHUNK]
        try:
            with transaction.atomic():
                known |= _write(source, chunk, existing=existing, known=known, vocabulary=vocabulary)
            written = chunk
        except Exception:
            written = []
            for record in chunk:
                try:
                    with transaction.atomic():
                        known |= _write(source, [record], existing=existing, known=known, vocabulary=vocabulary)
                except Exception as error:
                    logger.warning("Harvest of source %s: record %s refused: %s", source.pk, record.remote_id, error)
                    harvest.skip(
                        record.values["name"], _("the directory could not store it (%(kind)s)") % {"kind": error.__class__.__name__}, record.remote_id
                    )
                    continue
                written.append(record)
        for record in written:
            if record.remote_id in existing:
                run.updated += 1
            else:
                run.created += 1
    if harvest.kind == HarvestRun.Kind.FULL:
        kept = set(harvest.records) | harvest.skipped_ids
        gone = [row["pk"] for remote_id, row in existing.items() if remote_id not in kept and not row["is_withdrawn"]]
        if gone:
            Service.objects.filter(pk__in=gone).update(is_withdrawn=True, updated_at=timezone.now())
        run.withdrawn = len(gone)
    run.skipped = harvest.skipped
    run.pages = harvest.pages
    run.warnings = harvest.warnings[:200]


# Running -------------------------------------------------------------------------------------------

# An incremental harvest asks for changes since a little before the last successful run started, so
# that a change saved while that run was reading (or a clock a little apart) is not missed.
OVERLAP = timedelta(minutes=10)
# Runs kept in each source's log.
KEEP_RUNS = 100


def plan(source: HarvestSource, *, now: datetime) -> tuple[str, datetime | None]:
    """(kind, modified_after) for the next harvest of `source`."""
    full_due = source.last_full_at is None or now - source.last_full_at >= timedelta(seconds=settings.PORTAL_HARVEST_FULL_INTERVAL)
    if not source.supports_modified_after or full_due:
        return HarvestRun.Kind.FULL, None
    last = source.runs.filter(succeeded=True).order_by("-started_at").values_list("started_at", flat=True).first()
    return HarvestRun.Kind.INCREMENTAL, (last or source.last_full_at) - OVERLAP


def harvest_source(*, source_id: int, kind: str | None = None) -> HarvestRun:
    """Read and apply one source. Always returns the run's log and records the attempt on the source;
    a failure leaves every service and organisation of the source as it was."""
    source = HarvestSource.objects.get(pk=source_id)
    now = timezone.now()
    planned_kind, modified_after = plan(source, now=now)
    if kind == HarvestRun.Kind.FULL:
        planned_kind, modified_after = kind, None
    run = HarvestRun(source=source, kind=planned_kind, started_at=now)
    # Recorded first: a run that never finishes (a worker killed at its limit) is not retried at once.
    HarvestSource.objects.filter(pk=source.pk).update(last_attempt_at=now)
    try:
        harvest = read_source(source, kind=planned_kind, modified_after=modified_after)
        with transaction.atomic():
            apply(source=source, harvest=harvest, run=run)
    except HarvestError as error:
        run.error = str(error)
    except Exception as error:  # an unforeseen failure is still this source's alone
        logger.exception("Harvesting source %s failed", source.pk)
        run.error = _("The harvest failed because of an unexpected problem (%(kind)s), so nothing was changed.") % {
            "kind": error.__class__.__name__
        }
    run.finished_at = timezone.now()
    _record(source=source, run=run)
    return run


def _record(*, source: HarvestSource, run: HarvestRun) -> None:
    """Save the run and the source's status; nothing a source sends can stop this."""
    run.error = text(run.error, 2000)
    run.warnings = [text(warning, 600) for warning in run.warnings[:200]]
    if run.error:
        run.created = run.updated = run.unchanged = run.withdrawn = 0
    run.succeeded = not run.error
    try:
        with transaction.atomic():
            run.save()
            stale = source.runs.order_by("-started_at", "-pk").values_list("pk", flat=True)[KEEP_RUNS:]
            HarvestRun.objects.filter(pk__in=list(stale)).delete()
    except Exception:
        logger.exception("Saving the harvest log of source %s failed", source.pk)
        run.succeeded = False
        run.error = run.error or _("The harvest's log could not be saved.")
    changes = {
        "status": HarvestSource.Status.OK if run.succeeded else HarvestSource.Status.ERROR,
        "last_error": run.error,
        "last_attempt_at": run.finished_at,
    }
    if run.succeeded:
        changes["last_success_at"] = run.finished_at
        if run.kind == HarvestRun.Kind.FULL:
            changes["last_full_at"] = run.started_at
    HarvestSource.objects.filter(pk=source.pk).update(**changes)


def sources_due(*, now: datetime | None = None):
    """Active sources not tried within the harvest interval."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.PORTAL_HARVEST_INTERVAL)
    return HarvestSource.objects.filter(is_active=True).filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=cutoff))


def set_hidden(*, services, hidden: bool) -> int:
    """Hide harvested services from the directory and the API, or show them again (our own services
    are left alone: they have their own closed status)."""
    return services.filter(source__isnull=False).exclude(is_hidden=hidden).update(is_hidden=hidden, updated_at=timezone.now())


def delete_source(*, source: HarvestSource) -> None:
    """A source and everything harvested from it: its services, places and organisations."""
    with transaction.atomic():
        organisation_ids = list(source.organisations.values_list("organisation_id", flat=True))
        source.delete()
        Organisation.objects.filter(pk__in=organisation_ids, is_harvested=True).delete()
