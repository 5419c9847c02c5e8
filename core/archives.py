"""Reading zip archives (Office and OpenDocument files, XLSX imports) without trusting them.

A zip says in its central directory how many parts it holds and how big each unpacks to, but a hostile
one can lie, or tell the truth about a 1 GiB part packed into 1 MB (a "zip bomb"). So, before any part
is read:

- the end record is checked before ``zipfile`` parses the directory (a directory of 100,000 entries
  takes a worker seconds just to list);
- every entry is checked: how many, their names, compression method, declared sizes and packing ratio;

and parts are only ever read through ``Archive.chunks``, which inflates the packed bytes itself, a
chunk at a time, and stops as soon as a part gives more than its limit, whatever it declared.
(``zipfile``'s own ``read()`` inflates a part in one piece before cutting it to the declared size.)

XML parts are parsed with ``parse_xml``: expat, fed chunk by chunk, refusing any DTD (so no entity
expansion, "billion laughs") and any text run longer than a limit.
"""

import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from xml.parsers import expat

from django.utils.translation import gettext as _

MB = 1024 * 1024
CHUNK = 64 * 1024
# Parts smaller than this may be packed as tightly as they like (a run of spaces, an empty sheet).
RATIO_FLOOR_BYTES = MB
# Generic archives inside a document: nothing in Office or OpenDocument files is one of these (their
# embedded objects are .xlsx, .docx, .bin...), and nobody unpacks them here.
ARCHIVE_SUFFIXES = frozenset({".zip", ".7z", ".rar", ".gz", ".tgz", ".bz2", ".xz", ".tar", ".jar", ".cab"})

_END = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_END64 = struct.Struct("<4sQ2H2L4Q")
_END64_SIGNATURE = b"PK\x06\x06"
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"


class ArchiveError(ValueError):
    """The archive is refused; the message says why, for the person who uploaded it."""


class DamagedArchive(ArchiveError):
    """Not a sound zip at all (perhaps not a zip): callers may say "not a type we accept" instead."""


@dataclass(frozen=True)
class Limits:
    max_entries: int
    max_entry_bytes: int  # one part, unpacked
    max_total_bytes: int  # all parts together, unpacked
    max_ratio: int = 200  # unpacked size / packed size, for parts over RATIO_FLOOR_BYTES

    @property
    def max_directory_bytes(self) -> int:
        # An entry in the central directory is 46 bytes and its name; Office names are short.
        return self.max_entries * 256


def _megabytes(size: int) -> str:
    return f"{size / MB:g}"


def _damaged() -> ArchiveError:
    return DamagedArchive(_("The file is damaged: its zip structure cannot be read. Save it again and upload that."))


def _bomb(max_bytes: int) -> ArchiveError:
    return ArchiveError(
        _(
            "The file unpacks to more than %(size)s MB, far more than a document of its size needs; "
            "it may be damaged or made to overload the server (a “zip bomb”)."
        )
        % {"size": _megabytes(max_bytes)}
    )


def _directory_size(fileobj) -> tuple[int, int]:
    """(entries, bytes) of the central directory, from the end record, as zipfile will find it."""
    fileobj.seek(0, 2)
    size = fileobj.tell()
    start = max(0, size - (_END.size + 0xFFFF))  # the end record, then a comment of at most 64 KiB
    fileobj.seek(start)
    tail = fileobj.read()
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END.size:
        raise _damaged()
    _signature, _disk, _start_disk, _disk_entries, entries, directory_bytes, _offset, _comment = _END.unpack_from(
        tail, at
    )
    locator = at - _END64_LOCATOR.size
    if locator >= 0 and tail[locator : locator + 4] == _END64_LOCATOR_SIGNATURE:
        record = locator - _END64.size
        if record < 0 or tail[record : record + 4] != _END64_SIGNATURE:
            raise _damaged()
        fields = _END64.unpack_from(tail, record)
        entries, directory_bytes = max(entries, fields[6]), max(directory_bytes, fields[8])
    return entries, directory_bytes


def _check_name(name: str, seen: set[str]) -> None:
    path = PurePosixPath(name)
    unsafe = (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or ".." in path.parts
        or (len(name) > 1 and name[1] == ":")
        or len(name) > 1024
    )
    if unsafe or name in seen:
        raise ArchiveError(
            _("The file has a part with an unsafe or repeated name (“%(name)s”); it may be damaged or made to harm.")
            % {"name": name[:80]}
        )
    seen.add(name)
    if path.suffix.lower() in ARCHIVE_SUFFIXES:
        raise ArchiveError(
            _("The file has another archive inside it (“%(name)s”); archives inside documents are not accepted.")
            % {"name": name[:80]}
        )


def _check_entries(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_entries:
        raise ArchiveError(_too_many_entries(limits))
    seen: set[str] = set()
    declared = 0
    for info in infos:
        _check_name(info.filename, seen)
        if info.flag_bits & 0x1:
            raise ArchiveError(_("The file is password-protected. Remove the password, save it and upload that."))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # bzip2 and LZMA cannot be inflated a bounded chunk at a time; Office never uses them.
            raise ArchiveError(
                _("The file is packed in an unusual way that documents never use. Save it again and upload that.")
            )
        declared += info.file_size
        if info.file_size > limits.max_entry_bytes or declared > limits.max_total_bytes:
            raise _bomb(limits.max_entry_bytes if info.file_size > limits.max_entry_bytes else limits.max_total_bytes)
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise ArchiveError(
                _(
                    "Part of the file unpacks to %(ratio)s times its packed size, which real documents never do; "
                    "it may be made to overload the server (a “zip bomb”)."
                )
                % {"ratio": f"{info.file_size // max(info.compress_size, 1):,}"}
            )


def _too_many_entries(limits: Limits) -> str:
    return _(
        "The file is made of more than %(max)s parts, far more than a document has; "
        "it may be damaged or made to overload the server."
    ) % {"max": f"{limits.max_entries:,}"}


class Archive:
    """A zip whose central directory passed the checks. Read its parts with ``chunks`` or ``read``."""

    def __init__(self, fileobj, limits: Limits):
        self.limits = limits
        self._file = fileobj
        entries, directory_bytes = _directory_size(fileobj)
        if entries > limits.max_entries or directory_bytes > limits.max_directory_bytes:
            raise ArchiveError(_too_many_entries(limits))
        fileobj.seek(0)
        try:
            self._zip = zipfile.ZipFile(fileobj)
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            NotImplementedError,
            OSError,
            ValueError,
            EOFError,
            struct.error,
        ):
            raise _damaged() from None
        self.infos = self._zip.infolist()
        _check_entries(self.infos, limits)
        self._by_name = {info.filename: info for info in self.infos}
        self._inflated = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._zip.close()

    def names(self) -> list[str]:
        return [info.filename for info in self.infos]

    def get(self, name: str) -> zipfile.ZipInfo | None:
        return self._by_name.get(name)

    def chunks(self, info: zipfile.ZipInfo, *, max_bytes: int | None = None) -> Iterator[bytes]:
        """The part's unpacked bytes, a chunk at a time. Raises ArchiveError as soon as it gives more than
        it declared, more than max_bytes (the per-part limit by default) or than the archive's total."""
        limit = min(max_bytes or self.limits.max_entry_bytes, self.limits.max_entry_bytes)
        given = crc = 0

        def counted(data: bytes) -> bytes:
            nonlocal given, crc
            given += len(data)
            self._inflated += len(data)
            if given > limit:
                raise _bomb(limit)
            if self._inflated > self.limits.max_total_bytes:
                raise _bomb(self.limits.max_total_bytes)
            if given > info.file_size:
                raise ArchiveError(
                    _("Part of the file (“%(name)s”) holds more than it declares; the file is damaged.")
                    % {"name": info.filename[:80]}
                )
            crc = zlib.crc32(data, crc)
            return data

        if info.header_offset < 0:  # zipfile moves offsets by the bytes before the archive; they may not fit
            raise _damaged()
        self._file.seek(info.header_offset)
        header = self._file.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            raise _damaged()
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
        offset = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
        inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
        packed_left = info.compress_size
        try:
            while packed_left > 0 and not (inflater and inflater.eof):
                self._file.seek(offset)  # another part may have been read in between
                packed = self._file.read(min(CHUNK, packed_left))
                offset += len(packed)
                if not packed:
                    raise _damaged()
                packed_left -= len(packed)
                if inflater is None:
                    yield counted(packed)
                    continue
                while packed:
                    # At most CHUNK bytes out per call; the input not yet used waits in unconsumed_tail.
                    yield counted(inflater.decompress(packed, CHUNK))
                    packed = inflater.unconsumed_tail
            if inflater is not None:
                yield counted(inflater.flush())  # what inflate still holds: less than its 32 KiB window
        except zlib.error:
            raise _damaged() from None
        if given != info.file_size or crc != info.CRC:
            raise _damaged()

    def read(self, name: str, *, max_bytes: int | None = None) -> bytes:
        info = self.get(name)
        if info is None:
            raise KeyError(name)
        return b"".join(self.chunks(info, max_bytes=max_bytes))

    def check_all(self, *, read_part: Callable[[zipfile.ZipInfo, Iterator[bytes]], None] | None = None) -> None:
        """Unpack every part, within the limits, so later readers that trust the archive (openpyxl
        calls ``read()`` on it) can unpack no more than was counted here. ``read_part(info, chunks)``,
        if given, consumes each part instead of discarding it."""
        for info in self.infos:
            chunks = self.chunks(info)
            if read_part is not None:
                read_part(info, chunks)
            for _chunk in chunks:  # whatever read_part left unread still counts
                pass


def open_archive(fileobj, limits: Limits) -> Archive:
    return Archive(fileobj, limits)


# XML ---------------------------------------------------------------------------------------------


class XMLError(ValueError):
    """The XML is malformed or not allowed; the message says why."""


def parse_xml(
    chunks: Iterable[bytes],
    *,
    start: Callable[[str, dict], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
    max_text: int,
    too_long_text: Callable[[], Exception],
) -> None:
    """Feed an XML part to expat a chunk at a time. Element names lose their namespace prefix. A DTD
    is refused (as defusedxml does: no entities, so no "billion laughs" and no external fetches);
    so is any run of text longer than max_text characters, before it is held whole."""
    parser = expat.ParserCreate()
    run = 0

    def refuse_dtd(*args):
        raise XMLError(_("The file holds a document type declaration (DTD), which is not allowed."))

    def on_start(name, attributes):
        nonlocal run
        run = 0
        start(name.rpartition(":")[2], attributes)

    def on_end(name):
        nonlocal run
        run = 0
        if end is not None:
            end(name.rpartition(":")[2])

    def on_text(data):
        nonlocal run
        run += len(data)
        if run > max_text:
            raise too_long_text()
        if text is not None:
            text(data)

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.UnparsedEntityDeclHandler = refuse_dtd
    parser.ExternalEntityRefHandler = refuse_dtd
    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    # Text arrives in pieces (expat does not buffer it whole), so a huge run is caught as it grows.
    parser.CharacterDataHandler = on_text
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise XMLError(_("The file has malformed XML (%(error)s).") % {"error": error}) from None
    except LookupError as error:  # an encoding expat does not know
        raise XMLError(_("The file has malformed XML (%(error)s).") % {"error": error}) from None
