"""The monitoring workflow: drafts, submission, bad figures, case studies and their consent."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from evidence import selectors, services
from evidence.models import CaseStudy, MonitoringReturn, ReturnFigure
from tests.factories import make_joint_project

pytestmark = pytest.mark.django_db


def _return(team, number=1, partner=None):
    period = team.project.periods.get(number=number)
    return services.return_for(project=team.project, period=period, partner=partner or team.partner)


def test_a_partner_saves_a_draft_then_submits(team, indicators):
    monitoring_return = _return(team)
    services.save_return(
        monitoring_return=monitoring_return, figures={indicators.groups.pk: "7"}, narrative="Going well.", submit=False, by=team.partner_editor
    )
    monitoring_return.refresh_from_db()
    assert monitoring_return.status == MonitoringReturn.Status.DRAFT
    # Drafts do not count towards the project's actuals.
    progress = selectors.indicator_progress(team.project)
    assert progress["outputs"][0].rows[0][2] is None

    services.save_return(
        monitoring_return=monitoring_return,
        figures={indicators.funding.pk: "2", indicators.confidence.pk: "75%"},
        narrative="Going well.",
        submit=True,
        by=team.partner_editor,
    )
    monitoring_return.refresh_from_db()
    assert monitoring_return.status == MonitoringReturn.Status.SUBMITTED
    assert monitoring_return.submitted_by == team.partner_editor
    assert dict(monitoring_return.figures.values_list("indicator__name", "value")) == {
        "Groups given one-to-one support": Decimal(7),
        "Groups that won new funding": Decimal(2),
        "Groups feeling more confident": Decimal(75),
    }


def test_submitting_needs_every_figure(team, indicators):
    monitoring_return = _return(team)
    with pytest.raises(ValidationError) as error:
        services.save_return(monitoring_return=monitoring_return, figures={indicators.groups.pk: "3"}, narrative="", submit=True, by=team.partner_editor)
    messages = error.value.message_dict
    assert "give a figure before submitting" in messages[f"figure_{indicators.funding.pk}"][0]
    monitoring_return.refresh_from_db()
    assert monitoring_return.status == MonitoringReturn.Status.DRAFT
    assert not ReturnFigure.objects.exists()  # nothing half-saved


@pytest.mark.parametrize(
    ("indicator_name", "value", "message"),
    [
        ("groups", "2.5", "give a whole number"),
        ("groups", "seven", "is not a number"),
        ("groups", "-1", "cannot be negative"),
        ("confidence", "120", "from 0 to 100"),
        ("funding", "NaN", "give a number"),
    ],
)
def test_figures_of_the_wrong_type_are_refused_with_the_indicator_named(team, indicators, indicator_name, value, message):
    indicator = getattr(indicators, indicator_name)
    monitoring_return = _return(team)
    with pytest.raises(ValidationError) as error:
        services.save_return(monitoring_return=monitoring_return, figures={indicator.pk: value}, narrative="", submit=False, by=team.partner_editor)
    text = error.value.message_dict[f"figure_{indicator.pk}"][0]
    assert message in text and indicator.name in text
    assert not ReturnFigure.objects.exists()


def test_an_indicator_of_another_project_is_refused(team, indicators):
    other = make_joint_project(title="Another Project", indicators=[("output", "Meals served", "whole", 100)])
    foreign = other.indicators.get()
    monitoring_return = _return(team)
    with pytest.raises(ValidationError) as error:
        services.save_return(
            monitoring_return=monitoring_return,
            figures={indicators.groups.pk: "4", foreign.pk: "50"},
            narrative="",
            submit=False,
            by=team.partner_editor,
        )
    assert "\u201cMeals served\u201d belongs to another project (Another Project), not to Stronger Groups" in str(error.value)
    assert not ReturnFigure.objects.exists()


def test_return_for_refuses_an_organisation_outside_the_project(team):
    period = team.project.periods.first()
    with pytest.raises(ValidationError, match="not a partner"):
        services.return_for(project=team.project, period=period, partner=team.outsider)


def test_actuals_add_up_submitted_returns_and_average_percentages(team, indicators):
    for partner, groups, confidence in ((team.partner, "7", "80"), (team.lead, "5", "60")):
        services.save_return(
            monitoring_return=_return(team, partner=partner),
            figures={indicators.groups.pk: groups, indicators.funding.pk: "1", indicators.confidence.pk: confidence},
            narrative="",
            submit=True,
            by=team.admin,
        )
    progress = selectors.indicator_progress(team.project)
    assert [item.indicator.name for item in progress["outputs"]] == ["Groups given one-to-one support"]
    assert [item.indicator.name for item in progress["outcomes"]] == ["Groups that won new funding", "Groups feeling more confident"]
    groups = progress["outputs"][0]
    assert [(target, actual) for _period, target, actual in groups.rows] == [(10, 12), (10, None), (10, None), (10, None)]
    assert groups.total_target == 40 and groups.total_actual == 12
    confidence = progress["outcomes"][1]
    assert confidence.rows[0][2] == Decimal("70.0")


def test_case_studies_need_consent_and_withdrawal_hides_them_everywhere(team, indicators):
    monitoring_return = _return(team)
    with pytest.raises(ValidationError) as error:
        services.add_case_study(
            monitoring_return=monitoring_return, title="Aisha's group", subject_description="a new group",
            story="...", consent_given=False, consent_how="", outcome=None, by=team.partner_editor,
        )
    assert "consent" in str(error.value)
    assert not CaseStudy.objects.exists()

    with pytest.raises(ValidationError) as error:
        services.add_case_study(
            monitoring_return=monitoring_return, title="T", subject_description="a group", story="...",
            consent_given=True, consent_how="", outcome=None, by=team.partner_editor,
        )
    assert "consent_how" in error.value.message_dict

    with pytest.raises(ValidationError) as error:
        services.add_case_study(
            monitoring_return=monitoring_return, title="T", subject_description="a group", story="...",
            consent_given=True, consent_how="Signed form", outcome=indicators.groups, by=team.partner_editor,
        )
    assert "outcome" in error.value.message_dict  # an output is not an outcome

    study = services.add_case_study(
        monitoring_return=monitoring_return, title="From a kitchen table to a charity", subject_description="a residents' group in Bow",
        story="They **won** funding.", consent_given=True, consent_how="Signed form, 3 May", outcome=indicators.funding,
        by=team.partner_editor, featured=True,
    )
    assert list(selectors.shareable_case_studies(project=team.project)) == [study]
    services.withdraw_consent(case_study=study)
    assert list(selectors.shareable_case_studies(project=team.project)) == []
    # Even stored without consent by a bypass of the service, the selector does not show it.
    CaseStudy.objects.create(monitoring_return=monitoring_return, title="No consent", subject_description="x", story="x")
    assert list(selectors.shareable_case_studies(project=team.project)) == []


def test_return_form_shows_errors_and_keeps_nothing(team, indicators, client_as):
    client = client_as(team.partner_editor)
    url = reverse("evidence:return_edit", args=[team.project.slug, 1, team.partner.slug])
    response = client.post(
        url,
        {f"figure_{indicators.groups.pk}": "2.5", f"figure_{indicators.funding.pk}": "1", f"figure_{indicators.confidence.pk}": "50", "narrative": "x", "submit": "1"},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "There is a problem" in content and "give a whole number, not 2.5" in content
    assert not ReturnFigure.objects.exists()

    response = client.post(
        url,
        {f"figure_{indicators.groups.pk}": "3", f"figure_{indicators.funding.pk}": "1", f"figure_{indicators.confidence.pk}": "50", "narrative": "x", "submit": "1"},
    )
    assert response.status_code == 302
    assert MonitoringReturn.objects.get().status == MonitoringReturn.Status.SUBMITTED


def test_case_study_page_records_consent(team, indicators, client_as):
    client = client_as(team.partner_editor)
    _return(team)
    url = reverse("evidence:case_study_create", args=[team.project.slug, 1, team.partner.slug])
    response = client.post(url, {"title": "A story", "subject_description": "a group", "story": "Text", "consent_how": "Form"})
    assert response.status_code == 200 and "only be recorded with its subject" in response.content.decode()
    assert not CaseStudy.objects.exists()
    response = client.post(
        url, {"title": "A story", "subject_description": "a group", "story": "Text", "consent_given": "on", "consent_how": "Form", "outcome": indicators.funding.pk}
    )
    assert response.status_code == 302
    study = CaseStudy.objects.get()
    assert study.is_shareable and study.consent_recorded_by == team.partner_editor
    response = client.post(reverse("evidence:case_study_withdraw", args=[study.pk]))
    assert response.status_code == 302
    study.refresh_from_db()
    assert not study.is_shareable


def test_a_submitted_return_cannot_be_changed_until_reopened(team, indicators):
    monitoring_return = _return(team)
    figures = {indicators.groups.pk: "3", indicators.funding.pk: "1", indicators.confidence.pk: "50"}
    services.save_return(monitoring_return=monitoring_return, figures=figures, narrative="", submit=True, by=team.partner_editor)
    with pytest.raises(ValidationError, match="already submitted"):
        services.save_return(monitoring_return=monitoring_return, figures={indicators.groups.pk: "30"}, narrative="", submit=False, by=team.partner_editor)
    assert monitoring_return.figures.get(indicator=indicators.groups).value == 3
    services.reopen_return(monitoring_return=monitoring_return)
    services.save_return(monitoring_return=monitoring_return, figures={indicators.groups.pk: "4"}, narrative="Corrected", submit=True, by=team.partner_editor)
    monitoring_return.refresh_from_db()
    assert monitoring_return.status == MonitoringReturn.Status.SUBMITTED
    assert monitoring_return.figures.get(indicator=indicators.groups).value == 4
