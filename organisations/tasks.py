"""Celery tasks for the VCO database: thin wrappers over organisations' own modules."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

from core import background_imports
from thin_portal.celery import quick_broker_connection

from . import charity_register, companies_house
from .models import CharityRegisterImport

logger = logging.getLogger(__name__)

ENQUEUE_TIMEOUT = 2.0


@shared_task(name="organisations.tasks.import_charity_register", ignore_result=False)
def import_charity_register(import_id: int) -> dict:
    register_import = charity_register.run_uploaded_import(import_id=import_id)
    if register_import is None:
        return {"import": import_id, "ran": False}
    return {"import": import_id, "ran": True, "status": register_import.status}


@shared_task(name="organisations.tasks.import_companies_house", ignore_result=False)
def import_companies_house(import_id: int) -> dict:
    register_import = companies_house.run_uploaded_import(import_id=import_id)
    if register_import is None:
        return {"import": import_id, "ran": False}
    return {"import": import_id, "ran": True, "status": register_import.status}


@shared_task(name="organisations.tasks.sweep_register_imports")
def sweep_register_imports() -> dict[str, int]:
    """Periodic (one CELERY_BEAT_SCHEDULE entry): queue again imports whose message was lost, and fail
    those whose worker died part way, so none shows "running" for ever."""
    waiting, failed = background_imports.sweep(CharityRegisterImport)
    requeued = sum(_publish(import_id) for import_id in waiting)
    counts = {"requeued": requeued, "failed": failed}
    if requeued or failed:
        logger.info("Register import sweep: %s", counts)
    return counts


def _publish(import_id: int) -> bool:
    register = CharityRegisterImport.objects.filter(pk=import_id).values_list("register", flat=True).first()
    task = import_companies_house if register == CharityRegisterImport.Register.COMPANIES else import_charity_register
    try:
        # On the long-task queue: reading the whole register takes minutes.
        with quick_broker_connection(timeout=ENQUEUE_TIMEOUT) as connection:
            task.apply_async(
                args=[import_id], connection=connection, retry=False, queue=settings.PORTAL_LONG_TASK_QUEUE
            )
    except Exception as error:  # noqa: BLE001 (broker unreachable: the import stays waiting; the admin can start it again)
        logger.warning("Could not queue register import %s (%s).", import_id, error)
        return False
    return True


def enqueue_register_import(import_id: int) -> None:
    """Queue an import (of the charity register or of the Companies House file, each its own task)
    once the request's transaction commits."""
    transaction.on_commit(lambda: _publish(import_id))
