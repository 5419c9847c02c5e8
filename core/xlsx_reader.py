"""Reading the first sheet of an uploaded XLSX workbook within bounds, for imports.

openpyxl trusts the file: it unpacks parts whole, holds every shared string, builds whole XML trees of
the workbook, styles and chart sheets, and pads rows to the column count the sheet declares. A 1 MB
upload can so hold a worker for minutes and gigabytes. This reader streams only the parts it needs
(the package and workbook relationships, the workbook, the styles, the shared strings and the first
sheet) through core.archives, and refuses the file, with a message saying why, as soon as a
bound is passed: rows, columns, cells, characters in a cell, shared strings, XML elements. What it
keeps is what the import needs: the cell values of the first sheet and the shared strings.

Values are turned into Python the way openpyxl's reader does (its date helpers are reused): numbers,
booleans, text, and dates for cells whose number format is a date.
"""

import posixpath
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601

from . import archives

EXCEL_MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell


class XlsxError(ValueError):
    """The workbook is refused; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class SheetLimits:
    max_rows: int  # empty rows included: the row number of the last row
    max_columns: int
    max_cells: int  # cells written in the sheet, empty styled ones included
    max_shared_strings: int
    max_shared_text: int  # characters in all shared strings together
    max_cell_chars: int = EXCEL_MAX_CELL_CHARS
    max_cell_elements: int = 1000  # rich text runs and their formatting in one cell or shared string
    max_part_elements: int = 200_000  # in the workbook, relationships and styles; around the sheet's cells


def _damaged(detail: str) -> XlsxError:
    return XlsxError(
        _(
            "The file cannot be read as an Excel workbook (.xlsx); it may be damaged (%(detail)s). "
            "Open it in Excel and save it again, or save it as “CSV UTF-8”."
        )
        % {"detail": detail}
    )


def _too_long(limits: SheetLimits) -> XlsxError:
    return XlsxError(
        _("A cell in the workbook holds more than %(max)s characters, more than Excel itself allows.")
        % {"max": f"{limits.max_cell_chars:,}"}
    )


def _too_many_rows(limits: SheetLimits) -> XlsxError:
    return XlsxError(
        _(
            "The sheet has more than %(max)s rows (empty rows at the end count too). "
            "Copy just the organisations into a new workbook, or import them in smaller files."
        )
        % {"max": f"{limits.max_rows:,}"}
    )


def _too_many_columns(limits: SheetLimits) -> XlsxError:
    return XlsxError(
        _(
            "The sheet has more than %(max)s columns; the import has far fewer. "
            "Delete the columns after the last one you need, or copy just the organisations into a new workbook."
        )
        % {"max": f"{limits.max_columns:,}"}
    )


def _too_complex(name: str) -> XlsxError:
    return XlsxError(
        _(
            "The workbook holds too much besides the organisations (in “%(part)s”: formatting, charts or "
            "other content). Copy just the organisations into a new workbook, or save it as “CSV UTF-8”."
        )
        % {"part": name[:80]}
    )


def _local(attributes: dict, name: str) -> str | None:
    """An attribute by its local name, whatever namespace prefix the writer chose (r:id, ns2:id...)."""
    if name in attributes:
        return attributes[name]
    for key, value in attributes.items():
        if key.rpartition(":")[2] == name and ":" in key:
            return value
    return None


class _Part:
    """Streams one part of the workbook through expat, counting elements."""

    def __init__(self, archive: archives.Archive, name: str, limits: SheetLimits, *, max_elements: int):
        self.archive, self.name, self.limits, self.max_elements = archive, name, limits, max_elements
        self.elements = 0

    def parse(self, start, end=None, text=None) -> bool:
        """False if the part is missing."""
        info = self.archive.get(self.name)
        if info is None:
            return False

        def counted_start(tag, attributes):
            self.elements += 1
            if self.elements > self.max_elements:
                raise _too_complex(self.name)
            start(tag, attributes)

        try:
            archives.parse_xml(
                self.archive.chunks(info),
                start=counted_start,
                end=end,
                text=text,
                max_text=self.limits.max_cell_chars,
                too_long_text=lambda: _too_long(self.limits),
            )
        except archives.XMLError as error:
            raise _damaged(f"{self.name}: {error}") from None
        return True


def _target(base: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _relationships(archive, name: str, limits: SheetLimits) -> list[tuple[str, str, str]]:
    """(id, type, part name) for each internal relationship in a .rels part; its targets are relative
    to the part the .rels describes (name without ``_rels/`` and ``.rels``)."""
    source = posixpath.join(posixpath.dirname(posixpath.dirname(name)), posixpath.basename(name)[: -len(".rels")])
    found = []

    def start(tag, attributes):
        if tag == "Relationship" and attributes.get("TargetMode") != "External" and attributes.get("Target"):
            found.append((attributes.get("Id", ""), attributes.get("Type", ""), _target(source, attributes["Target"])))

    _Part(archive, name, limits, max_elements=limits.max_part_elements).parse(start)
    return found


def _rels_name(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


@dataclass
class _Workbook:
    first_sheet: str
    shared_strings: str | None
    styles: str | None
    epoch: Any


def _find_parts(archive, limits: SheetLimits) -> _Workbook:
    workbook = next(
        (
            target
            for _id, kind, target in _relationships(archive, "_rels/.rels", limits)
            if kind.endswith("/officeDocument")
        ),
        "xl/workbook.xml",
    )
    sheets: list[str] = []
    epoch = CALENDAR_WINDOWS_1900

    def start(tag, attributes):
        nonlocal epoch
        if tag == "sheet":
            sheets.append(_local(attributes, "id") or "")
        elif tag == "workbookPr" and attributes.get("date1904", "").lower() in ("1", "true"):
            epoch = CALENDAR_MAC_1904

    if not _Part(archive, workbook, limits, max_elements=limits.max_part_elements).parse(start):
        raise _damaged(_("it has no workbook part"))
    rels = _relationships(archive, _rels_name(workbook), limits)
    by_id = {rel_id: (kind, target) for rel_id, kind, target in rels}
    worksheets = [by_id[sheet][1] for sheet in sheets if by_id.get(sheet, ("", ""))[0].endswith("/worksheet")]
    if not worksheets:
        raise XlsxError(_("The workbook has no sheets."))
    first_of = {}
    for _id, kind, target in rels:
        first_of.setdefault(kind.rpartition("/")[2], target)
    return _Workbook(
        first_sheet=worksheets[0],
        shared_strings=first_of.get("sharedStrings"),
        styles=first_of.get("styles"),
        epoch=epoch,
    )


def _date_styles(archive, name: str | None, limits: SheetLimits) -> tuple[set[int], set[int]]:
    """Indexes of the cell formats that show a date, and those that show a duration."""
    if name is None:
        return set(), set()
    custom: dict[int, str] = {}
    format_ids: list[int] = []
    inside = []

    def start(tag, attributes):
        inside.append(tag)
        try:
            if tag == "numFmt":
                custom[int(attributes.get("numFmtId", -1))] = attributes.get("formatCode", "")
            elif tag == "xf" and len(inside) >= 2 and inside[-2] == "cellXfs":
                format_ids.append(int(attributes.get("numFmtId", 0)))
        except ValueError:
            raise _damaged(name) from None

    _Part(archive, name, limits, max_elements=limits.max_part_elements).parse(start, end=lambda tag: inside.pop())
    dates, durations = set(), set()
    for index, format_id in enumerate(format_ids):
        code = custom.get(format_id, BUILTIN_FORMATS.get(format_id, "General"))
        if is_date_format(code):
            dates.add(index)
        if is_timedelta_format(code):
            durations.add(index)
    return dates, durations


def _shared_strings(archive, name: str | None, limits: SheetLimits) -> list[str]:
    if name is None:
        return []
    strings: list[str] = []
    # The string being read: its pieces of text, characters and elements; inside a <t> (but not in a
    # pronunciation guide) or not. Whitespace between the elements of a string is not part of it.
    state = {"text": None, "chars": 0, "elements": 0, "collect": 0, "phonetic": 0, "total": 0}

    def too_many() -> XlsxError:
        return XlsxError(
            _(
                "The workbook holds more than %(max)s different pieces of text, far more than an import needs. "
                "Copy just the organisations into a new workbook, or save it as “CSV UTF-8”."
            )
            % {"max": f"{limits.max_shared_strings:,}"}
        )

    def start(tag, attributes):
        if tag == "sst":
            # The declared count is checked first, so a file that says it is too big is refused at once.
            declared = attributes.get("uniqueCount") or "0"
            if declared.isdigit() and int(declared) > limits.max_shared_strings:
                raise too_many()
        elif tag == "si":
            if len(strings) >= limits.max_shared_strings:
                raise too_many()
            state.update(text=[], chars=0, elements=0, collect=0, phonetic=0)
        elif tag == "rPh":
            state["phonetic"] += 1  # a pronunciation guide, not part of the text
        elif tag == "t" and not state["phonetic"]:
            state["collect"] += 1
        if state["text"] is not None:
            state["elements"] += 1
            if state["elements"] > limits.max_cell_elements:
                raise _too_complex(name)

    def end(tag):
        if tag == "rPh":
            state["phonetic"] -= 1
        elif tag == "t" and state["collect"]:
            state["collect"] -= 1
        elif tag == "si" and state["text"] is not None:
            strings.append("".join(state["text"]))
            state["text"] = None

    def text(data):
        if state["text"] is None or not state["collect"]:
            return
        state["chars"] += len(data)
        state["total"] += len(data)
        if state["chars"] > limits.max_cell_chars:
            raise _too_long(limits)
        if state["total"] > limits.max_shared_text:
            raise too_many()
        state["text"].append(data)

    _Part(archive, name, limits, max_elements=limits.max_shared_strings * 4 + limits.max_part_elements).parse(
        start, end, text
    )
    return strings


@dataclass
class _Cell:
    column: int
    kind: str
    style: int
    pieces: list[str] = field(default_factory=list)
    chars: int = 0
    elements: int = 0
    collect: int = 0  # inside <v>, or a <t> of an inline string (but not its pronunciation guide)
    phonetic: int = 0


class _SheetReader:
    def __init__(self, archive, workbook: _Workbook, limits: SheetLimits):
        self.archive, self.workbook, self.limits = archive, workbook, limits
        self.strings = _shared_strings(archive, workbook.shared_strings, limits)
        self.dates, self.durations = _date_styles(archive, workbook.styles, limits)
        self.rows: list[list[Any]] = []
        self.row: list[Any] | None = None
        self.cell: _Cell | None = None
        self.column = 0  # of the last cell in the row
        self.cells = 0

    def read(self) -> list[list[Any]]:
        limits = self.limits
        max_elements = limits.max_cells * 4 + limits.max_rows + limits.max_part_elements
        if not _Part(self.archive, self.workbook.first_sheet, limits, max_elements=max_elements).parse(
            self.start, self.end, self.text
        ):
            raise _damaged(_("its first sheet is missing"))
        return self.rows

    def start(self, tag, attributes):
        cell = self.cell
        if cell is not None:
            cell.elements += 1
            if cell.elements > self.limits.max_cell_elements:
                raise _too_complex(self.workbook.first_sheet)
            if tag in ("v", "t") and not cell.phonetic:
                cell.collect += 1
            elif tag == "rPh":
                cell.phonetic += 1
        elif tag == "c" and self.row is not None:
            self.start_cell(attributes)
        elif tag == "row":
            self.start_row(attributes)
        elif tag == "dimension":
            # What the sheet says of itself: refused at once if too big, checked again cell by cell.
            try:
                _first_column, _first_row, last_column, last_row = range_boundaries(attributes.get("ref", "A1"))
            except (TypeError, ValueError):
                return
            if (last_row or 0) > self.limits.max_rows:
                raise _too_many_rows(self.limits)
            if (last_column or 0) > self.limits.max_columns:
                raise _too_many_columns(self.limits)

    def start_row(self, attributes):
        number = attributes.get("r")
        try:
            number = int(number) if number else len(self.rows) + 1
        except ValueError:
            raise _damaged(_("row number “%(row)s”") % {"row": number[:20]}) from None
        if number > self.limits.max_rows:
            raise _too_many_rows(self.limits)
        if number <= len(self.rows):
            raise _damaged(_("row %(row)s comes twice or out of order") % {"row": number})
        while len(self.rows) < number - 1:  # rows the sheet leaves out are empty
            self.rows.append([])
        self.row = []
        self.rows.append(self.row)
        self.column = 0

    def start_cell(self, attributes):
        reference = attributes.get("r")
        if reference:
            letters = reference.rstrip("0123456789")
            try:
                column = column_index_from_string(letters)
            except ValueError:
                raise _damaged(_("cell “%(cell)s”") % {"cell": reference[:20]}) from None
        else:
            column = self.column + 1  # a cell without a reference follows the one before, empty or not
        self.column = column
        if column > self.limits.max_columns:
            raise _too_many_columns(self.limits)
        self.cells += 1
        if self.cells > self.limits.max_cells:
            raise XlsxError(
                _(
                    "The sheet has more than %(max)s cells (empty formatted ones count too). "
                    "Copy just the organisations into a new workbook, or save it as “CSV UTF-8”."
                )
                % {"max": f"{self.limits.max_cells:,}"}
            )
        try:
            style = int(attributes.get("s") or 0)
        except ValueError:
            style = 0
        self.cell = _Cell(column=column, kind=attributes.get("t") or "n", style=style)

    def end(self, tag):
        cell = self.cell
        if cell is None:
            if tag == "row":
                self.row = None
            return
        if tag in ("v", "t") and cell.collect:
            cell.collect -= 1
        elif tag == "rPh":
            cell.phonetic -= 1
        elif tag == "c":
            self.cell = None
            value = self.value(cell)
            if value is not None:
                if len(self.row) < cell.column:
                    self.row.extend([None] * (cell.column - len(self.row)))
                self.row[cell.column - 1] = value

    def text(self, data):
        cell = self.cell
        if cell is None or not cell.collect:
            return
        cell.chars += len(data)
        if cell.chars > self.limits.max_cell_chars:
            raise _too_long(self.limits)
        cell.pieces.append(data)

    def value(self, cell: _Cell) -> Any:
        """As openpyxl's reader gives it with data_only: the cached value, never the formula."""
        if not cell.pieces:
            return None
        raw = "".join(cell.pieces)
        try:
            if cell.kind == "s":
                return self.strings[int(raw)]
            if cell.kind == "b":
                return bool(int(raw))
            if cell.kind in ("str", "inlineStr", "e"):
                return raw
            if cell.kind == "d":
                return from_ISO8601(raw)
            number = float(raw) if any(mark in raw for mark in ".eE") else int(raw)
        except (ValueError, IndexError):
            raise _damaged(_("a cell holds “%(value)s”") % {"value": raw[:40]}) from None
        if cell.style in self.dates:
            try:
                return from_excel(number, self.workbook.epoch, timedelta=cell.style in self.durations)
            except (OverflowError, ValueError):
                return "#VALUE!"  # as openpyxl: a date serial outside the calendar
        return number


def read_first_sheet(fileobj, *, archive_limits: archives.Limits, limits: SheetLimits) -> list[list[Any]]:
    """The cell values of the workbook's first sheet, row by row (a row's list ends at its last value).

    Raises XlsxError or archives.ArchiveError with a message for the person who uploaded the file."""
    with archives.open_archive(fileobj, archive_limits) as archive:
        workbook = _find_parts(archive, limits)
        return _SheetReader(archive, workbook, limits).read()
