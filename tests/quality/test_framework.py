"""The standards framework: the seeded first version, drafts copied from it, publishing, freezing."""

import pytest
from django.core.exceptions import ValidationError

from quality import selectors, services
from quality.admin import CriterionAdmin
from quality.models import Criterion, FrameworkVersion, Level, SelfAssessment, StandardArea

AREAS = [
    "service-quality", "governance", "leadership", "representation",
    "accountability", "impact-assessment", "workforce-development", "partnership-working",
]


def test_seeded_version_has_eight_areas_each_with_a_baseline_and_two_levels_above(people):
    version = FrameworkVersion.objects.published().get()
    assert list(version.areas.values_list("code", flat=True)) == AREAS
    for area in version.areas.all():
        assert area.diversity, f"{area} says nothing about diversity"
        levels = set(area.criteria.values_list("level", flat=True))
        assert levels == {Level.BASELINE, Level.LEVEL_2, Level.LEVEL_3}
        for criterion in area.criteria.all():
            assert criterion.statement and criterion.guidance and criterion.evidence_expected


def test_new_draft_copies_the_current_version_and_leaves_it_untouched(people):
    current = FrameworkVersion.objects.published().get()
    draft = services.start_draft_version(by=people.admin)
    assert draft.number == current.number + 1 and draft.status == FrameworkVersion.Status.DRAFT
    assert draft.areas.count() == 8
    assert Criterion.objects.filter(area__version=draft).count() == Criterion.objects.filter(area__version=current).count()
    # Editing the draft does not touch the published version.
    criterion = Criterion.objects.get(area__version=draft, code="GOV-B1")
    criterion.statement = "A new wording."
    criterion.save()
    assert Criterion.objects.get(area__version=current, code="GOV-B1").statement != "A new wording."
    with pytest.raises(ValidationError, match="already a draft"):
        services.start_draft_version(by=people.admin)


def test_publishing_freezes_the_draft_and_retires_the_old_version_keeping_assessments_on_it(people):
    old = FrameworkVersion.objects.published().get()
    assessment = services.start_assessment(organisation=people.provider, by=people.officer)
    draft = services.start_draft_version(by=people.admin)
    area = draft.areas.get(code="governance")
    Criterion.objects.create(area=area, level=Level.BASELINE, code="GOV-B3", statement="Trustees declare interests.")
    services.publish_version(version=draft, by=people.admin)

    old.refresh_from_db()
    draft.refresh_from_db()
    assert old.status == FrameworkVersion.Status.RETIRED
    assert draft.status == FrameworkVersion.Status.PUBLISHED and draft.published_by == people.admin
    # The assessment made before stays tied to the version it was made against.
    assessment.refresh_from_db()
    assert assessment.version == old
    assert not assessment.responses.filter(criterion__code="GOV-B3").exists()
    # A new assessment uses the new version, with the new criterion.
    other = services.start_assessment(organisation=people.other_provider, by=people.reviewer)
    assert other.version == draft and other.responses.filter(criterion__code="GOV-B3").exists()
    # Published versions are frozen.
    with pytest.raises(ValidationError, match="frozen"):
        services.ensure_version_editable(draft)
    with pytest.raises(ValidationError, match="Only a draft"):
        services.publish_version(version=draft, by=people.admin)


def test_a_draft_without_a_baseline_in_every_area_is_not_published(people):
    draft = services.start_draft_version(by=people.admin)
    Criterion.objects.filter(area__version=draft, area__code="leadership", level=Level.BASELINE).delete()
    with pytest.raises(ValidationError, match="Leadership has no baseline criterion"):
        services.publish_version(version=draft, by=people.admin)
    draft.refresh_from_db()
    assert draft.status == FrameworkVersion.Status.DRAFT
    assert FrameworkVersion.objects.published().count() == 1


def test_admin_edits_only_draft_criteria(people, rf):
    request = rf.get("/")
    request.user = people.admin
    model_admin = CriterionAdmin(Criterion, None)
    published_criterion = Criterion.objects.filter(area__version__status="published").first()
    assert not model_admin.has_change_permission(request, published_criterion)
    assert not model_admin.has_delete_permission(request, published_criterion)
    draft = services.start_draft_version(by=people.admin)
    assert model_admin.has_change_permission(request, Criterion.objects.filter(area__version=draft).first())


def test_admin_pages_for_the_framework_load(people, client_as):
    client = client_as(people.admin)
    people.admin.is_staff = True
    people.admin.save()
    version = FrameworkVersion.objects.published().get()
    area = StandardArea.objects.filter(version=version).first()
    for url in (
        "/admin/quality/frameworkversion/",
        f"/admin/quality/frameworkversion/{version.pk}/change/",
        f"/admin/quality/standardarea/{area.pk}/change/",
        "/admin/quality/criterion/",
        "/admin/quality/selfassessment/",
        "/admin/quality/badge/",
        "/admin/quality/material/",
        "/admin/quality/healthcheckarea/",
    ):
        assert client.get(url).status_code == 200, url
    # The admin's "start a new draft" action.
    response = client.post(
        "/admin/quality/frameworkversion/", {"action": "start_new_draft", "_selected_action": [version.pk]}, follow=True
    )
    assert response.status_code == 200
    assert FrameworkVersion.objects.filter(status="draft").count() == 1


def test_standards_page_is_public_and_shows_every_area(people, client):
    response = client.get("/quality/")
    assert response.status_code == 200
    for name in ("Service quality", "Governance", "Partnership working", "GOV-B1", "Evidence expected"):
        assert name in response.content.decode()
    assert SelfAssessment.objects.count() == 0


def test_current_areas_are_the_published_versions_in_order(seeded_quality):
    def areas_of_current_version():
        version = selectors.current_version()
        return list(version.areas.order_by("order", "name")) if version else []

    assert selectors.current_areas() == areas_of_current_version() != []
    published = FrameworkVersion.objects.published().get()
    FrameworkVersion.objects.filter(pk=published.pk).update(status=FrameworkVersion.Status.RETIRED)  # one published at a time
    newer = FrameworkVersion.objects.create(number=published.number + 1, status=FrameworkVersion.Status.PUBLISHED)
    StandardArea.objects.create(version=newer, code="b", name="Second", order=2)
    StandardArea.objects.create(version=newer, code="a", name="First", order=1)
    FrameworkVersion.objects.create(number=published.number + 2)  # a draft is not current
    assert [area.code for area in selectors.current_areas()] == ["a", "b"]
    assert selectors.current_areas() == areas_of_current_version()
    FrameworkVersion.objects.update(status=FrameworkVersion.Status.RETIRED)
    assert selectors.current_areas() == areas_of_current_version() == []
