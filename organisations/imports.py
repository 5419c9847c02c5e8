"""Importing organisations from a CSV or XLSX file: store it, check every row, then save all or nothing.

The admin's import pages call these functions in three steps:

1. ``store_import_file`` refuses a file whose format or columns are wrong, and keeps a good one in the
   private files storage (core.files: never where the public can read it), as ``imports/<token>.upload``
   with its name, format and uploader in ``imports/<token>.json``, keyed by a random token. On object
   storage, any web process can show the preview and another can run the import;
2. ``preview_import`` reads it again and reports, row by row, what would be created, what looks like an
   organisation already in the directory, and what is wrong (naming the row and the column);
3. ``run_import`` checks everything once more, claims the upload in the shared cache (so a second click,
   or a second admin, on any web server, cannot import it twice) and saves every row in one transaction,
   through ``services.save_organisation`` so each new record has its history; then the file is deleted.

The CSV and XLSX readers work on a local temporary copy of the stored file.

Columns are ``directory.exports.ORGANISATION_COLUMNS``, so an exported file can be imported again.
"""

import csv
import io
import json
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.text import capfirst, get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core import archives, xlsx_reader
from core.exports import CSV, XLSX, Column, restore_formula_text
from core.files import delete_older_than, private_file_storage
from core.org_id import LISTS, charity_list_of, normalise_number, parse_org_id
from taxonomies.models import TaxonomyTerm

from . import selectors, services
from .exports import ORG_ID, ORGANISATION_COLUMNS
from .models import Organisation

REQUIRED_COLUMNS = ("name", "kinds")
MAX_ROWS = 5000
# Rows read from a file, empty ones included, before giving up (a sheet can hold a million styled rows).
MAX_SHEET_ROWS = 2 * MAX_ROWS + 1000
# The bounds below keep the worst file under the size limit to about what the largest good one costs
# (tens of MB and seconds), instead of gigabytes and minutes: an XLSX is a zip, and a small one can
# declare 160 million cells, hold ten million shared strings or one 100 MB cell.
MAX_COLUMNS = 100  # the import has a third of that
MAX_CELLS = MAX_ROWS * 60  # empty formatted cells count too
MAX_CELL_CHARS = xlsx_reader.EXCEL_MAX_CELL_CHARS
XLSX_ARCHIVE_LIMITS = archives.Limits(
    max_entries=1000, max_entry_bytes=64 * archives.MB, max_total_bytes=128 * archives.MB
)
SHEET_LIMITS = xlsx_reader.SheetLimits(
    max_rows=MAX_SHEET_ROWS,
    max_columns=MAX_COLUMNS,
    max_cells=MAX_CELLS,
    max_shared_strings=MAX_CELLS,
    max_shared_text=8_000_000,
)
# Uploads nobody confirmed or cancelled are removed after this long.
KEEP_UPLOADS_SECONDS = 24 * 60 * 60
IMPORTS_FOLDER = "imports"  # in the private files storage
# An import's claim on its upload; outlives any import, and frees the upload should its process die.
CLAIM_SECONDS = 60 * 60
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
MULTI_VALUE_SPLIT_RE = re.compile(r"[;\n]")
TRUE_WORDS = {"yes", "y", "true", "1", "active"}
FALSE_WORDS = {"no", "n", "false", "0", "inactive", "closed"}
SAVE_AS_UTF8 = gettext_lazy(
    "In Excel choose File, Save As, and the type “CSV UTF-8 (Comma delimited) (*.csv)”, then upload that file."
)


class ImportFileError(Exception):
    """The file as a whole cannot be imported (format, encoding, columns, size). The message says why."""


class ImportExpired(Exception):
    """The stored upload is gone (confirmed, cancelled, or too old) or belongs to someone else."""


class ImportFailed(Exception):
    """Nothing was imported. `report` is the fresh check of the file, when there is one."""

    def __init__(self, message: str, report: "ImportReport | None" = None):
        super().__init__(message)
        self.report = report


@dataclass
class RowError:
    field: str
    message: str


@dataclass
class ImportRow:
    number: int  # as the spreadsheet numbers it: the headings are row 1
    name: str
    data: dict = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    similar: list[Organisation] = field(default_factory=list)
    same_name_rows: list[int] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    @property
    def has_warnings(self) -> bool:
        return bool(self.similar or self.same_name_rows)

    def add_error(self, field_name: str, message: str) -> None:
        self.errors.append(RowError(field_name, message))


@dataclass
class ImportReport:
    filename: str
    rows: list[ImportRow]
    skipped_rows: list[int]

    @property
    def error_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.has_errors]

    @property
    def warning_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.has_warnings and not row.has_errors]

    @property
    def can_commit(self) -> bool:
        return bool(self.rows) and not self.error_rows

    @property
    def notes(self) -> list[str]:
        return [_("Row %(number)s is empty and was skipped.") % {"number": number} for number in self.skipped_rows]


# Storing the upload ------------------------------------------------------------------------------


def _names(token: str) -> tuple[str, str]:
    """The stored upload's name and its meta file's, in the private files storage."""
    if not TOKEN_RE.match(token or ""):
        raise ImportExpired
    return f"{IMPORTS_FOLDER}/{token}.upload", f"{IMPORTS_FOLDER}/{token}.json"


def _detect_format(filename: str, head: bytes) -> str:
    extension = Path(filename or "").suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return XLSX  # a zip: only an XLSX workbook is welcome; xlsx_reader tells a damaged one apart
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _(
                "This is an old-style Excel 97-2003 (.xls) workbook. "
                "Save it as “Excel Workbook (.xlsx)” or as “CSV UTF-8” and upload that."
            )
        )
    if extension == ".xlsx":
        raise ImportFileError(
            _(
                "The file is named .xlsx but is not an Excel workbook, or it is damaged. "
                "Open it in Excel and save it again, or save it as “CSV UTF-8”."
            )
        )
    if extension in (".csv", ".txt"):
        return CSV
    raise ImportFileError(
        _("“%(name)s” is not a CSV (.csv) or Excel (.xlsx) file. Upload one of those.")
        % {"name": Path(filename or "").name}
    )


@contextmanager
def _local_copy(file: File) -> Iterator[Path]:
    """A local temporary file holding ``file``'s bytes (the upload, or the stored copy, which may be on
    object storage), for the readers, which take a path; deleted afterwards."""
    with tempfile.NamedTemporaryFile(prefix="import-", suffix=".upload") as local:
        for chunk in file.chunks():
            local.write(chunk)
        local.flush()
        yield Path(local.name)


def store_import_file(*, upload: UploadedFile, user) -> str:
    """Keep an uploaded file for preview and confirmation; return its token.

    Raises ImportFileError, with a message for the user, if the file is too big, of the wrong type,
    unreadable or has the wrong columns; nothing is kept then.
    """
    if upload.size > settings.PORTAL_IMPORT_MAX_BYTES:
        raise ImportFileError(
            _("The file is %(size)s; the largest file you can import is %(limit)s. Split it into smaller files.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(settings.PORTAL_IMPORT_MAX_BYTES)}
        )
    if upload.size == 0:
        raise ImportFileError(_("The file is empty."))
    upload.seek(0)
    fmt = _detect_format(upload.name, upload.read(8))
    with _local_copy(upload) as path:
        _read_table(path, fmt)
    storage = private_file_storage()
    delete_older_than(storage, IMPORTS_FOLDER, seconds=KEEP_UPLOADS_SECONDS)
    token = secrets.token_urlsafe(24)
    data_name, meta_name = _names(token)
    storage.save(data_name, upload)
    meta = {"filename": Path(upload.name).name, "format": fmt, "user": user.pk}
    storage.save(meta_name, ContentFile(json.dumps(meta).encode()))
    return token


def discard_import(*, token: str) -> None:
    try:
        names = _names(token)
    except ImportExpired:
        return
    storage = private_file_storage()
    for name in names:
        storage.delete(name)


def _load(token: str, user) -> tuple[str, dict]:
    """The stored upload's name and its meta, if it is still waiting and ``user`` uploaded it."""
    data_name, meta_name = _names(token)
    try:
        with private_file_storage().open(meta_name, "rb") as handle:
            meta = json.loads(handle.read())
    except (FileNotFoundError, ValueError):
        raise ImportExpired from None
    if meta.get("user") != user.pk:
        raise ImportExpired
    return data_name, meta


def _read_stored_table(name: str, fmt: str) -> "_Table":
    try:
        stored = private_file_storage().open(name, "rb")
    except FileNotFoundError:
        raise ImportExpired from None
    with stored, _local_copy(stored) as path:
        return _read_table(path, fmt)


# Reading the table -------------------------------------------------------------------------------


def _read_csv(path: Path) -> list[list[Any]]:
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ImportFileError(
            _(
                "The file is not a plain-text CSV file "
                "(it may be saved as “Unicode text” or be another kind of file). %(hint)s"
            )
            % {"hint": SAVE_AS_UTF8}
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ImportFileError(
            _("The file is not in UTF-8 encoding (line %(line)s has a character that is not UTF-8). %(hint)s")
            % {"line": line, "hint": SAVE_AS_UTF8}
        ) from None
    del raw
    reader = csv.reader(io.StringIO(text, newline=""))
    too_long = _("Line %(line)s has a value of more than %(max)s characters; no column of the import holds that much.")
    rows = []
    try:
        for row in reader:
            if len(row) > MAX_COLUMNS:
                raise ImportFileError(
                    _("Line %(line)s has more than %(max)s columns; the import has far fewer. %(hint)s")
                    % {"line": reader.line_num, "max": MAX_COLUMNS, "hint": SAVE_AS_UTF8}
                )
            if any(len(value) > MAX_CELL_CHARS for value in row):
                raise ImportFileError(too_long % {"line": reader.line_num, "max": f"{MAX_CELL_CHARS:,}"})
            rows.append(row)
            if len(rows) > MAX_SHEET_ROWS:
                raise ImportFileError(
                    _(
                        "The file has more than %(max)s lines (empty ones count too); "
                        "import at most %(organisations)s organisations at a time."
                    )
                    % {"max": f"{MAX_SHEET_ROWS:,}", "organisations": f"{MAX_ROWS:,}"}
                )
    except csv.Error as error:
        if str(error).startswith("field larger than field limit"):  # the csv module's own bound, 128 KiB
            raise ImportFileError(too_long % {"line": reader.line_num, "max": f"{MAX_CELL_CHARS:,}"}) from None
        raise ImportFileError(
            _("Line %(line)s cannot be read as CSV (%(error)s).") % {"line": reader.line_num, "error": error}
        ) from None
    return rows


def _read_xlsx(path: Path) -> list[list[Any]]:
    with path.open("rb") as handle:
        try:
            return xlsx_reader.read_first_sheet(handle, archive_limits=XLSX_ARCHIVE_LIMITS, limits=SHEET_LIMITS)
        except xlsx_reader.XlsxError as error:
            raise ImportFileError(str(error)) from None
        except archives.ArchiveError as error:
            raise ImportFileError(
                _("The file cannot be read as an Excel workbook (.xlsx). %(reason)s") % {"reason": error}
            ) from None


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


def _column_lookup() -> dict[str, Column]:
    lookup = {}
    for column in ORGANISATION_COLUMNS:
        if column.field != ORG_ID:
            lookup[_header_key(str(Organisation._meta.get_field(column.field).verbose_name))] = column
    for column in ORGANISATION_COLUMNS:  # the field name wins over another field's label
        lookup[_header_key(column.header)] = column
    return lookup


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


@dataclass
class _Table:
    columns: list[Column | None]  # one per position; None for a blank heading
    rows: list[tuple[int, list[Any]]]  # (row number, cells)
    skipped_rows: list[int]


def _read_table(path: Path, fmt: str) -> _Table:
    raw_rows = _read_csv(path) if fmt == CSV else _read_xlsx(path)
    if not raw_rows:
        raise ImportFileError(_("The file is empty."))
    if all(_is_blank(cell) for cell in raw_rows[0]):
        raise ImportFileError(_("The first row must hold the column headings, but it is empty."))

    lookup = _column_lookup()
    columns: list[Column | None] = []
    unknown, repeated, seen = [], [], set()
    for cell in raw_rows[0]:
        heading = "" if cell is None else str(cell).strip()
        if not heading:
            columns.append(None)
            continue
        column = lookup.get(_header_key(heading))
        if column is None:
            unknown.append(heading)
        elif column.field in seen:
            repeated.append(heading)
        else:
            seen.add(column.field)
        columns.append(column)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    problems = []
    if unknown:
        problems.append(_("Unknown columns: %(columns)s.") % {"columns": ", ".join(f"“{name}”" for name in unknown)})
    if missing:
        problems.append(
            _("Missing required columns: %(columns)s.") % {"columns": ", ".join(f"“{name}”" for name in missing)}
        )
    if repeated:
        problems.append(
            _("Columns given twice: %(columns)s.") % {"columns": ", ".join(f"“{name}”" for name in repeated)}
        )
    if problems:
        problems.append(
            _("The first row must hold the column headings, such as %(examples)s; see the list of columns below.")
            % {"examples": ", ".join(column.header for column in ORGANISATION_COLUMNS[:4])}
        )
        raise ImportFileError(" ".join(problems))

    rows, skipped = [], []
    for number, cells in enumerate(raw_rows[1:], start=2):
        if all(_is_blank(cell) for cell in cells):
            skipped.append(number)
            continue
        for index, cell in enumerate(cells):
            if not _is_blank(cell) and (index >= len(columns) or columns[index] is None):
                raise ImportFileError(
                    _(
                        "Column %(letter)s has no heading, but row %(row)s has a value in it. "
                        "Give the column a heading or delete it."
                    )
                    % {"letter": _column_letter(index), "row": number}
                )
        rows.append((number, cells))
    # Empty rows after the last organisation are just the end of the sheet, not worth a note.
    last = rows[-1][0] if rows else 0
    skipped = [number for number in skipped if number < last]
    if not rows:
        raise ImportFileError(_("The file has column headings but no organisations in it."))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(
            _("The file has more than %(max)s organisations; import at most %(max)s at a time.")
            % {"max": f"{MAX_ROWS:,}"}
        )
    return _Table(columns=columns, rows=rows, skipped_rows=skipped)


# Checking rows -----------------------------------------------------------------------------------


def _term_key(text: str) -> str:
    return " ".join(text.replace("’", "'").casefold().split())


def _term_lookups() -> dict[str, dict[str, TaxonomyTerm]]:
    """For each taxonomy: term names and codes, case-insensitive, to terms."""
    lookups: dict[str, dict[str, TaxonomyTerm]] = {}
    for term in TaxonomyTerm.objects.filter(is_active=True).select_related("taxonomy"):
        lookup = lookups.setdefault(term.taxonomy.code, {})
        lookup.setdefault(_term_key(term.code), term)
        lookup.setdefault(_term_key(term.name), term)
    return lookups


def _taxonomy_code(model_field) -> str:
    return (model_field.remote_field.limit_choices_to or {}).get("taxonomy__code", "")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number Excel stored as 1012345.0
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    return restore_formula_text(str(value).strip())


def _parse_terms(text: str, lookup: dict[str, TaxonomyTerm], label: str) -> list[TaxonomyTerm]:
    terms, unknown = [], []
    for part in MULTI_VALUE_SPLIT_RE.split(text):
        part = part.strip()
        if not part:
            continue
        term = lookup.get(_term_key(part))
        if term is None:
            unknown.append(f"“{part}”")
        elif term not in terms:
            terms.append(term)
    if unknown:
        raise ValidationError(
            ngettext(
                "%(values)s is not in the %(taxonomy)s list.",
                "%(values)s are not in the %(taxonomy)s list.",
                len(unknown),
            )
            % {"values": get_text_list(unknown, _("and")), "taxonomy": label}
        )
    return terms


def _parse_choice(text: str, model_field) -> Any:
    for value, label in model_field.flatchoices:
        if _term_key(text) in (_term_key(str(value)), _term_key(str(label))):
            return value
    raise ValidationError(
        _("“%(value)s” is not one of: %(choices)s.")
        % {"value": text, "choices": "; ".join(str(label) for _value, label in model_field.flatchoices)}
    )


def _parse_date(value: Any, text: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValidationError(_("“%(value)s” is not a date: use YYYY-MM-DD or DD/MM/YYYY.") % {"value": text})


def _parse_integer(value: Any, text: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(_("“%(value)s” is not a whole number.") % {"value": text})
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    cleaned = text.replace(",", "").replace(" ", "")
    if re.fullmatch(r"-?\d+", cleaned):
        return int(cleaned)
    raise ValidationError(_("“%(value)s” is not a whole number.") % {"value": text})


def _parse_boolean(value: Any, text: str) -> bool:
    if isinstance(value, bool):
        return value
    word = text.casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no.") % {"value": text})


def _parse_cell(model_field, value: Any, lookups: dict) -> Any:
    """Turn one cell into the value the model field holds; raise ValidationError if it cannot be."""
    text = _as_text(value)
    if model_field.many_to_many or model_field.many_to_one:
        code = _taxonomy_code(model_field)
        terms = _parse_terms(text, lookups.get(code, {}), str(model_field.verbose_name))
        if model_field.many_to_many:
            return terms
        if len(terms) > 1:
            raise ValidationError(_("Give only one %(field)s.") % {"field": model_field.verbose_name})
        return terms[0] if terms else None
    if not text:
        return None
    if model_field.choices:
        return _parse_choice(text, model_field)
    if isinstance(model_field, models.BooleanField):
        return _parse_boolean(value, text)
    if isinstance(model_field, models.DateField):
        return _parse_date(value, text)
    if isinstance(model_field, models.IntegerField):
        return _parse_integer(value, text)
    if isinstance(model_field, models.TextField) and model_field.max_length and len(text) > model_field.max_length:
        # The model does not enforce a TextField's length; the edit forms do, so the import does too.
        raise ValidationError(
            _("Ensure this value has at most %(limit)d characters (it has %(count)d).")
            % {"limit": model_field.max_length, "count": len(text)}
        )
    return text


def _check_row(number: int, cells: list[Any], columns: list[Column | None], lookups: dict) -> ImportRow:
    row = ImportRow(number=number, name="")
    values: dict[str, Any] = {}
    key = ""
    for index, column in enumerate(columns):
        if column is None:
            continue
        if column.field == ORG_ID:
            key = _as_text(cells[index] if index < len(cells) else None)
            continue
        model_field = Organisation._meta.get_field(column.field)
        cell = cells[index] if index < len(cells) else None
        try:
            values[column.field] = _parse_cell(model_field, cell, lookups)
        except ValidationError as error:
            for message in error.messages:
                row.add_error(column.field, message)
    row.name = values.get("name") or ""
    if not values.get("kinds") and not any(error.field == "kinds" for error in row.errors):
        row.add_error(
            "kinds", _("Give at least one kind, for example “vco” or “general” (names or codes, separated by “;”).")
        )

    _read_register_numbers(row, values, key)
    relations = {name: values.pop(name) for name in services.ORGANISATION_M2M_FIELDS if name in values}
    # A blank cell means "not given": the model's default applies (town, geographic level, active).
    plain = {name: value for name, value in values.items() if value is not None}
    failed = {error.field for error in row.errors}
    organisation = Organisation(**{name: value for name, value in plain.items() if name not in failed})
    try:
        organisation.full_clean(
            exclude=[*services.ORGANISATION_M2M_FIELDS, "slug", *failed],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        for field_name, messages in error.message_dict.items():
            for message in messages:
                row.add_error(field_name, message)
    # full_clean tidied postcodes and numbers: keep the tidy values for duplicate checks and saving.
    row.data = {name: getattr(organisation, name) for name in plain if name not in failed}
    row.data.update(relations)
    return row


def _read_register_numbers(row: ImportRow, values: dict[str, Any], key: str) -> None:
    """Put the org_id column's number in its list's column, and a Scottish or Northern Irish number
    given as the charity number (as files from before those columns did) in its own column."""
    charity = values.get("charity_number")
    code = charity_list_of(charity) if charity else None
    if code and code != "GB-CHC" and not values.get(Organisation.IDENTIFIER_FIELDS[code]):
        values[Organisation.IDENTIFIER_FIELDS[code]] = values.pop("charity_number")
    if not key:
        return
    try:
        code, number = parse_org_id(key)
    except ValidationError as error:
        for message in error.messages:
            row.add_error(ORG_ID, message)
        return
    field_name = Organisation.IDENTIFIER_FIELDS[code]
    given = values.get(field_name)
    if given and normalise_number(code, given) != number:
        row.add_error(
            ORG_ID,
            _("%(org_id)s does not match the %(column)s column's %(number)s: give one number, or the same in both.")
            % {"org_id": LISTS[code].org_id(number), "column": field_name, "number": given},
        )
    else:
        values[field_name] = number


_NUMBER_FIELDS = tuple(Organisation.IDENTIFIER_FIELDS.values())


def _check_duplicates(rows: list[ImportRow]) -> None:
    """The same register number (org-id) twice in the file, or already an organisation's in the directory:
    rows are matched to organisations by org-id before their names are compared."""
    codes = {name: code for code, name in Organisation.IDENTIFIER_FIELDS.items()}
    for field_name in _NUMBER_FIELDS:
        label = capfirst(str(Organisation._meta.get_field(field_name).verbose_name))
        by_number: dict[str, list[ImportRow]] = {}
        for row in rows:
            number = row.data.get(field_name)
            if number and not any(error.field == field_name for error in row.errors):
                by_number.setdefault(number, []).append(row)
        for number, same in by_number.items():
            if len(same) > 1:
                for row in same:
                    others = [str(other.number) for other in same if other is not row]
                    row.add_error(
                        field_name,
                        ngettext(
                            "%(label)s %(number)s is also on row %(rows)s.",
                            "%(label)s %(number)s is also on rows %(rows)s.",
                            len(others),
                        )
                        % {"label": label, "number": number, "rows": ", ".join(others)},
                    )
        existing = Organisation.objects.filter(**{f"{field_name}__in": list(by_number)}).only("id", "name", field_name)
        for organisation in existing:
            for row in by_number[getattr(organisation, field_name)]:
                row.add_error(
                    field_name,
                    _("%(label)s %(number)s (%(org_id)s) already belongs to “%(name)s” in the directory.")
                    % {
                        "label": label,
                        "number": getattr(organisation, field_name),
                        "org_id": LISTS[codes[field_name]].org_id(getattr(organisation, field_name)),
                        "name": organisation.name,
                    },
                )


def _check_similar_names(rows: list[ImportRow]) -> None:
    """Warn (without stopping the import) about names like ones in the directory or earlier in the file."""
    first_row_with_name: dict[str, ImportRow] = {}
    for row in rows:
        if not row.name:
            continue
        key = _term_key(row.name)
        if key in first_row_with_name:
            row.same_name_rows.append(first_row_with_name[key].number)
        else:
            first_row_with_name[key] = row
        if not row.has_errors:
            row.similar = selectors.similar_organisations(row.name)


def _check_file(token: str, user) -> ImportReport:
    data_name, meta = _load(token, user)
    table = _read_stored_table(data_name, meta["format"])
    lookups = _term_lookups()
    rows = [_check_row(number, cells, table.columns, lookups) for number, cells in table.rows]
    _check_duplicates(rows)
    return ImportReport(filename=meta["filename"], rows=rows, skipped_rows=table.skipped_rows)


def preview_import(*, token: str, user) -> ImportReport:
    """Check a stored upload row by row, without saving anything.

    Raises ImportExpired if the upload is gone, ImportFileError if the file as a whole is unusable.
    """
    report = _check_file(token, user)
    _check_similar_names(report.rows)
    return report


def run_import(*, token: str, by) -> list[Organisation]:
    """Check the stored upload again and create every organisation in it, or none.

    Raises ImportExpired, ImportFileError, or ImportFailed (with the fresh report) when nothing was saved.
    """
    # Errors only: the near-duplicate warnings were shown in the preview and do not stop an import.
    report = _check_file(token, by)
    if not report.can_commit:
        raise ImportFailed(
            ngettext(
                "Nothing was imported: %(count)d row has errors.",
                "Nothing was imported: %(count)d rows have errors.",
                len(report.error_rows),
            )
            % {"count": len(report.error_rows)},
            report,
        )
    with _claim(token):
        created = []
        try:
            with transaction.atomic():
                for row in report.rows:
                    current = row
                    created.append(services.save_organisation(organisation=Organisation(), data=dict(row.data), by=by))
        except ValidationError as error:
            raise ImportFailed(
                _("Nothing was imported: row %(row)s could not be saved (%(error)s).")
                % {"row": current.number, "error": "; ".join(error.messages)},
                report,
            ) from error
        except DatabaseError as error:
            raise ImportFailed(
                _("Nothing was imported: row %(row)s could not be saved (%(error)s). Check it and try again.")
                % {"row": current.number, "error": error.__class__.__name__},
                report,
            ) from error
        discard_import(token=token)
    return created


@contextmanager
def _claim(token: str) -> Iterator[None]:
    """Hold the upload for one import at a time, whichever web server each click reaches: the claim is
    an atomic add to the shared cache (an insert on a unique key in the database cache, SET NX on Redis).
    Raises ImportExpired if another import holds it, or has finished and deleted the upload. Released
    when the block ends; an import that failed leaves the upload there to be tried again."""
    key, locks = f"import-claim:{token}", caches["locks"]
    if not locks.add(key, 1, CLAIM_SECONDS):
        raise ImportExpired
    try:
        if not private_file_storage().exists(_names(token)[1]):
            raise ImportExpired
        yield
    finally:
        locks.delete(key)


def _is_register_number(model_field) -> bool:
    return model_field.name in Organisation.IDENTIFIER_FIELDS.values()


def column_help() -> list[dict]:
    """What each import column holds, for the upload page."""
    lookups = _term_lookups()
    help_rows = []
    for column in ORGANISATION_COLUMNS:
        if column.field == ORG_ID:
            help_rows.append(
                {
                    "header": column.header,
                    "label": _("org-id"),
                    "required": False,
                    "accepts": _(
                        "An org-id: the list code, a hyphen and the number, for example GB-CHC-1164883 or "
                        "GB-COH-09506232 (lists: %(codes)s). It fills in that list's number column."
                    )
                    % {"codes": ", ".join(LISTS)},
                }
            )
            continue
        model_field = Organisation._meta.get_field(column.field)
        if model_field.many_to_many or model_field.many_to_one:
            code = _taxonomy_code(model_field)
            examples = sorted({term.name for term in lookups.get(code, {}).values()})[:3]
            accepts = _("Names or codes from the “%(taxonomy)s” list%(several)s, for example %(examples)s.") % {
                "taxonomy": model_field.verbose_name,
                "several": _(", separated by “;”") if model_field.many_to_many else "",
                "examples": "; ".join(examples),
            }
        elif model_field.choices:
            accepts = _("One of: %(choices)s.") % {
                "choices": "; ".join(str(label) for _value, label in model_field.flatchoices)
            }
        elif isinstance(model_field, models.BooleanField):
            accepts = _("yes or no (blank means yes).")
        elif isinstance(model_field, models.DateField):
            accepts = _("A date: YYYY-MM-DD or DD/MM/YYYY.")
        elif _is_register_number(model_field):
            accepts = capfirst(LISTS[model_field.org_id_list].form) + "."
        elif isinstance(model_field, models.IntegerField):
            accepts = _("A whole number.")
        elif model_field.max_length:
            accepts = _("Text, up to %(limit)d characters.") % {"limit": model_field.max_length}
        else:
            accepts = _("Text.")
        help_rows.append(
            {
                "header": column.header,
                "label": model_field.verbose_name,
                "required": column.field in REQUIRED_COLUMNS,
                "accepts": accepts,
            }
        )
    return help_rows
