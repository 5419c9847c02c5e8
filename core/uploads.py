"""Checking uploaded files by their content, for every app (notices, support materials, evidence).

The file name and the browser's content type are the uploader's word; only the bytes count. Logos have
their own, stricter path (core.images), which also re-encodes them. Office and OpenDocument files
are zips: they are opened only through core.archives, which refuses zip bombs before unpacking.
"""

import io
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

from . import archives

PDF = "pdf"
PNG = "png"
JPEG = "jpeg"
GIF = "gif"
WEBP = "webp"
DOCX = "docx"
XLSX = "xlsx"
PPTX = "pptx"
ODT = "odt"
ODS = "ods"

IMAGES = frozenset({PNG, JPEG, GIF, WEBP})
DOCUMENTS = frozenset({PDF, DOCX, XLSX, PPTX, ODT, ODS})

LABELS = {
    PDF: gettext_lazy("PDF"),
    PNG: gettext_lazy("PNG image"),
    JPEG: gettext_lazy("JPEG image"),
    GIF: gettext_lazy("GIF image"),
    WEBP: gettext_lazy("WebP image"),
    DOCX: gettext_lazy("Word document (.docx)"),
    XLSX: gettext_lazy("Excel spreadsheet (.xlsx)"),
    PPTX: gettext_lazy("PowerPoint presentation (.pptx)"),
    ODT: gettext_lazy("OpenDocument text (.odt)"),
    ODS: gettext_lazy("OpenDocument spreadsheet (.ods)"),
}
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg", GIF: "gif", WEBP: "webp", DOCX: "docx", XLSX: "xlsx", PPTX: "pptx", ODT: "odt", ODS: "ods"}
CONTENT_TYPES = {
    PDF: "application/pdf",
    PNG: "image/png",
    JPEG: "image/jpeg",
    GIF: "image/gif",
    WEBP: "image/webp",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ODT: "application/vnd.oasis.opendocument.text",
    ODS: "application/vnd.oasis.opendocument.spreadsheet",
}
# Images larger than this many pixels are refused before decoding (decompression bombs).
MAX_IMAGE_PIXELS = 40_000_000
# A document of a few MB: a presentation of hundreds of slides has a few thousand parts, and its XML
# packs about ten to one. Every part is unpacked (bounded) once to check that the zip is sound.
ARCHIVE_LIMITS = archives.Limits(max_entries=5000, max_entry_bytes=64 * archives.MB, max_total_bytes=128 * archives.MB)
MAX_MIMETYPE_BYTES = 100


def _zip_kind(data: bytes) -> str | None:
    """The kind of an Office or OpenDocument file. Raises archives.ArchiveError for a zip that is
    refused whatever it holds (a zip bomb, a password-protected zip)."""
    try:
        with archives.open_archive(io.BytesIO(data), ARCHIVE_LIMITS) as archive:
            archive.check_all()
            names = archive.names()
            info, mimetype = archive.get("mimetype"), None
            # check_all proved the declared size true; a real one is about 45 characters.
            if info is not None and info.file_size <= MAX_MIMETYPE_BYTES:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
    except archives.DamagedArchive:
        return None
    if info is not None:  # OpenDocument
        return {CONTENT_TYPES[ODT]: ODT, CONTENT_TYPES[ODS]: ODS}.get(mimetype)
    if "[Content_Types].xml" in names:
        for prefix, kind in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
            if any(name.startswith(prefix) for name in names):
                return kind
    return None


def _image_kind(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return None
            image.verify()
            return {"PNG": PNG, "JPEG": JPEG, "GIF": GIF, "WEBP": WEBP}.get(image.format)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def detect_file_type(data: bytes) -> str | None:
    """The real type of a file from its bytes, or None if it is none of the types we accept. Raises
    archives.ArchiveError, with a message saying why, for a zip refused before its contents are read."""
    if data.startswith(b"%PDF-"):
        return PDF if b"%%EOF" in data[-2048:] else None
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ):
        return _image_kind(data)
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def describe(kinds: Iterable[str]) -> str:
    return ", ".join(str(LABELS[kind]) for kind in sorted(kinds))


def check_upload(upload, *, allowed: Iterable[str], max_bytes: int) -> str:
    """Check an uploaded file's size and real type; return the type. Raises ValidationError with a
    message naming what is wrong and what is accepted. The upload is left rewound for saving."""
    allowed = frozenset(allowed)
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            _("The file is too big: it must be %(size)s MB or smaller.") % {"size": f"{max_bytes / (1024 * 1024):g}"},
            code="file_too_big",
        )
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    upload.seek(0)
    if len(data) > max_bytes:
        raise ValidationError(
            _("The file is too big: it must be %(size)s MB or smaller.") % {"size": f"{max_bytes / (1024 * 1024):g}"},
            code="file_too_big",
        )
    if not data:
        raise ValidationError(_("The file is empty."), code="empty_file")
    try:
        kind = detect_file_type(data)
    except archives.ArchiveError as error:
        raise ValidationError(str(error), code="unsafe_archive") from None
    if kind is None:
        raise ValidationError(
            _("This file's contents are not a type we accept (or the file is damaged). Accepted: %(types)s.")
            % {"types": describe(allowed)},
            code="file_type",
        )
    if kind not in allowed:
        raise ValidationError(
            _("This file is a %(kind)s, which is not accepted here. Accepted: %(types)s.")
            % {"kind": LABELS[kind], "types": describe(allowed)},
            code="file_type",
        )
    return kind
