"""The one place that turns rows into CSV or XLSX downloads.

Every app that offers a download builds a list of headers and an iterable of rows and hands them to
``tabular_response``. Text that a spreadsheet would run as a formula (a cell starting with = + - @)
is neutralised on the way out, so a name typed into a public form cannot become a formula on an
office worker's machine.

What each app downloads (its columns) lives in that app, for example ``directory.exports``.
"""

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Characters that make Excel, LibreOffice or Google Sheets treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MULTI_VALUE_SEPARATOR = "; "
XLSX_MAX_CELL_CHARS = 32767
# Control characters that the XLSX format cannot hold (openpyxl refuses them).
_XLSX_ILLEGAL_RE = re.compile(r"[\000-\010\013\014\016-\037]")


def neutralise_formula(value: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would otherwise run as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def restore_formula_text(value: str) -> str:
    """Undo ``neutralise_formula`` on text read back from an exported file."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def _csv_cell(value: Any, yes: str = "yes", no: str = "no") -> Any:
    if type(value) is str:  # most cells: checked first, as a download may hold millions
        return neutralise_formula(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes if value else no
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return value
    return neutralise_formula(str(value))


class _Echo:
    """A file-like object whose write() hands back what it was given, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


# Rows streamed per chunk of the response: one chunk per row would cost a write and an encoding each.
CSV_ROWS_PER_CHUNK = 200


def _csv_chunks(headers: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # Translated once per download, not once per cell.
    yes, no = str(_("yes")), str(_("no"))
    # The byte order mark makes Excel read the file as UTF-8 rather than the local code page.
    yield "\ufeff" + writer.writerow([_csv_cell(header) for header in headers])
    block = []
    for row in rows:
        block.append(writer.writerow([_csv_cell(value, yes, no) for value in row]))
        if len(block) >= CSV_ROWS_PER_CHUNK:
            yield "".join(block)
            block = []
    if block:
        yield "".join(block)


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, datetime):
        # XLSX has no time zones: show the local time.
        return timezone.make_naive(value) if timezone.is_aware(value) else value
    if isinstance(value, date | int | float | Decimal):
        return value
    return _XLSX_ILLEGAL_RE.sub("", str(value))[:XLSX_MAX_CELL_CHARS]


def xlsx_cell(sheet, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    value = _xlsx_value(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        # Stored as a string, with the "quote prefix" style Excel itself uses for text that looks
        # like a formula, so it is not evaluated even after the cell is edited.
        cell.data_type = "s"
        cell.quotePrefix = True
    elif isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    if bold:
        cell.font = Font(bold=True)
    return cell


def xlsx_bytes(*, headers: Sequence[str], rows: Iterable[Sequence], title: str = "Export") -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Export")
    sheet.freeze_panes = "A2"
    sheet.append([xlsx_cell(sheet, str(header), bold=True) for header in headers])
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def tabular_response(*, filename: str, headers: Sequence[str], rows: Iterable[Sequence], fmt: str) -> HttpResponse:
    """A download of `rows` under `headers` as CSV (streamed, UTF-8 with BOM) or XLSX.

    `filename` is given without extension.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; use one of {FORMATS}.")
    disposition = content_disposition_header(as_attachment=True, filename=f"{filename}.{fmt}")
    if fmt == CSV:
        response = StreamingHttpResponse(_csv_chunks(headers, rows), content_type=CONTENT_TYPES[CSV])
    else:
        response = HttpResponse(
            xlsx_bytes(headers=headers, rows=rows, title=filename), content_type=CONTENT_TYPES[XLSX]
        )
    response["Content-Disposition"] = disposition
    return response


def dated_filename(stem: str) -> str:
    return f"{stem}-{timezone.localdate().isoformat()}"


@dataclass(frozen=True)
class Column:
    """One column of a download: its header and how to get the value from an object.

    `field` names the model field the column holds, for columns that can be imported again.
    """

    header: str
    get: Callable[[Any], Any]
    field: str = ""


def export_rows(columns: Sequence[Column], objects: Iterable) -> Iterator[list]:
    for obj in objects:
        yield [column.get(obj) for column in columns]
