"""The referral sweep: reminders to officers, escalation to network admins, anonymisation.
All database-driven and idempotent."""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Reminder
from notifications.services import send_due_reminders
from referrals import services, tasks
from referrals.models import Feedback, Referral

from .factories import ask


def at(*args):
    return timezone.make_aware(datetime(*args))


@pytest.fixture
def sent_before_christmas(world):
    # Sent Wed 23 Dec 2026: reply due by the end of Mon 4 Jan 2027; escalation on Wed 6 Jan.
    return ask(
        organisation=world.vco,
        by=world.editor,
        needs=[world.funding],
        chosen_provider=world.provider,
        now=at(2026, 12, 23, 10),
    )


def chases():
    return Reminder.objects.filter(key__regex=r"^referral-(reminder|escalation):")


def test_deadlines_skip_christmas(sent_before_christmas):
    referral = sent_before_christmas
    assert timezone.localtime(referral.response_due_at).date().isoformat() == "2027-01-04"
    assert timezone.localtime(referral.remind_at) == at(2027, 1, 4, 9)
    assert timezone.localtime(referral.escalate_at) == at(2027, 1, 6, 9)


def test_nothing_is_chased_before_the_due_day(sent_before_christmas):
    assert services.plan_referral_reminders(now=at(2026, 12, 31, 12)) == {"reminded": 0, "escalated": 0}
    assert not chases().exists()


def test_officers_are_reminded_on_the_due_day_then_admins_are_told_once(world, sent_before_christmas):
    referral = sent_before_christmas
    assert services.plan_referral_reminders(now=at(2027, 1, 4, 9, 30)) == {"reminded": 1, "escalated": 0}
    reminder = chases().get()
    assert set(reminder.recipients) == {"officer@example.org", "colleague@example.org"}
    assert referral.events.filter(kind="reminded").count() == 1
    # Running again, or twice at once, plans nothing more.
    assert services.plan_referral_reminders(now=at(2027, 1, 4, 10)) == {"reminded": 0, "escalated": 0}
    assert services.plan_referral_reminders(now=at(2027, 1, 6, 9, 1)) == {"reminded": 0, "escalated": 1}
    escalation = chases().get(key__startswith="referral-escalation:")
    assert escalation.recipients == ["netadmin@example.org"]
    assert services.plan_referral_reminders(now=at(2027, 1, 7)) == {"reminded": 0, "escalated": 0}
    assert referral.events.filter(kind="escalated").count() == 1
    # The directory's sweep sends them, as HTML plus text, with a link to the referral.
    mail.outbox.clear()
    send_due_reminders(now=at(2027, 1, 7))
    subjects = [message.subject for message in mail.outbox]
    assert any("a reply is due today" in subject for subject in subjects)
    assert any("has not been answered" in subject for subject in subjects)
    message = next(m for m in mail.outbox if "has not been answered" in m.subject)
    assert referral.get_absolute_url() in message.body
    assert message.alternatives[0][1] == "text/html"


def test_an_answered_referral_is_not_chased(world, sent_before_christmas):
    services.accept(referral=sent_before_christmas, by=world.officer, expected_version=sent_before_christmas.version)
    assert services.plan_referral_reminders(now=at(2027, 1, 10)) == {"reminded": 0, "escalated": 0}


def test_a_referral_passed_on_is_chased_afresh_at_its_new_provider(world, sent_before_christmas):
    referral = sent_before_christmas
    services.plan_referral_reminders(now=at(2027, 1, 4, 10))
    passed = services.pass_on(
        referral=referral,
        by=world.officer,
        expected_version=referral.version,
        provider=world.other_provider,
        note="Better placed",
        now=at(2027, 1, 4, 11),
    )
    due_day = timezone.localtime(passed.remind_at)
    assert services.plan_referral_reminders(now=due_day + timedelta(minutes=1)) == {"reminded": 1, "escalated": 0}
    assert chases().get(key__contains=f":{world.other_provider.pk}:").recipients == ["otherofficer@example.org"]


def test_an_unrouted_request_is_chased_with_the_network_admins(world):
    referral = ask(organisation=world.vco, by=world.editor, needs=[world.funding], now=at(2026, 12, 23, 10))
    assert referral.provider is None
    assert services.plan_referral_reminders(now=at(2027, 1, 4, 10))["reminded"] == 1
    assert chases().get().recipients == ["netadmin@example.org"]


def closed_referral(world, *, closed_at):
    referral = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    referral = services.decline(
        referral=referral, by=world.officer, expected_version=referral.version, reason="Call Asha on 020 7946 0001"
    )
    Referral.objects.filter(pk=referral.pk).update(closed_at=closed_at)
    return referral


def test_closed_referrals_are_anonymised_after_the_retention_period_once(world, settings):
    now = timezone.now()
    old = closed_referral(world, closed_at=now - timedelta(days=3 * 365 + 1))
    recent = closed_referral(world, closed_at=now - timedelta(days=3 * 365 - 1))
    Feedback.objects.create(referral=old, satisfaction=3, still_needed="Asha needs trustee training")
    open_one = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    Referral.objects.filter(pk=open_one.pk).update(submitted_at=now - timedelta(days=5000))

    assert tasks.sweep_referrals()["anonymised"] == 1
    old.refresh_from_db()
    assert (old.contact_name, old.contact_email, old.contact_phone) == ("", "", "")
    assert old.description == services.ERASED and old.anonymised_at
    assert not old.events.exclude(note="").exclude(kind="anonymised").exists()
    assert old.feedback.still_needed == services.ERASED and old.feedback.satisfaction == 3
    # The facts stay for the network's figures.
    assert old.status == "declined" and list(old.needs.all()) == [world.funding]
    for untouched in (recent, open_one):
        untouched.refresh_from_db()
        assert untouched.contact_email == "asha@example.org" and untouched.anonymised_at is None
    assert services.anonymise_expired_referrals() == 0

    settings.PORTAL_REFERRAL_RETENTION_DAYS = 30
    assert services.anonymise_expired_referrals() == 1


def test_one_beat_entry_runs_the_referral_sweep(settings):
    from thin_portal.celery import app

    entries = [
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "referrals.tasks.sweep_referrals"
    ]
    assert len(entries) == 1
    app.loader.import_default_modules()
    assert "referrals.tasks.sweep_referrals" in app.tasks
