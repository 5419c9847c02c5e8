"""Celery tasks for the calendar: thin wrappers over services. The database says what is due.

One beat entry (calendar_events.tasks.sweep_calendar) plans reminders and the weekly digest, archives
expired notices and queues each due feed import as its own task, so a slow or broken feed never holds
up the others. The directory's reminder sweep sends the emails planned here.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from thin_portal.celery import quick_broker_connection

from . import feeds_in, services

logger = logging.getLogger(__name__)


@shared_task(name="calendar_events.tasks.sweep_calendar")
def sweep_calendar() -> dict[str, int]:
    today = timezone.localdate()
    counts = {
        "event_reminders": services.plan_event_reminders(),
        "notices_archived": services.archive_expired_notices(today=today),
        "digests": services.plan_weekly_digest(today=today),
        "feeds_queued": queue_due_feeds(),
    }
    logger.info("Calendar sweep: %s", counts)
    return counts


@shared_task(
    name="calendar_events.tasks.import_feed",
    ignore_result=True,
    soft_time_limit=settings.PORTAL_CALENDAR_FEED_DEADLINE + 60,
    time_limit=settings.PORTAL_CALENDAR_FEED_DEADLINE + 90,
)
def import_feed(feed_id: int) -> bool:
    return feeds_in.import_feed(feed_id=feed_id).succeeded


def queue_due_feeds() -> int:
    """One task per due feed. If the broker cannot take them, the next sweep tries again."""
    queued = 0
    ids = list(feeds_in.feeds_due().values_list("pk", flat=True))
    if not ids:
        return 0
    try:
        with quick_broker_connection(timeout=5) as connection:
            for feed_id in ids:
                import_feed.apply_async(
                    args=[feed_id],
                    connection=connection,
                    retry=False,
                    expires=settings.PORTAL_CALENDAR_FEED_INTERVAL,
                    queue=settings.PORTAL_LONG_TASK_QUEUE,  # a slow feed never holds up reminders
                )
                queued += 1
    except Exception as error:  # broker down: nothing lost, the feeds stay due
        logger.warning("Could not queue feed imports (%s); the next sweep will try again.", error)
    return queued
