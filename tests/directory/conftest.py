"""Fixtures for the directory's tests: one person of each kind around one VCO (page tests), and a small
provider directory for the Open Referral UK API (test_oruk_api, test_oruk_contract)."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import timezone

from directory.models import Affiliation, Organisation, Service, User
from tests.factories import (
    make_affiliation,
    make_location,
    make_network_admin,
    make_organisation,
    make_service,
    make_user,
    term,
)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploaded files go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def people(db):
    """A VCO with an editor and a plain member; a provider with an officer; a second VCO with its own
    editor; a network admin, a funder and a VCO staff user linked to nothing."""
    vco = make_organisation(
        name="Bow Community Gardeners",
        slug="bow-community-gardeners",
        email="hello@bowgardeners.org.uk",
        phone="020 7946 0001",
        contact_name="Asha Begum",
        address_line_1="12 Roman Road",
        postcode="E3 5ES",
        premises_accessibility="Step-free entrance.",
        development_stage=Organisation.Stage.IMPROVING,
        ward=term("wards", "bow-east"),
        public_fields=["email"],
        activities="We grow food with neighbours.",
    )
    other_vco = make_organisation(name="Poplar Youth Football", slug="poplar-youth-football")
    provider = make_organisation(
        name="Tower Hamlets CVS",
        slug="tower-hamlets-cvs",
        kinds=[term("organisation-kinds", Organisation.KIND_GENERAL)],
    )
    editor = make_user(
        username="editor", email="editor@example.org", first_name="Edna", last_name="Editor", password=PASSWORD
    )
    member = make_user(username="member", email="member@example.org", password=PASSWORD)
    other_editor = make_user(username="other_editor", email="other@example.org", password=PASSWORD)
    officer = make_user(User.Role.OFFICER, username="officer", email="officer@example.org", password=PASSWORD)
    make_affiliation(user=editor, organisation=vco, role=Affiliation.Role.EDITOR)
    make_affiliation(user=member, organisation=vco, role=Affiliation.Role.MEMBER)
    make_affiliation(user=other_editor, organisation=other_vco, role=Affiliation.Role.EDITOR)
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    return SimpleNamespace(
        vco=vco,
        other_vco=other_vco,
        provider=provider,
        editor=editor,
        member=member,
        other_editor=other_editor,
        officer=officer,
        admin=make_network_admin(username="netadmin", email="netadmin@example.org", password=PASSWORD),
        funder=make_user(User.Role.FUNDER, username="funder", email="funder@example.org", password=PASSWORD),
        stranger=make_user(username="stranger", email="stranger@example.org", password=PASSWORD),
    )


@pytest.fixture
def client_as(client):
    """Log the test client in as someone: client_as(people.editor)."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def fresh_cache():
    """The API's throttle counts live in the cache: the test starts and ends with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def provider():
    return make_organisation(
        name="Bow Advice Trust",
        kinds=[term("organisation-kinds", Organisation.KIND_GENERAL)],
        activities="Advice for groups in Bow.",
        email="info@bowadvice.example.org",
        public_fields=["email"],
        charity_number="1123456",
        website="https://bowadvice.example.org/",
    )


@pytest.fixture
def directory(provider):
    """Three services with distinct terms, ages, times and places."""
    office = make_location(
        organisation=provider,
        name="Bow office",
        postcode="E3 5ES",
        ward=term("wards", "bow-east"),
        latitude=Decimal("51.530000"),
        longitude=Decimal("-0.020000"),
        accessibility="Step-free.",
    )
    far = make_location(
        organisation=provider,
        name="Island hall",
        postcode="E14 3AA",
        ward=term("wards", "island-gardens"),
        latitude=Decimal("51.488000"),
        longitude=Decimal("-0.010000"),
    )
    funding = make_service(
        organisation=provider,
        name="Funding advice surgery",
        description="Help with grant applications and budgets.",
        needs=[term("needs", "funding-and-fundraising")],
        functions=[term("functions", "information-and-advice")],
        languages=[term("languages", "bn")],
        minimum_age=18,
        maximum_age=99,
        locations=[office],
        schedules=[("TU", "10:00", "13:00")],
        url="https://bowadvice.example.org/funding",
        email="funding@bowadvice.example.org",
        last_reviewed_on=timezone.localdate() - timedelta(days=10),
    )
    funding.contacts.create(name="Amina Rahman", title="Adviser", email="amina@example.org", phone="020 7946 0123")
    youth = make_service(
        organisation=provider,
        name="Youth volunteering brokerage",
        description="Matching young volunteers with groups.",
        needs=[term("needs", "volunteers-and-volunteering")],
        communities=[term("communities", "young-people")],
        minimum_age=16,
        maximum_age=25,
        locations=[far],
        schedules=[("TH", "16:00", "18:00")],
        is_free=False,
        fee_amount=Decimal("5.00"),
        fee_description="per session",
        status=Service.Status.PAUSED,
    )
    payroll = make_service(
        organisation=provider,
        name="Payroll bureau",
        description="We run payroll for small employers.",
        needs=[term("needs", "payroll")],
        schedules=[("MO", "09:00", "17:00")],
        accepting_referrals=False,
    )
    return {"funding": funding, "youth": youth, "payroll": payroll, "office": office, "far": far}
