"""UK identifiers (and the year founded): validation and normalisation, as model fields so every form
and import shares them."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

POSTCODE_RE = re.compile(r"^(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][A-HJKMNPR-Y0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2})$")
# England and Wales: 6 or 7 digits, optionally a "-N" subsidiary suffix; Scotland SC + 6 digits;
# Northern Ireland NIC + 6 digits (or the older 5-6 digit XN/XR numbers are not accepted here).
CHARITY_NUMBER_RE = re.compile(r"^(\d{6,7}(-\d{1,2})?|SC\d{6}|NIC\d{6})$")
# Companies House: 8 digits, or a two-letter prefix (SC, NI, OC, CE...) followed by 6 digits.
COMPANY_NUMBER_RE = re.compile(r"^(\d{8}|[A-Z]{2}\d{6})$")


def normalise_postcode(value: str) -> str:
    compact = re.sub(r"\s+", "", (value or "").upper())
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def normalise_charity_number(value: str) -> str:
    return re.sub(r"\s+", "", (value or "").upper())


def normalise_company_number(value: str) -> str:
    compact = re.sub(r"\s+", "", (value or "").upper())
    if compact.isdigit() and len(compact) < 8:
        compact = compact.zfill(8)
    return compact


def validate_postcode(value: str) -> None:
    if value and not POSTCODE_RE.match(value):
        raise ValidationError(_("“%(value)s” is not a valid UK postcode, for example E1 6AN."), params={"value": value}, code="postcode")


def validate_charity_number(value: str) -> None:
    if value and not CHARITY_NUMBER_RE.match(value):
        raise ValidationError(
            _("“%(value)s” is not a valid charity number: use 6 or 7 digits (England and Wales), SC and 6 digits, or NIC and 6 digits."),
            params={"value": value},
            code="charity_number",
        )


def validate_company_number(value: str) -> None:
    if value and not COMPANY_NUMBER_RE.match(value):
        raise ValidationError(
            _("“%(value)s” is not a valid company number: use 8 digits, or two letters and 6 digits (for example CE012345)."),
            params={"value": value},
            code="company_number",
        )


def validate_year_not_in_future(value: int) -> None:
    this_year = timezone.localdate().year
    if value is not None and value > this_year:
        raise ValidationError(
            _("The year founded cannot be in the future: give a year up to %(year)s.") % {"year": this_year},
            code="future_year",
        )


class _NormalisedCharField(models.CharField):
    """A CharField that tidies its value (spacing, case) before validating and saving it."""

    normalise = staticmethod(lambda value: value)

    def to_python(self, value):
        value = super().to_python(value)
        return self.normalise(value) if value else value

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value:
            value = self.normalise(value)
            setattr(model_instance, self.attname, value)
        return value


class PostcodeField(_NormalisedCharField):
    normalise = staticmethod(normalise_postcode)
    default_validators = [validate_postcode]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 8)
        super().__init__(*args, **kwargs)


class CharityNumberField(_NormalisedCharField):
    normalise = staticmethod(normalise_charity_number)
    default_validators = [validate_charity_number]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 10)
        super().__init__(*args, **kwargs)


class CompanyNumberField(_NormalisedCharField):
    normalise = staticmethod(normalise_company_number)
    default_validators = [validate_company_number]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 8)
        super().__init__(*args, **kwargs)
