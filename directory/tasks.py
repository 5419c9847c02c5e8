"""Celery tasks: thin wrappers over services. The database says what is due; tasks only act on it."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from thin_portal.celery import quick_broker_connection

from . import services

logger = logging.getLogger(__name__)

# How long a web request may wait for the broker before leaving the work to the next sweep.
ENQUEUE_TIMEOUT = 2.0
_not_queued: ContextVar[bool] = ContextVar("reminders_not_queued", default=False)


@shared_task(name="directory.tasks.sweep_reminders")
def sweep_reminders() -> dict[str, int]:
    """Periodic (see CELERY_BEAT_SCHEDULE): plan what is due from the records, then send it.

    Every step is idempotent, so two sweeps at once, or one run twice, send nothing twice.
    """
    today = timezone.localdate()
    # Lapse first, so a membership long past its renewal date is not sent a renewal reminder.
    lapsed = services.lapse_overdue_memberships(today=today)
    renewals = services.plan_renewal_reminders(today=today)
    confirmations = services.plan_details_confirmation_requests(today=today)
    sent = services.send_due_reminders()
    counts = {"lapsed": lapsed, "renewal_reminders": renewals, "confirmation_requests": confirmations, "sent": sent}
    logger.info("Reminder sweep: %s", counts)
    return counts


@shared_task(name="directory.tasks.send_reminder", ignore_result=True)
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


@shared_task(name="directory.tasks.sweep_service_reviews")
def sweep_service_reviews() -> dict[str, int]:
    """Periodic (see CELERY_BEAT_SCHEDULE): plan the yearly service review requests, their reminders
    and escalations. The reminder sweep sends them; planning twice plans nothing twice."""
    counts = services.plan_service_review_reminders(today=timezone.localdate())
    logger.info("Service review sweep: %s", counts)
    return counts
