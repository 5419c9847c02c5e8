"""Who may see and change joint projects, and the pages' answers (403s) for everyone else."""

import pytest
from django.urls import reverse

from accounts.permissions import can
from evidence import selectors, services
from evidence.models import MonitoringReturn
from tests.form_data import date_parts

pytestmark = pytest.mark.django_db


def test_rules(team):
    project = team.project
    period = project.periods.first()
    partner_return = MonitoringReturn(project=project, period=period, partner=team.partner)
    lead_return = MonitoringReturn(project=project, period=period, partner=team.lead)
    assert can(team.lead_officer, "evidence.view_project", project)
    assert can(team.lead_officer, "evidence.change_project", project)
    assert can(team.lead_officer, "evidence.submit_return", partner_return)  # the lead chases and corrects
    assert can(team.partner_editor, "evidence.view_project", project)
    assert not can(team.partner_editor, "evidence.change_project", project)
    assert can(team.partner_editor, "evidence.submit_return", partner_return)
    assert not can(team.partner_editor, "evidence.submit_return", lead_return)
    assert not can(team.partner_member, "evidence.view_project", project)  # members are not editors
    assert not can(team.outsider_editor, "evidence.view_project", project)
    # Funders of the project read it and nothing more.
    assert can(team.funder, "evidence.view_project", project)
    assert not can(team.funder, "evidence.change_project", project)
    assert not can(team.funder, "evidence.submit_return", partner_return)
    assert not can(team.funder, "evidence.create_project")
    assert not can(team.other_funder, "evidence.view_project", project)
    project.funder_accounts.add(team.other_funder)
    assert can(team.other_funder, "evidence.view_project", project)
    # Network admins everything.
    assert can(team.admin, "evidence.change_project", project) and can(team.admin, "evidence.submit_return", lead_return)
    # Dashboards: funders and officers.
    assert can(team.funder, "evidence.view_dashboards") and can(team.lead_officer, "evidence.view_dashboards")
    assert not can(team.partner_editor, "evidence.view_dashboards")


def test_project_list_shows_only_readable_projects(team):
    assert list(selectors.projects_for(team.funder)) == [team.project]
    assert list(selectors.projects_for(team.partner_editor)) == [team.project]
    assert list(selectors.projects_for(team.outsider_editor)) == []
    assert list(selectors.projects_for(team.other_funder)) == []
    assert list(selectors.projects_for(team.admin, q="stronger")) == [team.project]
    assert list(selectors.projects_for(team.admin, q="nothing like it")) == []


def _urls(team):
    slug, partner = team.project.slug, team.partner.slug
    return {
        "detail": reverse("evidence:project_detail", args=[slug]),
        "edit": reverse("evidence:project_edit", args=[slug]),
        "indicator": reverse("evidence:indicator_create", args=[slug]),
        "targets": reverse("evidence:targets_edit", args=[slug]),
        "return": reverse("evidence:return_edit", args=[slug, 1, partner]),
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", {"detail": 200, "edit": 200, "indicator": 200, "targets": 200, "return": 200}),
        ("lead_officer", {"detail": 200, "edit": 200, "indicator": 200, "targets": 200, "return": 200}),
        ("partner_editor", {"detail": 200, "edit": 403, "indicator": 403, "targets": 403, "return": 200}),
        ("funder", {"detail": 200, "edit": 403, "indicator": 403, "targets": 403, "return": 403}),
        ("other_funder", {"detail": 403, "edit": 403, "indicator": 403, "targets": 403, "return": 403}),
        ("outsider_editor", {"detail": 403, "edit": 403, "indicator": 403, "targets": 403, "return": 403}),
        ("partner_member", {"detail": 403, "edit": 403, "indicator": 403, "targets": 403, "return": 403}),
    ],
)
def test_project_pages_answer_each_person(team, client_as, who, expected):
    client = client_as(getattr(team, who))
    answers = {name: client.get(url).status_code for name, url in _urls(team).items()}
    assert answers == expected
    # Looking is not enough to make a draft return for someone who may not submit it.
    if expected["return"] == 403:
        assert not MonitoringReturn.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(team, client):
    for url in _urls(team).values():
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_funder_reads_figures_and_consented_stories_but_no_narrative(team, indicators, client_as):
    period = team.project.periods.first()
    monitoring_return = services.return_for(project=team.project, period=period, partner=team.partner)
    services.save_return(
        monitoring_return=monitoring_return,
        figures={indicators.groups.pk: "9", indicators.funding.pk: "3", indicators.confidence.pk: "70"},
        narrative="Our coordinator Jane Smith (07700 900123) ran the sessions.",
        submit=True,
        by=team.partner_editor,
    )
    services.add_case_study(
        monitoring_return=monitoring_return, title="A new group finds its feet", subject_description="a tenants' group",
        story="They met weekly.", consent_given=True, consent_how="Signed form", outcome=None, by=team.partner_editor,
    )
    response = client_as(team.funder).get(team.project.get_absolute_url())
    content = response.content.decode()
    assert response.status_code == 200
    assert "A new group finds its feet" in content
    assert "Jane Smith" not in content and "07700" not in content
    assert "Outputs: what was done" in content and "Outcomes: what changed" in content
    assert "Target 10" in content and "Actual 9" in content  # the chart's labels
    assert "Fill in" not in content  # no way in to the returns


def test_project_create_form_and_bad_dates(team, client_as):
    client = client_as(team.lead_officer)
    url = reverse("evidence:project_create")
    data = {
        "title": "Youth Voice", "lead": team.lead.pk, "partners": [team.partner.pk], **date_parts("start_date", "2026-06-01"),
        **date_parts("end_date", "2026-01-01"), "aims": "Young people heard.", "period_length": 3, "return_due_days": 30,
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "The end date must be on or after the start date." in response.content.decode()
    # A lead the officer does not work for is not on offer.
    response = client.post(url, {**data, **date_parts("end_date", "2026-12-31"), "lead": team.outsider.pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(url, {**data, **date_parts("end_date", "2026-12-31")})
    assert response.status_code == 302
    # Funders and plain VCO staff cannot start one.
    assert client_as(team.funder).get(url).status_code == 403
