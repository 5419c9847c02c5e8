"""A funder account sees only aggregates: every record about a person or a group's request is closed
to it (403), whichever app holds it. The URLs are the other apps' own (by name, with reverse)."""

import uuid

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import make_event, make_organisation, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def funder(db):
    return make_user(User.Role.FUNDER, username="funder", email="funder@example.org")


@pytest.fixture
def referral(db):
    from tests.factories import make_affiliation, term
    from tests.referrals.factories import ask, make_officer, make_provider, make_rule, make_service

    vco = make_organisation(name="Bow Community Gardeners", email="hello@bowgardeners.example.org")
    editor = make_user(username="vco_editor", email="vco-editor@example.org")
    make_affiliation(user=editor, organisation=vco)
    provider = make_provider(name="Tower Hamlets CVS")
    make_officer(provider, username="thcvs_officer", email="officer@thcvs.example.org")
    need = term("needs", "funding-and-fundraising")
    make_service(provider, needs=[need], name="Funding advice")
    make_rule(need, [provider])
    return ask(organisation=vco, by=editor, needs=[need], chosen_provider=provider)


@pytest.fixture
def booking(db):
    from calendar_events.services import book
    from tests.factories import make_provider

    event = make_event(organiser=make_provider(name="Training Hub"), booking_required=True, capacity=10)
    attendee = make_user(username="attendee", email="attendee@example.org", first_name="Ada", last_name="Attendee")
    return book(event=event, occurrence_start=event.start, user=attendee)


def _referral_pages(referral):
    """(method, url) for every page and action of the referrals app."""
    pages = [
        ("get", reverse(name))
        for name in (
            "referrals:list",
            "referrals:ask",
            "referrals:review",
            "referrals:inbox",
            "referrals:figures",
            "referrals:contact_data",
            "referrals:contact_data_export",
        )
    ]
    pages += [
        ("get", reverse("referrals:detail", args=[referral.uuid])),
        ("get", reverse("referrals:feedback", args=[referral.uuid])),
    ]
    pages += [("post", reverse("referrals:feedback", args=[referral.uuid]))]
    pages += [("post", reverse("referrals:act", args=[referral.uuid]))]
    return pages


def test_funder_cannot_open_a_referral(client, funder, referral):
    client.force_login(funder)
    for method, url in _referral_pages(referral):
        response = getattr(client, method)(url, {"version": referral.version})
        assert response.status_code == 403, url
        assert b"asha@example.org" not in response.content and b"Asha Begum" not in response.content
    # The same answer for a referral that does not exist: a funder learns nothing from it.
    assert client.get(reverse("referrals:detail", args=[uuid.uuid4()])).status_code == 403
    referral.refresh_from_db()
    assert referral.status == "with_provider" and list(referral.events.values_list("kind", flat=True)) == [
        "submitted",
        "sent",
    ]


def test_a_funder_linked_to_the_asking_group_is_refused_too(client, funder, referral):
    # Links to organisations do not open referrals to a funder account: the role decides.
    from organisations.models import Affiliation
    from tests.factories import make_affiliation

    make_affiliation(user=funder, organisation=referral.organisation, role=Affiliation.Role.EDITOR)
    make_affiliation(user=funder, organisation=referral.provider, role=Affiliation.Role.OFFICER)
    client.force_login(funder)
    for method, url in _referral_pages(referral):
        data = {"version": referral.version, "accept-version": referral.version}
        assert getattr(client, method)(url, data).status_code == 403, url
    referral.refresh_from_db()
    assert referral.status == "with_provider"


def test_others_still_get_a_404_for_a_referral_that_is_not_theirs(client, referral):
    client.force_login(make_user(username="stranger", email="stranger@example.org"))
    assert client.get(reverse("referrals:detail", args=[referral.uuid])).status_code == 404
    assert client.get(reverse("referrals:feedback", args=[referral.uuid])).status_code == 404


def test_funder_cannot_open_contact_records(client, funder, referral):
    client.force_login(funder)
    assert client.get(reverse("referrals:contact_data")).status_code == 403
    assert client.get(reverse("referrals:contact_data"), {"email": "asha@example.org"}).status_code == 403
    assert client.get(reverse("referrals:contact_data_export"), {"email": "asha@example.org"}).status_code == 403
    # An organisation's private details and change history (contact names, emails, phones).
    organisation = referral.organisation
    assert client.get(reverse("organisations:organisation_edit", args=[organisation.slug])).status_code == 403
    assert client.get(reverse("organisations:organisation_history", args=[organisation.slug])).status_code == 403
    page = client.get(organisation.get_absolute_url()).content.decode()
    assert "hello@bowgardeners.example.org" not in page


def test_funder_cannot_open_bookings(client, funder, booking):
    client.force_login(funder)
    event = booking.event
    response = client.get(reverse("calendar_events:attendees", args=[event.uuid]))
    assert response.status_code == 403
    assert client.get(reverse("calendar_events:attendees", args=[event.uuid]), {"format": "csv"}).status_code == 403
    assert client.post(reverse("calendar_events:cancel_booking", args=[booking.pk])).status_code == 403
    # The funder's own bookings page lists only the funder's own (none), not anyone else's.
    page = client.get(reverse("calendar_events:my_bookings")).content.decode()
    assert "attendee@example.org" not in page and "Ada Attendee" not in page


def test_funder_sees_the_evidence_dashboards_without_personal_data(client, funder, referral, booking):
    client.force_login(funder)
    response = client.get(reverse("evidence:dashboard"))
    assert response.status_code == 200
    content = response.content.decode()
    for personal in ("asha@example.org", "Asha Begum", "020 7946 0001", "attendee@example.org", "Ada Attendee"):
        assert personal not in content
