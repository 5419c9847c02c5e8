"""Template tags for pages outside the app that show calendar content (the organisation page)."""

from django import template
from django.conf import settings
from django.urls import reverse

from .. import ical, selectors

register = template.Library()


@register.simple_tag
def organisation_calendar(organisation) -> dict:
    """An organisation's next event dates and current notices, with its subscription link."""
    data = selectors.organisation_upcoming(organisation)
    data["webcal"] = ical.webcal(
        settings.SITE_URL + reverse("calendar_events:feed_organiser", args=[organisation.slug])
    )
    return data
