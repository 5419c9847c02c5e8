"""Reading the Open Referral UK query parameters. Every bad value raises BadParameter, which the views
turn into a 400 whose JSON body names the parameter; nothing a client sends can cause a 500.

SCHEMAS is what the OpenAPI document (directory/api/openapi.py) declares for each parameter, and the
readers below accept exactly that, so that a client (or Schemathesis) that follows the document is
never refused and one that does not is: a parameter given with no value is refused, not ignored.
"""

import re
import uuid
from datetime import datetime, time
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from core.fields import normalise_postcode

from ..models import Schedule
from ..search import MAX_SEARCH_LENGTH, clean_search_text

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 10_000_000
MAX_IDS = 50
MAX_AGE = 150
MAX_PROXIMITY_METRES = 100_000

# iCalendar BYDAY codes (as HSDS uses them) and the day names people type.
DAYS = {code.lower(): code for code in Schedule.Weekday.values}
DAYS.update({label.lower(): code for code, label in Schedule.Weekday.choices})
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}

# The patterns are written for both Python's re and the JSON Schema (ECMA 262) regexes of the
# document's readers: no shorthand classes such as \s or \d, whose meaning differs between them.
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUID_LIST_PATTERN = f"^{_UUID}(,{_UUID}){{0,{MAX_IDS - 1}}}$"
# A time of day as RFC 3339 writes it (09:30:00Z), or as people do (09:30). An offset is accepted and
# not applied: opening times are the borough's wall-clock times.
TIME_PATTERN = "^([01][0-9]|2[0-3]):([0-5][0-9])(:([0-5][0-9])([.][0-9]+)?)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"
# A UK postcode, in either case, with or without its space (fields.POSTCODE_RE once normalised).
POSTCODE_PATTERN = (
    "^([Gg][Ii][Rr] ?0[Aa][Aa]|[A-PR-UWYZa-pr-uwyz][A-HK-Ya-hk-y]?[0-9][A-HJKMNPR-Ya-hjkmnpr-y0-9]? ?"
    "[0-9][ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2})$"
)
# Search words: anything but NUL (PostgreSQL refuses it), with at least one character that is not a space.
SEARCH_PATTERN = r"^[^\x00]*[^\x00\x09-\x0d ][^\x00]*$"
_BLANK_RE = re.compile(r"[\x09-\x0d ]*")
_TIME_RE = re.compile(TIME_PATTERN)
_UUID_LIST_RE = re.compile(UUID_LIST_PATTERN)
_POSTCODE_RE = re.compile(POSTCODE_PATTERN)

_IDS = {"type": "string", "pattern": UUID_LIST_PATTERN}
SCHEMAS = {
    "search": {"type": "string", "minLength": 1, "maxLength": MAX_SEARCH_LENGTH, "pattern": SEARCH_PATTERN},
    "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    "minimal": {"type": "boolean", "default": False},
    "full": {"type": "boolean", "default": False},
    "full_service": {"type": "boolean", "default": False},
    "include_harvested": {"type": "boolean", "default": False},
    "modified_after": {"type": "string", "format": "date-time"},
    "taxonomy_term_id": _IDS,
    "taxonomy_id": _IDS,
    "organization_id": _IDS,
    "parent_id": _IDS,
    "postcode": {"type": "string", "pattern": POSTCODE_PATTERN},
    "proximity": {"type": "integer", "minimum": 1, "maximum": MAX_PROXIMITY_METRES},
    "minimum_age": {"type": "number", "minimum": 0, "maximum": MAX_AGE},
    "maximum_age": {"type": "number", "minimum": 0, "maximum": MAX_AGE},
    "start_time": {"type": "string", "pattern": TIME_PATTERN},
    "end_time": {"type": "string", "pattern": TIME_PATTERN},
    "day": {"type": "string", "enum": list(Schedule.Weekday.values)},
}


class BadParameter(Exception):
    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


class UnknownRecord(BadParameter):
    """A well-formed parameter naming a record (or page) that does not exist: a 404 naming it."""


def _raw(params: QueryDict, name: str) -> str | None:
    """The value as sent; None when the parameter is absent. A parameter given with no value (or only
    spaces) is refused, not taken as absent: a client that sends ?page= has made a mistake."""
    value = params.get(name)
    if value is None:
        return None
    if "\x00" in value:
        raise BadParameter(name, _("The value contains a NUL character."))
    if _BLANK_RE.fullmatch(value):
        raise BadParameter(name, _("“%(name)s” has no value: give one, or leave the parameter out.") % {"name": name})
    return value


def integer(params: QueryDict, name: str, *, default: int, minimum: int, maximum: int) -> int:
    value = _raw(params, name)
    if value is None:
        return default
    if not re.fullmatch(r"[+-]?[0-9]{1,9}", value):
        raise BadParameter(name, _("“%(name)s” must be a whole number.") % {"name": name})
    number = int(value)
    if number < minimum or number > maximum:
        raise BadParameter(
            name, _("“%(name)s” must be between %(minimum)s and %(maximum)s.") % {"name": name, "minimum": minimum, "maximum": maximum}
        )
    return number


def number(params: QueryDict, name: str, *, minimum: float = 0, maximum: float = MAX_AGE) -> Decimal | None:
    value = _raw(params, name)
    if value is None:
        return None
    try:
        parsed = Decimal(value) if re.fullmatch(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?", value) else None
    except InvalidOperation:
        parsed = None
    if parsed is None:
        raise BadParameter(name, _("“%(name)s” must be a number, such as 16.") % {"name": name})
    if parsed < minimum or parsed > maximum:
        raise BadParameter(
            name, _("“%(name)s” must be between %(minimum)s and %(maximum)s.") % {"name": name, "minimum": minimum, "maximum": maximum}
        )
    return parsed


def boolean(params: QueryDict, name: str) -> bool:
    value = _raw(params, name)
    if value is None:
        return False
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise BadParameter(name, _("“%(name)s” must be true or false.") % {"name": name})


def search_text(params: QueryDict, name: str = "search") -> str:
    value = _raw(params, name)
    if value is None:
        return ""
    if len(value) > MAX_SEARCH_LENGTH:
        raise BadParameter(
            name, _("“%(name)s” may be at most %(count)s characters long.") % {"name": name, "count": MAX_SEARCH_LENGTH}
        )
    return clean_search_text(value)


def clock_time(params: QueryDict, name: str) -> time | None:
    value = _raw(params, name)
    if value is None:
        return None
    match = _TIME_RE.fullmatch(value)
    if not match:
        raise BadParameter(
            name, _("“%(name)s” must be a time as HH:MM or HH:MM:SS, such as 09:30 or 09:30:00Z.") % {"name": name}
        )
    return time(int(match[1]), int(match[2]), int(match[4] or 0))


def day(params: QueryDict, name: str = "day") -> str:
    value = _raw(params, name)
    if value is None:
        return ""
    code = DAYS.get(value.lower())
    if code is None:
        raise BadParameter(
            name,
            _("“%(name)s” must be a day such as MO, TU, WE, TH, FR, SA, SU (or Monday to Sunday).") % {"name": name},
        )
    return code


def uuids(params: QueryDict, name: str) -> list[uuid.UUID]:
    """One id or several separated by commas."""
    value = _raw(params, name)
    if value is None:
        return []
    if not _UUID_LIST_RE.fullmatch(value):
        parts = value.split(",")
        if len(parts) > MAX_IDS:
            raise BadParameter(name, _("“%(name)s” takes at most %(count)s ids.") % {"name": name, "count": MAX_IDS})
        wrong = next((part for part in parts if not re.fullmatch(_UUID, part)), value)
        raise BadParameter(
            name, _("“%(value)s” is not a valid id (a UUID; several are separated by commas).") % {"value": wrong[:100]}
        )
    return [uuid.UUID(part) for part in value.split(",")]


def moment(params: QueryDict, name: str) -> datetime | None:
    value = _raw(params, name)
    if value is None:
        return None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day_only = parse_date(value)
            parsed = datetime.combine(day_only, time.min) if day_only else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise BadParameter(
            name, _("“%(name)s” must be a date and time such as 2025-01-31T09:00:00Z, or a date.") % {"name": name}
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    try:
        # In UTC: PostgreSQL refuses an offset beyond ±15:59, which ISO 8601 allows (…T14:55+21:32).
        return parsed.astimezone(dt_timezone.utc)
    except OverflowError:
        raise BadParameter(name, _("“%(name)s” is outside the dates the portal can search.") % {"name": name}) from None


def postcode(params: QueryDict, name: str = "postcode") -> str:
    value = _raw(params, name)
    if value is None:
        return ""
    if not _POSTCODE_RE.fullmatch(value):
        raise BadParameter(name, _("“%(value)s” is not a UK postcode.") % {"value": value[:20]})
    return normalise_postcode(value)


def proximity(params: QueryDict, name: str = "proximity") -> int | None:
    if _raw(params, name) is None:
        return None
    return integer(params, name, default=0, minimum=1, maximum=MAX_PROXIMITY_METRES)
