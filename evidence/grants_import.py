"""360Giving grants in: a funder's 360Giving file (standard 1.4.3, CC BY 4.0, © 360Giving) becomes the
grants the sector received, matched to the organisations in the database by org-id.

A file is a JSON data package, or the standard's spreadsheet (CSV or XLSX, with the standard's column
titles), which flattentool, the standard's own tool, turns into a package first, noting which row and
column each value came from. The package is read a grant at a time (ijson), twice, so 100,000 grants
run in bounded memory:

1. **check**: every grant is validated against the standard's grant schema (jsonschema) and our own
   rules (an amount above £0 and below £1bn, a real award date from 1900 to today, text without
   control characters and not longer than the database holds, each id once in the file and not the
   id of a grant the network itself distributes). Every problem is collected, naming the grant (its
   number in the file or its spreadsheet row, and its id) and the field (its column title);
2. **write**: only if there was none, the grants are written in one transaction, keyed by their
   360Giving id, so importing the same file again updates them rather than adding them twice.

Recipients are matched by their org-id (recipientOrganization/0/id) to an organisation holding that
identifier; a recipient not in the database keeps its name and org-id. A beneficiary location whose
name is one of the borough's wards sets the grant's ward.
"""

import csv
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import ijson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker, validators

from accounts.models import User
from core import archives, background_imports, org_id
from core.background_imports import RefusedFile
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from .models import AMOUNT_MAX, AMOUNT_MIN, EARLIEST_AWARD_DATE, Grant, GrantImport

logger = logging.getLogger(__name__)

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas_360giving"
GRANT_SCHEMA = SCHEMA_DIR / "360-giving-schema.json"
SUFFIXES = (".json", ".csv", ".xlsx")
MAX_PROBLEMS = 200  # listed; all are counted
MAX_PROBLEMS_PER_GRANT = 10
# Nesting in a 360Giving grant goes 4 deep (grant, list, organisation, address); far more is not a grant.
MAX_DEPTH = 32
BATCH = 2000
PROGRESS_EVERY = 5000
# flattentool (and openpyxl) read a spreadsheet whole, in a process of their own, using some 50 MB for
# each 5,000 rows (more for a workbook, with its maps of where each value was): a bigger spreadsheet is
# refused, to keep that bounded (~20,000 rows of CSV). JSON packages stream: only PORTAL_GRANTS_MAX_BYTES holds them.
SPREADSHEET_MAX_BYTES = 8 * archives.MB
XLSX_LIMITS = archives.Limits(
    max_entries=200, max_entry_bytes=SPREADSHEET_MAX_BYTES * 4, max_total_bytes=SPREADSHEET_MAX_BYTES * 6
)
FLATTENTOOL_TIMEOUT = 30 * 60
# The standard's spreadsheet titles of the fields every grant has (flattentool's, from the schema).
REQUIRED_TITLES = (
    "Identifier",
    "Title",
    "Description",
    "Currency",
    "Amount Awarded",
    "Award Date",
    "Funding Org:Identifier",
    "Funding Org:Name",
)
RECIPIENT_TITLES = ("Recipient Org:Identifier", "Recipient Ind:Identifier")
# Database lengths of what is kept (Grant's fields).
LENGTHS = {
    "identifier": 200,
    "title": 300,
    "recipient_name": 300,
    "recipient_org_id": 200,
    "funder_org_id": 200,
    "funder_name": 300,
    "grant_programme": 300,
    "description": 100_000,
}
UPDATED_FIELDS = [
    "title", "description", "currency", "amount_awarded", "award_date", "planned_start_date", "planned_end_date",
    "recipient", "recipient_name", "recipient_org_id", "funder_org_id", "funder_name", "grant_programme",
    "beneficiary_ward", "updated_at",
]  # fmt: skip


class GrantsFileError(RefusedFile):
    """The file is refused. ``problems`` lists what is wrong (capped), ``total`` how many in all."""

    def __init__(self, message: str, problems: list[str] | None = None, total: int = 0):
        super().__init__(message)
        self.problems = problems or []
        self.total = total or len(self.problems)

    @property
    def fields(self) -> dict:
        # What background_imports.fail stores on the import besides the message.
        return {"problems": self.problems, "counts": {"problems": self.total}}


Progress = Callable[[int, str], None]


def _no_progress(percent: int, step: str) -> None:
    pass


def _shown(value, limit: int = 60) -> str:
    if isinstance(value, str | int | float | Decimal) and not isinstance(value, bool):
        text = str(value)
    else:
        text = json.dumps(value, default=str)
    text = "".join(char if char.isprintable() else "\ufffd" for char in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The schema -------------------------------------------------------------------------------------


@cache
def _schema() -> dict:
    return json.loads(GRANT_SCHEMA.read_text(encoding="utf-8"))


_ENUM = Draft202012Validator.VALIDATORS["enum"]
_enum_sets: dict[int, tuple[list, frozenset]] = {}


def _enum(validator, enums, instance, schema):
    """The enum keyword, with text looked up in a set: jsonschema compares a value with each of the
    codelist's 250 countries or 170 currencies in turn, a third of the whole check's time."""
    if isinstance(instance, str):
        cached = _enum_sets.get(id(enums))
        if cached is None or cached[0] is not enums:
            cached = _enum_sets[id(enums)] = (enums, frozenset(value for value in enums if isinstance(value, str)))
        if instance in cached[1]:
            return
    yield from _ENUM(validator, enums, instance, schema)


_GrantValidator = validators.extend(Draft202012Validator, {"enum": _enum})


def _inlined(node, defs: dict, depth: int = 0):
    """The schema with its "#/$defs/..." references replaced by what they name (the grant schema's
    are not recursive), so the check does not look each one up for every grant."""
    if depth > 20:
        raise ValueError("The 360Giving schema's references nest too deep.")
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/") and len(node) == 1:
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs, depth + 1)
        return {key: _inlined(value, defs, depth) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inlined(value, defs, depth) for value in node]
    return node


@cache
def _validator() -> Draft202012Validator:
    schema = _schema()
    return _GrantValidator(_inlined(schema, schema.get("$defs", {})), format_checker=FormatChecker())


def _subschema(schema: dict) -> dict:
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return _schema()["$defs"].get(ref.removeprefix("#/$defs/"), {})
    return schema


def schema_title(path: list) -> str:
    """The standard's spreadsheet title of a field: ["recipientOrganization", 0, "id"] is
    "Recipient Org:Identifier" (flattentool joins the schema's titles with colons)."""
    titles, schema = [], _schema()
    for part in path:
        if isinstance(part, int):
            continue
        schema = _subschema(schema)
        if schema.get("type") == "array" or "items" in schema:
            schema = _subschema(schema.get("items", {}))
        schema = _subschema(schema.get("properties", {}).get(part, {}))
        titles.append(schema.get("title") or str(part))
    return ":".join(titles)


# Where a grant came from, for the messages ---------------------------------------------------------


@dataclass
class Origin:
    """How to name a grant and a field in a problem: by grant number and field name in a JSON
    package, by row and column title in a spreadsheet."""

    rows: dict[int, list[int]] = field(default_factory=dict)  # grant index -> spreadsheet rows
    spreadsheet: bool = False

    def grant(self, index: int, grant_id) -> str:
        named = _(" (id “%(id)s”)") % {"id": _shown(grant_id)} if isinstance(grant_id, str) and grant_id else ""
        if self.spreadsheet:
            rows = self.rows.get(index) or [index + 2]
            return _("Row %(row)s%(id)s") % {"row": rows[0], "id": named}
        return _("Grant %(number)s%(id)s") % {"number": f"{index + 1:,}", "id": named}

    def field(self, path: list) -> str:
        title = schema_title(path)
        if self.spreadsheet:
            return _("column “%(title)s”") % {"title": title}
        name = "/".join(str(part) for part in path)
        return _("field “%(name)s” (%(title)s)") % {"name": name, "title": title}


def _problem(origin: Origin, index: int, grant_id, path: list | None, message: str) -> str:
    where = origin.grant(index, grant_id)
    if path:
        where += ", " + origin.field(path)
    return f"{where}: {message}"


# Checking one grant -----------------------------------------------------------------------------

_REQUIRED_RE = re.compile(r"^'(?P<name>.+)' is a required property$")


def _schema_problems(grant) -> Iterator[tuple[list, str]]:
    """(field path, message) for each way the grant breaks the standard's schema, in plain words
    (jsonschema's own messages quote whole grants)."""
    for error in _validator().iter_errors(grant):
        path = list(error.absolute_path)
        if error.validator == "required":
            match = _REQUIRED_RE.match(error.message)
            yield path + [match["name"] if match else "?"], _("missing: the standard requires it.")
        elif error.validator == "oneOf" and not path:
            # The grant-level choice: a recipient organisation or a recipient individual.
            by_branch: dict[int, set] = {}
            for branch_error in error.context or []:
                match = _REQUIRED_RE.match(branch_error.message) if branch_error.validator == "required" else None
                branch = by_branch.setdefault(branch_error.relative_schema_path[0], set())
                if match:
                    branch.add(match["name"])
            missing = list(by_branch.values())
            names = set.union(*missing) if missing else set()
            if error.context and {"recipientOrganization", "recipientIndividual"} <= names:
                yield ["recipientOrganization"], _("missing: give the recipient organisation (or individual).")
            common = set.intersection(*missing) if missing else set()
            for name in sorted(common):
                yield [name], _("missing: the standard requires it.")
            if not error.context:
                yield [], _("gives both a recipient organisation and a recipient individual; give one.")
        elif error.validator == "type":
            yield (
                path,
                _("“%(value)s” is not %(type)s.")
                % {
                    "value": _shown(error.instance),
                    "type": {
                        "number": _("a number"),
                        "string": _("text"),
                        "array": _("a list"),
                        "object": _("a group of fields"),
                    }.get(str(error.validator_value), str(error.validator_value)),
                },
            )
        elif path and path[-1] in ("awardDate", "startDate", "endDate", "dateModified"):
            yield path, _("“%(value)s” is not a date written YYYY-MM-DD.") % {"value": _shown(error.instance)}
        else:
            yield (
                path,
                _("“%(value)s” is not what the standard allows here (%(rule)s).")
                % {
                    "value": _shown(error.instance),
                    "rule": error.validator,
                },
            )


def _first(items, key: str | None = None):
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0] if key is None else items[0].get(key)
    return None


def _date(value) -> date | None:
    """A date from YYYY-MM-DD or a date-time; None if it is not one (year 0, month 13...)."""
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _has_control_characters(text: str) -> bool:
    return any(ord(char) < 32 and char not in "\n\r\t" or ord(char) == 127 for char in text)


@dataclass
class Directory:
    """What grants are matched against: organisations by identifier, wards by name."""

    organisations: dict[tuple[str, str], int]
    wards: dict[str, int]

    @classmethod
    def load(cls) -> "Directory":
        organisations = {}
        names = Organisation.IDENTIFIER_FIELDS
        for row in Organisation.objects.values("pk", *names.values()):
            for scheme, field_name in names.items():
                if row[field_name]:
                    organisations[(scheme, row[field_name].upper())] = row["pk"]
        wards = {
            name.strip().casefold(): pk
            for pk, name in TaxonomyTerm.objects.filter(taxonomy__code=Taxonomy.WARDS).values_list("pk", "name")
        }
        return cls(organisations, wards)

    def organisation(self, text) -> int | None:
        if not isinstance(text, str) or not text.strip():
            return None
        try:
            scheme, number = org_id.parse_org_id(text)
        except ValidationError:
            return None  # a funder's own identifier (360G-...), not on an org-id list
        return self.organisations.get((scheme, number.upper()))

    def ward(self, locations) -> int | None:
        for location in locations if isinstance(locations, list) else []:
            name = location.get("name") if isinstance(location, dict) else None
            if isinstance(name, str) and name.strip().casefold() in self.wards:
                return self.wards[name.strip().casefold()]
        return None


def grant_fields(grant: dict, directory: Directory) -> tuple[dict, list[tuple[list, str]]]:
    """(Grant field values, problems) for a grant the schema accepted; problems as (path, message)."""
    problems: list[tuple[list, str]] = []
    amount = grant.get("amountAwarded")
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        problems.append(
            (["amountAwarded"], _("“%(value)s” is not an amount.") % {"value": _shown(grant.get("amountAwarded"))})
        )
    elif amount < AMOUNT_MIN:
        problems.append(
            (
                ["amountAwarded"],
                _("%(value)s: the amount awarded must be more than 0.") % {"value": _shown(grant.get("amountAwarded"))},
            )
        )
    elif amount > AMOUNT_MAX:
        problems.append(
            (
                ["amountAwarded"],
                _("%(value)s is more than 999,999,999.99: check the figure.")
                % {"value": _shown(grant.get("amountAwarded"))},
            )
        )
    dates = {}
    for path in (["awardDate"], ["plannedDates", 0, "startDate"], ["plannedDates", 0, "endDate"]):
        raw = grant.get(path[0]) if len(path) == 1 else _first(grant.get(path[0]), path[2])
        if raw is None:
            continue
        value = _date(raw)
        if value is None:
            problems.append((path, _("“%(value)s” is not a date.") % {"value": _shown(raw)}))
        elif not EARLIEST_AWARD_DATE <= value <= date(2200, 1, 1):
            problems.append((path, _("%(value)s is not a date from 1900 on.") % {"value": value.isoformat()}))
        dates[path[-1]] = value
    award_date = dates.get("awardDate")
    if award_date and award_date > date.today():
        problems.append((["awardDate"], _("%(value)s is in the future.") % {"value": award_date.isoformat()}))
    recipient_org = _first(grant.get("recipientOrganization")) or {}
    recipient = directory.organisation(recipient_org.get("id"))
    funder = _first(grant.get("fundingOrganization")) or {}
    values = {
        "identifier": grant.get("id") or "",
        "title": grant.get("title") or "",
        "description": grant.get("description") or "",
        "currency": (grant.get("currency") or "GBP")[:3],
        "amount_awarded": amount,
        "award_date": award_date,
        "planned_start_date": dates.get("startDate"),
        "planned_end_date": dates.get("endDate"),
        "recipient_id": recipient,
        "recipient_name": "" if recipient else (recipient_org.get("name") or ""),
        "recipient_org_id": "" if recipient else (recipient_org.get("id") or ""),
        "funder_org_id": funder.get("id") or "",
        "funder_name": funder.get("name") or "",
        "grant_programme": _first(grant.get("grantProgramme"), "title") or "",
        "beneficiary_ward_id": directory.ward(grant.get("beneficiaryLocation")),
    }
    paths = {
        "identifier": ["id"],
        "title": ["title"],
        "description": ["description"],
        "recipient_name": ["recipientOrganization", 0, "name"],
        "recipient_org_id": ["recipientOrganization", 0, "id"],
        "funder_org_id": ["fundingOrganization", 0, "id"],
        "funder_name": ["fundingOrganization", 0, "name"],
        "grant_programme": ["grantProgramme", 0, "title"],
    }
    for name, path in paths.items():
        text = values[name]
        if not isinstance(text, str):
            continue  # the schema has said so
        if len(text) > LENGTHS[name]:
            problems.append((path, _("longer than %(max)s characters.") % {"max": f"{LENGTHS[name]:,}"}))
        elif _has_control_characters(text):
            problems.append((path, _("holds a control character (such as a NUL byte); remove it.")))
    if isinstance(values["identifier"], str) and not values["identifier"].strip():
        problems.append((["id"], _("empty: every grant needs its 360Giving identifier.")))
    return values, problems


# Reading the package a grant at a time -----------------------------------------------------------


_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")


def _not_a_package() -> GrantsFileError:
    return GrantsFileError(
        _("The file is JSON but not a 360Giving data package: it should be an object with a “grants” list.")
    )


def read_grants(path: Path, *, progress: Callable[[float], None] | None = None) -> Iterator:
    """Each grant of the package at ``path`` (``{"grants": [...]}``), in order, without holding the
    file; GrantsFileError if it is not JSON, not a package or nested deeper than a grant can be.

    ijson's basic events, without the prefixes ijson.parse builds: a prefix is as long as the nesting
    is deep, so a hostile file of 100,000 brackets would cost quadratic time before the depth check."""
    depth = count = 0
    builder = None
    key = None  # the package's key whose value comes next
    in_grants = found_grants = False
    size = max(path.stat().st_size, 1)
    with path.open("rb") as handle:
        try:
            for event, value in ijson.basic_parse(handle):
                if event in _STARTS:
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise GrantsFileError(
                            _("The file nests lists or objects more than %(max)s deep; no 360Giving grant does.")
                            % {"max": MAX_DEPTH}
                        )
                elif event in _ENDS:
                    depth -= 1
                if builder is not None:
                    builder.event(event, value)
                    if depth == 2:  # the grant's own end
                        yield builder.value
                        builder = None
                        count += 1
                        if progress and count % PROGRESS_EVERY == 0:
                            progress(handle.tell() / size)
                elif in_grants:
                    if depth == 1:  # the end of the list
                        in_grants = False
                    elif event in _STARTS:
                        builder = ijson.ObjectBuilder()
                        builder.event(event, value)
                    else:
                        yield value  # a grant that is not an object: the schema check says so
                        count += 1
                elif depth == 0 and event not in _ENDS or depth == 1 and event == "start_array":
                    raise _not_a_package()  # a list or a single value, not an object
                elif depth == 1 and event == "map_key":
                    key = value
                elif key is not None and (depth == 1 and event not in _ENDS or depth == 2 and event in _STARTS):
                    if key == "grants":
                        if event != "start_array":
                            raise GrantsFileError(_("The package's “grants” is not a list of grants."))
                        in_grants = found_grants = True
                    key = None
        except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as error:
            raise GrantsFileError(
                _("The file is not valid JSON (%(reason)s); a 360Giving data package is a JSON file.")
                % {"reason": _shown(str(error), 200)}
            ) from None
    if not found_grants:
        raise _not_a_package()


# The spreadsheet ------------------------------------------------------------------------------------


def _check_csv(path: Path) -> tuple[set[str], dict[int, list[int]]]:
    """Every line is UTF-8 without NUL bytes, before flattentool reads it (it would stop on the first
    bad byte without saying where, or keep a NUL the database cannot store). Then the column titles,
    and which rows each grant comes from: flattentool makes one grant of the rows that share an id,
    at the place of the first, and skips empty rows."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if b"\x00" in line:
                raise GrantsFileError(
                    _("Line %(line)s of the CSV holds a NUL byte: the file is not a CSV of grants, or is damaged.")
                    % {"line": number}
                )
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise GrantsFileError(
                    _(
                        "Line %(line)s of the CSV is not UTF-8 (byte 0x%(byte)02X at character %(at)s): the file mixes "
                        "encodings. Save it from your spreadsheet as “CSV UTF-8” and upload that."
                    )
                    % {"line": number, "byte": line[error.start], "at": error.start + 1}
                ) from None
    rows: dict[int, list[int]] = {}
    index_of: dict[str, int] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = [title.strip() for title in next(reader, [])]
            column = header.index("Identifier") if "Identifier" in header else None
            for number, cells in enumerate(reader, start=2):
                if not any(cell.strip() for cell in cells):
                    continue
                grant_id = cells[column].strip() if column is not None and column < len(cells) else ""
                index = index_of.get(grant_id) if grant_id else None
                if index is None:
                    index = len(rows)
                    if grant_id:
                        index_of[grant_id] = index
                rows.setdefault(index, []).append(number)
        except csv.Error as error:
            raise GrantsFileError(
                _("The CSV cannot be read (%(reason)s).") % {"reason": _shown(str(error), 120)}
            ) from None
    return set(header), rows


def _check_xlsx(path: Path) -> None:
    """The workbook is a sound zip that does not unpack to far more than a spreadsheet of grants
    (core.archives), before openpyxl, which trusts it, opens it."""
    with path.open("rb") as handle:
        try:
            with archives.open_archive(handle, XLSX_LIMITS) as archive:
                archive.check_all()
        except archives.ArchiveError as error:
            raise GrantsFileError(
                _("The file cannot be read as an Excel workbook (.xlsx): %(reason)s") % {"reason": error}
            ) from None


def _check_titles(titles: set[str]) -> None:
    missing = [title for title in REQUIRED_TITLES if title not in titles]
    if not any(title in titles for title in RECIPIENT_TITLES):
        missing.append(RECIPIENT_TITLES[0])
    if missing:
        found = sorted(titles)
        raise GrantsFileError(
            _(
                "The spreadsheet has no %(missing)s column: its first row must hold the 360Giving standard's "
                "column titles (its columns are: %(found)s)."
            )
            % {
                "missing": ", ".join(f"“{title}”" for title in missing),
                "found": ", ".join(_shown(title, 40) for title in found[:12]) + ("…" if len(found) > 12 else ""),
            }
        )


def unflatten(path: Path, folder: Path) -> tuple[Path, Origin]:
    """The spreadsheet at ``path`` (.csv or .xlsx) as a JSON package in ``folder``, through flattentool
    with the 360Giving schema and its column titles (in a process of its own: unflatten_360giving.py),
    and where each grant came from: for a CSV, from our own reading of it; for a workbook, from
    flattentool's maps of where each value and title was."""
    output = folder / "grants.json"
    origin = Origin(spreadsheet=True)
    if path.suffix.lower() == ".csv":
        titles, origin.rows = _check_csv(path)
        _check_titles(titles)
        source = folder / "sheets"
        source.mkdir()
        shutil.copyfile(path, source / "grants.csv")
        _run_flattentool(path, [str(source), "csv", str(output), str(GRANT_SCHEMA)])
        return output, origin
    _check_xlsx(path)
    cells, headings = folder / "cells.json", folder / "headings.json"
    _run_flattentool(path, [str(path), "xlsx", str(output), str(GRANT_SCHEMA), str(cells), str(headings)])
    with headings.open("rb") as handle:
        _check_titles({title for sources in json.load(handle).values() for _sheet, title in sources})
    row_of = re.compile(r"^grants/(\d+)$")
    with cells.open("rb") as handle:
        for key, sources in ijson.kvitems(handle, ""):
            match = row_of.match(key)
            if match:
                origin.rows[int(match[1])] = sorted({int(source[1]) for source in sources if len(source) >= 2})
    return output, origin


def _run_flattentool(path: Path, arguments: list[str]) -> None:
    # -P: the script's folder (evidence/, whose selectors.py would hide the standard library's) not on the path.
    command = [sys.executable, "-P", str(Path(__file__).with_name("unflatten_360giving.py")), *arguments]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=FLATTENTOOL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        outcome, stderr = {"error": _("it took too long")}, ""
    else:
        stderr = done.stderr
        try:
            outcome = json.loads((done.stdout.strip().splitlines() or ["{}"])[-1])
        except ValueError:
            outcome = {"error": _("flattentool stopped (exit status %(status)s)") % {"status": done.returncode}}
    if not outcome.get("ok"):
        logger.info("flattentool could not read %s: %s %s", path.name, outcome, stderr[-2000:])
        raise GrantsFileError(
            _("The spreadsheet cannot be read (%(reason)s). Save it again as .xlsx or “CSV UTF-8”.")
            % {"reason": _shown(outcome.get("error", "?"), 160)}
        )


# The import -----------------------------------------------------------------------------------------


@dataclass
class Check:
    grants: int = 0
    problems: list[str] = field(default_factory=list)
    total_problems: int = 0

    def add(self, problem: str) -> None:
        self.total_problems += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def _check_network_ids(ids: list[tuple[int, str]], origin: Origin, check: Check) -> None:
    taken = set(
        Grant.objects.filter(identifier__in=[grant_id for _index, grant_id in ids])
        .exclude(direction=Grant.Direction.RECEIVED)
        .values_list("identifier", flat=True)
    )
    for index, grant_id in ids:
        if grant_id in taken:
            check.add(
                _problem(
                    origin, index, grant_id, ["id"], _("this is the id of a grant the network distributes itself.")
                )
            )


def check_package(path: Path, origin: Origin, directory: Directory, progress: Progress) -> Check:
    """Every problem of every grant in the package (the first pass)."""
    check = Check()
    seen: dict[str, int] = {}
    pending_ids: list[tuple[int, str]] = []

    def read_progress(fraction: float) -> None:
        progress(5 + int(45 * fraction), _("Checking the grants: %(count)s read") % {"count": f"{check.grants:,}"})

    for index, grant in enumerate(read_grants(path, progress=read_progress)):
        check.grants += 1
        grant_id = grant.get("id") if isinstance(grant, dict) else None
        problems = list(_schema_problems(grant))
        if not problems and isinstance(grant, dict):
            _values, problems = grant_fields(grant, directory)
        for path_, message in problems[:MAX_PROBLEMS_PER_GRANT]:
            check.add(_problem(origin, index, grant_id, path_, message))
        if len(problems) > MAX_PROBLEMS_PER_GRANT:
            check.add(
                _problem(
                    origin,
                    index,
                    grant_id,
                    None,
                    _("and %(count)s more problems.") % {"count": len(problems) - MAX_PROBLEMS_PER_GRANT},
                )
            )
        if isinstance(grant_id, str) and grant_id:
            rows = origin.rows.get(index, [])
            if grant_id in seen:
                check.add(
                    _problem(
                        origin,
                        index,
                        grant_id,
                        ["id"],
                        _("the same id as %(other)s: each grant's id must be its own.")
                        % {"other": origin.grant(seen[grant_id], grant_id)},
                    )
                )
            elif len(rows) > 1:
                # flattentool merges spreadsheet rows that share an id into one grant.
                check.add(
                    _("Rows %(rows)s have the same id “%(id)s”: each grant's id must be its own.")
                    % {"rows": ", ".join(str(row) for row in rows), "id": _shown(grant_id)}
                )
            seen.setdefault(grant_id, index)
            pending_ids.append((index, grant_id))
            if len(pending_ids) >= BATCH:
                _check_network_ids(pending_ids, origin, check)
                pending_ids = []
    _check_network_ids(pending_ids, origin, check)
    if not check.grants and not check.total_problems:
        check.add(_("The file holds no grants."))
    return check


def write_grants(path: Path, directory: Directory, total: int, progress: Progress) -> dict[str, int]:
    """Write the checked package's grants (the second pass), in one transaction: created or updated
    by their 360Giving id. The counts of what was done."""
    counts = {"created": 0, "updated": 0, "matched": 0, "not_in_database": 0, "to_individuals": 0, "wards": 0}
    progress(50, _("Writing the grants"))
    with transaction.atomic():
        batch: list[Grant] = []

        def flush() -> None:
            found = dict(
                Grant.objects.filter(identifier__in=[grant.identifier for grant in batch]).values_list(
                    "identifier", "direction"
                )
            )
            taken = sorted(
                identifier for identifier, direction in found.items() if direction != Grant.Direction.RECEIVED
            )
            if taken:  # recorded by the network since the check: its own grants are never overwritten
                raise GrantsFileError(
                    _("%(id)s is now the id of a grant the network distributes itself; nothing was imported.")
                    % {"id": _shown(taken[0])}
                )
            existing = set(found)
            Grant.objects.bulk_create(
                batch, update_conflicts=True, unique_fields=["identifier"], update_fields=UPDATED_FIELDS
            )
            counts["updated"] += len(existing)
            counts["created"] += len(batch) - len(existing)
            batch.clear()

        for grant in read_grants(path):
            values, _problems = grant_fields(grant, directory)
            if values["recipient_id"]:
                counts["matched"] += 1
            elif values["recipient_org_id"]:
                counts["not_in_database"] += 1
            else:
                counts["to_individuals"] += 1
            counts["wards"] += bool(values["beneficiary_ward_id"])
            batch.append(Grant(direction=Grant.Direction.RECEIVED, reference="", **values))
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    return counts


def import_file(path: Path, *, progress: Progress = _no_progress) -> dict:
    """Import the grants of the 360Giving file at ``path`` (.json, .csv or .xlsx): all of them, or,
    if anything is wrong, none (GrantsFileError, listing the problems). The counts of what was done."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise GrantsFileError(
            _(
                "%(file)s is not a 360Giving file: give a JSON data package (.json) or the standard's spreadsheet (.csv or .xlsx)."
            )
            % {"file": _shown(path.name)}
        )
    size = path.stat().st_size
    limit = (
        settings.PORTAL_GRANTS_MAX_BYTES
        if suffix == ".json"
        else min(SPREADSHEET_MAX_BYTES, settings.PORTAL_GRANTS_MAX_BYTES)
    )
    if size > limit:
        raise GrantsFileError(
            _("%(file)s is %(size)s MB; the largest accepted is %(max)s MB%(hint)s.")
            % {
                "file": _shown(path.name),
                "size": f"{size / archives.MB:,.0f}",
                "max": f"{limit / archives.MB:,.0f}",
                "hint": _(" (give a bigger file as a JSON data package)") if suffix != ".json" else "",
            }
        )
    folder = Path(tempfile.mkdtemp(prefix="grants-import-"))
    try:
        if suffix == ".json":
            package, origin = path, Origin()
        else:
            progress(2, _("Reading the spreadsheet"))
            package, origin = unflatten(path, folder)
        directory = Directory.load()
        check = check_package(package, origin, directory, progress)
        if check.total_problems:
            raise GrantsFileError(
                _("The file has %(count)s problems; fix them and upload it again.")
                % {"count": f"{check.total_problems:,}"}
                if check.total_problems > 1
                else _("The file has a problem; fix it and upload it again."),
                check.problems,
                check.total_problems,
            )
        counts = write_grants(package, directory, check.grants, progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"grants": check.grants, **counts}


# The admin's upload and the worker's run -----------------------------------------------------------


def start_import(*, uploads: list, by: User) -> GrantImport:
    """Keep the uploaded file and record an import waiting to run; the caller queues it
    (tasks.enqueue_grant_import). GrantsFileError if it is not one .json, .csv or .xlsx file."""
    if len(uploads) != 1:
        raise GrantsFileError(_("Upload one file: a 360Giving JSON data package, or its spreadsheet (.csv or .xlsx)."))
    if Path(uploads[0].name).suffix.lower() not in SUFFIXES:
        raise GrantsFileError(
            _(
                "%(file)s is not a 360Giving file: give a JSON data package (.json) or the standard's spreadsheet (.csv or .xlsx)."
            )
            % {"file": _shown(Path(uploads[0].name).name)}
        )
    return background_imports.start(GrantImport, uploads=uploads, by=by)


def run_import(grant_import: GrantImport, *, paths: list[Path], by: User | None = None) -> GrantImport:
    """Import the claimed import's file; it ends READY with its counts, or FAILED with its problems."""

    def progress(percent: int, step: str) -> None:
        background_imports.set_progress(grant_import, percent, step)

    with background_imports.all_or_nothing(grant_import, log=logger, what="360Giving grants import"):
        counts = import_file(paths[0], progress=progress)
        background_imports.mark_ready(grant_import, counts=counts, problems=[])
    return grant_import


def run_uploaded_import(*, import_id: int) -> GrantImport | None:
    return background_imports.run_uploaded(GrantImport, import_id=import_id, run=run_import)
