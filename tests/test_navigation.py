"""Navigation (issue 16, items 7, 8 and 10): a favicon on every page, served by the portal itself, "My
bookings" in the account menu, and the browser tests finding Chromium."""

import os
import re
import subprocess
import sys

import pytest
from django.contrib.staticfiles import finders

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
