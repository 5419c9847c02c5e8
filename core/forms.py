"""Form helpers every app's views share."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


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
def charity_number_field() -> forms.CharField:
    return forms.CharField(
        label=_("Charity number"),
        required=False,
        max_length=20,
        help_text=_("Leave empty if you are not a registered charity."),
    )


def company_number_field() -> forms.CharField:
    return forms.CharField(
        label=_("Company number"),
        required=False,
        max_length=20,
        help_text=_("Your Companies House number, if you are a company."),
    )


def postcode_field() -> forms.CharField:
    return forms.CharField(
        label=_("Postcode"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
