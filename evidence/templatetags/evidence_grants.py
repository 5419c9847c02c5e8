"""The "Grants received" section of an organisation's page (registered in evidence/apps.py)."""

from django import template

from ..models import Grant

register = template.Library()

SHOWN = 5


@register.simple_tag
def grants_received(organisation) -> dict:
    """The organisation's latest grants received and how many there are in all (for "show all")."""
    grants = Grant.objects.received_by(organisation)
    latest = list(grants[: SHOWN + 1])
    return {
        "grants": latest[:SHOWN],
        "more": len(latest) > SHOWN,
        "total": grants.count() if len(latest) > SHOWN else len(latest),
    }
