"""UK identifiers (and the year founded): validation and normalisation, as model fields so every form
and import shares them. Register numbers follow their org-id list (core.org_id)."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import org_id

POSTCODE_RE = re.compile(r"^(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][A-HJKMNPR-Y0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2})$")


def normalise_postcode(value: str) -> str:
    compact = re.sub(r"\s+", "", (value or "").upper())
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def normalise_charity_number(value: str) -> str:
    return org_id.normalise_number("GB-CHC", value)


def normalise_company_number(value: str) -> str:
    return org_id.normalise_number("GB-COH", value)


def validate_postcode(value: str) -> None:
    if value and not POSTCODE_RE.match(value):
        raise ValidationError(
            _("“%(value)s” is not a valid UK postcode, for example E1 6AN."), params={"value": value}, code="postcode"
        )


def _number_validator(code: str):
    def validate(value: str) -> None:
        if value:
            org_id.validate_number(code, value)

    validate.__name__ = f"validate_{code.lower().replace('-', '_')}"
    return validate


validate_charity_number = _number_validator("GB-CHC")
validate_scottish_charity_number = _number_validator("GB-SC")
validate_ni_charity_number = _number_validator("GB-NIC")
validate_company_number = _number_validator("GB-COH")
validate_mutuals_number = _number_validator("GB-MPR")


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


class _RegisterNumberField(_NormalisedCharField):
    """A number in one org-id list (core.org_id): tidied and checked in that list's form."""

    org_id_list = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 10)
        super().__init__(*args, **kwargs)

    def normalise(self, value: str) -> str:
        return org_id.normalise_number(self.org_id_list, value)

    def org_id(self, value: str) -> str:
        return org_id.org_id(self.org_id_list, value) if value else ""


class CharityNumberField(_RegisterNumberField):
    org_id_list = "GB-CHC"
    default_validators = [validate_charity_number]


class ScottishCharityNumberField(_RegisterNumberField):
    org_id_list = "GB-SC"
    default_validators = [validate_scottish_charity_number]


class NICharityNumberField(_RegisterNumberField):
    org_id_list = "GB-NIC"
    default_validators = [validate_ni_charity_number]


class CompanyNumberField(_RegisterNumberField):
    org_id_list = "GB-COH"
    default_validators = [validate_company_number]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 8)
        super().__init__(*args, **kwargs)


class MutualsNumberField(_RegisterNumberField):
    org_id_list = "GB-MPR"
    default_validators = [validate_mutuals_number]
