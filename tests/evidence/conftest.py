"""Fixtures for evidence tests: a joint project with a lead, a partner, a funder, and people around it."""

from types import SimpleNamespace

import pytest

from accounts.models import User
from organisations.models import Affiliation, Organisation
from tests.factories import make_affiliation, make_joint_project, make_network_admin, make_organisation, make_user, term


@pytest.fixture
def team(db):
    lead = make_organisation(
        name="Tower Hamlets CVS", slug="tower-hamlets-cvs", email="office@thcvs.example.org",
        kinds=[term("organisation-kinds", Organisation.KIND_GENERAL)], ward=term("wards", "bow-east"),
    )
    partner = make_organisation(name="Bow Women's Group", slug="bow-womens-group", ward=term("wards", "bow-west"))
    outsider = make_organisation(name="Poplar Youth Football", slug="poplar-youth-football")
    funder_org = make_organisation(name="City Bridge Trust", slug="city-bridge-trust")
    lead_officer = make_user(User.Role.OFFICER, username="lead_officer", email="lead@example.org")
    partner_editor = make_user(username="partner_editor", email="partner@example.org")
    partner_member = make_user(username="partner_member", email="member@example.org")
    outsider_editor = make_user(username="outsider_editor", email="outsider@example.org")
    funder = make_user(User.Role.FUNDER, username="funder", email="funder@example.org")
    other_funder = make_user(User.Role.FUNDER, username="other_funder", email="other-funder@example.org")
    make_affiliation(user=lead_officer, organisation=lead, role=Affiliation.Role.OFFICER)
    make_affiliation(user=partner_editor, organisation=partner, role=Affiliation.Role.EDITOR)
    make_affiliation(user=partner_member, organisation=partner, role=Affiliation.Role.MEMBER)
    make_affiliation(user=outsider_editor, organisation=outsider, role=Affiliation.Role.EDITOR)
    make_affiliation(user=funder, organisation=funder_org, role=Affiliation.Role.MEMBER)
    project = make_joint_project(
        title="Stronger Groups",
        slug="stronger-groups",
        lead=lead,
        partners=[partner],
        funders=[funder_org],
        indicators=[
            ("output", "Groups given one-to-one support", "whole", 10),
            ("outcome", "Groups that won new funding", "whole", 4),
            ("outcome", "Groups feeling more confident", "percentage", 60),
        ],
    )
    return SimpleNamespace(
        project=project,
        lead=lead,
        partner=partner,
        outsider=outsider,
        funder_org=funder_org,
        lead_officer=lead_officer,
        partner_editor=partner_editor,
        partner_member=partner_member,
        outsider_editor=outsider_editor,
        funder=funder,
        other_funder=other_funder,
        admin=make_network_admin(username="netadmin", email="netadmin@example.org"),
    )


@pytest.fixture
def indicators(team):
    by_name = {indicator.name: indicator for indicator in team.project.indicators.all()}
    return SimpleNamespace(
        groups=by_name["Groups given one-to-one support"],
        funding=by_name["Groups that won new funding"],
        confidence=by_name["Groups feeling more confident"],
    )


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login
