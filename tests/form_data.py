"""Form data for dates as the pages take them: day, month and year boxes (and a time), see core.forms."""

from datetime import date, datetime


def date_parts(name: str, value: date | str) -> dict[str, str]:
    """{"<name>_day": "27", "<name>_month": "3", "<name>_year": "2027"}; a string is read as YYYY-MM-DD."""
    value = date.fromisoformat(value) if isinstance(value, str) else value
    return {f"{name}_day": str(value.day), f"{name}_month": str(value.month), f"{name}_year": str(value.year)}


def date_time_parts(name: str, value: datetime | str) -> dict[str, str]:
    """The date boxes and "<name>_time" as HH:MM; a string is read as YYYY-MM-DDTHH:MM."""
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return {**date_parts(name, value.date()), f"{name}_time": f"{value:%H:%M}"}


def event_times(starts: datetime | str, ends: datetime | str) -> dict[str, str]:
    return {**date_time_parts("starts", starts), **date_time_parts("ends", ends)}
