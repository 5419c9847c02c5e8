"""Navigation (issue 16, items 7 and 8): a favicon on every page, served by the portal itself, and "My
bookings" in the account menu."""

import re

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
