"""The yearly service review (directory.services.plan_service_review_reminders and the task
sweep_service_reviews): ask the provider's officers, remind after 14 days, tell the network admins
after 28; idempotent; "mark as reviewed" calls the chasers off."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from directory import services
from directory.models import Service
from directory.tasks import sweep_service_reviews
from notifications.models import Reminder
from notifications.services import send_due_reminders
from notifications.tasks import sweep_reminders
from organisations.models import Affiliation
from tests.factories import make_affiliation, make_network_admin, make_organisation, make_service, make_user, term

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    provider = make_organisation(name="Bow Advice Trust", kinds=[term("organisation-kinds", "general")])
    officer = make_user(User.Role.OFFICER, email="officer@bow.example.org")
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    admin = make_network_admin(email="admin@network.example.org")
    today = timezone.localdate()
    stale = make_service(organisation=provider, name="Stale service", last_reviewed_on=today - timedelta(days=400))
    fresh = make_service(organisation=provider, name="Fresh service", last_reviewed_on=today - timedelta(days=30))
    never = make_service(organisation=provider, name="Never reviewed")
    Service.objects.filter(pk=never.pk).update(created_at=timezone.now() - timedelta(days=500))
    make_service(organisation=provider, name="Closed", status=Service.Status.CLOSED, last_reviewed_on=today - timedelta(days=900))
    return {"provider": provider, "officer": officer, "admin": admin, "stale": stale, "fresh": fresh, "never": never, "today": today}


def _plan(today, now):
    return services.plan_service_review_reminders(today=today, now=now)


def test_needs_review_selects_stale_and_never_reviewed_open_services(setup):
    assert set(Service.objects.needs_review().values_list("name", flat=True)) == {"Stale service", "Never reviewed"}
    assert setup["stale"].needs_review and not setup["fresh"].needs_review


def test_sweep_asks_then_reminds_then_escalates(setup):
    now = timezone.now()
    assert _plan(setup["today"], now) == {"asked": 2, "reminded": 0, "escalated": 0}
    asks = Reminder.objects.filter(kind="service-review-ask")
    assert list(asks.values_list("recipients", flat=True)) == [["officer@bow.example.org"]] * 2
    # Planning again plans nothing (unique keys).
    assert _plan(setup["today"], now) == {"asked": 0, "reminded": 0, "escalated": 0}
    # Nothing more until the ask has gone out.
    assert _plan(setup["today"], now + timedelta(days=20)) == {"asked": 0, "reminded": 0, "escalated": 0}
    assert send_due_reminders(now=now) == 2
    assert len(mail.outbox) == 2 and "Please review" in mail.outbox[0].subject
    assert "/services/" in mail.outbox[0].body
    assert _plan(setup["today"], now + timedelta(days=13)) == {"asked": 0, "reminded": 0, "escalated": 0}
    assert _plan(setup["today"], now + timedelta(days=14)) == {"asked": 0, "reminded": 2, "escalated": 0}
    assert _plan(setup["today"], now + timedelta(days=27)) == {"asked": 0, "reminded": 0, "escalated": 0}
    assert _plan(setup["today"], now + timedelta(days=28)) == {"asked": 0, "reminded": 0, "escalated": 2}
    escalation = Reminder.objects.filter(kind="service-review-escalate").first()
    assert escalation.recipients == ["admin@network.example.org"]
    assert _plan(setup["today"], now + timedelta(days=60)) == {"asked": 0, "reminded": 0, "escalated": 0}


def test_marking_reviewed_cancels_chasers_and_stops_planning(setup):
    now = timezone.now()
    _plan(setup["today"], now)
    services.mark_service_reviewed(service=setup["stale"], by=setup["officer"])
    stale_reminders = Reminder.objects.filter(key__startswith=f"service-review:{setup['stale'].pk}:")
    assert set(stale_reminders.values_list("status", flat=True)) == {Reminder.Status.CANCELLED}
    send_due_reminders(now=now)
    assert _plan(setup["today"], now + timedelta(days=30))["escalated"] == 1  # only "Never reviewed"
    assert not Reminder.objects.filter(key__startswith=f"service-review:{setup['stale'].pk}:", status="pending").exists()


def test_a_year_later_the_cycle_starts_again(setup):
    services.mark_service_reviewed(service=setup["stale"], by=setup["officer"], today=setup["today"] - timedelta(days=400))
    setup["stale"].refresh_from_db()
    counts = _plan(setup["today"], timezone.now())
    assert counts["asked"] == 2  # a new key: the review date changed


def test_tasks_plan_and_send(setup, settings):
    assert sweep_service_reviews()["asked"] == 2
    assert sweep_service_reviews()["asked"] == 0
    assert sweep_reminders()["sent"] >= 2
    assert "directory.tasks.sweep_service_reviews" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def test_admin_filter_and_flag(client, setup):
    client.force_login(setup["admin"])
    response = client.get("/admin/directory/service/", {"review": "due"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Stale service" in content and "Never reviewed" in content and "Fresh service" not in content
    assert client.get(f"/admin/directory/service/{setup['stale'].pk}/change/").status_code == 200
    assert client.get("/admin/directory/location/").status_code == 200
