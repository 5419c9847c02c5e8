"""Fixtures of people around one VCO: an editor, a plain member, a provider with an officer, a second
VCO, a network admin and a funder, and a logged-in client for any of them. Used by the tests of
accounts, organisations and the directory (imported by their conftest.py)."""

from types import SimpleNamespace

import pytest

from accounts.models import User
from organisations.models import Affiliation, Organisation
from tests.factories import (
    make_affiliation,
    make_network_admin,
    make_organisation,
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
