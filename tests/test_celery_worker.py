"""Celery for real: beat's schedule, and a worker process on Redis sending a reminder end to end."""

import json
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications import tasks
from notifications.models import Reminder
from tests.celery_worker import RedisServer, broker_at, start_beat, start_worker
from tests.factories import make_membership, make_organisation, make_reminder
from thin_portal.celery import app as celery_app

WORKER_WAIT = 60  # seconds: a worker starting on a busy CI machine is slow, but not this slow
DEAD_BROKER = "redis://127.0.0.1:1/0"


def test_beat_schedules_the_reminder_sweep():
    entries = {entry["task"]: entry for entry in celery_app.conf.beat_schedule.values()}
    sweep = entries["notifications.tasks.sweep_reminders"]
    assert sweep["schedule"] == settings.PORTAL_SWEEP_INTERVAL
    # A sweep still queued when the next one is due is dropped rather than run late.
    assert sweep["options"]["expires"] <= settings.PORTAL_SWEEP_INTERVAL
    assert "notifications.tasks.sweep_reminders" in celery_app.tasks


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
    with broker_at(DEAD_BROKER):
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
    renewal = organisation.reminders.get()
    assert renewal.status == Reminder.Status.SENT
    emails = sent_emails(worker.mail_dir)
    assert len(emails) == 2
    assert any("Subject: Queued while the broker" in email and "To: editor@example.org" in email for email in emails)
    assert any("due for renewal" in email and "To: office@example.org" in email for email in emails)
    assert all("Content-Type: text/html" in email and "Content-Type: text/plain" in email for email in emails)

    # Swept again (beat fires every few minutes): nothing goes out twice.
    assert run_on_worker(worker, tasks.sweep_reminders)["sent"] == 0
    assert len(sent_emails(worker.mail_dir)) == 2


def wait_for(condition, *, timeout: float, what: str, watch=None):
    """Poll `condition` until it is true; fail, showing the ends of the logs, after `timeout` seconds
    or as soon as one of the processes `watch` started (start_worker, start_beat) exits."""
    watch = watch or []
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        exited = [started for started in watch if started.process.poll() is not None]
        if exited or time.monotonic() > deadline:
            logs = "\n".join(started.log_path.read_text()[-6000:] for started in watch)
            pytest.fail(f"{what}: " + (f"{exited[0].log_path.stem} exited" if exited else f"not within {timeout} s") + f"\n{logs}")
        time.sleep(0.05)
    return result


def recipients_of(emails: list[str]) -> Counter:
    return Counter(line.removeprefix("To: ") for email in emails for line in email.splitlines() if line.startswith("To: "))


def all_sent(reminders: list[Reminder]) -> bool:
    return not Reminder.objects.filter(pk__in=[r.pk for r in reminders]).exclude(status=Reminder.Status.SENT).exists()


@pytest.fixture
def own_redis(request, tmp_path):
    """A Redis server of this test's own, to kill and start again."""
    server = RedisServer(request, tmp_path)
    server.start()
    return server


def slow_mail_env(mail_dir: Path) -> dict[str, str]:
    """The worker writes its emails as files, taking a fifth of a second over each like a slow mail server."""
    mail_dir.mkdir()
    return {
        "EMAIL_BACKEND": "tests.celery_worker.SlowFileEmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PORTAL_TEST_MAIL_DELAY": "0.2",
    }


# Whether Celery 5.7.0's worker died at an outage turned on a race inside it, which the length of the
# sweep swayed: several outages, in sweeps of different lengths (a fifth of a second per email).
SWEEP_SIZES = (8, 4, 10, 6, 12)


@pytest.mark.redis
@pytest.mark.postgres  # the worker must share the test database
@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_redis_dying_mid_sweep_and_every_due_reminder_goes_out_once(request, tmp_path, own_redis):
    """Redis is killed while the worker is part-way through a sweep, stays down until the sweep has
    ended (so the worker cannot acknowledge it), and comes back empty on the same port. With Celery
    5.7.0 the worker exited at such an outage ("'NoneType' object has no attribute 'hostname'")."""
    started = time.monotonic()
    mail_dir = tmp_path / "mail"
    worker = start_worker(
        request, log_dir=tmp_path, prefix="outage", env=slow_mail_env(mail_dir), unset=("EMAIL_HOST",), redis_url=own_redis.url
    )
    watch = [worker]

    def sweep_now() -> None:
        """What beat does every few minutes: one sweep message to the worker."""
        with celery_app.connection_for_write(own_redis.url) as connection:
            tasks.sweep_reminders.apply_async(queue=worker.queue, connection=connection, ignore_result=True)

    everyone = []
    for outage, size in enumerate(SWEEP_SIZES):
        batch = [make_reminder(recipients=[f"outage-{outage}-{n}@example.org"]) for n in range(size)]
        everyone += batch
        emails_before = len(sent_emails(mail_dir))
        sweep_now()
        wait_for(lambda: len(sent_emails(mail_dir)) > emails_before, timeout=WORKER_WAIT, what="the sweep began", watch=watch)
        lost = worker.log_path.read_text().count("Connection to broker lost")
        own_redis.stop()  # mid-sweep: the sweep's message is not acknowledged yet
        assert not all_sent(batch), "Redis went away in the middle of the sweep"
        # The sweep carries on without the broker (the database holds the work) and ends; its
        # acknowledgement fails and the worker finds the broker gone.
        wait_for(lambda: all_sent(batch), timeout=15, what="the sweep ended", watch=watch)
        wait_for(
            lambda: worker.log_path.read_text().count("Connection to broker lost") > lost,
            timeout=5,
            what=f"the worker noticed outage {outage + 1}",
            watch=watch,
        )
        connected = worker.log_path.read_text().count("Connected to redis")
        own_redis.start()
        wait_for(
            lambda: worker.log_path.read_text().count("Connected to redis") > connected,
            timeout=15,
            what=f"the worker reconnected after outage {outage + 1}",
            watch=watch,
        )

    # Swept again once Redis is back: nothing goes out twice, and the worker still listens.
    runs = worker.log_path.read_text().count("Reminder sweep:")
    sweep_now()
    wait_for(lambda: worker.log_path.read_text().count("Reminder sweep:") > runs, timeout=15, what="a sweep after the outages", watch=watch)

    assert worker.process.poll() is None
    assert recipients_of(sent_emails(mail_dir)) == Counter(r.recipients[0] for r in everyone), "each sent exactly once"
    assert time.monotonic() - started < 60


@pytest.mark.redis
@pytest.mark.postgres  # the worker must share the test database
@pytest.mark.django_db(transaction=True)
def test_beat_keeps_triggering_sweeps_through_a_redis_restart(request, tmp_path, own_redis):
    """Beat's sweeps that fall in an outage fail loudly and are simply lost (the database holds the
    work); once Redis is back, empty, beat's sweeps reach the worker again and send what fell due
    meanwhile, once."""
    started = time.monotonic()
    every_second = {"PORTAL_SWEEP_INTERVAL": "1"}
    mail_dir = tmp_path / "mail"
    worker = start_worker(
        request,
        log_dir=tmp_path,
        prefix="beat-outage",
        env={**every_second, **slow_mail_env(mail_dir)},
        unset=("EMAIL_HOST",),
        redis_url=own_redis.url,
        queue=celery_app.conf.task_default_queue,  # where beat sends; this Redis is the test's own
    )
    beat = start_beat(request, log_dir=tmp_path, redis_url=own_redis.url, env=every_second)
    watch = [worker, beat]
    before = [make_reminder(recipients=[f"before-{n}@example.org"]) for n in range(8)]
    wait_for(lambda: all_sent(before), timeout=WORKER_WAIT, what="beat's sweeps sent the first reminders", watch=watch)

    own_redis.stop()
    during = [make_reminder(recipients=[f"during-{n}@example.org"]) for n in range(3)]
    wait_for(lambda: "Couldn't apply scheduled task sweep-reminders" in beat.log_path.read_text(), timeout=10, what="beat said it could not send", watch=watch)
    own_redis.start()
    after = [make_reminder(recipients=[f"after-{n}@example.org"]) for n in range(3)]

    wait_for(lambda: all_sent(during + after), timeout=30, what="beat's sweeps sent the rest after the restart", watch=watch)
    assert worker.process.poll() is None and beat.process.poll() is None
    assert recipients_of(sent_emails(mail_dir)) == Counter(r.recipients[0] for r in before + during + after)
    assert time.monotonic() - started < 60


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
            if headers.get("task") == "notifications.tasks.send_reminder" and headers.get("argsrepr") == f"[{reminder.pk}]":
                found.append(raw)
        return found

    before = len(ours())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_reminder(reminder.pk)

    published = ours()
    assert len(published) == before + 1, "the send was published to Redis"
    client.lrem(queue, 1, published[-1])  # no worker listens on this queue in tests: take it off again
