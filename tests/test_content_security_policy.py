"""The Content-Security-Policy header (thin_portal/middleware.py) on every page, and no inline script,
event handler or style anywhere the portal writes HTML, so that a new one fails here rather than in a
browser's console. tests/browser/test_content_security_policy.py checks the pages in Chromium."""

import io
import re
import tokenize
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from django.test import RequestFactory

from tests.factories import make_event, make_organisation, make_service, make_superuser
from thin_portal.middleware import ContentSecurityPolicyMiddleware, policy_header

BASE_DIR = Path(settings.BASE_DIR)
APPS = ["thin_portal", "directory", "referrals", "calendar_events", "quality", "evidence"]
# Emails carry their styles inline (mail clients ignore style sheets) and are never served as pages.
EMAIL_TEMPLATES = {"emails", "registration/password_reset_email.html"}

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*?\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*?\sstyle\s*=", re.IGNORECASE)
STYLE_TAG = re.compile(r"<style\b", re.IGNORECASE)


def inline_code(html: str, *, styles: bool = True) -> list[str]:
    """What in this HTML the policy would refuse: inline scripts (JSON-LD is data, not script), event
    handler attributes, javascript: links and, unless `styles` is off, style attributes and blocks."""
    found = [
        f"inline <script{attributes}>"
        for attributes in SCRIPT_TAG.findall(html)
        if not re.search(r"\ssrc\s*=", attributes) and "application/ld+json" not in attributes
    ]
    checks = [(EVENT_HANDLER, "an on...= event handler"), (JAVASCRIPT_URL, "a javascript: link")]
    if styles:
        checks += [(STYLE_ATTRIBUTE, "a style= attribute"), (STYLE_TAG, "a <style> block")]
    for pattern, what in checks:
        found += [f"{what}: {match.group(0)[:80]!r}" for match in pattern.finditer(html)]
    return found


def _templates():
    for folder in [BASE_DIR / "templates", *(BASE_DIR / app / "templates" for app in APPS)]:
        for path in sorted(folder.rglob("*.html")):
            name = path.relative_to(folder).as_posix()
            yield name, path, not (name in EMAIL_TEMPLATES or name.split("/")[0] in EMAIL_TEMPLATES)


def _python_strings(path: Path):
    """The string literals of a Python file (comments may mention <script> freely)."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [token.string for token in tokens if token.type == tokenize.STRING]


@pytest.mark.parametrize(
    "html",
    [
        '<script>alert(1)</script>',
        '<script type="module">import "x";</script>',
        '<button type="button" onclick="window.print()">',
        '<body onload="start()">',
        '<a href="javascript:void(0)">',
        '<p style="white-space: pre-line">',
        "<style>.x { color: red }</style>",
    ],
)
def test_the_scan_finds_inline_code(html):
    assert inline_code(html)


def test_the_scan_lets_through_what_the_policy_allows():
    html = """<script src="/static/js/print.js" defer></script>
    <script type="application/ld+json">{"@type": "Event"}</script>
    <button type="button" data-print>Print</button><p class="text-pre-line">Online, once a month.</p>"""
    assert inline_code(html) == []


def test_no_template_has_inline_script_or_style():
    problems = {}
    for name, path, served in _templates():
        found = inline_code(path.read_text(), styles=served)
        if found:
            problems[name] = found
    assert problems == {}, "move these to static/js/ or static/css/ (see SECURE_CSP in settings.py)"


def test_no_python_writes_inline_script_or_style():
    problems = {}
    for app in APPS:
        for path in sorted((BASE_DIR / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found = [problem for string in _python_strings(path) for problem in inline_code(string)]
            if found:
                problems[path.relative_to(BASE_DIR).as_posix()] = found
    assert problems == {}


def test_the_policy_allows_no_inline_script_or_eval():
    policy = policy_header(settings.SECURE_CSP)
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert script_src == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"):
        assert directive in policy


@pytest.mark.django_db
def test_every_page_carries_the_policy(client):
    organisation = make_organisation(name="Bow Bangladeshi Women's Group", slug="bow-women")
    service = make_service(name="Funding advice surgery", slug="funding-advice-surgery")
    event = make_event(title="Trustee roles and responsibilities")
    expected = policy_header(settings.SECURE_CSP)
    pages = [
        "/",
        "/directory/",
        "/directory/?q=funding&day=TU",
        "/directory/print/",
        "/organisations/",
        organisation.get_absolute_url(),
        service.get_absolute_url(),
        "/networks/",
        "/calendar/",
        "/calendar/week/",
        "/calendar/month/",
        event.get_absolute_url(),
        "/notices/",
        "/materials/",
        "/quality/",
        "/api/",
        "/register/",
        "/accounts/login/",
        "/admin/login/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == expected, path
    assert client.get("/no-such-page/")["Content-Security-Policy"] == expected

    client.force_login(make_superuser())
    admin_pages = [
        "/admin/",
        "/admin/organisations/organisation/",
        f"/admin/organisations/organisation/{organisation.pk}/change/",
        f"/admin/organisations/organisation/{organisation.pk}/history/",
        "/admin/organisations/organisation/import/",
        "/referrals/inbox/",
        "/evidence/dashboards/",
        "/quality/matrix/",
    ]
    for path in admin_pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == expected, path


def _middleware(response):
    return ContentSecurityPolicyMiddleware(lambda request: response)(RequestFactory().get("/"))


def test_a_view_may_set_its_own_policy():
    own = HttpResponse()
    own["Content-Security-Policy"] = "sandbox"
    assert _middleware(own)["Content-Security-Policy"] == "sandbox"


def test_debug_error_pages_keep_their_inline_styles(settings):
    settings.DEBUG = True
    assert "Content-Security-Policy" not in _middleware(HttpResponseNotFound())
    assert "Content-Security-Policy" in _middleware(HttpResponse())
