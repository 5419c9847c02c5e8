"""Celery tasks of the provider directory: thin wrappers over services. The database says what is due;
tasks only act on it. The review requests they plan are sent by notifications.tasks.sweep_reminders."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from thin_portal.celery import quick_broker_connection

from . import harvest, services

logger = logging.getLogger(__name__)


@shared_task(name="directory.tasks.sweep_service_reviews")
def sweep_service_reviews() -> dict[str, int]:
    """Periodic (see CELERY_BEAT_SCHEDULE): plan the yearly service review requests, their reminders
    and escalations. The reminder sweep sends them; planning twice plans nothing twice."""
    counts = services.plan_service_review_reminders(today=timezone.localdate())
    logger.info("Service review sweep: %s", counts)
    return counts


@shared_task(
    name="directory.tasks.harvest_source",
    ignore_result=True,
    soft_time_limit=settings.PORTAL_HARVEST_DEADLINE + 300,
    time_limit=settings.PORTAL_HARVEST_DEADLINE + 360,
)
def harvest_source(source_id: int, kind: str | None = None) -> bool:
    return harvest.harvest_source(source_id=source_id, kind=kind).succeeded


@shared_task(name="directory.tasks.sweep_harvests")
def sweep_harvests() -> int:
    """Periodic: one harvest task per other directory that is due, on the long queue, so a slow source
    never holds up another or the reminders. If the broker cannot take them, the next sweep tries again
    (the sources stay due)."""
    ids = list(harvest.sources_due().values_list("pk", flat=True))
    queued = 0
    if not ids:
        return 0
    try:
        with quick_broker_connection(timeout=5) as connection:
            for source_id in ids:
                harvest_source.apply_async(
                    args=[source_id],
                    connection=connection,
                    retry=False,
                    expires=settings.PORTAL_HARVEST_INTERVAL,
                    queue=settings.PORTAL_LONG_TASK_QUEUE,
                )
                queued += 1
    except Exception as error:  # broker down: nothing lost
        logger.warning("Could not queue harvests (%s); the next sweep will try again.", error)
    logger.info("Harvest sweep: %s queued", queued)
    return queued
