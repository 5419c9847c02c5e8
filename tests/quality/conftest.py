"""Fixtures for the quality app: two providers with officers (so one can review the other), a VCO
with an editor, a network admin, a funder; uploaded files kept in a temporary folder."""

from types import SimpleNamespace

import pytest

from accounts.models import User
from organisations.models import Affiliation, Organisation
from tests.factories import make_affiliation, make_network_admin, make_organisation, make_provider, make_user
from tests.people import PASSWORD, client_as  # noqa: F401 (a fixture, used by the tests)


@pytest.fixture(autouse=True)
def quality_files(settings, tmp_path):
    """Evidence and materials go to a temporary folder, never the project's var/ or media/."""
    settings.PRIVATE_FILES_ROOT = tmp_path / "quality-files"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.PRIVATE_FILES_ROOT


@pytest.fixture
def seeded_quality(db):
    """The standard and the questionnaire the data migration seeds. Transactional tests flush the
    database after each test, so they seed again (a no-op when the rows are there)."""
    from quality.models import Criterion, FrameworkVersion, HealthCheckArea, HealthCheckQuestion, StandardArea
    from quality.seed import seed_framework, seed_health_check
    from taxonomies.models import TaxonomyTerm

    seed_framework(FrameworkVersion, StandardArea, Criterion)
    seed_health_check(HealthCheckArea, HealthCheckQuestion, TaxonomyTerm)


@pytest.fixture
def people(db, seeded_quality):
    provider = make_provider(name="Tower Hamlets CVS", slug="tower-hamlets-cvs", email="info@thcvs.example.org")
    other_provider = make_provider(name="Bangla Business Support", slug="bangla-business-support")
    vco = make_organisation(name="Bow Gardeners", slug="bow-gardeners", development_stage=Organisation.Stage.EMERGING)
    officer = make_user(User.Role.OFFICER, username="officer", email="officer@example.org", password=PASSWORD)
    reviewer = make_user(User.Role.OFFICER, username="reviewer", email="reviewer@example.org", password=PASSWORD)
    editor = make_user(username="editor", email="editor@example.org", password=PASSWORD)
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    make_affiliation(user=reviewer, organisation=other_provider, role=Affiliation.Role.OFFICER)
    make_affiliation(user=editor, organisation=vco, role=Affiliation.Role.EDITOR)
    return SimpleNamespace(
        provider=provider,
        other_provider=other_provider,
        vco=vco,
        officer=officer,
        reviewer=reviewer,
        editor=editor,
        admin=make_network_admin(username="netadmin", email="netadmin@example.org", password=PASSWORD),
        funder=make_user(User.Role.FUNDER, username="funder", email="funder@example.org", password=PASSWORD),
        stranger=make_user(username="stranger", email="stranger@example.org", password=PASSWORD),
    )
