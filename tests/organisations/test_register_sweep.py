"""A register import whose worker died does not show "running" for ever: the periodic sweep marks it
failed, saying so, and deletes its partial findings; one whose message was lost is queued again."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from organisations import tasks
from organisations.models import CharityRegisterImport, RegisterFinding


def test_the_sweep_is_on_the_beat_schedule():
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "organisations.tasks.sweep_register_imports" in tasks_scheduled


@pytest.mark.django_db
def test_the_sweep_fails_a_stalled_import_and_queues_a_lost_one(monkeypatch):
    published = []
    monkeypatch.setattr(tasks, "_publish", lambda pk: published.append(pk) or True)
    long_ago = timezone.now() - timedelta(hours=3)
    died = CharityRegisterImport.objects.create(
        status=CharityRegisterImport.Status.WRITING, started_at=long_ago, created_at=long_ago
    )
    RegisterFinding.objects.create(register_import=died, kind=RegisterFinding.Kind.PROPOSAL, name="Half written")
    running = CharityRegisterImport.objects.create(status=CharityRegisterImport.Status.CHECKING, started_at=timezone.now())
    lost = CharityRegisterImport.objects.create(status=CharityRegisterImport.Status.QUEUED, created_at=long_ago)
    fresh = CharityRegisterImport.objects.create(status=CharityRegisterImport.Status.QUEUED)

    assert tasks.sweep_register_imports() == {"requeued": 1, "failed": 1}

    died.refresh_from_db()
    assert died.status == CharityRegisterImport.Status.FAILED
    assert "the worker running it stopped" in died.error and "Nothing was changed" in died.error
    assert not RegisterFinding.objects.filter(register_import=died).exists()
    assert CharityRegisterImport.objects.get(pk=running.pk).status == CharityRegisterImport.Status.CHECKING
    assert published == [lost.pk] and fresh.pk not in published
    # A second sweep finds nothing more to fail; the lost one is queued again until a worker claims it.
    assert tasks.sweep_register_imports()["failed"] == 0
