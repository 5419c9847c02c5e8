"""Celery tasks for referrals: thin wrappers over services. The database says what is due."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="referrals.tasks.sweep_referrals")
def sweep_referrals() -> dict[str, int]:
    """Periodic (see CELERY_BEAT_SCHEDULE): plan reminders to officers and escalations to network
    admins for unanswered referrals, and anonymise referrals past the retention period.

    Idempotent: each reminder has a unique key and anonymised referrals are skipped, so a sweep run
    twice does nothing twice. The planned emails go out with the directory's reminder sweep.
    """
    counts = services.plan_referral_reminders()
    counts["anonymised"] = services.anonymise_expired_referrals()
    logger.info("Referral sweep: %s", counts)
    return counts
