"""Celery tasks of the provider directory: thin wrappers over services. The database says what is due;
tasks only act on it. The review requests they plan are sent by notifications.tasks.sweep_reminders."""

import logging

from celery import shared_task
from django.utils import timezone

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="directory.tasks.sweep_service_reviews")
def sweep_service_reviews() -> dict[str, int]:
    """Periodic (see CELERY_BEAT_SCHEDULE): plan the yearly service review requests, their reminders
    and escalations. The reminder sweep sends them; planning twice plans nothing twice."""
    counts = services.plan_service_review_reminders(today=timezone.localdate())
    logger.info("Service review sweep: %s", counts)
    return counts
