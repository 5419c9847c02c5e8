"""Reading a public register's bulk extract, one row at a time, without trusting it.

The Charity Commission publishes its register as one zip per table (``publicextract.<table>.zip``),
each holding one tab-separated UTF-8 text file with a header row; a line break followed by a tab
continues the previous line (a field with a line break in it). This module knows that shape and
nothing about charities: ``read_table`` yields each record as a dict of column name to text, with the
line it starts on, and raises ``ExtractError`` naming the table, the line and the column for anything
wrong (missing columns, a line that is not UTF-8, a record with the wrong number of fields, a record
or a file too big). Nothing is read whole: plain files and zip parts are read a chunk at a time
(zips through ``core.archives``, which refuses zip bombs), so memory stays bounded whatever the size.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from . import archives
from .background_imports import RefusedFile

CHUNK = 1024 * 1024
# One record, continuation lines included. The register's longest field (activities) is a few KB.
MAX_RECORD_BYTES = 1024 * 1024
TEXT_SUFFIXES = (".txt", ".tsv")
_TABLE_NAME_RE = re.compile(r"^(?:publicextract\.)?(?P<table>[a-z_]+)\.(?:zip|txt|tsv)$")


class ExtractError(RefusedFile):
    """The extract is refused; the message names the table, line and column, for the admin."""


@dataclass(frozen=True)
class Record:
    line: int  # the line of the file the record starts on; the header is line 1
    values: dict[str, str]


def table_of(path: Path) -> str | None:
    """The table a file holds, from its name: publicextract.charity.zip, charity.txt... or None."""
    match = _TABLE_NAME_RE.match(path.name.lower())
    return match["table"] if match else None


def find_tables(paths: Iterable[Path], tables: Sequence[str]) -> dict[str, Path]:
    """Each wanted table's file among ``paths`` (files, or folders holding them). ExtractError if one
    is missing or given twice."""
    found: dict[str, Path] = {}
    for path in paths:
        candidates = sorted(path.iterdir()) if path.is_dir() else [path]
        for candidate in candidates:
            table = table_of(candidate)
            if table not in tables:
                continue
            if table in found:
                raise ExtractError(
                    _("The %(table)s table is given twice (%(first)s and %(second)s).")
                    % {"table": table, "first": found[table].name, "second": candidate.name}
                )
            found[table] = candidate
    missing = [table for table in tables if table not in found]
    if missing:
        raise ExtractError(
            _("No file for the %(tables)s table: give publicextract.<table>.zip (or <table>.txt) for each.")
            % {"tables": ", ".join(missing)}
        )
    return found


def _file_chunks(path: Path, table: str, max_bytes: int) -> Iterator[bytes]:
    size = path.stat().st_size
    if size > max_bytes:
        raise ExtractError(_too_big(table, size, max_bytes))
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _too_big(table: str, size: int, max_bytes: int) -> str:
    return _("The %(table)s table is %(size)s MB; the largest accepted is %(max)s MB.") % {
        "table": table,
        "size": f"{size / archives.MB:,.0f}",
        "max": f"{max_bytes / archives.MB:,.0f}",
    }


def _zip_chunks(path: Path, name: str, max_bytes: int, *, suffixes: tuple[str, ...], holds: str) -> Iterator[bytes]:
    """The one ``suffixes`` part of the zip at ``path``, unpacked a chunk at a time. The size limit is
    the archive's, checked as the part unpacks (core.archives), whatever the zip declares."""
    limits = archives.Limits(max_entries=5, max_entry_bytes=max_bytes, max_total_bytes=max_bytes)
    with path.open("rb") as handle:
        try:
            with archives.open_archive(handle, limits) as archive:
                parts = [info for info in archive.infos if info.filename.lower().endswith(suffixes)]
                if len(parts) != 1:
                    raise ExtractError(
                        _("%(file)s should hold one %(holds)s; it holds %(count)s.")
                        % {"file": path.name, "holds": holds, "count": len(parts)}
                    )
                yield from archive.chunks(parts[0])
        except archives.ArchiveError as error:
            raise ExtractError(
                _("%(file)s cannot be read: %(reason)s") % {"file": path.name, "reason": error}
            ) from None


def _lines(chunks: Iterable[bytes], table: str) -> Iterator[bytes]:
    """The file's lines, without their line ends; a line longer than a record may be is refused."""
    rest = b""
    number = 0
    for chunk in chunks:
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        for part in parts:
            number += 1
            yield part.removesuffix(b"\r")
        if len(rest) > MAX_RECORD_BYTES:
            raise ExtractError(
                _("The %(table)s table's line %(line)s is longer than %(max)s MB; the file is not a register extract.")
                % {"table": table, "line": number + 1, "max": MAX_RECORD_BYTES // archives.MB}
            )
    if rest:
        yield rest.removesuffix(b"\r")


def _decode(raw: bytes, table: str, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ExtractError(
            _(
                "The %(table)s table's line %(line)s is not UTF-8 (byte 0x%(byte)02X at character %(at)s): "
                "the file mixes encodings. Use the register's own extract, unchanged."
            )
            % {"table": table, "line": line, "byte": raw[error.start], "at": error.start + 1}
        ) from None


def read_table(path: Path, *, table: str, columns: Sequence[str], max_bytes: int) -> Iterator[Record]:
    """Each record of ``table`` in the file at ``path`` (a zip or a .txt), in order. ``columns`` must all
    be in the header (others are ignored). Raises ExtractError as soon as something is wrong."""
    chunks = (
        _zip_chunks(path, table, max_bytes, suffixes=TEXT_SUFFIXES, holds=_(".txt file (the %(table)s table)") % {"table": table})
        if path.suffix.lower() == ".zip"
        else _file_chunks(path, table, max_bytes)
    )
    lines = _lines(chunks, table)
    header_raw = next(lines, None)
    if header_raw is None or not header_raw.strip():
        raise ExtractError(
            _("The %(table)s table is empty: its first line must hold the column names.") % {"table": table}
        )
    header = [name.strip() for name in _decode(header_raw, table, 1).removeprefix("\ufeff").split("\t")]
    missing = [name for name in columns if name not in header]
    if missing:
        raise ExtractError(
            _("The %(table)s table has no %(columns)s column (its header is line 1: %(header)s).")
            % {
                "table": table,
                "columns": ", ".join(f"“{name}”" for name in missing),
                "header": ", ".join(header[:8]) + ("…" if len(header) > 8 else ""),
            }
        )
    width = len(header)
    positions = [(name, header.index(name)) for name in columns]
    pending: list[bytes] = []
    start = 0

    def record() -> Record:
        text = _decode(b"\n".join(pending), table, start)
        # A continuation line's tab marks the line break as part of a field...
        fields = text.replace("\n\t", "\n").split("\t")
        if len(fields) != width and len(pending) > 1:
            # ...or, if the fields do not add up that way, separates a field that ended with the break.
            fields = text.replace("\n\t", "\t").split("\t")
        if len(fields) != width:
            raise ExtractError(
                _("The %(table)s table's line %(line)s has %(count)s fields; the header has %(width)s.")
                % {"table": table, "line": start, "count": len(fields), "width": width}
            )
        return Record(start, {name: fields[index].strip() for name, index in positions})

    size = 0
    for number, raw in enumerate(lines, start=2):
        if raw.startswith(b"\t") and pending:
            pending.append(raw)
            size += len(raw)
            if size > MAX_RECORD_BYTES:
                raise ExtractError(
                    _("The %(table)s table's record on line %(line)s is longer than %(max)s MB.")
                    % {"table": table, "line": start, "max": MAX_RECORD_BYTES // archives.MB}
                )
            continue
        if pending:
            yield record()
        if not raw.strip():
            pending = []
            continue
        pending, start, size = [raw], number, len(raw)
    if pending:
        yield record()


# Comma-separated files (Companies House's bulk file) ---------------------------------------------

CSV_SUFFIXES = (".csv",)


class _ChunkReader(io.RawIOBase):
    """A read-only byte stream over an iterator of chunks, for io.TextIOWrapper."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = chunk
        size = min(len(buffer), len(self._rest))
        buffer[:size], self._rest = self._rest[:size], self._rest[size:]
        return size


def read_csv(
    path: Path, *, name: str, columns: Sequence[str], optional: Sequence[str] = (), max_bytes: int
) -> Iterator[Record]:
    """Each row of the comma-separated file at ``path`` (a .csv, or a zip holding one), in order, as a
    Record whose ``line`` is the row's number (the header is row 1). Header names are compared without
    their surrounding spaces. ``columns`` must all be there; ``optional`` ones are given ("" if
    absent). Raises ExtractError, naming ``name`` and the row, as soon as something is wrong."""
    chunks = (
        _zip_chunks(path, name, max_bytes, suffixes=CSV_SUFFIXES, holds=_(".csv file (%(name)s)") % {"name": name})
        if path.suffix.lower() == ".zip"
        else _file_chunks(path, name, max_bytes)
    )
    text = io.TextIOWrapper(io.BufferedReader(_ChunkReader(chunks), CHUNK), encoding="utf-8-sig", newline="")
    # csv's own limit on one field stands for a record too big (it is per field; rows are few fields).
    reader = csv.reader(text, strict=True)
    row_number = 1
    try:
        header = [column.strip() for column in next(reader, [])]
        if not any(header):
            raise ExtractError(_("%(name)s is empty: its first row must hold the column names.") % {"name": name})
        missing = [column for column in columns if column not in header]
        if missing:
            raise ExtractError(
                _("%(name)s has no %(columns)s column (its header is row 1: %(header)s).")
                % {
                    "name": name,
                    "columns": ", ".join(f"“{column}”" for column in missing),
                    "header": ", ".join(header[:8]) + ("…" if len(header) > 8 else ""),
                }
            )
        width = len(header)
        positions = [(column, header.index(column)) for column in columns]
        positions += [(column, header.index(column) if column in header else None) for column in optional]
        for row_number, fields in enumerate(reader, start=2):
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != width:
                raise ExtractError(
                    _("%(name)s's row %(row)s has %(count)s fields; the header has %(width)s.")
                    % {"name": name, "row": row_number, "count": len(fields), "width": width}
                )
            yield Record(
                row_number, {column: fields[index].strip() if index is not None else "" for column, index in positions}
            )
    except UnicodeDecodeError as error:
        raise ExtractError(
            _(
                "%(name)s's row %(row)s is not UTF-8 (byte 0x%(byte)02X): the file mixes encodings. "
                "Use the register's own file, unchanged."
            )
            % {"name": name, "row": row_number + 1, "byte": error.object[error.start]}
        ) from None
    except csv.Error as error:
        raise ExtractError(
            _("%(name)s's row %(row)s cannot be read as CSV (%(reason)s).")
            % {"name": name, "row": row_number + 1, "reason": error}
        ) from None
