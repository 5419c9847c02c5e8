"""The demo joint project loads onto the demo borough's organisations, once."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from evidence.demo import DEMO_PROJECT
from evidence.models import CaseStudy, JointProject, MonitoringReturn
from organisations.demo import DEMO_PROVIDER, DEMO_VCO
from tests.factories import make_organisation, make_user, term

pytestmark = pytest.mark.django_db


def test_load_evidence_demo_is_idempotent(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="load_demo_data"):
        call_command("load_evidence_demo")
    make_organisation(name="Tower Hamlets Voluntary Action", slug=DEMO_PROVIDER, kinds=[term("organisation-kinds", "general")])
    make_organisation(name="Bow Bangladeshi Women's Group", slug=DEMO_VCO)
    make_organisation(name="Another Group")
    make_organisation(name="A Third Group")
    make_user(User.Role.FUNDER, username="funder", email="funder@example.org")
    call_command("load_evidence_demo")
    call_command("load_evidence_demo")
    project = JointProject.objects.get(slug=DEMO_PROJECT)
    assert project.indicators.count() == 4 and project.periods.count() == 4
    assert MonitoringReturn.objects.submitted().count() == 7
    assert CaseStudy.objects.shareable().count() == 1
    assert project.funder_accounts.get().username == "funder"


def test_load_evidence_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("load_evidence_demo")
