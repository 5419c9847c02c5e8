"""Overdue monitoring returns are chased by Reminder rows that the directory's sweep sends."""

from datetime import timedelta

import pytest
from django.core import mail

from evidence import services, tasks
from notifications.models import Reminder
from notifications.services import send_due_reminders
from thin_portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def _period(team, number=1):
    return team.project.periods.get(number=number)


def test_nothing_is_planned_before_a_return_is_nearly_due(team):
    period = _period(team)
    assert services.plan_return_reminders(today=period.due_date - timedelta(days=services.DUE_SOON_DAYS + 1)) == 0
    assert not Reminder.objects.exists()


def test_due_soon_then_three_chases_each_once_per_partner(team):
    period = _period(team)
    due = period.due_date
    assert services.plan_return_reminders(today=due - timedelta(days=3)) == 2  # lead and partner
    assert services.plan_return_reminders(today=due - timedelta(days=2)) == 0  # idempotent
    assert services.plan_return_reminders(today=due) == 0  # due today: not overdue yet
    assert services.plan_return_reminders(today=due + timedelta(days=1)) == 2
    assert services.plan_return_reminders(today=due + timedelta(days=4)) == 0
    assert services.plan_return_reminders(today=due + timedelta(days=8)) == 2
    assert services.plan_return_reminders(today=due + timedelta(days=15)) == 2
    # After the third chase the project's lead follows it up in person: no more emails.
    assert services.plan_return_reminders(today=due + timedelta(days=30)) == 0
    keys = set(Reminder.objects.values_list("key", flat=True))
    assert keys == {
        services.return_reminder_key(period.pk, organisation.pk, stage)
        for organisation in (team.lead, team.partner)
        for stage in ("due-soon", "chase-1", "chase-2", "chase-3")
    }


def test_a_submitted_return_is_not_chased(team, indicators):
    period = _period(team)
    monitoring_return = services.return_for(project=team.project, period=period, partner=team.partner)
    services.save_return(
        monitoring_return=monitoring_return,
        figures={indicators.groups.pk: "1", indicators.funding.pk: "0", indicators.confidence.pk: "10"},
        narrative="",
        submit=True,
        by=team.partner_editor,
    )
    assert services.plan_return_reminders(today=period.due_date + timedelta(days=1)) == 1
    reminder = Reminder.objects.get()
    assert reminder.about == team.lead  # the lead has not submitted: still chased


def test_the_directory_sweep_sends_the_chase_to_the_partners_editors(team):
    period = _period(team)
    services.plan_return_reminders(today=period.due_date + timedelta(days=1))
    assert send_due_reminders() == 2
    by_recipient = {tuple(message.to): message for message in mail.outbox}
    partner_mail = by_recipient[("partner@example.org",)]
    assert "overdue" in partner_mail.subject and "Stronger Groups" in partner_mail.subject
    assert f"/evidence/projects/stronger-groups/returns/1/{team.partner.slug}/" in partner_mail.body
    html = partner_mail.alternatives[0][0]
    assert "Fill in the return" in html
    assert ("lead@example.org",) in by_recipient  # the lead's officer
    assert ("member@example.org",) not in by_recipient  # plain members are not contacts


def test_sweep_task_plans_reminders_and_is_in_the_beat_schedule(team, monkeypatch):
    from django.utils import timezone

    period = _period(team)
    monkeypatch.setattr(timezone, "localdate", lambda: period.due_date + timedelta(days=2))
    counts = tasks.sweep_evidence()
    assert counts["return_reminders"] == 2
    assert tasks.sweep_evidence()["return_reminders"] == 0
    entries = [entry for entry in celery_app.conf.beat_schedule.values() if entry["task"].startswith("evidence.")]
    assert [entry["task"] for entry in entries] == ["evidence.tasks.sweep_evidence", "evidence.tasks.record_baseline_coverage"]
