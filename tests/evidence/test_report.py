"""The printable "statistics plus stories" report."""

import pytest
from django.urls import reverse

from accounts.models import User
from evidence import services
from evidence.models import CaseStudy
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def stories(team, indicators):
    monitoring_return = services.return_for(project=team.project, period=team.project.periods.first(), partner=team.partner)

    def story(title, **extra):
        return services.add_case_study(
            monitoring_return=monitoring_return, title=title, subject_description="a group in Bow", story=f"The story of {title}.",
            consent_given=True, consent_how="Signed form", outcome=indicators.funding, by=team.partner_editor, **extra,
        )

    featured = story("Featured story", featured=True)
    plain = story("Plain story")
    withdrawn = story("Withdrawn story", featured=True)
    services.withdraw_consent(case_study=withdrawn)
    unconsented = CaseStudy.objects.create(monitoring_return=monitoring_return, title="Unconsented story", subject_description="x", story="x", featured=True)
    return {"featured": featured, "plain": plain, "withdrawn": withdrawn, "unconsented": unconsented}


def _get(client, **params):
    reader = User.objects.filter(username="report_reader").first() or make_user(User.Role.FUNDER, username="report_reader")
    client.force_login(reader)
    return client.get(reverse("evidence:report"), {"start": "2026-01-01", "end": "2026-12-31", "area": "", **params})


def test_report_combines_figures_with_featured_consented_stories(client, stories):
    content = _get(client).content.decode()
    assert "Statistics plus stories" in content
    assert "Featured story" in content and "The story of Featured story." in content
    assert "Plain story" in content  # offered as a checkbox, not printed
    assert "The story of Plain story." not in content
    for hidden in ("Withdrawn story", "Unconsented story"):
        assert hidden not in content
    assert "VCOs by development stage" in content and "fewer than 5" in content
    assert "is not there" not in content  # sections other apps do not provide are left out of the report


def test_report_prints_the_stories_ticked(client, stories):
    ids = [stories["plain"].pk, stories["withdrawn"].pk, stories["unconsented"].pk]
    response = _get(client, stories=ids)
    content = response.content.decode()
    assert response.status_code == 200
    assert "The story of Plain story." in content
    assert "The story of Featured story." not in content
    # Ticking (or forging) the id of a story without consent prints nothing of it.
    assert "Withdrawn story" not in content and "Unconsented story" not in content


def test_report_shows_only_stories_from_the_area(client, stories, team):
    content = _get(client, area="mile-end").content.decode()
    assert "Featured story" not in content  # the project's organisations are in Bow East and Bow West
    content = _get(client, area="bow-west").content.decode()
    assert "Featured story" in content


def test_report_bad_input(client, stories):
    response = _get(client, start="2026-12-01", end="2026-01-01")
    assert response.status_code == 400 and "is before its start" in response.content.decode()
