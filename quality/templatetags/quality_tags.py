"""Template helpers for quality pages and for the organisation page's badge."""

from django import template

from .. import selectors

register = template.Library()


@register.simple_tag
def quality_badge(organisation):
    """The organisation's current, unexpired badge summary, or None."""
    if organisation is None or not getattr(organisation, "pk", None):
        return None
    return selectors.badge_of(organisation)


@register.filter
def level_name(level: int) -> str:
    from ..models import Level

    return Level(level).label if level in Level.values else ""
