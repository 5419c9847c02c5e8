"""Fixtures for the directory's tests: the people around one VCO (tests/people.py), and a small
provider directory for the Open Referral UK API (test_oruk_api, test_oruk_contract)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from directory.models import Service
from organisations.models import Organisation
from tests.factories import (
    make_location,
    make_organisation,
    make_service,
    term,
)
from tests.people import PASSWORD, client_as, media_root, people  # noqa: F401  (fixtures)


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
