"""A small world for referral tests: a VCO and its editor, two providers with officers, a network admin."""

from types import SimpleNamespace

import pytest

from accounts.models import User
from organisations.models import Organisation
from tests.factories import make_affiliation, make_network_admin, make_organisation, make_user, term

from .factories import make_officer, make_provider, make_rule, make_service

PASSWORD = "correct horse battery staple"


@pytest.fixture
def world(db):
    vco = make_organisation(
        name="Bow Community Gardeners",
        slug="bow-community-gardeners",
        ward=term("wards", "bow-east"),
        development_stage=Organisation.Stage.EMERGING,
        email="hello@bowgardeners.example.org",
    )
    other_vco = make_organisation(name="Poplar Youth Football", slug="poplar-youth-football")
    editor = make_user(
        username="editor", email="editor@example.org", first_name="Edna", last_name="Editor", password=PASSWORD
    )
    make_affiliation(user=editor, organisation=vco)
    other_editor = make_user(username="other_editor", email="other@example.org", password=PASSWORD)
    make_affiliation(user=other_editor, organisation=other_vco)
    provider = make_provider(name="Tower Hamlets CVS", slug="tower-hamlets-cvs")
    other_provider = make_provider(name="Island Support", slug="island-support")
    officer = make_officer(
        provider,
        username="officer",
        email="officer@example.org",
        first_name="Olu",
        last_name="Officer",
        password=PASSWORD,
    )
    colleague = make_officer(
        provider,
        username="colleague",
        email="colleague@example.org",
        first_name="Cath",
        last_name="Colleague",
        password=PASSWORD,
    )
    other_officer = make_officer(
        other_provider, username="other_officer", email="otherofficer@example.org", password=PASSWORD
    )
    funding = term("needs", "funding-and-fundraising")
    make_service(provider, needs=[funding], name="Funding advice")
    make_service(other_provider, needs=[funding], name="Bid writing clinic")
    rule = make_rule(funding, [provider, other_provider], name="Funding advice")
    return SimpleNamespace(
        vco=vco,
        other_vco=other_vco,
        editor=editor,
        other_editor=other_editor,
        provider=provider,
        other_provider=other_provider,
        officer=officer,
        colleague=colleague,
        other_officer=other_officer,
        funding=funding,
        rule=rule,
        admin=make_network_admin(username="netadmin", email="netadmin@example.org", password=PASSWORD),
        funder=make_user(User.Role.FUNDER, username="funder", email="funder@example.org", password=PASSWORD),
        stranger=make_user(username="stranger", email="stranger@example.org", password=PASSWORD),
    )


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login
