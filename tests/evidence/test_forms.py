"""The joint project form: dates typed as day, month and year, every problem at once, long text refused
with its limit and nothing saved."""

from html import unescape

import pytest
from django.urls import reverse

from evidence.models import JointProject
from tests.form_data import date_parts

pytestmark = pytest.mark.django_db


def test_the_project_form_reports_every_problem_at_once(team, client_as):
    client = client_as(team.lead_officer)
    url = reverse("evidence:project_create")
    before = JointProject.objects.count()
    data = {
        "title": "", "lead": team.lead.pk, "partners": [team.partner.pk], **date_parts("start_date", "2026-06-01"),
        "end_date_day": "31", "end_date_month": "", "end_date_year": "2026", "aims": "a" * 5001,
        "other_funders": "f" * 2001, "period_length": 3, "return_due_days": 30,
    }  # fmt: skip
    response = client.post(url, data)
    page = unescape(response.content.decode())
    assert response.status_code == 200
    for message in (
        "This field is required.",
        "The date must include a month",
        "Aims must be 5,000 characters or fewer",
        "must be 2,000 characters or fewer",
    ):
        assert message in page, message
    assert 'href="#id_end_date_0"' in page and 'name="start_date_day" value="1"' in page
    assert JointProject.objects.count() == before
    response = client.post(url, {**data, "title": "Youth Voice", "aims": "Heard.", "other_funders": "",
                                 **date_parts("end_date", "2027-05-31")})  # fmt: skip
    assert response.status_code == 302
    project = JointProject.objects.get(title="Youth Voice")
    assert str(project.start_date) == "2026-06-01" and str(project.end_date) == "2027-05-31"
