"""Joint projects: periods from the dates, indicators and targets."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from evidence import services
from evidence.models import Indicator, IndicatorTarget, JointProject
from tests.factories import make_joint_project, make_organisation, make_user

pytestmark = pytest.mark.django_db


def test_period_bounds_are_quarters_with_a_short_last_one():
    bounds = services.period_bounds(start=date(2026, 1, 15), end=date(2026, 11, 30), months=3)
    assert bounds == [
        (date(2026, 1, 15), date(2026, 4, 14)),
        (date(2026, 4, 15), date(2026, 7, 14)),
        (date(2026, 7, 15), date(2026, 10, 14)),
        (date(2026, 10, 15), date(2026, 11, 30)),
    ]


def test_period_bounds_refuse_an_end_before_the_start():
    with pytest.raises(ValidationError) as error:
        services.period_bounds(start=date(2026, 5, 1), end=date(2026, 4, 1), months=3)
    assert "end date" in str(error.value)


def test_period_bounds_refuse_absurd_lengths():
    with pytest.raises(ValidationError, match="more than 120"):
        services.period_bounds(start=date(2026, 1, 1), end=date(2226, 1, 1), months=1)


def test_save_project_generates_periods_with_due_dates():
    lead, partner = make_organisation(), make_organisation()
    project = services.save_project(
        project=JointProject(),
        data={
            "title": "Digital Inclusion",
            "lead": lead,
            "start_date": date(2026, 4, 1),
            "end_date": date(2027, 3, 31),
            "aims": "Get groups online.",
            "period_length": 3,
            "return_due_days": 30,
        },
        partners=[partner, lead],  # the lead listed as a partner too: kept once, as lead
        funders=[],
        by=make_user(),
    )
    assert project.slug == "digital-inclusion"
    assert list(project.partners.all()) == [partner]
    periods = list(project.periods.order_by("number"))
    assert [(p.start, p.end, p.due_date) for p in periods] == [
        (date(2026, 4, 1), date(2026, 6, 30), date(2026, 7, 30)),
        (date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 30)),
        (date(2026, 10, 1), date(2026, 12, 31), date(2027, 1, 30)),
        (date(2027, 1, 1), date(2027, 3, 31), date(2027, 4, 30)),
    ]


def test_save_project_with_end_before_start_saves_nothing():
    with pytest.raises(ValidationError) as error:
        services.save_project(
            project=JointProject(),
            data={"title": "Backwards", "lead": make_organisation(), "start_date": date(2026, 5, 1), "end_date": date(2026, 1, 1), "aims": "x"},
            partners=[],
            funders=[],
            by=None,
        )
    assert "end_date" in error.value.error_dict
    assert not JointProject.objects.exists()


def test_save_project_refuses_non_funder_accounts():
    with pytest.raises(ValidationError) as error:
        services.save_project(
            project=JointProject(),
            data={"title": "P", "lead": make_organisation(), "start_date": date(2026, 1, 1), "end_date": date(2026, 3, 1), "aims": "x"},
            partners=[],
            funders=[],
            funder_accounts=[make_user(username="notafunder")],
            by=None,
        )
    assert "notafunder is not a funder account" in str(error.value)
    assert not JointProject.objects.exists()


def test_changing_dates_regenerates_periods_and_targets():
    project = make_joint_project(start_date=date(2026, 1, 1), end_date=date(2026, 6, 30), indicators=[("output", "Sessions", "whole", 5)])
    assert project.periods.count() == 2
    project.end_date = date(2026, 12, 31)
    project.save()
    services.generate_periods(project=project)
    assert project.periods.count() == 4
    # New periods get a target row (0 until set), so the targets page has a box for each.
    assert IndicatorTarget.objects.filter(indicator__project=project).count() == 4


def test_shortening_past_periods_with_returns_is_refused(team):
    from evidence.models import MonitoringReturn

    last = team.project.periods.order_by("-number").first()
    MonitoringReturn.objects.create(project=team.project, period=last, partner=team.partner)
    team.project.end_date = date(2026, 6, 30)
    with pytest.raises(ValidationError, match="already has monitoring returns"):
        services.generate_periods(project=team.project)


def test_new_indicator_gets_its_target_in_every_period(team):
    indicator = services.save_indicator(
        indicator=Indicator(project=team.project),
        data={"kind": "output", "name": "Training sessions", "value_type": "whole", "unit": "sessions", "order": 5},
        target_per_period=Decimal(6),
    )
    assert sorted(indicator.targets.values_list("target", flat=True)) == [6, 6, 6, 6]


def test_whole_number_indicator_refuses_a_fractional_target(team):
    with pytest.raises(ValidationError, match="whole number"):
        services.save_indicator(
            indicator=Indicator(project=team.project),
            data={"kind": "output", "name": "Half sessions", "value_type": "whole"},
            target_per_period=Decimal("2.5"),
        )
    assert not Indicator.objects.filter(name="Half sessions").exists()


def test_set_targets_per_period(team, indicators):
    periods = list(team.project.periods.order_by("number"))
    services.set_targets(project=team.project, targets={(indicators.groups.pk, periods[0].pk): "12", (indicators.groups.pk, periods[1].pk): "8"})
    targets = dict(indicators.groups.targets.values_list("period__number", "target"))
    assert targets == {1: 12, 2: 8, 3: 10, 4: 10}


def test_set_targets_refuses_another_projects_indicator_and_bad_figures(team, indicators):
    other = make_joint_project(indicators=[("output", "Elsewhere", "whole", 1)])
    other_indicator = other.indicators.get()
    period = team.project.periods.first()
    with pytest.raises(ValidationError) as error:
        services.set_targets(
            project=team.project,
            targets={(other_indicator.pk, period.pk): "5", (indicators.confidence.pk, period.pk): "140"},
        )
    messages = error.value.message_dict
    assert "another project" in messages[f"target_{other_indicator.pk}_{period.pk}"][0]
    assert "0 to 100" in messages[f"target_{indicators.confidence.pk}_{period.pk}"][0]
    assert indicators.confidence.targets.get(period=period).target == 60
