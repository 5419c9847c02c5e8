"""The terms the dashboards keep per process (taxonomies.selectors.built_from_terms): after every kind of
write to the vocabulary (a term added, renamed, retired, deleted), the next dashboard shows it."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import User
from evidence import selectors
from evidence.selectors import Scope
from referrals import selectors as referral_selectors
from taxonomies.models import Taxonomy, TaxonomyTerm
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _scope() -> Scope:
    return Scope(start=date(2026, 1, 1), end=date(2026, 12, 31))


def _labels(section, key) -> list[str]:
    chart = next(chart for chart in section.charts if chart.key == key)
    return [label for label, _cell in chart.series.rows]


def _new_term(taxonomy: str, code: str, name: str, **extra) -> TaxonomyTerm:
    return TaxonomyTerm.objects.create(taxonomy=Taxonomy.objects.get(code=taxonomy), code=code, name=name, **extra)


@pytest.mark.parametrize(
    ("section", "chart", "taxonomy", "extra"),
    [
        (selectors.organisation_section, "vcos-by-ward", Taxonomy.WARDS, {}),
        (selectors.organisation_section, "vcos-by-segment", Taxonomy.SEGMENTS, {}),
        (selectors.organisation_section, "vcos-by-community", Taxonomy.COMMUNITIES, {}),
        (selectors.event_section, "attendance-by-ward", Taxonomy.WARDS, {}),
    ],
)
def test_each_write_to_a_kept_term_list_shows_on_the_next_dashboard(section, chart, taxonomy, extra):
    assert "Riverside" not in _labels(section(_scope()), chart)  # the list is kept now
    term = _new_term(taxonomy, "riverside", "Riverside", **extra)
    assert "Riverside" in _labels(section(_scope()), chart)
    term.name = "Riverside North"
    term.save()
    assert "Riverside North" in _labels(section(_scope()), chart)
    term.is_active = False
    term.save()
    assert "Riverside North" not in _labels(section(_scope()), chart)
    term.is_active = True
    term.save()
    assert "Riverside North" in _labels(section(_scope()), chart)
    term.delete()
    assert "Riverside North" not in _labels(section(_scope()), chart)


def test_a_new_infrastructure_function_shows_in_provider_coverage():
    parent = TaxonomyTerm.objects.filter(taxonomy__code=Taxonomy.FUNCTIONS, parent__isnull=True).first()
    assert "Mentoring circles" not in _labels(selectors.provider_section(_scope()), "providers-by-function")
    function = _new_term(Taxonomy.FUNCTIONS, "mentoring-circles", "Mentoring circles", parent=parent)
    assert "Mentoring circles" in _labels(selectors.provider_section(_scope()), "providers-by-function")
    function.delete()
    assert "Mentoring circles" not in _labels(selectors.provider_section(_scope()), "providers-by-function")


def test_a_new_or_renamed_need_shows_in_the_referral_figures():
    def needs():
        return [name for name, _n in referral_selectors.referral_statistics(start=date(2026, 1, 1), end=date(2026, 12, 31), ward=None)["by_need"]]

    assert "Help with heating" not in needs()
    need = _new_term(Taxonomy.NEEDS, "help-with-heating", "Help with heating")
    assert "Help with heating" in needs()
    need.name = "Help with heating bills"
    need.save()
    assert "Help with heating bills" in needs() and "Help with heating" not in needs()
    need.is_active = False
    need.save()
    assert "Help with heating bills" not in needs()  # retired, and no referral in the period named it


def test_the_area_choices_follow_the_wards(client):
    client.force_login(make_user(User.Role.FUNDER))
    url = reverse("evidence:dashboard")
    assert "Riverside" not in client.get(url).content.decode()
    ward = _new_term(Taxonomy.WARDS, "riverside", "Riverside")
    assert '<option value="riverside">Riverside</option>' in client.get(url).content.decode()
    response = client.get(url, {"start": "2026-01-01", "end": "2026-12-31", "area": "riverside"})
    assert response.status_code == 200 and response.context["form"].cleaned_data["area"] == ward
    ward.delete()
    assert "Riverside" not in client.get(url).content.decode()
