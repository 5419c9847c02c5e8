"""What counts as a page when a test follows every link the portal shows: one visit per URL pattern.
Shared by the phone walk in Chromium (tests/browser/test_every_page.py) and the walk of the embedded
SQLite default (tests/embedded_walk.py)."""

import re

from django.urls import Resolver404, resolve

# Links that are not pages: files and feeds (their own tests read them), the API's JSON, static files.
NOT_PAGES = re.compile(r"(download|export|csv|xlsx|ical|ics|feed|json|file|pdf|status|schema|template)", re.IGNORECASE)
NOT_PAGE_PATHS = ("/static/", "/media/", "/api/v", "/private-files/", "/healthz", "/readyz", "/admin/logout/")
ROLES = [None, "vco.editor", "officer", "funder", "admin"]


def link_pattern(path: str) -> str | None:
    """The URL pattern a path of the portal belongs to, or None for one it does not serve."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if path.startswith("/admin/") and match.route.endswith(("/history/", "/delete/")):
        return match.route.rsplit("/", 2)[-2]  # Django's own pages, the same for every model: one each
    return match.route


def page_pattern(path: str) -> str | None:
    """The URL pattern a path belongs to (one visit each), or None for what is not a page."""
    if path.startswith(NOT_PAGE_PATHS):
        return None
    pattern = link_pattern(path)
    if pattern is None:
        return None
    view_name = resolve(path).view_name or ""
    if NOT_PAGES.search(view_name) or NOT_PAGES.search(path.rsplit("/", 2)[-2] if "/" in path else ""):
        return None
    return pattern
