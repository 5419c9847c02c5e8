"""Template filters for emails, whose context is stored as JSON on a Reminder row."""

from datetime import date

from django import template

register = template.Library()


@register.filter
def as_date(value) -> date | None:
    """An ISO date string from a stored context ("2027-03-12") back as a date, for the `date` filter."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None
