"""Navigation (issue 16, items 7, 8 and 10): a favicon on every page, served by the portal itself, "My
bookings" in the account menu, and the browser tests finding Chromium; the main navigation kept per
section."""

import os
import re
import subprocess
import sys

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.test import RequestFactory

from accounts.models import User
from core.templatetags.portal import MAIN_NAV
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/directory/", "/privacy/", "/no-such-page/"])
def test_every_page_names_the_portals_own_favicon(client, path):
    html = client.get(path).content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert icon and icon.group(1) == "/static/favicon.svg"
    with open(finders.find("favicon.svg")) as favicon:
        assert "<svg" in favicon.read()


def test_my_bookings_is_in_the_account_menu(client):
    client.force_login(make_user(username="booker", email="booker@example.org"))
    menu = client.get("/").content.decode().split('class="dropdown-menu', 1)[1].split("</ul>", 1)[0]
    assert '<a class="dropdown-item" href="/calendar/my/bookings/">My bookings</a>' in menu
    assert client.get("/calendar/my/bookings/").status_code == 200


def test_the_browser_tests_find_chromium_by_portal_chromium_or_on_the_path(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    code = "from tests.conftest import CHROMIUM; print(CHROMIUM)"
    environment = {key: value for key, value in os.environ.items() if key != "PORTAL_CHROMIUM"}

    def chromium(**env) -> str:
        result = subprocess.run(
            [sys.executable, "-c", code],
            env={**environment, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return result.stdout.strip() or result.stderr

    assert chromium(PORTAL_CHROMIUM="/opt/chrome/chrome") == "/opt/chrome/chrome"
    assert chromium(PATH=f"{tmp_path}:{environment['PATH']}") == str(fake)


# The main navigation as base.html wrote it for each request, before it was kept per section: the
# reference the kept navigation is compared with (nav_link given the request's own path).
NAV_PER_REQUEST = Template(
    """{% load i18n portal %}{% with nav_path=request.path signed_in=user.is_authenticated funder=user.is_funder %}
            {% translate "Find support" as label %}{% nav_link "directory:directory" label %}
            {% translate "Organisations" as label %}{% nav_link "organisations:organisation_list" label %}
            {% translate "Networks" as label %}{% nav_link "organisations:network_list" label %}
            {% translate "Calendar" as label %}{% nav_link "calendar_events:event_list" label %}
            {% translate "Materials" as label %}{% nav_link "quality:material_list" label %}
            {% if signed_in %}
            {% if not funder %}{% translate "Referrals" as label %}{% nav_link "referrals:list" label %}{% endif %}
            {% translate "Evidence" as label %}{% nav_link "evidence:index" label %}
            {% else %}
            {% translate "Register" as label %}{% nav_link "organisations:register" label %}
            {% endif %}
            {% endwith %}"""
)


@pytest.mark.parametrize("role", [None, User.Role.VCO_STAFF, User.Role.FUNDER])
def test_the_kept_main_navigation_marks_each_page_as_written_per_request(client, role):
    """base.html keeps the main navigation per section (nav_section) and per signed-in user's kind:
    on the navigation's pages, pages below them, pages below two of them and pages outside, each
    user's navigation is the one written for that very request."""
    if role:
        user = make_user(role=role)
        client.force_login(user)
    else:
        user = AnonymousUser()
    paths = ["/", "/directory/", "/directory/no-such-service/", "/organisations/", "/organisations/register/",
             "/organisations/x/", "/networks/", "/networks/x/", "/calendar/", "/calendar/my/bookings/", "/materials/",
             "/referrals/", "/referrals/1/", "/evidence/", "/evidence/x/", "/privacy/", "/no-such-page/", "/directoryx/", "/accounts/login/"]
    for path in paths * 2:  # the second time from the kept fragments
        response = client.get(path)
        if response.status_code == 302:  # a page for signed-in users: the login page's navigation instead
            path = response.url.split("?", 1)[0]
            response = client.get(path)
        page = response.content.decode()
        kept = page.split('<ul class="navbar-nav me-auto">', 1)[1].split("</ul>", 1)[0]
        request = RequestFactory().get(path)
        written = NAV_PER_REQUEST.render(Context({"request": request, "user": user}))
        assert kept == f"\n            {written}\n          ", path
        assert set(re.findall(r'{% nav_link "([^"]+)"', NAV_PER_REQUEST.source)) == set(MAIN_NAV)
