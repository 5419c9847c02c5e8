"""Celery tasks for evidence: thin wrappers over services. The database says what is due."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import background_imports
from thin_portal.celery import quick_broker_connection

from . import grants_import, services
from .models import GrantImport

logger = logging.getLogger(__name__)

ENQUEUE_TIMEOUT = 2.0


@shared_task(name="evidence.tasks.build_evidence_pack", ignore_result=False)
def build_evidence_pack(export_id: int) -> dict:
    export = services.build_evidence_pack(export_id=export_id)
    if export is None:
        return {"export": export_id, "built": False}
    return {"export": export_id, "built": True, "status": export.status, "size": export.size_bytes}


@shared_task(name="evidence.tasks.sweep_evidence")
def sweep_evidence() -> dict[str, int]:
    """Periodic (one CELERY_BEAT_SCHEDULE entry): plan monitoring-return reminders (the directory's
    reminder sweep sends them), delete expired evidence packs, queue again packs whose message was
    lost, and fold the funding figures' change rows (services.prune_funding_changes). Every step is
    idempotent."""
    reminders = services.plan_return_reminders(today=timezone.localdate())
    expired = services.expire_exports()
    abandoned = services.fail_abandoned_exports()
    requeued = 0
    for export_id in services.stalled_exports():
        requeued += _publish(export_id)
    pruned = services.prune_funding_changes()
    waiting_imports, failed_imports = background_imports.sweep(GrantImport)
    requeued_imports = sum(_publish_grant_import(import_id) for import_id in waiting_imports)
    counts = {
        "return_reminders": reminders,
        "expired_packs": expired,
        "abandoned_packs": abandoned,
        "requeued_packs": requeued,
        "requeued_grant_imports": requeued_imports,
        "failed_grant_imports": failed_imports,
        "pruned_funding_changes": pruned,
    }
    logger.info("Evidence sweep: %s", counts)
    return counts


@shared_task(name="evidence.tasks.record_baseline_coverage")
def record_baseline_coverage() -> dict:
    """Periodic (one CELERY_BEAT_SCHEDULE entry, daily): this month's standing of every area against
    the baseline of support, one snapshot row per area and item. Idempotent: a second run in the month
    updates the same month's rows, so each month keeps its last recorded standing."""
    today = timezone.localdate()
    rows = services.record_baseline_snapshot(today=today)
    logger.info("Baseline coverage recorded for %s: %s rows", today.strftime("%Y-%m"), rows)
    return {"month": today.strftime("%Y-%m"), "rows": rows}


@shared_task(name="evidence.tasks.import_grants", ignore_result=False)
def import_grants(import_id: int) -> dict:
    grant_import = grants_import.run_uploaded_import(import_id=import_id)
    if grant_import is None:
        return {"import": import_id, "ran": False}
    return {"import": import_id, "ran": True, "status": grant_import.status}


def _publish_grant_import(import_id: int) -> bool:
    try:
        # On the long-task queue: 100,000 grants take a minute or more.
        with quick_broker_connection(timeout=ENQUEUE_TIMEOUT) as connection:
            import_grants.apply_async(
                args=[import_id], connection=connection, retry=False, queue=settings.PORTAL_LONG_TASK_QUEUE
            )
    except Exception as error:  # noqa: BLE001 (broker unreachable: the import waits; the sweep queues it again)
        logger.warning("Could not queue grants import %s (%s); the next sweep will.", import_id, error)
        return False
    return True


def enqueue_grant_import(import_id: int) -> None:
    """Queue a grants import once the request's transaction commits; a down broker only delays it."""
    transaction.on_commit(lambda: _publish_grant_import(import_id))


def _publish(export_id: int) -> bool:
    try:
        # On the long-task queue, away from the quick sweeps and reminders.
        with quick_broker_connection(timeout=ENQUEUE_TIMEOUT) as connection:
            build_evidence_pack.apply_async(
                args=[export_id], connection=connection, retry=False, queue=settings.PORTAL_LONG_TASK_QUEUE
            )
    except Exception as error:  # broker unreachable: the row stays queued and the sweep tries again
        logger.warning("Could not queue evidence pack %s (%s); the next sweep will.", export_id, error)
        return False
    return True


def enqueue_export(export_id: int) -> None:
    """Queue a pack's build once the request's transaction commits; a down broker only delays it."""
    transaction.on_commit(lambda: _publish(export_id))
