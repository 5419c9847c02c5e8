"""Service pages: the public page with its "Ask for support" link, the provider's list of services, the
add and edit forms with places, regular times and contacts, permissions (an officer edits only its own
provider's services), the history page and "mark as reviewed"."""

from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from accounts.models import User
from directory.models import Location, Schedule, Service
from organisations.models import Affiliation, Organisation
from tests.factories import make_affiliation, make_location, make_organisation, make_service, make_user, term

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_service(people):
    return make_service(
        organisation=people.provider,
        name="Funding advice surgery",
        slug="funding-advice-surgery",
        description="Help with grants.",
        needs=[term("needs", "funding-and-fundraising")],
        schedules=[("TU", "10:00", "13:00")],
        locations=[make_location(organisation=people.provider, name="Main office")],
        last_reviewed_on=timezone.localdate() - timedelta(days=400),
    )


def form_data(**overrides) -> dict:
    data = {
        "name": "Payroll bureau",
        "description": "We run payroll for small employers.",
        "status": "active",
        "accepting_referrals": "on",
        "needs": [str(term("needs", "payroll").pk)],
        "functions": [str(term("functions", "consultancy").pk)],
        "serves_stage_2": "on",
        "serves_stage_3": "on",
        "geographic_level": "local",
        "access_self_referral": "on",
        "is_free": "",
        "fee_amount": "12.50",
        "fee_description": "per employee per month",
        "languages": [str(term("languages", "en").pk)],
        "new_location-name": "Bow hub",
        "new_location-address_line_1": "1 Roman Road",
        "new_location-town": "London",
        "new_location-postcode": "e3 5es",
        "new_location-ward": str(term("wards", "bow-east").pk),
        "schedules-TOTAL_FORMS": "2",
        "schedules-INITIAL_FORMS": "0",
        "schedules-MIN_NUM_FORMS": "0",
        "schedules-MAX_NUM_FORMS": "1000",
        "schedules-0-weekday": "TU",
        "schedules-0-opens_at": "10:00",
        "schedules-0-closes_at": "13:00",
        "schedules-0-attending_type": "in_person",
        "schedules-1-attending_type": "in_person",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
        "contacts-0-name": "Amina Rahman",
        "contacts-0-title": "Payroll officer",
        "contacts-0-email": "amina@example.org",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_service_page_shows_everything_and_the_ask_link(client, people, officer_service):
    response = client.get("/services/funding-advice-surgery/")
    assert response.status_code == 200
    content = response.content.decode()
    for text in ("Funding advice surgery", "Tower Hamlets CVS", "Funding and fundraising", "Tuesdays 10:00 to 13:00", "Main office", "free"):
        assert text in content
    ask = urlparse(response.context["ask_url"])
    assert ask.path == "/referrals/ask/"
    assert parse_qs(ask.query) == {"provider": [str(people.provider.uuid)], "service": [str(officer_service.uuid)]}
    assert response.context["ask_url"].replace("&", "&amp;") in content
    # Visitors see no edit controls and no review badge.
    assert "Edit this service" not in content and "Needs review" not in content


def test_closed_service_page_is_private_to_its_provider(client, client_as, people, officer_service):
    Service.objects.filter(pk=officer_service.pk).update(status=Service.Status.CLOSED)
    assert client.get("/services/funding-advice-surgery/").status_code == 404
    assert client_as(people.officer).get("/services/funding-advice-surgery/").status_code == 200


def test_provider_page_lists_its_services(client, client_as, people, officer_service):
    make_service(organisation=people.provider, name="Closed thing", status=Service.Status.CLOSED)
    content = client.get(people.provider.get_absolute_url()).content.decode()
    assert "No services listed yet" not in content
    assert "Funding advice surgery" in content and "Closed thing" not in content
    assert "Ask for support" in content
    officer_view = client_as(people.officer).get(people.provider.get_absolute_url()).content.decode()
    assert "Closed thing" in officer_view
    assert "Needs review" in officer_view and "Add a service" in officer_view


def test_organisation_without_services_keeps_its_empty_state(client, people):
    assert "No services listed yet" in client.get(people.vco.get_absolute_url()).content.decode()


def test_officer_adds_a_service_with_place_times_and_contact(client_as, people):
    client = client_as(people.officer)
    assert client.get(f"/organisations/{people.provider.slug}/services/new/").status_code == 200
    response = client.post(f"/organisations/{people.provider.slug}/services/new/", form_data())
    service = Service.objects.get(name="Payroll bureau")
    assert response.status_code == 302 and response["Location"] == service.get_absolute_url()
    assert service.organisation == people.provider
    assert service.fee_amount == 12.5 and not service.is_free
    assert [str(s) for s in service.schedules.all()] == ["Tuesdays 10:00 to 13:00"]
    location = service.locations.get()
    assert location.postcode == "E3 5ES" and location.organisation == people.provider
    assert service.contacts.get().name == "Amina Rahman"
    assert list(service.needs.values_list("code", flat=True)) == ["payroll"]
    assert service.history.first().history_user == people.officer


def test_edit_keeps_schedule_ids_and_history_shows_the_change(client_as, people, officer_service):
    client = client_as(people.officer)
    schedule = officer_service.schedules.get()
    office = officer_service.locations.get()
    page = client.get("/services/funding-advice-surgery/edit/")
    assert page.status_code == 200
    data = form_data(
        name="Funding advice surgery",
        description="Help with grants and budgets.",
        is_free="on",
        fee_amount="",
        fee_description="",
        locations=[str(office.pk)],
        **{
            "new_location-name": "",
            "new_location-address_line_1": "",
            "new_location-town": "",
            "new_location-postcode": "",
            "new_location-ward": "",
            "schedules-INITIAL_FORMS": "1",
            "schedules-0-id": str(schedule.pk),
            "schedules-0-service": str(officer_service.pk),
            "schedules-0-closes_at": "12:30",
        },
    )
    response = client.post("/services/funding-advice-surgery/edit/", data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    schedule.refresh_from_db()
    assert str(schedule) == "Tuesdays 10:00 to 12:30"
    assert officer_service.schedules.get().uuid == schedule.uuid
    assert Location.objects.filter(organisation=people.provider).count() == 1
    history = client.get("/services/funding-advice-surgery/history/")
    assert history.status_code == 200
    assert "Description" in history.content.decode()


def test_bad_form_shows_errors_and_saves_nothing(client_as, people):
    client = client_as(people.officer)
    data = form_data(
        **{
            "fee_amount": "",
            "fee_description": "",
            "schedules-0-closes_at": "09:00",
            "new_location-postcode": "",
            "minimum_age": "30",
            "maximum_age": "20",
        }
    )
    response = client.post(f"/organisations/{people.provider.slug}/services/new/", data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "There is a problem" in content
    assert "closing time must be after" in content
    assert "Needed for a new place" in content
    assert not Service.objects.filter(name="Payroll bureau").exists()
    assert not Location.objects.filter(name="Bow hub").exists()
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("who", ["editor", "other_editor", "stranger", "funder"])
def test_only_the_providers_people_edit_its_services(client_as, people, officer_service, who):
    client = client_as(getattr(people, who))
    assert client.get("/services/funding-advice-surgery/edit/").status_code == 403
    assert client.post("/services/funding-advice-surgery/edit/", form_data()).status_code == 403
    assert client.get(f"/organisations/{people.provider.slug}/services/new/").status_code == 403
    assert client.post("/services/funding-advice-surgery/reviewed/").status_code == 403
    assert client.get("/services/funding-advice-surgery/history/").status_code == 403


def test_officer_of_another_provider_gets_403(client_as, people, officer_service):
    other_provider = make_organisation(name="Other provider", kinds=[term("organisation-kinds", Organisation.KIND_GENERAL)])
    other_officer = make_user(User.Role.OFFICER)
    make_affiliation(user=other_officer, organisation=other_provider, role=Affiliation.Role.OFFICER)
    client = client_as(other_officer)
    assert client.get("/services/funding-advice-surgery/edit/").status_code == 403
    assert client.post(f"/organisations/{people.provider.slug}/services/new/", form_data()).status_code == 403
    assert not Service.objects.filter(name="Payroll bureau").exists()
    # Its own provider is fine.
    assert client.get(f"/organisations/{other_provider.slug}/services/new/").status_code == 200


def test_anonymous_is_sent_to_log_in(client, officer_service):
    response = client.get("/services/funding-advice-surgery/edit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_network_admin_edits_any_service(client_as, people, officer_service):
    assert client_as(people.admin).get("/services/funding-advice-surgery/edit/").status_code == 200


def test_mark_as_reviewed(client_as, people, officer_service):
    client = client_as(people.officer)
    assert "Needs review" in client.get("/services/funding-advice-surgery/").content.decode()
    response = client.post("/services/funding-advice-surgery/reviewed/")
    assert response.status_code == 302
    officer_service.refresh_from_db()
    assert officer_service.last_reviewed_on == timezone.localdate()
    assert officer_service.last_reviewed_by == people.officer
    assert not officer_service.needs_review
    assert client.get("/services/funding-advice-surgery/reviewed/").status_code == 405


def test_print_view_and_api_guide(client, officer_service):
    content = client.get("/directory/print/", {"need": "funding-and-fundraising"}).content.decode()
    # The print button's handler is in a static script (the Content-Security-Policy allows no inline one).
    assert "Funding advice surgery" in content and "data-print" in content and "js/print.js" in content
    guide = client.get("/api/")
    assert guide.status_code == 200
    assert "/api/oruk/openapi.json" in guide.content.decode()
    assert f"/api/oruk/services/{officer_service.uuid}" in guide.content.decode()


def test_a_service_page_speaks_a_groups_words_about_its_state(client, people):
    service = make_service(organisation=people.provider, status="active", last_reviewed_on=None)
    text = client.get(service.get_absolute_url()).content.decode()
    assert "Running now" in text and ">Active<" not in text
    assert "The provider has not yet checked these details" in text and "Details not reviewed yet" not in text
    service.last_reviewed_on = date(2026, 5, 4)
    service.save()
    text = client.get(service.get_absolute_url()).content.decode()
    assert "The provider last checked these details on 4 May 2026." in text
