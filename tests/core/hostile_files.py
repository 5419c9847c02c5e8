"""Hostile uploads, built small in memory: zip bombs, lying zips, a directory of 100,000 entries, and
workbooks that declare or hold far too much. Shared by the tests and bench/hostile_uploads.py.

Big parts are written through ``ZipFile.open(name, "w")`` a chunk at a time, so building a 1 GiB part
never holds it whole.
"""

import functools
import io
import struct
import zipfile
import zlib

MIB = 1024 * 1024
CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _zip(parts: dict[str, bytes], big: tuple | None = None, *, zip64: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        if big:
            name, head, piece, count, tail = big
            with archive.open(_deflated(name), "w", force_zip64=zip64) as part:
                part.write(head)
                if piece:
                    per_block = max(1, MIB // len(piece))
                    block, left = piece * per_block, count
                    while left >= per_block:
                        part.write(block)
                        left -= per_block
                    part.write(piece * left)
                part.write(tail)
    return buffer.getvalue()


def _raw_zip(name: str, packed: bytes, crc: int, size: int) -> bytes:
    """A zip of one deflated part, written by hand from its packed bytes (no ZIP64: size < 4 GiB)."""
    encoded = name.encode()
    fields = (20, 0, 0, zipfile.ZIP_DEFLATED, 0, 0x21, crc, len(packed), size, len(encoded))
    local = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", *fields, 0) + encoded
    central = struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, *fields, 0, 0, 0, 0, 0, 0) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(packed), 0)
    return local + packed + central + end


@functools.cache
def mimetype_bomb(mib: int = 1024) -> bytes:
    """An OpenDocument-looking zip of about 1 MB whose ``mimetype`` part unpacks to 1 GiB of zeros.
    Deflate blocks ended by a full flush stand alone, so one packed MiB of zeros is repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(b"\x00" * MIB) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(b"\x00" * MIB, crc)
    packed = block * mib + b"\x03\x00"  # an empty final block
    return _raw_zip("mimetype", packed, crc, mib * MIB)


@functools.cache
def lying_docx() -> bytes:
    """A Word-looking zip whose document part says it unpacks to 1,000 bytes but holds 200 MB."""
    name = b"word/document.xml"
    parts = {"[Content_Types].xml": CONTENT_TYPES}
    data = bytearray(_zip(parts, big=(name.decode(), b"", b"\x00" * MIB, 200, b""), zip64=False))
    # The unpacked size sits at byte 22 of the local header and byte 24 of the central directory entry.
    for signature, name_at, size_at in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
        at = data.find(signature)
        while data[at + name_at : at + name_at + len(name)] != name:
            at = data.find(signature, at + 4)
        struct.pack_into("<I", data, at + size_at, 1000)
    return bytes(data)


@functools.cache
def entry_count_bomb(count: int = 100_000) -> bytes:
    """A zip whose central directory lists `count` entries (all pointing at one empty part): about 5 MB."""
    local = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0) + b"a"
    records = bytearray()
    for number in range(count):
        name = _base36(number).encode()
        records += struct.pack(
            "<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0
        )
        records += name
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), len(records), len(local), 0
    )
    return local + bytes(records) + end


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text.rjust(4, "0")


@functools.cache
def nested_zip() -> bytes:
    """A Word-looking zip carrying another zip (itself a bomb) among its parts."""
    return _zip(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "word/document.xml": b"<w:document/>",
            "word/media/inner.zip": mimetype_bomb(),
        }
    )


# Workbooks ---------------------------------------------------------------------------------------

WORKBOOK = f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'.encode()
WORKBOOK_RELS = (
    f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
).encode()
PACKAGE_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
).encode()
# Cell format 1 shows a date (built-in format 14).
STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/></numFmts>'
    '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>'
).encode()
HEADINGS = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
SHARED = "<si><t>name</t></si><si><t>kinds</t></si>"


def workbook(
    sheet: str = HEADINGS,
    *,
    dimension: str = "A1:B2",
    shared: str = SHARED,
    unique_count: int | None = None,
    big_sheet: tuple | None = None,
    big_shared: tuple | None = None,
) -> bytes:
    """An XLSX as Excel writes one (shared strings, styles), from the XML of its sheet's rows. A
    `big_sheet` or `big_shared` (head, piece, count, tail) replaces that part with one written in chunks."""
    sheet_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/>'
        f"<sheetData>{sheet}</sheetData></worksheet>"
    ).encode()
    count = f' uniqueCount="{unique_count}"' if unique_count is not None else ""
    shared_xml = f'<sst xmlns="{MAIN}"{count}>{shared}</sst>'.encode()
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": PACKAGE_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/styles.xml": STYLES,
    }
    big = None
    if big_sheet:
        big = ("xl/worksheets/sheet1.xml", *big_sheet)
    else:
        parts["xl/worksheets/sheet1.xml"] = sheet_xml
    if big_shared:
        big = ("xl/sharedStrings.xml", *big_shared)
    else:
        parts["xl/sharedStrings.xml"] = shared_xml
    return _zip(parts, big=big)


def _sheet_head(dimension: str | None = None) -> bytes:
    dimension_xml = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<worksheet xmlns="{MAIN}">{dimension_xml}<sheetData>{HEADINGS}'.encode()


SHEET_TAIL = b"</sheetData></worksheet>"


@functools.cache
def declared_160_million_cells() -> bytes:
    """A sheet that declares A1:XFD10000 (163 million cells) and holds two."""
    return workbook(dimension="A1:XFD10000")


@functools.cache
def held_160_million_cells() -> bytes:
    """A sheet that declares nothing and really holds 10,000 rows of 16,384 empty cells (655 MB unpacked)."""
    row = b"<row>" + b"<c/>" * 16_384 + b"</row>"
    return workbook(big_sheet=(_sheet_head(), row, 10_000, SHEET_TAIL))


@functools.cache
def held_16_million_cells() -> bytes:
    """1,000 rows of 16,384 empty cells, declared nowhere (65 MB unpacked)."""
    row = b"<row>" + b"<c/>" * 16_384 + b"</row>"
    return workbook(big_sheet=(_sheet_head(), row, 1_000, SHEET_TAIL))


@functools.cache
def many_cells_in_bounds() -> bytes:
    """10,000 rows of 100 empty cells: every row and column within bounds, a million cells in all."""
    row = b"<row>" + b"<c/>" * 100 + b"</row>"
    return workbook(big_sheet=(_sheet_head(), row, 10_000, SHEET_TAIL))


@functools.cache
def ten_million_shared_strings(declared: bool = True) -> bytes:
    count = ' uniqueCount="10000000"' if declared else ""
    head = f'<sst xmlns="{MAIN}"{count}>{SHARED}'.encode()
    return workbook(big_shared=(head, b"<si><t>x</t></si>", 10_000_000, b"</sst>"))


@functools.cache
def one_100mb_cell() -> bytes:
    """An inline string of 100 MB in cell A2."""
    head = _sheet_head() + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    return workbook(big_sheet=(head, b"a" * 1024, 100 * 1024, b"</t></is></c></row>" + SHEET_TAIL))


@functools.cache
def one_100mb_shared_string() -> bytes:
    head = f'<sst xmlns="{MAIN}">{SHARED}<si><t>'.encode()
    return workbook(big_shared=(head, b"a" * 1024, 100 * 1024, b"</t></si></sst>"))


@functools.cache
def far_column() -> bytes:
    """A value in column XFD, the last Excel has, without a dimension to warn of it."""
    head = _sheet_head() + b'<row r="2"><c r="XFD2"><v>1</v></c></row>'
    return workbook(big_sheet=(head, b"", 0, SHEET_TAIL))


@functools.cache
def a_million_rows() -> bytes:
    """1,048,576 empty rows, as a sheet formatted to its end has."""
    return workbook(big_sheet=(_sheet_head(), b"<row/>", 1_048_576, SHEET_TAIL))


def billion_laughs() -> bytes:
    entities = '<!ENTITY a0 "ha">' + "".join(f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    doctype = f"<!DOCTYPE sst [{entities}]>"
    sheet = f'<?xml version="1.0"?>{doctype}<worksheet xmlns="{MAIN}"><sheetData>{HEADINGS}'
    return workbook(big_sheet=(sheet.encode(), b'<row><c t="inlineStr"><is><t>&a9;</t></is></c></row>', 1, SHEET_TAIL))


# CSV ----------------------------------------------------------------------------------------------


def csv_one_huge_line(size: int = 4 * MIB) -> bytes:
    return b"name,kinds\n" + b"a" * size + b",vco\n"


def csv_many_fields(count: int = 1_000_000) -> bytes:
    return b"name,kinds\n" + b"a," * count + b"vco\n"


def csv_many_empty_lines(count: int = 4_000_000) -> bytes:
    return b"name,kinds\nA,vco\n" + b"\n" * count


def csv_with_nul() -> bytes:
    return b"name,kinds\nA\x00,vco\n"
