"""Form helpers every app's views share: dates typed as day, month and year, character counts on long
text, and a service's errors shown on the form."""

import re
from datetime import date, datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import models
from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import org_id
from .parameters import validate_date_in_window
from .widgets import DayMonthYearTimeWidget, DayMonthYearWidget, EnglishDateInput


def add_validation_errors(form, error: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form: against the field it names where the form has it
    (`field_map` renames a model field to the form's), otherwise at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        name = (field_map or {}).get(name, name)
        form.add_error(name if name in form.fields else None, errors)


def model_formfield(model_field, **kwargs):
    """A ModelForm's `formfield_callback`: web addresses typed without a scheme ("www.example.org")
    are taken to be https, as Django 6 will."""
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return model_field.formfield(**kwargs)


# UK identifiers are declared on forms rather than taken from the model so that spacing and case are
# tidied (core.fields.normalise_*) before the length is checked ("e1  6an" is a fine postcode).
_REGISTER_NUMBER_LABELS = {"GB-CHC": _("Charity number (England and Wales)")}
_REGISTER_NUMBER_HELP = {
    "GB-CHC": _("Leave empty if you are not a registered charity in England and Wales."),
    "GB-SC": _("If you are on the Scottish Charity Register (OSCR)."),
    "GB-NIC": _("If you are registered with the Charity Commission for Northern Ireland."),
    "GB-COH": _("Your Companies House number, if you are a company."),
    "GB-MPR": _("If you are a registered society, co-operative, credit union or friendly society."),
}


class _RegisterNumberField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # The list's own check (core.org_id) refuses control characters and overlong values with a
        # message naming the list and its form; the box's length limit stays as its maxlength.
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator | MaxLengthValidator)
        ]


def register_number_field(code: str) -> forms.CharField:
    """A box for a number in one org-id list (core.org_id), e.g. "GB-CHC" for a charity number."""
    item = org_id.LISTS[code]
    return _RegisterNumberField(
        label=_REGISTER_NUMBER_LABELS.get(code, capfirst(item.label)),
        required=False,
        max_length=20,
        help_text=format_lazy("{} {}.", _REGISTER_NUMBER_HELP[code], capfirst(item.form)),
    )


def postcode_field() -> forms.CharField:
    return forms.CharField(
        label=_("Postcode"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )


# Dates -------------------------------------------------------------------------------------------
# Typed as day, month and year in three boxes (core.widgets); every fault is named in plain words.

_MONTH_NAMES = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_MONTHS.update({name[:3]: number for name, number in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_NUMBER_RE = re.compile(r"\d{1,2}", re.ASCII)
_YEAR_RE = re.compile(r"\d{4}", re.ASCII)
_TIME_RE = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*(?:([ap])\.?m\.?)?", re.ASCII | re.IGNORECASE)
_TIME_DIGITS_RE = re.compile(r"(\d{2})(\d{2})", re.ASCII)


def _missing_message(missing: list[str]) -> str:
    parts = {
        ("day",): _("The date must include a day"),
        ("month",): _("The date must include a month"),
        ("year",): _("The date must include a year"),
        ("day", "month"): _("The date must include a day and month"),
        ("day", "year"): _("The date must include a day and year"),
        ("month", "year"): _("The date must include a month and year"),
        ("day", "month", "year"): _("The date must include a day, month and year"),
    }
    return parts[tuple(missing)]


def _typed(value) -> str:
    return "" if value is None else str(value).strip()


def parse_day_month_year(day: str, month: str, year: str) -> date:
    """A date from what was typed in the three boxes (all given), or a ValidationError saying what is
    wrong. The month may be a number or a name ("3", "Mar", "March")."""
    if not _NUMBER_RE.fullmatch(day):
        raise ValidationError(_("Enter a real date: the day must be a number, like 27"), code="invalid_date")
    month_number = int(month) if _NUMBER_RE.fullmatch(month) else _MONTHS.get(month.lower())
    if month_number is None or not 1 <= month_number <= 12:
        raise ValidationError(_("Enter a real date: the month must be a number from 1 to 12"), code="invalid_date")
    if not _YEAR_RE.fullmatch(year):
        raise ValidationError(_("The year must include 4 numbers, like 2027"), code="invalid_year")
    try:
        return date(int(year), month_number, int(day))
    except ValueError:
        raise ValidationError(_("Enter a real date"), code="invalid_date") from None


class DayMonthYearField(forms.Field):
    """A date typed as day, month and year. Dates are kept to the portal's window (1900 to 2200, see
    core.parameters), so a mistyped year is refused with a message rather than reaching arithmetic."""

    widget = DayMonthYearWidget
    default_error_messages = {"required": _("Enter a date")}
    default_validators = [validate_date_in_window]
    parts = ("day", "month", "year")

    def _parts(self, value) -> list[str]:
        typed = list(value) if isinstance(value, list | tuple) else [value]
        typed += [""] * (len(self.parts) - len(typed))
        return [_typed(part) for part in typed[: len(self.parts)]]

    def _date(self, day: str, month: str, year: str) -> date | None:
        missing = [name for name, text in zip(("day", "month", "year"), (day, month, year), strict=True) if not text]
        if missing:
            raise ValidationError(_missing_message(missing), code="incomplete")
        return parse_day_month_year(day, month, year)

    def to_python(self, value):
        if isinstance(value, date):
            return value
        if isinstance(value, str) and value.strip():
            try:  # an initial value or a query parameter written as 2027-03-27
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        day, month, year = self._parts(value)
        if not (day or month or year):
            return None
        return self._date(day, month, year)


class DayMonthYearTimeField(DayMonthYearField):
    """A date typed as day, month and year, and a time as 24-hour HH:MM (14:30; 2:30pm is understood
    too). The result is naive: what the time means (London time) is for the service to decide."""

    widget = DayMonthYearTimeWidget
    default_error_messages = {"required": _("Enter a date and time")}
    default_validators = [lambda moment: validate_date_in_window(moment.date())]
    parts = ("day", "month", "year", "time")

    def to_python(self, value):
        if isinstance(value, datetime):
            return value
        day, month, year, typed_time = self._parts(value)
        if not (day or month or year or typed_time):
            return None
        on = self._date(day, month, year)
        if not typed_time:
            raise ValidationError(_("Enter a time, for example 14:30"), code="incomplete")
        return datetime.combine(on, parse_time_of_day(typed_time))


def parse_time_of_day(text: str) -> time:
    match = _TIME_DIGITS_RE.fullmatch(text) or _TIME_RE.fullmatch(text)
    if match is None:
        raise ValidationError(_("Enter a time as hours and minutes, for example 14:30"), code="invalid_time")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    half = match.group(3).lower() if match.re is _TIME_RE and match.group(3) else None
    if half is not None:
        if not 1 <= hour <= 12:
            raise ValidationError(_("Enter a real time, for example 14:30"), code="invalid_time")
        hour = hour % 12 + (12 if half == "p" else 0)
    elif match.re is _TIME_RE and match.group(2) is None:
        raise ValidationError(_("Enter a time as hours and minutes, for example 14:30"), code="invalid_time")
    if hour > 23 or minute > 59:
        raise ValidationError(_("Enter a real time, for example 14:30"), code="invalid_time")
    return time(hour, minute)


def english_date_field(label, **kwargs) -> forms.DateField:
    """A date in one box as DD/MM/YYYY (2027-03-27 is read too, for addresses written before)."""
    return forms.DateField(
        label=label,
        widget=EnglishDateInput(attrs={"class": "form-control"}),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        validators=[validate_date_in_window],
        error_messages={"invalid": _("Enter a real date as day/month/year, for example 27/03/2027")},
        **kwargs,
    )


# Long text ---------------------------------------------------------------------------------------
# Every long text box says how much it takes and counts down as you type (static/js/character-count.js);
# nothing typed or pasted is cut off by the browser (no maxlength attribute): too long a text is
# refused by the server, with the field's name and its limit.

COUNTED_TEXT_INPUT_FROM = 250  # a one-line box this long or longer is counted too


def _counted(field: forms.Field) -> bool:
    widget = field.widget
    if not isinstance(field, forms.CharField) or not field.max_length or widget.is_hidden:
        return False
    if type(widget).__module__.startswith("django.contrib.admin"):
        return False  # the admin keeps its own widgets
    if isinstance(widget, forms.Textarea):
        return True
    return type(widget) is forms.TextInput and field.max_length >= COUNTED_TEXT_INPUT_FROM


class PortalBoundField(BoundField):
    """A form field as the portal shows it: long text with a character count instead of a maxlength."""

    def __init__(self, form, field, name):
        super().__init__(form, field, name)
        self.counted = _counted(field)
        if self.counted:
            limit = number_format(field.max_length, force_grouping=True)
            field.widget.attrs.pop("maxlength", None)
            field.widget.attrs["data-maxlength"] = str(field.max_length)
            field.error_messages["max_length"] = gettext("%(label)s must be %(limit)s characters or fewer") % {
                "label": str(self.label).replace("%", "%%"),
                "limit": limit,
            }
            count = format_html(
                '<span class="character-count" id="{}_count" data-count-for="{}" aria-live="polite">{}</span>',
                self.auto_id or name,
                self.auto_id or name,
                gettext("You can enter up to %(limit)s characters.") % {"limit": limit},
            )
            self.help_text = format_html("{} {}", self.help_text, count) if self.help_text else count

    @property
    def data(self):
        value = super().data
        # Browsers send a new line as two characters; the count (and the limit) treat it as one.
        if self.counted and isinstance(value, str):
            value = value.replace("\r\n", "\n")
        return value


class PortalFormRenderer(TemplatesSetting):
    """Form widgets rendered with the project's templates (templates/core/widgets/), and fields bound
    as PortalBoundField. Set as FORM_RENDERER."""

    bound_field_class = PortalBoundField


def add_service_problems(form, problems: dict[str, list[str]], field_map: dict[str, str] | None = None) -> None:
    """Show, from a form's clean(), the problems its service would find, beside the form's own errors,
    so that every error is reported at once. A field the form already found wrong keeps its own message."""
    for name, messages in problems.items():
        name = (field_map or {}).get(name, name)
        if name not in form.fields:
            form.add_error(None, messages)
        elif name not in form.errors:
            form.add_error(name, messages)
