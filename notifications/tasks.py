"""Celery tasks for reminders: thin wrappers over notifications.services. The database says what is
due; tasks only act on it."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from thin_portal.celery import quick_broker_connection

from . import services

logger = logging.getLogger(__name__)

# How long a web request may wait for the broker before leaving the work to the next sweep.
ENQUEUE_TIMEOUT = 2.0
_not_queued: ContextVar[bool] = ContextVar("reminders_not_queued", default=False)

# Steps the reminder sweep runs before it sends, so that what they plan goes out in the same sweep:
# each takes `today` and returns counts for the sweep's log. Apps above register theirs in their
# AppConfig.ready() (the directory lapses memberships and plans renewals), so this app imports none.
SweepStep = Callable[..., dict[str, int]]
_sweep_steps: list[SweepStep] = []


def register_sweep_step(step: SweepStep) -> None:
    if step not in _sweep_steps:
        _sweep_steps.append(step)


@shared_task(name="notifications.tasks.sweep_reminders")
def sweep_reminders() -> dict[str, int]:
    """Periodic (see CELERY_BEAT_SCHEDULE): plan what is due from the records, then send it.

    Every step is idempotent, so two sweeps at once, or one run twice, send nothing twice.
    """
    today: date = timezone.localdate()
    counts: dict[str, int] = {}
    for step in _sweep_steps:
        counts.update(step(today=today))
    counts["sent"] = services.send_due_reminders()
    logger.info("Reminder sweep: %s", counts)
    return counts


@shared_task(name="notifications.tasks.send_reminder", ignore_result=True)
def send_reminder(reminder_id: int) -> bool:
    return services.send_reminder(reminder_id=reminder_id)


@contextmanager
def reminders_not_queued() -> Iterator[None]:
    """Plan reminder rows without asking a worker to send each at once: for writing history (the demo
    loaders), which cancels what it planned before committing. Whatever stays pending goes out with the
    next sweep, as after a broker outage."""
    token = _not_queued.set(True)
    try:
        yield
    finally:
        _not_queued.reset(token)


def enqueue_reminder(reminder_id: int) -> None:
    """Ask a worker to send a reminder now, once the current transaction commits.

    If the broker is down (or hangs) the request carries on after at most a couple of seconds and
    the reminder simply waits in the database for the next sweep.
    """
    if _not_queued.get():
        return

    def publish() -> None:
        try:
            with quick_broker_connection(timeout=ENQUEUE_TIMEOUT) as connection:
                send_reminder.apply_async(args=[reminder_id], connection=connection, retry=False, ignore_result=True)
        except Exception as error:  # broker unreachable: the sweep will pick the reminder up
            logger.warning("Could not queue reminder %s (%s); the next sweep will send it.", reminder_id, error)

    transaction.on_commit(publish)
