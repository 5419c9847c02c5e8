"""Celery tasks for the quality app: thin wrappers over services, declared in CELERY_BEAT_SCHEDULE."""

import logging

from celery import shared_task
from django.utils import timezone

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="quality.tasks.sweep_badges")
def sweep_badges() -> dict[str, int]:
    """Periodic: expire badges past their date and plan renewal reminders before expiry.

    Idempotent (reminder keys, conditional updates): running it twice changes nothing more. The
    reminders it plans are sent by notifications.tasks.sweep_reminders."""
    today = timezone.localdate()
    counts = {
        "expired": services.expire_badges(today=today),
        "renewal_reminders": services.plan_badge_renewal_reminders(today=today),
    }
    logger.info("Quality badge sweep: %s", counts)
    return counts
