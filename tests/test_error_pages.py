"""Error pages (issue 16, item 2): 403, 404, 500 and a failed CSRF check each get a page with the site's
header and footer, what happened in plain words, and ways on; never a bare "403 Forbidden"."""

from html import unescape

import pytest
from django.test import Client

from accounts.models import User
from tests.factories import make_user

pytestmark = pytest.mark.django_db

WAYS_ON = ("Go to the front page", "Search the directory of support")


def _page(response) -> str:
    return unescape(response.content.decode())


def _looks_like_the_portal(text: str) -> None:
    assert 'class="portal-header"' in text and 'class="portal-footer' in text, "the site's header and footer"
    for way_on in WAYS_ON:
        assert way_on in text


def test_a_missing_page_says_so_in_plain_words(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    text = _page(response)
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in text and "check you copied the whole address" in text
    assert "Log in, if the page belongs to your organisation" in text
    assert "no-such-page" not in text, "the page reads the same whatever was asked for"
    _looks_like_the_portal(text)


def test_a_refused_funder_is_told_why_and_where_to_go(client, settings):
    settings.DEBUG = False
    funder = make_user(User.Role.FUNDER, username="refused_funder", email="refused@example.org")
    client.force_login(funder)
    response = client.get("/referrals/inbox/")
    text = _page(response)
    assert response.status_code == 403
    assert "403 Forbidden" not in text
    assert "<h1>You cannot use this page</h1>" in text and "You are logged in as refused_funder" in text
    assert "ask a network admin" in text and "See your organisations" in text
    _looks_like_the_portal(text)


def test_a_server_error_has_the_portal_page_drawn_without_the_request(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.error_urls"
    client = Client(raise_request_exception=False)
    response = client.get("/broken-for-tests/")
    text = _page(response)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the portal" in text and "Try again in a few minutes" in text
    _looks_like_the_portal(text)
    assert "RuntimeError" not in text and "a bug" not in text, "no internals on the page"


def test_a_form_without_its_csrf_token_is_explained(settings):
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "someone", "password": "secret"})
    text = _page(response)
    assert response.status_code == 403
    assert "<h1>Your form could not be sent</h1>" in text and "nothing was saved" in text
    assert "reload the page, and send the form again" in text
    _looks_like_the_portal(text)


def test_a_login_failure_is_shown_once(client):
    make_user(username="once", email="once@example.org")
    response = client.post("/accounts/login/", {"username": "once", "password": "not the password"})
    text = _page(response)
    assert response.status_code == 200
    assert text.count("Please enter a correct username") == 1, "in the error summary, not again above the form"
    assert '<h2 class="h5" id="error-summary-title">There is a problem</h2>' in text
