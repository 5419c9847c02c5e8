"""Uploaded files, for every app: where they are kept, the names they get, and how a view sends a
private one.

Two storages hold them (STORAGES in settings.py):

- ``default``, for files that are public for as long as they exist (organisation logos): MEDIA_ROOT,
  served to anyone at /media/ by ``serve_media``; or, on object storage, the bucket's ``public/`` folder,
  each object readable by anyone at its plain bucket address (``logo.url``).
- ``private`` (``private_file_storage()``), for everything else: notice attachments, which wait for
  moderation; assessment evidence; support materials, some for members only; member imports awaiting
  confirmation (organisations/imports.py); evidence packs (evidence/services.py). PRIVATE_FILES_ROOT on
  local disk; or the bucket's ``private/`` folder, whose objects only the portal's credentials can read.
  Either way a private file is only ever sent by a view that has first checked, through
  accounts.permissions, that the person may see the record (``private_file_response``, which streams it
  through the portal, never redirects to the bucket). Such views answer 404 to everyone else, so a
  file's existence is not revealed either.

With object storage, every web process and worker, on whatever machine, sees the same files: one
uploads, another sends it; a worker writes an evidence pack, the web side sends it. Code here and in
the apps therefore uses only what both kinds of storage have (open, save, exists, delete, listdir,
get_modified_time), never a path on disk.

Stored names are random (never derived from an id, a title or the upload's name), so a name that leaks
into a log says nothing, and a public file cannot be found by guessing.
"""

import mimetypes
import os
import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.functional import LazyObject, empty
from django.views.static import serve

from .uploads import CONTENT_TYPES


class PrivateFileStorage(FileSystemStorage):
    """FileSystemStorage in PRIVATE_FILES_ROOT, with no public address. The folder is read from settings at
    each use, so tests can point it somewhere temporary."""

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return str(settings.PRIVATE_FILES_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise ValueError("Private files have no public address; link to the view that sends them instead.")

    def deconstruct(self):
        return ("core.files.PrivateFileStorage", [], {})


PRIVATE_STORAGE = "private"


class _PrivateStorage(LazyObject):
    """The storage STORAGES["private"] describes, made when first used and again after a test changes
    STORAGES, so that a FileField given ``storage=private_file_storage`` follows the settings rather than
    holding the storage that existed when its model was imported. Made from the setting itself, not
    through ``storages[...]``: a FileField looks at its storage as its model is imported, which would fill
    that handler's copy of STORAGES before the tests and benchmarks adjust the setting."""

    def _setup(self):
        self._wrapped = storages.create_storage(settings.STORAGES[PRIVATE_STORAGE])


_private_storage = _PrivateStorage()


def replace_storages(**storages) -> None:
    """Change STORAGES entries once Django has started (the tests' and benchmarks' plain static files),
    as override_settings would: every storage made from the old setting is forgotten, Django's own
    (some are made as apps start: django_cleanup looks at the file fields' storages) and ours."""
    import django.test.signals  # noqa: F401  (connects Django's receivers that forget its storages)

    settings.STORAGES = {**settings.STORAGES, **storages}
    setting_changed.send(sender=type(settings), setting="STORAGES", value=settings.STORAGES, enter=True)


@receiver(setting_changed)
def _forget_private_storage(*, setting, **kwargs) -> None:
    # Django forgets its own storages when a test changes STORAGES (django.test.signals); this one too.
    if setting == "STORAGES":
        _private_storage._wrapped = empty


@checks.register(checks.Tags.security)
def check_private_files_outside_media(app_configs, **kwargs) -> list[checks.CheckMessage]:
    private, media = Path(settings.PRIVATE_FILES_ROOT).resolve(), Path(settings.MEDIA_ROOT).resolve()
    if private == media or media in private.parents:
        return [
            checks.Error(
                "PRIVATE_FILES_ROOT is inside MEDIA_ROOT, which anyone can read at /media/.",
                hint="Set PORTAL_PRIVATE_FILES_ROOT to a folder outside PORTAL_MEDIA_ROOT.",
                id="directory.E001",
            )
        ]
    return []


def private_file_storage() -> Storage:
    """The storage of every private file (STORAGES["private"]). For FileField(storage=...): a callable,
    so migrations record neither the folder nor the bucket."""
    return _private_storage


def random_name(folder: str, filename: str) -> str:
    """``folder/<random>.<extension of filename>``: the only part of the upload's name kept is its
    extension, which the apps set from the type found in the file's content."""
    extension = Path(filename).suffix.lower()
    if not extension[1:].isalnum():
        extension = ""
    return f"{folder}/{secrets.token_hex(16)}{extension}"


def private_file_response(file, *, filename: str, file_type: str = "", as_attachment: bool = True) -> FileResponse:
    """Send a private file (a FieldFile, or a path on disk) that the caller has already decided the
    person may see, streamed through the portal from wherever it is stored. The content type is the one
    found when the file was uploaded (file_type, see core.uploads), never guessed by the browser; a
    missing file is a 404, not a 500."""
    try:
        handle = open(file, "rb") if isinstance(file, str | Path) else file.open("rb")
    except (OSError, ValueError):
        raise Http404 from None
    content_type = CONTENT_TYPES.get(file_type) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    response = FileResponse(handle, as_attachment=as_attachment, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # Whoever may see it now may not tomorrow (a notice hidden by a moderator): no shared caches.
    patch_cache_control(response, private=True, no_cache=True)
    return response


def serve_media(request, path: str):
    """/media/: public uploads only (logos), when they are kept on local disk (on object storage a logo's
    address is the bucket's). MEDIA_ROOT is read at each request, not once at start-up."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


def delete_older_than(storage: Storage, folder: str, *, seconds: int) -> int:
    """Delete the files directly in ``folder`` last changed more than ``seconds`` ago (uploads nobody
    came back for). Another process deleting one first is not an error. Returns how many were deleted."""
    cutoff = timezone.now() - timedelta(seconds=seconds)
    try:
        _folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in files:
        try:
            old = storage.get_modified_time(f"{folder}/{name}") < cutoff
        except Exception:  # gone since the listing (object storage raises its own kind of error)
            if storage.exists(f"{folder}/{name}"):
                raise
            continue
        if old:
            storage.delete(f"{folder}/{name}")
            deleted += 1
    return deleted


def move_files(*, model, field: str, source: Storage, target: Storage, folder: str | None = None) -> int:
    """Move the files of ``model.field`` from one storage to another (and to a random name in ``folder``
    if given), for data migrations. Idempotent: a record whose file is already in ``target`` is left as
    it is, so running it again (or after a crash) changes nothing. Each record is updated as soon as its
    file is copied, then the old copy is deleted. Returns how many files moved."""
    moved = 0
    for pk, name in model._default_manager.exclude(**{field: ""}).values_list("pk", field).iterator():
        if target.exists(name) or not source.exists(name):
            continue
        new_name = random_name(folder, name) if folder else name
        with source.open(name, "rb") as handle:
            new_name = target.save(new_name, handle)
        model._default_manager.filter(pk=pk).update(**{field: new_name})
        source.delete(name)
        moved += 1
    return moved


def delete_leftovers(storage: Storage, folder: str) -> int:
    """Delete every file left in ``folder`` of a storage (and the emptied folders); for data migrations
    once the files still in use have moved elsewhere: files of replaced uploads stay behind otherwise,
    and in MEDIA_ROOT they would still be public. Returns how many files were deleted."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return 0
    deleted = sum(delete_leftovers(storage, f"{folder}/{name}") for name in folders)
    for name in files:
        storage.delete(f"{folder}/{name}")
        deleted += 1
    storage.delete(folder)  # the emptied folder on disk; object storage has no folders to delete
    return deleted


def check_storage(storage: Storage) -> None:
    """Raise if a file storage cannot be used (for /readyz). A folder on disk must be there (it is made
    if missing, as the first upload would) and writable; an S3 bucket must answer. Nothing is written."""
    if isinstance(storage, FileSystemStorage):
        location = Path(storage.location)
        location.mkdir(parents=True, exist_ok=True)
        if not os.access(location, os.R_OK | os.W_OK | os.X_OK):
            raise PermissionError("the storage folder is not readable and writable")
        return
    boto = getattr(getattr(storage, "connection", None), "meta", None)
    if boto is not None:  # django-storages' S3Storage: one HEAD request on the bucket
        boto.client.head_bucket(Bucket=storage.bucket_name)
        return
    storage.exists("readyz-probe")
