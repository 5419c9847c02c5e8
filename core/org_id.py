"""org-id identifiers: "GB-CHC-1164883" is list GB-CHC (the Charity Commission for England and Wales),
a hyphen, and the organisation's number in that list.

The lists below are the UK registers a voluntary or community organisation can be on. Their codes,
register names and public search pages are from the org-id.guide register (Open Database License);
the lists give example identifiers but no pattern, so each pattern here is the form of those examples
and of the register's own numbers. No list gives an address for one organisation's record, so the
portal links to the register's public search page only.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# An identifier this long is certainly not one; nothing longer is matched or echoed back.
MAX_LENGTH = 40


def _compact(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def _company(value: str) -> str:
    compact = _compact(value)
    # Companies House numbers are 8 characters: "123456" is company 00123456.
    return compact.zfill(8) if compact.isdigit() and len(compact) < 8 else compact


def _ni_charity(value: str) -> str:
    # The list's identifiers are the bare number (100019); people often write it "NIC100019".
    compact = _compact(value)
    return compact[3:] if re.fullmatch(r"NIC\d+", compact) else compact


@dataclass(frozen=True)
class OrgIdList:
    code: str  # "GB-CHC"
    register: str  # the list's own name for the register
    label: object  # what the number is called on the portal's forms
    pattern: re.Pattern
    form: object  # the pattern in words, for error messages and help texts
    example: str
    public_database: str  # the register's public search page, as the list gives it
    normalise: Callable[[str], str] = _compact

    def org_id(self, value: str) -> str:
        return f"{self.code}-{value}"


LISTS: dict[str, OrgIdList] = {
    item.code: item
    for item in (
        OrgIdList(
            code="GB-CHC",
            register="Charity Commission/Comisiwn Elusennau",
            label=_("charity number"),
            # A linked charity adds its own suffix to the main charity's number: 1164883-1.
            pattern=re.compile(r"\d{6,7}(-\d{1,2})?"),
            form=_("6 or 7 digits, for example 1164883"),
            example="1164883",
            public_database="https://register-of-charities.charitycommission.gov.uk/",
        ),
        OrgIdList(
            code="GB-SC",
            register="Scottish Charity Register",
            label=_("Scottish charity number"),
            pattern=re.compile(r"SC\d{6}"),
            form=_("SC and 6 digits, for example SC042386"),
            example="SC042386",
            public_database="https://www.oscr.org.uk/about-charities/search-the-register/register-search",
        ),
        OrgIdList(
            code="GB-NIC",
            register="The Charity Commission for Northern Ireland",
            label=_("Northern Ireland charity number"),
            pattern=re.compile(r"\d{6}"),
            form=_("6 digits, for example 100019 (NIC100019 is taken as 100019)"),
            example="100019",
            public_database="http://www.charitycommissionni.org.uk/charity-search/",
            normalise=_ni_charity,
        ),
        OrgIdList(
            code="GB-COH",
            register="Companies House",
            label=_("company number"),
            # England and Wales companies are 8 digits; others have a two-letter prefix (SC, NI, OC, CE...).
            pattern=re.compile(r"\d{8}|[A-Z]{2}\d{6}"),
            form=_("8 digits, or two letters and 6 digits, for example 09506232 or SC123456"),
            example="09506232",
            public_database="https://www.gov.uk/get-information-about-a-company",
            normalise=_company,
        ),
        OrgIdList(
            code="GB-MPR",
            register="Mutuals Public Register",
            label=_("mutuals register number"),
            # Older societies: digits and a letter (235C); newer ones: letters and digits (IP031455, RS007891).
            pattern=re.compile(r"\d{1,6}[A-Z]{0,2}|[A-Z]{2,3}\d{1,6}"),
            form=_("digits and a letter, or letters and digits, for example 235C or IP031455"),
            example="IP031455",
            public_database="https://mutuals.fca.org.uk/",
        ),
    )
}
CHARITY_LISTS = ("GB-CHC", "GB-SC", "GB-NIC")


@dataclass(frozen=True)
class Identifier:
    """One organisation's number in one list."""

    list: OrgIdList
    number: str

    @property
    def org_id(self) -> str:
        return self.list.org_id(self.number)


def _shown(value: str) -> str:
    """The value as an error message may repeat it: never control characters or a whole essay."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return _("The value given (it holds control characters)")
    if len(value) > 20:
        return _("The value given (%(count)d characters)") % {"count": len(value)}
    return f"“{value}”"


def org_id_list(code: str) -> OrgIdList:
    """The list with this code; a ValidationError naming the lists the portal knows if there is none."""
    found = LISTS.get((code or "").strip().upper())
    if found is None:
        raise ValidationError(
            _("%(code)s is not an identifier list the portal knows: use one of %(codes)s.")
            % {"code": _shown((code or "").strip()), "codes": ", ".join(LISTS)},
            code="org_id_list",
        )
    return found


def charity_list_of(value: str) -> str | None:
    """The one charity register a number's form fits (SC042386 is Scottish), or None when none or
    several fit (6 digits could be England and Wales or Northern Ireland)."""
    fits = [code for code in CHARITY_LISTS if LISTS[code].pattern.fullmatch(LISTS[code].normalise(value))]
    return fits[0] if len(fits) == 1 else None


def _wrong_list(item: OrgIdList, value: str) -> str | None:
    """A charity number typed for the wrong charity register: the register it must belong to."""
    return charity_list_of(value) if item.code in CHARITY_LISTS else None


def validate_number(code: str, value: str) -> None:
    """Raise a ValidationError naming the list and its format if `value` (already normalised) is not a
    number in that list."""
    item = org_id_list(code)
    if len(value) <= MAX_LENGTH and item.pattern.fullmatch(value):
        return
    other = _wrong_list(item, value) if len(value) <= MAX_LENGTH else None
    if other:
        raise ValidationError(
            _(
                "%(value)s is a %(other_label)s (%(other)s), not a number in %(register)s (%(code)s): give it as the %(other_label)s."
            )
            % {
                "value": _shown(value),
                "other": other,
                "other_label": LISTS[other].label,
                "register": item.register,
                "code": item.code,
            },
            code=f"{code.lower()}_wrong_register",
        )
    raise ValidationError(
        _("%(value)s is not a valid %(label)s (%(code)s, %(register)s): use %(form)s.")
        % {
            "value": _shown(value),
            "label": item.label,
            "code": item.code,
            "register": item.register,
            "form": item.form,
        },
        code=code.lower().replace("-", "_"),
    )


def normalise_number(code: str, value: str) -> str:
    return org_id_list(code).normalise(value)


def org_id(scheme: str, value: str) -> str:
    """The org-id for a number in a list: org_id("GB-CHC", "1164883") == "GB-CHC-1164883".
    The number is tidied (spacing, case, a company number's leading zeros) and checked."""
    item = org_id_list(scheme)
    number = item.normalise(value)
    validate_number(item.code, number)
    return item.org_id(number)


_ORG_ID_SHAPE = re.compile(r"([A-Z]{2})-([A-Z0-9]{1,10})-(.*)", re.DOTALL)


def parse_org_id(text: str) -> tuple[str, str]:
    """("GB-CHC", "1164883") for "GB-CHC-1164883"; a ValidationError naming the list and its format
    for an unknown list or a number not in the list's form."""
    compact = (text or "").strip().upper()
    if len(compact) > MAX_LENGTH + 10:
        raise ValidationError(
            _("%(value)s is too long to be an org-id such as GB-CHC-1164883.") % {"value": _shown(compact)},
            code="org_id",
        )
    shape = _ORG_ID_SHAPE.fullmatch(compact)
    if shape is None:
        raise ValidationError(
            _("%(value)s is not an org-id: give the list code, a hyphen and the number, for example GB-CHC-1164883.")
            % {"value": _shown(compact)},
            code="org_id",
        )
    item = org_id_list(f"{shape[1]}-{shape[2]}")
    number = item.normalise(shape[3])
    validate_number(item.code, number)
    return item.code, number
