"""Accounts: log in (by username or email), log out, password reset by email, password change."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.people import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_login_page_is_labelled_and_titled(client):
    html = client.get(reverse("login")).content.decode()
    assert "<title>Log in – THIN Community Portal</title>" in html
    assert 'for="id_username"' in html and 'for="id_password"' in html
    assert reverse("password_reset") in html


@pytest.mark.parametrize("username", ["editor", "editor@example.org", "EDITOR@EXAMPLE.ORG"])
def test_log_in_with_username_or_email(client, people, username):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == people.editor


def test_a_wrong_password_is_refused_with_an_error_summary(client, people):
    response = client.post(reverse("login"), {"username": "editor", "password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "<title>Error: Log in – THIN Community Portal</title>" in html


def test_login_returns_to_the_page_asked_for(client, people):
    edit_url = reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug})
    response = client.post(reverse("login"), {"username": "editor", "password": PASSWORD, "next": edit_url})
    assert response["Location"] == edit_url


def test_log_out_is_a_post(client, people):
    client.force_login(people.editor)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).context["user"].is_authenticated
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_password_reset_email_has_a_working_absolute_link(client, people, settings):
    settings.SITE_URL = "https://portal.example.org"
    response = client.post(reverse("password_reset"), {"email": "editor@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["editor@example.org"]
    assert "Reset your password" in message.subject
    links = re.findall(r"https://portal\.example\.org(/accounts/reset/\S+/)", message.body)
    assert len(links) == 1
    html_body = message.alternatives[0][0]
    assert f'href="https://portal.example.org{links[0]}"' in html_body

    # Following the link leads to the "choose a new password" form, which works.
    response = client.get(links[0], follow=True)
    assert response.status_code == 200 and response.context["validlink"]
    set_password_url = response.redirect_chain[-1][0]
    response = client.post(
        set_password_url, {"new_password1": "a brand new passphrase 77", "new_password2": "a brand new passphrase 77"}
    )
    assert response["Location"] == reverse("password_reset_complete")
    people.editor.refresh_from_db()
    assert people.editor.check_password("a brand new passphrase 77")
    # The link works once only.
    assert not client.get(links[0], follow=True).context["validlink"]


def test_the_reset_link_ignores_a_forged_host_header(client, people, settings):
    settings.SITE_URL = "https://portal.example.org"
    settings.ALLOWED_HOSTS = ["portal.example.org", "evil.example"]
    client.post(reverse("password_reset"), {"email": "editor@example.org"}, HTTP_HOST="evil.example")
    assert "evil.example" not in mail.outbox[0].body
    assert "https://portal.example.org/accounts/reset/" in mail.outbox[0].body


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, people):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_password_change(client, people):
    client.force_login(people.editor)
    html = client.get(reverse("password_change")).content.decode()
    assert "<title>Change your password – THIN Community Portal</title>" in html
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another fine passphrase 9",
            "new_password2": "another fine passphrase 9",
        },
    )
    assert response["Location"] == reverse("password_change_done")
    people.editor.refresh_from_db()
    assert people.editor.check_password("another fine passphrase 9")


def test_password_change_needs_a_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
