"""Uploaded files whose record is not (or not always) public, for every app: where they are kept, the
names they get, and how a view sends one.

MEDIA_ROOT is served to anyone at /media/, so it holds only files that are public for as long as they
exist (organisation logos). Everything else (notice attachments, which wait for moderation; assessment
evidence; support materials, some for members only) is kept in PRIVATE_FILES_ROOT and only ever sent by
a view that has first checked, through accounts.permissions, that the person may see the record. Such
views answer 404 to everyone else, so a file's existence is not revealed either.

Stored names are random (never derived from an id, a title or the upload's name), so a name that leaks
into a log says nothing, and a public file cannot be found by guessing.
"""

import mimetypes
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.files.storage import FileSystemStorage, Storage
from django.http import FileResponse, Http404
from django.utils.cache import patch_cache_control
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


_private_storage = PrivateFileStorage()


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


def private_file_storage() -> PrivateFileStorage:
    """For FileField(storage=...): a callable, so migrations do not record the folder."""
    return _private_storage


def random_name(folder: str, filename: str) -> str:
    """``folder/<random>.<extension of filename>``: the only part of the upload's name kept is its
    extension, which the apps set from the type found in the file's content."""
    extension = Path(filename).suffix.lower()
    if not extension[1:].isalnum():
        extension = ""
    return f"{folder}/{secrets.token_hex(16)}{extension}"


def private_file_response(file, *, filename: str, file_type: str = "", as_attachment: bool = True) -> FileResponse:
    """Send a private file (a FieldFile, or a path) that the caller has already decided the person may
    see. The content type is the one found when the file was uploaded (file_type, see core.uploads),
    never guessed by the browser; a missing file is a 404, not a 500."""
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
    """/media/: public uploads only (logos). MEDIA_ROOT is read at each request, not once at start-up."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


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


def delete_leftovers(storage: FileSystemStorage, folder: str) -> int:
    """Delete every file left in ``folder`` of a storage (and the emptied folders); for data migrations
    once the files still in use have moved elsewhere: files of replaced uploads stay behind otherwise,
    and in MEDIA_ROOT they would still be public. Returns how many files were deleted."""
    root = Path(storage.path(folder))
    if not root.is_dir():
        return 0
    deleted = 0
    # Deepest first, so each folder is empty by the time it is reached.
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()
            deleted += 1
    root.rmdir()
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
