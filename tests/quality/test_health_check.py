"""The organisational health check: questions by stage, scoring, refusals, suggestions, the pre-filled
referral link and progress over time."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.exceptions import ValidationError

from quality import selectors, services
from quality.models import HealthCheck, HealthCheckAreaScore
from taxonomies.models import TaxonomyTerm
from tests.factories import make_material, term


def answers_for(stage: int, default: int, **by_area: int) -> dict[int, int]:
    return {q.pk: by_area.get(q.area.code.replace("-", "_"), default) for q in selectors.health_check_questions(stage)}


def test_questions_are_adapted_to_the_stage(people):
    stage_1 = list(selectors.health_check_questions(1))
    stage_3 = list(selectors.health_check_questions(3))
    assert len(stage_1) < len(stage_3)
    areas = {q.area.code for q in stage_1}
    assert areas == {"governance", "finance", "people-and-volunteers", "premises", "ict", "quality", "funding"}
    assert not any("management accounts" in q.text for q in stage_1)
    assert any("management accounts" in q.text for q in stage_3)


def test_scoring_by_area_and_overall(people):
    answers = answers_for(1, 3, finance=0, funding=1)
    check = services.record_health_check(organisation=people.vco, stage=1, answers=answers, by=people.editor)
    scores = {s.area.code: s.score for s in check.scores.select_related("area")}
    assert scores["governance"] == 100 and scores["finance"] == 0 and scores["funding"] == 33
    total = sum(answers.values())
    assert check.overall_score == round(100 * total / (3 * len(answers)))


def test_missing_unknown_and_out_of_range_answers_are_refused_naming_the_question(people):
    answers = answers_for(1, 2)
    first, second = list(answers)[:2]
    with pytest.raises(ValidationError) as refusal:
        services.record_health_check(organisation=people.vco, stage=1, answers={**answers, first: 7, second: None}, by=people.editor)
    errors = refusal.value.message_dict
    assert "must be one of" in errors[f"q{first}"][0] and "Answer" in errors[f"q{second}"][0]
    stage_3_only = next(q for q in selectors.health_check_questions(3) if not q.for_stage_1)
    with pytest.raises(ValidationError, match="not asked at this stage"):
        services.record_health_check(organisation=people.vco, stage=1, answers={**answers, stage_3_only.pk: 1}, by=people.editor)
    with pytest.raises(ValidationError):
        services.record_health_check(organisation=people.vco, stage=4, answers=answers, by=people.editor)
    assert not HealthCheck.objects.exists() and not HealthCheckAreaScore.objects.exists()


def test_weak_areas_get_materials_for_the_stage_and_a_prefilled_referral(people):
    finance_need = term("needs", "community-accountancy-and-finance")
    suited = make_material(title="Bookkeeping for small groups", needs=[finance_need])
    make_material(title="Audit preparation", needs=[finance_need], for_stage_1=False)  # not for stage 1
    make_material(title="Trustee guide", needs=[term("needs", "governance-and-trustees")])
    check = services.record_health_check(
        organisation=people.vco, stage=1, answers=answers_for(1, 3, finance=0, people_and_volunteers=1), by=people.editor
    )
    result = selectors.health_check_result(check, user=people.editor)
    assert [r.area.code for r in result.weak_areas] == ["finance", "people-and-volunteers"]
    suggestions = {area.code: [m.title for m in materials] for area, materials in result.suggestions}
    assert suggestions == {"finance": [suited.title], "people-and-volunteers": []}

    url = urlparse(result.referral_url)
    assert url.path == "/referrals/ask/"
    needs = parse_qs(url.query)["needs"]
    expected = TaxonomyTerm.objects.filter(
        code__in=["community-accountancy-and-finance", "volunteers-and-volunteering", "hr-and-employment-advice"]
    )
    assert sorted(needs) == sorted(str(t.uuid) for t in expected)


def test_repeating_the_check_shows_progress_and_the_evidence_selector_reports_it(people, django_assert_max_num_queries):
    first = services.record_health_check(organisation=people.vco, stage=1, answers=answers_for(1, 1, finance=0), by=people.editor)
    HealthCheck.objects.filter(pk=first.pk).update(completed_at=first.completed_at - timedelta(days=200))
    latest = services.record_health_check(organisation=people.vco, stage=1, answers=answers_for(1, 2, finance=3), by=people.editor)
    result = selectors.health_check_result(latest, user=people.editor)
    finance = next(r for r in result.areas if r.area.code == "finance")
    assert result.previous == first and finance.previous == 0 and finance.change == 100

    with django_assert_max_num_queries(3):
        progress = selectors.health_check_progress()
    assert len(progress) == 1
    row = progress[0]
    assert row.organisation_id == people.vco.pk and row.checks == 2
    assert row.first_scores["finance"] == 0 and row.latest_scores["finance"] == 100
    assert row.overall_change > 0 and "finance" in row.improved_areas
    # One check alone is not progress.
    services.record_health_check(organisation=people.other_provider, stage=2, answers=answers_for(2, 1), by=people.admin)
    assert [p.organisation_id for p in selectors.health_check_progress()] == [people.vco.pk]


def test_health_check_pages(people, client_as):
    client = client_as(people.editor)
    assert client.get("/health-check/").url == f"/health-check/{people.vco.slug}/"
    assert client.get(f"/health-check/{people.vco.slug}/").status_code == 200
    form = client.get(f"/health-check/{people.vco.slug}/take/")
    assert form.status_code == 200 and "Stage 1" in form.content.decode()
    answers = {f"q{pk}": value for pk, value in answers_for(1, 3, finance=0).items()}

    # A hand-made answer out of range: refused, named, nothing saved.
    first = next(iter(answers))
    refused = client.post(f"/health-check/{people.vco.slug}/take/", {**answers, first: "9"})
    assert refused.status_code == 200 and "Choose one of the answers given" in refused.content.decode()
    assert not HealthCheck.objects.exists()

    response = client.post(f"/health-check/{people.vco.slug}/take/", answers)
    check = HealthCheck.objects.get()
    assert response.url == f"/health-check/results/{check.pk}/"
    page = client.get(response.url).content.decode()
    assert "<svg" in page and "<table" in page and "Finance" in page
    assert "/referrals/ask/?needs=" in page

    # Another stage, chosen in the address.
    stage_3 = client.get(f"/health-check/{people.vco.slug}/take/?stage=3")
    assert "Stage 3" in stage_3.content.decode()
    bad_stage = client.get(f"/health-check/{people.vco.slug}/take/?stage=7")
    assert bad_stage.status_code == 200 and "There is a problem" in bad_stage.content.decode()
    choose_again = client.get(f"/health-check/{people.vco.slug}/take/?stage=")
    assert "your stage" in choose_again.content.decode() and "There is a problem" not in choose_again.content.decode()


def test_health_checks_are_private_to_the_organisation(people, client_as):
    check = services.record_health_check(organisation=people.vco, stage=1, answers=answers_for(1, 2), by=people.editor)
    for user in (people.stranger, people.officer, people.funder):
        assert client_as(user).get(f"/health-check/results/{check.pk}/").status_code == 404
        assert client_as(user).get(f"/health-check/{people.vco.slug}/").status_code == 403
