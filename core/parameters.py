"""Reading the pages' own request parameters (?from=, ?month=, a posted organisation id, ?next=).

A bad value raises BadParameter, a BadRequest that the portal's 400 page (thin_portal.views.bad_request)
shows with its message: nothing typed into an address causes a 500. Dates are held to a window
(EARLIEST to LATEST) so the arithmetic done with them (a week on, the next month, 60 days of events)
never leaves Python's years 1 to 9999. Forms use the same window through validate_date_in_window.
The Open Referral API reads its parameters with directory.api.params, which answers in JSON.
"""

import re
from datetime import date
from urllib.parse import quote_plus

from django.core.exceptions import BadRequest, ValidationError
from django.http import QueryDict
from django.shortcuts import resolve_url
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_INTEGER_RE = re.compile(r"^[+-]?\d{1,18}$")


class BadParameter(BadRequest):
    """A request parameter that cannot be used; the message says which and what to send instead."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def _raw(params: QueryDict, name: str) -> str | None:
    """The stripped value, None when absent or blank. A NUL can never be meant (and PostgreSQL refuses it)."""
    value = params.get(name)
    if value is None:
        return None
    if "\x00" in value:
        raise BadParameter(name, _("“%(name)s” contains a NUL character.") % {"name": name})
    return value.strip() or None


def _window_message(name: str) -> str:
    return _("“%(name)s” must be a date between %(earliest)s and %(latest)s.") % {
        "name": name,
        "earliest": date_format(EARLIEST, "j F Y"),
        "latest": date_format(LATEST, "j F Y"),
    }


def validate_date_in_window(value: date) -> None:
    """For form date fields whose value the portal computes with (periods, series, calendars)."""
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ValidationError(
            _("Give a date between %(earliest)s and %(latest)s.")
            % {"earliest": date_format(EARLIEST, "j F Y"), "latest": date_format(LATEST, "j F Y")},
            code="date_out_of_window",
        )


def date_param(params: QueryDict, name: str, *, default: date) -> date:
    """A YYYY-MM-DD date within the window; `default` when the parameter is absent or blank."""
    value = _raw(params, name)
    if value is None:
        return default
    match = _DATE_RE.match(value)
    try:
        parsed = date(int(match[1]), int(match[2]), int(match[3])) if match else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise BadParameter(
            name, _("“%(name)s” must be a date written YYYY-MM-DD, such as 2025-03-31.") % {"name": name}
        )
    if not EARLIEST <= parsed <= LATEST:
        raise BadParameter(name, _window_message(name))
    return parsed


def month_param(params: QueryDict, name: str, *, default: tuple[int, int]) -> tuple[int, int]:
    """A YYYY-MM month within the window, as (year, month)."""
    value = _raw(params, name)
    if value is None:
        return default
    match = _MONTH_RE.match(value)
    if not match or not 1 <= int(match[2]) <= 12:
        raise BadParameter(name, _("“%(name)s” must be a month written YYYY-MM, such as 2025-03.") % {"name": name})
    year, month = int(match[1]), int(match[2])
    if not EARLIEST.year <= year <= LATEST.year:
        raise BadParameter(
            name,
            _("“%(name)s” must be a month between %(earliest)s and %(latest)s.")
            % {"name": name, "earliest": f"{EARLIEST.year}-01", "latest": f"{LATEST.year}-12"},
        )
    return year, month


def integer_param(params: QueryDict, name: str, *, minimum: int = 1, maximum: int = 2**31 - 1) -> int | None:
    """A whole number in [minimum, maximum] (a database id by default); None when absent or blank."""
    value = _raw(params, name)
    if value is None:
        return None
    if not _INTEGER_RE.match(value) or not minimum <= int(value) <= maximum:
        raise BadParameter(
            name,
            _("“%(name)s” must be a whole number between %(minimum)s and %(maximum)s.")
            % {"name": name, "minimum": minimum, "maximum": maximum},
        )
    return int(value)


def text_param(params: QueryDict, name: str, *, max_length: int) -> str:
    """Free text such as a search, stripped and cut to `max_length`."""
    return (_raw(params, name) or "")[:max_length].strip()


def next_url(request, fallback) -> str:
    """Where to go after an action: the posted (or queried) ?next= if it stays on this site, else
    `fallback` (a URL, a URL name or a model, as redirect() takes). Every redirect to an address the
    request names goes through here, so none can send a visitor to another site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(fallback)


def query_pieces(params: QueryDict, changes: dict[str, object] | None = None) -> list[str]:
    """The query string's pieces ("name=value") as `params.copy()`, changed, then `.urlencode()` writes
    them: a parameter in `changes` has that one value instead of its own (None or "": left out), a new
    one comes last. Encoded from the parameters as they are, without QueryDict's deep copy, each name
    and value as urlencode() quotes them."""
    changes = changes or {}
    encoding = params.encoding

    def piece(name: str, value) -> str:
        return f"{quote_plus(name, encoding=encoding)}={quote_plus(str(value), encoding=encoding)}"

    pieces = []
    for name, values in params.lists():
        if name in changes:
            values = [] if changes[name] in (None, "") else [changes[name]]
        pieces.extend(piece(name, value) for value in values)
    for name, value in changes.items():
        if name not in params and value not in (None, ""):
            pieces.append(piece(name, value))
    return pieces
