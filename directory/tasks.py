"""Celery tasks: thin wrappers over services. The database says what is due; tasks only act on it."""

import logging

from celery import shared_task
from django.db import transaction

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="directory.tasks.sweep_reminders")
def sweep_reminders() -> int:
    """Periodic (see CELERY_BEAT_SCHEDULE): send every reminder that is due."""
    return services.send_due_reminders()


@shared_task(name="directory.tasks.send_reminder")
def send_reminder(reminder_id: int) -> bool:
    return services.send_reminder(reminder_id=reminder_id)


def enqueue_reminder(reminder_id: int) -> None:
    """Ask a worker to send a reminder now, once the current transaction commits.

    If the broker is down the reminder simply waits in the database for the next sweep.
    """

    def publish() -> None:
        try:
            send_reminder.apply_async(args=[reminder_id], retry=False)
        except Exception as error:  # broker unreachable: the sweep will pick the reminder up
            logger.warning("Could not queue reminder %s (%s); the next sweep will send it.", reminder_id, error)

    transaction.on_commit(publish)
