"""Form helpers every app's views share."""

from django.core.exceptions import ValidationError


def add_validation_errors(form, error: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form: against the field it names where the form has it
    (`field_map` renames a model field to the form's), otherwise at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        name = (field_map or {}).get(name, name)
        form.add_error(name if name in form.fields else None, errors)
