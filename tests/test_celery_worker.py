"""Celery for real: beat's schedule, and a worker process on Redis sending a reminder end to end."""

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from directory import tasks
from directory.models import Reminder
from tests.celery_worker import start_worker
from tests.factories import make_membership, make_organisation, make_reminder
from thin_portal.celery import app as celery_app

WORKER_WAIT = 60  # seconds: a worker starting on a busy CI machine is slow, but not this slow
DEAD_BROKER = "redis://127.0.0.1:1/0"


def test_beat_schedules_the_reminder_sweep():
    entries = {entry["task"]: entry for entry in celery_app.conf.beat_schedule.values()}
    sweep = entries["directory.tasks.sweep_reminders"]
    assert sweep["schedule"] == settings.PORTAL_SWEEP_INTERVAL
    # A sweep still queued when the next one is due is dropped rather than run late.
    assert sweep["options"]["expires"] <= settings.PORTAL_SWEEP_INTERVAL
    assert "directory.tasks.sweep_reminders" in celery_app.tasks


@pytest.fixture
def worker(request, transactional_db, tmp_path):
    """A real `celery worker` process writing its emails as files the test can read."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    started = start_worker(
        request,
        log_dir=tmp_path,
        prefix="test-worker",
        env={"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(mail_dir)},
        unset=("EMAIL_HOST",),  # with EMAIL_HOST set the settings would use SMTP
    )
    started.mail_dir = mail_dir
    return started


def run_on_worker(worker, task, **options):
    """Send a task through the broker to the worker's queue and wait (bounded) for its result."""
    result = task.apply_async(queue=worker.queue, **options)
    deadline = time.monotonic() + WORKER_WAIT
    while not result.ready():
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited ({worker.process.returncode}):\n{worker.log_path.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no result from the worker within {WORKER_WAIT} s:\n{worker.log_path.read_text()}")
        time.sleep(0.2)
    return result.get(timeout=5)


def sent_emails(mail_dir: Path) -> list[str]:
    """The messages Django's file backend wrote: a file may hold several, each ending in a rule."""
    rule = "\n" + "-" * 79 + "\n"
    messages = [part for path in sorted(mail_dir.iterdir()) for part in path.read_text().split(rule)]
    return [message for message in messages if message.strip()]


@pytest.mark.redis
@pytest.mark.postgres  # the worker must share the test database: SQLite's is in memory
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_due_reminders_once_after_a_broker_outage(worker, monkeypatch, caplog):
    # While the broker is down, asking for a send neither raises nor undoes the transaction.
    with monkeypatch.context() as patch:
        patch.setattr(celery_app.conf, "broker_url", DEAD_BROKER)
        with transaction.atomic():
            queued = make_reminder(recipients=["editor@example.org"], subject="Queued while the broker was down")
            tasks.enqueue_reminder(queued.pk)
    assert "the next sweep will send it" in caplog.text
    queued.refresh_from_db()
    assert queued.status == Reminder.Status.PENDING
    # The sweep also plans from the records: a membership due for renewal.
    organisation = make_organisation(email="office@example.org")
    make_membership(organisation=organisation, renewal_due=timezone.localdate() + timedelta(days=7))

    # The broker is back: the worker's sweep sends both.
    counts = run_on_worker(worker, tasks.sweep_reminders)

    assert counts == {"lapsed": 0, "renewal_reminders": 1, "confirmation_requests": 0, "sent": 2}
    queued.refresh_from_db()
    assert queued.status == Reminder.Status.SENT and queued.attempts == 1
    renewal = Reminder.objects.get(organisation=organisation)
    assert renewal.status == Reminder.Status.SENT
    emails = sent_emails(worker.mail_dir)
    assert len(emails) == 2
    assert any("Subject: Queued while the broker" in email and "To: editor@example.org" in email for email in emails)
    assert any("due for renewal" in email and "To: office@example.org" in email for email in emails)
    assert all("Content-Type: text/html" in email and "Content-Type: text/plain" in email for email in emails)

    # Swept again (beat fires every few minutes): nothing goes out twice.
    assert run_on_worker(worker, tasks.sweep_reminders)["sent"] == 0
    assert len(sent_emails(worker.mail_dir)) == 2


@pytest.mark.redis
@pytest.mark.django_db
def test_with_redis_up_a_send_is_really_published(django_capture_on_commit_callbacks):
    client = redis.Redis.from_url(settings.REDIS_URL)
    queue = celery_app.conf.task_default_queue
    reminder = make_reminder()

    def ours() -> list[bytes]:
        found = []
        for raw in client.lrange(queue, 0, -1):
            headers = json.loads(raw).get("headers", {})
            if headers.get("task") == "directory.tasks.send_reminder" and headers.get("argsrepr") == f"[{reminder.pk}]":
                found.append(raw)
        return found

    before = len(ours())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_reminder(reminder.pk)

    published = ours()
    assert len(published) == before + 1, "the send was published to Redis"
    client.lrem(queue, 1, published[-1])  # no worker listens on this queue in tests: take it off again
