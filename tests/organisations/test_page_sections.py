"""Apps built on the directory add their sections to an organisation's page through directory.hooks."""

import pytest

from tests.factories import make_event, make_provider, make_verified_badge

pytestmark = pytest.mark.django_db


def test_the_organisation_page_shows_its_upcoming_events(client):
    provider = make_provider(name="Bow Training Trust", slug="bow-training-trust")
    event = make_event(organiser=provider, title="Trustee basics workshop")
    text = client.get(provider.get_absolute_url()).content.decode()
    assert "Trustee basics workshop" in text
    assert event.get_absolute_url() in text
    assert "No upcoming events." not in text


def test_the_organisation_page_shows_a_current_quality_badge(client):
    provider = make_provider(name="Poplar Support Hub", slug="poplar-support-hub")
    make_verified_badge(organisation=provider)
    text = client.get(provider.get_absolute_url()).content.decode()
    assert "Verified by peer review" in text


def test_no_badge_section_without_a_badge(client):
    provider = make_provider(name="Mile End Advice", slug="mile-end-advice")
    assert "Verified by peer review" not in client.get(provider.get_absolute_url()).content.decode()
