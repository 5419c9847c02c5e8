import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_render(team, client_as, indicators):
    client = client_as(team.admin)
    for url in [
        reverse("evidence:index"),
        reverse("evidence:project_list"),
        reverse("evidence:project_create"),
        team.project.get_absolute_url(),
        reverse("evidence:project_edit", args=[team.project.slug]),
        reverse("evidence:indicator_create", args=[team.project.slug]),
        reverse("evidence:indicator_edit", args=[team.project.slug, indicators.groups.pk]),
        reverse("evidence:targets_edit", args=[team.project.slug]),
        reverse("evidence:return_edit", args=[team.project.slug, 1, team.partner.slug]),
        reverse("evidence:case_study_create", args=[team.project.slug, 1, team.partner.slug]),
        reverse("evidence:dashboard"),
        reverse("evidence:report"),
        reverse("evidence:export_list"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url


def test_admin_pages_for_a_network_admin(team, indicators, client_as):
    from evidence import services

    monitoring_return = services.return_for(project=team.project, period=team.project.periods.first(), partner=team.partner)
    services.add_case_study(
        monitoring_return=monitoring_return, title="Story", subject_description="a group", story="x",
        consent_given=True, consent_how="Form", outcome=None, by=team.partner_editor,
    )
    services.request_export(user=team.funder, start=team.project.start_date, end=team.project.end_date, area=None)
    client = client_as(team.admin)
    for model in ("jointproject", "monitoringreturn", "casestudy", "evidenceexport"):
        response = client.get(reverse(f"admin:evidence_{model}_changelist"))
        assert response.status_code == 200, model
    assert client.get(reverse("admin:evidence_jointproject_change", args=[team.project.pk])).status_code == 200
    assert client.get(reverse("admin:evidence_monitoringreturn_change", args=[monitoring_return.pk])).status_code == 200


def test_project_page_queries_do_not_grow_with_returns(team, indicators, client_as, django_assert_max_num_queries):
    from datetime import date

    from evidence import services
    from tests.factories import make_organisation

    client = client_as(team.admin)
    url = team.project.get_absolute_url()
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    # Four more partners, two years of quarterly periods, every return submitted.
    extra = [make_organisation() for _n in range(4)]
    team.project.partners.add(*extra)
    team.project.end_date = date(2027, 12, 31)
    team.project.save()
    services.generate_periods(project=team.project)
    for period in team.project.periods.all():
        for partner in [team.lead, team.partner, *extra]:
            services.save_return(
                monitoring_return=services.return_for(project=team.project, period=period, partner=partner),
                figures={indicators.groups.pk: "3", indicators.funding.pk: "1", indicators.confidence.pk: "50"},
                narrative="", submit=True, by=team.admin,
            )
    with django_assert_max_num_queries(len(before)):
        assert client.get(url).status_code == 200
