"""Reading the Open Referral UK query parameters. Every bad value raises BadParameter, which the views
turn into a 400 whose JSON body names the parameter; nothing a client sends can cause a 500."""

import re
import uuid
from datetime import datetime, time
from decimal import Decimal, InvalidOperation

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from ..fields import POSTCODE_RE, normalise_postcode
from ..models import Schedule
from ..search import MAX_SEARCH_LENGTH, clean_search_text

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_IDS = 50
MAX_PROXIMITY_METRES = 100_000

# iCalendar BYDAY codes (as HSDS uses them) and the day names people type.
DAYS = {code.lower(): code for code in Schedule.Weekday.values}
DAYS.update({label.lower(): code for code, label in Schedule.Weekday.choices})
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class BadParameter(Exception):
    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def _raw(params: QueryDict, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if "\x00" in value:
        raise BadParameter(name, _("The value contains a NUL character."))
    value = value.strip()
    return value if value != "" else None


def integer(params: QueryDict, name: str, *, default: int, minimum: int, maximum: int | None = None) -> int:
    value = _raw(params, name)
    if value is None:
        return default
    if not re.fullmatch(r"[+-]?\d{1,9}", value):
        raise BadParameter(name, _("“%(name)s” must be a whole number.") % {"name": name})
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        if maximum is None:
            message = _("“%(name)s” must be %(minimum)s or more.") % {"name": name, "minimum": minimum}
        else:
            message = _("“%(name)s” must be between %(minimum)s and %(maximum)s.") % {
                "name": name,
                "minimum": minimum,
                "maximum": maximum,
            }
        raise BadParameter(name, message)
    return number


def number(params: QueryDict, name: str, *, minimum: float = 0, maximum: float = 150) -> Decimal | None:
    value = _raw(params, name)
    if value is None:
        return None
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        parsed = None
    if parsed is None or not parsed.is_finite():
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
    value = params.get(name)
    if value is None:
        return ""
    if "\x00" in value:
        raise BadParameter(name, _("The value contains a NUL character."))
    if len(value) > MAX_SEARCH_LENGTH:
        raise BadParameter(
            name, _("“%(name)s” may be at most %(count)s characters long.") % {"name": name, "count": MAX_SEARCH_LENGTH}
        )
    return clean_search_text(value)


def clock_time(params: QueryDict, name: str) -> time | None:
    value = _raw(params, name)
    if value is None:
        return None
    match = _TIME_RE.match(value)
    if not match:
        raise BadParameter(name, _("“%(name)s” must be a time as HH:MM or HH:MM:SS, such as 09:30.") % {"name": name})
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


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
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if len(parts) > MAX_IDS:
        raise BadParameter(name, _("“%(name)s” takes at most %(count)s ids.") % {"name": name, "count": MAX_IDS})
    found = []
    for part in parts:
        try:
            found.append(uuid.UUID(part))
        except ValueError:
            raise BadParameter(name, _("“%(value)s” is not a valid id (a UUID).") % {"value": part[:100]}) from None
    return found


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
    return parsed


def postcode(params: QueryDict, name: str = "postcode") -> str:
    value = _raw(params, name)
    if value is None:
        return ""
    normalised = normalise_postcode(value)
    if len(value) > 12 or not POSTCODE_RE.match(normalised):
        raise BadParameter(name, _("“%(value)s” is not a UK postcode.") % {"value": value[:20]})
    return normalised


def proximity(params: QueryDict, name: str = "proximity") -> int | None:
    if _raw(params, name) is None:
        return None
    return integer(params, name, default=0, minimum=1, maximum=MAX_PROXIMITY_METRES)
