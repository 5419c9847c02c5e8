"""Reads for the statement pages."""

from django.conf import settings
from django.utils.safestring import SafeString

from core.text import render_markdown

from .models import SitePage

# What a page's text may name in braces, and what it becomes.
PLACEHOLDERS = {"referral_retention_days": lambda: str(settings.PORTAL_REFERRAL_RETENTION_DAYS)}


def page_of_kind(kind: str) -> SitePage | None:
    return SitePage.objects.filter(kind=kind).first()


def page_html(page: SitePage) -> SafeString:
    """The page's Markdown as safe HTML, with the placeholders filled in (a brace that names nothing
    known is left as it is)."""
    text = page.body
    for name, value in PLACEHOLDERS.items():
        text = text.replace("{" + name + "}", value())
    return render_markdown(text)
