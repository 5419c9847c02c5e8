"""Imports that run in the background: a network admin uploads a big file, a worker on the long queue
reads it, the admin watches its progress. The register imports (organisations) and the 360Giving grants
import (evidence) share all of this; each knows only how to read its own files.

- ``BackgroundImport`` (abstract model): the uploaded files' folder in the private storage, status,
  progress, the current step, the error and the counts;
- ``start`` keeps the uploads and records the import, ``run_uploaded`` is the task's work: it claims
  the import once (a retried or duplicated message does nothing), copies the files to a local folder,
  runs the import inside ``all_or_nothing`` and deletes the uploads;
- ``sweep`` is called by a periodic task: an import still waiting a while after its upload (its
  message was lost) is queued again, and one whose worker died part way (killed, out of memory) is
  marked failed with a message saying so, instead of showing "running" for ever.
"""

import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .files import private_file_storage


class RefusedFile(ValueError):
    """The uploaded file is refused; the message says why (naming the row and field), for the admin."""


class ImportNotWaiting(Exception):
    """The import is not waiting to run: another worker has it, or it has finished."""


class BackgroundImport(models.Model):
    """One run of a background import: its uploaded files, progress and outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", gettext_lazy("Waiting to start")
        CHECKING = "checking", gettext_lazy("Checking the files")
        WRITING = "writing", gettext_lazy("Writing the findings")
        READY = "ready", gettext_lazy("Ready")
        FAILED = "failed", gettext_lazy("Failed")

    FINISHED = (Status.READY, Status.FAILED)
    # Where the uploads wait, under the private files storage: <UPLOAD_FOLDER>/<uuid>/<name>.
    UPLOAD_FOLDER = "imports"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Uploaded files, in the private files storage, while the import waits or runs; deleted after.
    folder = models.CharField(gettext_lazy("upload folder"), max_length=200, blank=True)
    files = models.CharField(gettext_lazy("files"), max_length=500, blank=True)
    status = models.CharField(gettext_lazy("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(gettext_lazy("progress (%)"), default=0)
    step = models.CharField(gettext_lazy("current step"), max_length=200, blank=True)
    error = models.TextField(gettext_lazy("error"), blank=True)
    counts = models.JSONField(gettext_lazy("counts"), default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("started by"),
    )
    created_at = models.DateTimeField(gettext_lazy("uploaded"), default=timezone.now)
    started_at = models.DateTimeField(gettext_lazy("started"), null=True, blank=True)
    finished_at = models.DateTimeField(gettext_lazy("finished"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def running(self) -> bool:
        return self.status not in self.FINISHED

    @property
    def file_names(self) -> list[str]:
        return [name for name in (part.strip() for part in self.files.split(",")) if name]

    def discard_partial(self) -> None:
        """Undo what a failed run wrote outside its transaction (the register's findings); nothing by default."""


def set_progress(run: BackgroundImport, percent: int, step: str) -> None:
    # A plain UPDATE outside any transaction, so the admin's page polling the import sees it at once.
    run.progress, run.step = max(0, min(100, percent)), str(step)[:200]
    type(run).objects.filter(pk=run.pk).update(progress=run.progress, step=run.step)


def set_status(run: BackgroundImport, status: str) -> None:
    run.status = status
    type(run).objects.filter(pk=run.pk).update(status=status)


def claim(model: type[BackgroundImport], *, import_id: int) -> BackgroundImport:
    """Mark a waiting import as running, once: a second worker (or a retry) gets ImportNotWaiting."""
    with transaction.atomic():
        run = model.objects.select_for_update(skip_locked=True).filter(pk=import_id, status=model.Status.QUEUED).first()
        if run is None:
            raise ImportNotWaiting
        run.status = model.Status.CHECKING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    return run


def mark_ready(run: BackgroundImport, *, counts: dict, **fields) -> None:
    run.status = run.Status.READY
    run.progress, run.step = 100, str(_("Ready"))
    run.counts = counts
    run.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    run.save()


def fail(run: BackgroundImport, message: str, **fields) -> None:
    """Mark the import failed with ``message`` (and ``fields``, such as a list of problems), after
    undoing what it wrote outside its transaction."""
    run.discard_partial()
    run.status = run.Status.FAILED
    run.error = str(message)[:2000]
    run.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    type(run).objects.filter(pk=run.pk).update(
        status=run.status, error=run.error, finished_at=run.finished_at, **fields
    )


@contextmanager
def all_or_nothing(run: BackgroundImport, *, log: logging.Logger, what: str) -> Iterator[None]:
    """Run an import's work: a refused file (RefusedFile) fails the import with its message; anything
    else fails it too and is raised again."""
    try:
        yield
    except RefusedFile as error:
        fail(run, str(error), **getattr(error, "fields", {}))
    except Exception as error:
        log.exception("%s %s failed", what, run.pk)
        fail(run, _("The import stopped (%(error)s); nothing was changed.") % {"error": error.__class__.__name__})
        raise


def start(model: type[BackgroundImport], *, uploads: list, by, **fields) -> BackgroundImport:
    """Keep the uploaded files in the private files storage and record an import waiting to run; the
    caller queues it once the request's transaction commits."""
    names = [Path(upload.name).name for upload in uploads]
    run = model.objects.create(started_by=by, files=", ".join(names)[:500], **fields)
    folder = f"{model.UPLOAD_FOLDER}/{run.uuid}"
    storage = private_file_storage()
    for name, upload in zip(names, uploads, strict=True):
        storage.save(f"{folder}/{name}", upload)
    run.folder = folder
    run.save(update_fields=["folder"])
    return run


@contextmanager
def _local_files(run: BackgroundImport) -> Iterator[list[Path]]:
    """The stored uploads copied to a local temporary folder (the storage may be object storage)."""
    storage = private_file_storage()
    local = Path(tempfile.mkdtemp(prefix=f"{run.UPLOAD_FOLDER}-"))
    try:
        paths = []
        for name in run.file_names:
            path = local / name
            with storage.open(f"{run.folder}/{name}", "rb") as stored, path.open("wb") as handle:
                for chunk in File(stored).chunks():
                    handle.write(chunk)
            paths.append(path)
        yield paths
    finally:
        shutil.rmtree(local, ignore_errors=True)


def delete_uploads(run: BackgroundImport) -> None:
    storage = private_file_storage()
    for name in run.file_names:
        storage.delete(f"{run.folder}/{name}")


def run_uploaded(
    model: type[BackgroundImport], *, import_id: int, run: Callable[..., BackgroundImport]
) -> BackgroundImport | None:
    """The task's work: claim the import, ``run(register_import=..., paths=..., by=...)`` on its
    uploaded files, then delete them. Idempotent: an import already claimed or finished is left
    alone (returns None)."""
    try:
        claimed = claim(model, import_id=import_id)
    except ImportNotWaiting:
        return None
    try:
        with _local_files(claimed) as paths:
            return run(claimed, paths=paths, by=claimed.started_by)
    except FileNotFoundError:
        fail(claimed, _("The uploaded files are gone; upload them again."))
        return claimed
    finally:
        delete_uploads(claimed)


def sweep(model: type[BackgroundImport], *, now=None) -> tuple[list[int], int]:
    """(imports to queue again, how many were marked failed). An import still waiting
    PORTAL_IMPORT_REQUEUE_AFTER seconds after its upload lost its message (the broker was down); one
    running for PORTAL_IMPORT_ABANDONED_AFTER seconds lost its worker (a whole register takes
    minutes), so it is failed, its partial work undone and its uploads deleted."""
    now = now or timezone.now()
    waiting = model.objects.filter(
        status=model.Status.QUEUED, created_at__lte=now - timedelta(seconds=settings.PORTAL_IMPORT_REQUEUE_AFTER)
    )
    abandoned = model.objects.filter(
        status__in=(model.Status.CHECKING, model.Status.WRITING),
        started_at__lte=now - timedelta(seconds=settings.PORTAL_IMPORT_ABANDONED_AFTER),
    )
    failed = 0
    for run in abandoned:
        fail(
            run,
            _(
                "The import stopped part way: the worker running it stopped (restarted, or out of memory). "
                "Nothing was changed; upload the files again."
            ),
        )
        delete_uploads(run)
        failed += 1
    return list(waiting.values_list("pk", flat=True)), failed
