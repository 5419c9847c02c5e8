"""The statement pages (issue 16, item 3): an accessibility statement, a privacy notice, a cookies page
and a contact page, linked from every page's footer and edited by network admins in the admin."""

from html import unescape

import pytest
from django.urls import reverse

from site_pages.models import SitePage
from tests.factories import make_network_admin, make_user

pytestmark = pytest.mark.django_db

FOOTER_LINKS = {
    "Contact us": "/contact/",
    "Accessibility statement": "/accessibility/",
    "Privacy notice": "/privacy/",
    "Cookies": "/cookies/",
}


def _text(response) -> str:
    return unescape(response.content.decode())


@pytest.mark.parametrize("path", ["/", "/directory/", "/organisations/", "/calendar/", "/no-such-page/"])
def test_every_page_links_the_statements_from_its_footer(client, path):
    footer = _text(client.get(path)).split('class="portal-footer', 1)[1]
    for label, address in FOOTER_LINKS.items():
        assert f'<a href="{address}">{label}</a>' in footer


def test_each_statement_is_there_after_migrate_with_what_it_must_say(client, settings):
    settings.PORTAL_REFERRAL_RETENTION_DAYS = 730
    pages = {kind: _text(client.get(f"/{kind}/")) for kind in SitePage.Kind.values}
    assert "WCAG) version 2.2 at level AA" in pages["accessibility"] and "Reporting accessibility problems" in pages["accessibility"]
    privacy = pages["privacy"]
    assert "removed 730 days after a referral is closed" in privacy, "the retention period comes from the settings"
    assert "{referral_retention_days}" not in privacy
    assert "exported in a" in privacy and "erased" in privacy
    assert "sessionid" in pages["cookies"] and "csrftoken" in pages["cookies"]
    assert "Contact the network's office" in pages["contact"]
    for text in pages.values():
        assert 'class="portal-header"' in text and "Last updated" in text


def test_a_network_admin_edits_a_statement_and_the_page_shows_it(client):
    admin = make_network_admin()
    client.force_login(admin)
    page = SitePage.objects.get(kind="contact")
    change = reverse("admin:site_pages_sitepage_change", args=[page.pk])
    assert client.get(change).status_code == 200
    response = client.post(
        change,
        {"title": "Contact the office", "body": "Email **office@thin.example.org**.\n\n<script>alert(1)</script>"},
    )
    assert response.status_code == 302
    text = _text(client.get("/contact/"))
    assert "<h1>Contact the office</h1>" in text and "<strong>office@thin.example.org</strong>" in text
    assert "<script>alert(1)</script>" not in text, "the text is sanitised like every Markdown field"
    assert page.history.latest().history_user == admin, "who changed what is kept"


def test_statements_cannot_be_added_or_removed_and_others_cannot_edit_them(client):
    client.force_login(make_network_admin())
    assert client.get(reverse("admin:site_pages_sitepage_add")).status_code == 403
    page = SitePage.objects.get(kind="privacy")
    assert client.get(reverse("admin:site_pages_sitepage_delete", args=[page.pk])).status_code == 403
    client.force_login(make_user(is_staff=True))
    assert client.get(reverse("admin:site_pages_sitepage_change", args=[page.pk])).status_code == 403
