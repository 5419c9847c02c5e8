"""The reminder machinery: the sweep sends what is due, once, and survives mail and broker failures."""

import smtplib
import time
from datetime import timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connection, connections, transaction
from django.utils import timezone

from notifications import services, tasks
from notifications.models import Reminder
from tests.celery_worker import broker_at
from tests.factories import (
    make_reminder,
)

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: connecting is refused at once, as when Redis is down.
DEAD_BROKER = "redis://127.0.0.1:1/0"


class FailingEmailBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def sweep() -> dict:
    """Run the periodic task as a worker would (in this process)."""
    return tasks.sweep_reminders.apply().get()


# Sending what is due --------------------------------------------------------------------------------


def test_sweep_sends_due_reminders_and_leaves_future_ones(mailoutbox):
    due = make_reminder(recipients=["due@example.org"], due_at=timezone.now() - timedelta(minutes=1))
    later = make_reminder(recipients=["later@example.org"], due_at=timezone.now() + timedelta(days=1))

    assert sweep()["sent"] == 1

    assert [message.to for message in mailoutbox] == [["due@example.org"]]
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.status == Reminder.Status.SENT and due.sent_at is not None and due.attempts == 1
    assert later.status == Reminder.Status.PENDING and later.attempts == 0


def test_a_sent_reminder_is_not_sent_again(mailoutbox):
    reminder = make_reminder()
    sweep()
    reminder.refresh_from_db()
    first_sent_at = reminder.sent_at

    assert sweep()["sent"] == 0
    assert services.send_reminder(reminder_id=reminder.pk) is False

    assert len(mailoutbox) == 1
    reminder.refresh_from_db()
    assert reminder.sent_at == first_sent_at and reminder.attempts == 1


def test_the_send_task_run_twice_sends_once(mailoutbox):
    reminder = make_reminder()
    assert tasks.send_reminder.apply(args=[reminder.pk]).get() is True
    assert tasks.send_reminder.apply(args=[reminder.pk]).get() is False
    assert len(mailoutbox) == 1


def test_cancelled_and_failed_reminders_are_left_alone(mailoutbox):
    make_reminder(status=Reminder.Status.CANCELLED)
    make_reminder(status=Reminder.Status.FAILED)
    assert sweep()["sent"] == 0
    assert mailoutbox == []


# Mail server failures ----------------------------------------------------------------------------------


def test_a_mail_server_failure_keeps_the_reminder_pending_and_the_next_sweep_retries(settings, mailoutbox):
    reminder = make_reminder(recipients=["editor@example.org"])
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"

    assert sweep()["sent"] == 0

    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PENDING
    assert reminder.attempts == 1
    assert "SMTPServerDisconnected" in reminder.last_error

    assert reminder.claimed_at is None, "not left claimed: the very next sweep may retry it"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert sweep()["sent"] == 1
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.attempts == 2 and reminder.last_error == ""
    assert len(mailoutbox) == 1


def test_after_the_maximum_attempts_a_reminder_is_given_up_as_failed(settings, mailoutbox):
    reminder = make_reminder()
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"

    for _ in range(settings.PORTAL_REMINDER_MAX_ATTEMPTS):
        sweep()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED
    assert reminder.attempts == settings.PORTAL_REMINDER_MAX_ATTEMPTS

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sweep()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED and reminder.attempts == settings.PORTAL_REMINDER_MAX_ATTEMPTS
    assert mailoutbox == []


# Sending outside any transaction ------------------------------------------------------------------------


class LockProbeEmailBackend(BaseEmailBackend):
    """Records, at the moment the mail server would be talked to, whether this connection is inside a
    transaction and what another connection sees of the reminders, asking for their row locks without
    waiting."""

    seen: list = []

    def send_messages(self, email_messages):
        other = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT subject, status FROM notifications_reminder FOR UPDATE NOWAIT")
                rows = dict(cursor.fetchall())
        except OperationalError as error:
            rows = f"locked: {error}"
        finally:
            other.close()
        type(self).seen.append({"in_transaction": connection.in_atomic_block, "other_connection_sees": rows})
        return len(email_messages)


@pytest.mark.postgres  # row locks
@pytest.mark.django_db(transaction=True)  # real commits, as in a worker
def test_the_email_is_sent_with_no_transaction_open_and_no_row_locked(settings, monkeypatch):
    settings.EMAIL_BACKEND = f"{__name__}.LockProbeEmailBackend"
    monkeypatch.setattr(LockProbeEmailBackend, "seen", [])
    make_reminder(subject="Renew your membership")

    assert sweep()["sent"] == 1

    # The claim was committed before the send, so another worker sees it, and nothing waits on a lock
    # for as long as SMTP takes.
    assert LockProbeEmailBackend.seen == [
        {"in_transaction": False, "other_connection_sees": {"Renew your membership": Reminder.Status.SENDING}}
    ]
    reminder = Reminder.objects.get()
    assert reminder.status == Reminder.Status.SENT and reminder.claimed_at is None and reminder.attempts == 1


def test_sending_refuses_to_run_inside_a_transaction(mailoutbox):
    reminder = make_reminder()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.send_reminder(reminder_id=reminder.pk)
    assert mailoutbox == []


def _fail_marking_sent(execute, sql, params, many, context):
    if sql.startswith("UPDATE") and "notifications_reminder" in sql and Reminder.Status.SENT in (params or ()):
        raise DatabaseError("the database went away")
    return execute(sql, params, many, context)


def test_if_marking_sent_fails_the_reminder_is_not_sent_again_until_its_claim_times_out(settings, mailoutbox, caplog):
    reminder = make_reminder(recipients=["editor@example.org"])

    with connection.execute_wrapper(_fail_marking_sent):
        assert services.send_reminder(reminder_id=reminder.pk) is True
    assert "could not be marked sent" in caplog.text
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENDING and len(mailoutbox) == 1

    # The next sweeps leave it alone: the email went out.
    assert sweep()["sent"] == 0
    assert len(mailoutbox) == 1

    # A claim that old means its worker died mid-send: sent again, as documented (twice rather than never).
    later = timezone.now() + timedelta(seconds=settings.PORTAL_REMINDER_CLAIM_TIMEOUT + 1)
    assert services.send_due_reminders(now=later) == 1
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.attempts == 2
    assert len(mailoutbox) == 2


def test_a_stale_claim_is_sent_by_the_sweep_and_a_fresh_one_left_to_its_worker(settings, mailoutbox):
    now = timezone.now()
    timeout = timedelta(seconds=settings.PORTAL_REMINDER_CLAIM_TIMEOUT)
    fresh = make_reminder(
        recipients=["fresh@example.org"], status=Reminder.Status.SENDING, claimed_at=now - timedelta(minutes=1), attempts=1
    )
    stale = make_reminder(
        recipients=["stale@example.org"], status=Reminder.Status.SENDING, claimed_at=now - timeout - timedelta(minutes=1), attempts=1
    )

    assert sweep()["sent"] == 1

    assert [message.to for message in mailoutbox] == [["stale@example.org"]]
    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert fresh.status == Reminder.Status.SENDING
    assert stale.status == Reminder.Status.SENT and stale.attempts == 2 and stale.claimed_at is None


# Broker outage -------------------------------------------------------------------------------------------


def test_a_broker_outage_delays_a_reminder_but_loses_none(
    monkeypatch, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    with broker_at(DEAD_BROKER):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with transaction.atomic():
                reminder = make_reminder(recipients=["editor@example.org"])
                tasks.enqueue_reminder(reminder.pk)
        elapsed = time.monotonic() - started

    assert len(callbacks) == 1, "the send is queued only once the transaction commits"
    assert elapsed < tasks.ENQUEUE_TIMEOUT + 1, "a dead broker does not hold the request up"
    assert "the next sweep will send it" in caplog.text
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PENDING, "the transaction committed; the reminder waits in the database"
    assert mailoutbox == []

    # The broker is back: the next sweep sends it, once.
    assert sweep()["sent"] == 1
    assert sweep()["sent"] == 0
    assert len(mailoutbox) == 1
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT


def test_a_rolled_back_transaction_queues_nothing(monkeypatch):
    published = []
    monkeypatch.setattr(tasks.send_reminder, "apply_async", lambda *args, **kwargs: published.append(kwargs))
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            reminder = make_reminder()
            tasks.enqueue_reminder(reminder.pk)
            raise RuntimeError("something later in the request failed")
    assert published == []
    assert not Reminder.objects.exists()


def test_with_the_broker_up_the_send_is_published_after_commit(monkeypatch, django_capture_on_commit_callbacks):
    published = []
    monkeypatch.setattr(tasks.send_reminder, "apply_async", lambda *args, **kwargs: published.append(kwargs["args"]))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            reminder = make_reminder()
            tasks.enqueue_reminder(reminder.pk)
            assert published == [], "nothing is published before the commit"
    assert published == [[reminder.pk]]


def test_reminders_not_queued_plans_the_row_and_publishes_nothing(monkeypatch, django_capture_on_commit_callbacks):
    published = []
    monkeypatch.setattr(tasks.send_reminder, "apply_async", lambda *args, **kwargs: published.append(kwargs["args"]))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic(), tasks.reminders_not_queued():
            reminder = make_reminder()
            tasks.enqueue_reminder(reminder.pk)
    assert callbacks == [] and published == []
    assert Reminder.objects.get().status == Reminder.Status.PENDING, "left to the sweep"
    # Only while the block lasts.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_reminder(reminder.pk)
    assert published == [[reminder.pk]]
