"""Celery tasks for the VCO database: thin wrappers over organisations' own modules."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

from thin_portal.celery import quick_broker_connection

from . import charity_register

logger = logging.getLogger(__name__)

ENQUEUE_TIMEOUT = 2.0


@shared_task(name="organisations.tasks.import_charity_register", ignore_result=False)
def import_charity_register(import_id: int) -> dict:
    register_import = charity_register.run_uploaded_import(import_id=import_id)
    if register_import is None:
        return {"import": import_id, "ran": False}
    return {"import": import_id, "ran": True, "status": register_import.status}


def _publish(import_id: int) -> bool:
    try:
        # On the long-task queue: reading the whole register takes minutes.
        with quick_broker_connection(timeout=ENQUEUE_TIMEOUT) as connection:
            import_charity_register.apply_async(
                args=[import_id], connection=connection, retry=False, queue=settings.PORTAL_LONG_TASK_QUEUE
            )
    except Exception as error:  # noqa: BLE001 (broker unreachable: the import stays waiting; the admin can start it again)
        logger.warning("Could not queue charity register import %s (%s).", import_id, error)
        return False
    return True


def enqueue_register_import(import_id: int) -> None:
    """Queue an import once the request's transaction commits."""
    transaction.on_commit(lambda: _publish(import_id))
