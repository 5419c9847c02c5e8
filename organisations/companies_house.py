"""The Companies House bulk file import: what the free monthly file of live companies says about the
borough's community interest companies (CICs) and companies limited by guarantee, and about the
directory's organisations, as register findings for a network admin to act on.

It works as the charity register import does (organisations.charity_register, whose findings, upload,
task and admin actions it shares), on one CSV (core.register_extract.read_csv), read twice:

1. **check**: every row is parsed, whatever its company category: the first with a company number
   that is not one (GB-COH format) or a date that is not one stops the import with an error naming
   the row and field, before anything is written. Only CICs and companies limited by guarantee are
   kept; the check notes which of them have their registered office in the borough
   (``PORTAL_BOROUGH_POSTCODE_DISTRICTS``);
2. **findings**: a kept company whose number an organisation holds is a match: its company status and
   incorporation date are refreshed (through the organisation's history), and a member the file shows
   dissolved, being struck off, in liquidation or administration is flagged. One whose name is like an
   organisation's without a company number is a possible match to confirm (never merged silently);
   a borough company not in the directory is proposed, to add with one admin action.
"""

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core import org_id
from core.register_extract import ExtractError, Record, read_csv
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import charity_register, selectors, services
from .charity_register import (
    Progress,
    _no_progress,
    _set_progress,
    all_or_nothing,
    mark_ready,
    write_findings,
)
from .models import CharityRegisterImport, Organisation, RegisterFinding

logger = logging.getLogger(__name__)

FILE = _("The Companies House file")
COLUMNS = (
    "CompanyName",
    "CompanyNumber",
    "RegAddress.PostCode",
    "CompanyCategory",
    "CompanyStatus",
    "IncorporationDate",
)
OPTIONAL_COLUMNS = (
    "RegAddress.AddressLine1",
    "RegAddress.AddressLine2",
    "RegAddress.PostTown",
    "SICCode.SicText_1",
    "SICCode.SicText_2",
    "SICCode.SicText_3",
    "SICCode.SicText_4",
)
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
SUFFIXES = (".csv", ".zip")
CIC, GUARANTEE = "cic", "guarantee"
# Words of CompanyStatus that a member should be asked about.
REMOVED_WORDS = ("dissolved", "strike off", "struck off", "removed")
INSOLVENT_WORDS = ("liquidation", "administrat", "receiver", "insolvency", "voluntary arrangement")
CHANGE_REASON = "Companies House bulk file"
PROGRESS_EVERY = 50_000
_FILE_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def kept_form(category: str) -> str | None:
    """CIC or GUARANTEE for the categories the import keeps, else None."""
    words = category.casefold()
    if "community interest" in words:
        return CIC
    if "guar" in words or "lbg" in words:
        return GUARANTEE
    return None


# Parsing a row -----------------------------------------------------------------------------------


def _row_error(record: Record, column: str, message: str) -> ExtractError:
    return ExtractError(
        _("%(file)s's row %(row)s, field “%(field)s”: %(message)s")
        % {"file": FILE, "row": record.line, "field": column, "message": message}
    )


def _company_number(record: Record) -> str:
    text = record.values["CompanyNumber"]
    number = org_id.normalise_number("GB-COH", text)
    try:
        org_id.validate_number("GB-COH", number)
    except ValidationError as error:
        raise _row_error(record, "CompanyNumber", error.messages[0] if text else _("the number is empty.")) from None
    return number


def _date(record: Record, column: str) -> date | None:
    text = record.values[column]
    if not text:
        return None
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise _row_error(record, column, _("“%(value)s” is not a date (DD/MM/YYYY).") % {"value": text[:40]})


@dataclass(slots=True)
class Company:
    row: int
    number: str
    name: str
    category: str
    form: str | None
    status: str
    incorporated_on: date | None
    postcode: str
    address_line_1: str
    address_line_2: str
    town: str
    sic: list[str]

    @property
    def postcode_district(self) -> str:
        return self.postcode.upper().split(" ")[0] if " " in self.postcode else self.postcode.upper()[:-3]


def parse_company(record: Record) -> Company:
    """A row as a Company; ExtractError naming the row and field if it is not one."""
    number = _company_number(record)
    name = " ".join(record.values["CompanyName"].split())
    if not name:
        raise _row_error(record, "CompanyName", _("the name is empty."))
    category = record.values["CompanyCategory"]
    return Company(
        row=record.line,
        number=number,
        name=name[:300],
        category=category[:120],
        form=kept_form(category),
        status=record.values["CompanyStatus"][:60],
        incorporated_on=_date(record, "IncorporationDate"),
        postcode=" ".join(record.values["RegAddress.PostCode"].upper().split()),
        address_line_1=record.values["RegAddress.AddressLine1"][:200],
        address_line_2=record.values["RegAddress.AddressLine2"][:200],
        town=record.values["RegAddress.PostTown"].title()[:100],
        sic=[text[:200] for column in OPTIONAL_COLUMNS[3:] if (text := record.values[column])],
    )


# Reading the file --------------------------------------------------------------------------------


@dataclass
class Survey:
    """What the check learnt: the borough's kept companies (number: name), and counts."""

    extract_date: date | None = None
    rows: int = 0
    companies: int = 0  # CICs and companies limited by guarantee
    borough: dict[str, str] = field(default_factory=dict)


def check_names(names: Iterable[str]) -> None:
    """The upload's file names: one or more .csv or .zip (the bulk file may come in parts)."""
    names = list(names)
    if not names:
        raise ExtractError(_("Give the Companies House bulk file (.zip or .csv)."))
    for name in names:
        if not name.lower().endswith(SUFFIXES):
            raise ExtractError(
                _("%(file)s is not the Companies House bulk file: give the .zip (or the .csv in it).") % {"file": name}
            )


def _companies(paths: list[Path]) -> Iterator[Company]:
    for path in paths:
        records = read_csv(
            path,
            name=FILE,
            columns=COLUMNS,
            optional=OPTIONAL_COLUMNS,
            max_bytes=settings.PORTAL_COMPANIES_HOUSE_MAX_BYTES,
        )
        for record in records:
            yield parse_company(record)


def _in_borough(company: Company) -> bool:
    return bool(company.postcode) and company.postcode_district in settings.PORTAL_BOROUGH_POSTCODE_DISTRICTS


def _file_date(paths: list[Path]) -> date | None:
    """The file's date, from its name (BasicCompanyDataAsOneFile-2025-06-01.zip)."""
    for path in paths:
        if match := _FILE_DATE_RE.search(path.name):
            try:
                return date.fromisoformat(match[1])
            except ValueError:
                return None
    return None


def check_file(paths: list[Path], *, progress: Progress = _no_progress) -> Survey:
    """Read every row; raise ExtractError at the first bad one. Writes nothing."""
    check_names(path.name for path in paths)
    survey = Survey(extract_date=_file_date(paths))
    seen: dict[str, int] = {}
    progress(2, _("Checking the companies"))
    for survey.rows, company in enumerate(_companies(paths), start=1):
        if survey.rows % PROGRESS_EVERY == 0:
            progress(
                2 + min(45, survey.rows // 100_000), _("Checked %(count)s companies") % {"count": f"{survey.rows:,}"}
            )
        if company.form is None:
            continue
        if company.number in seen:
            raise _row_error(
                _record_at(company),
                "CompanyNumber",
                _("company %(number)s is also on row %(other)s.")
                % {"number": company.number, "other": seen[company.number]},
            )
        seen[company.number] = company.row
        survey.companies += 1
        if _in_borough(company):
            survey.borough[company.number] = company.name
    return survey


def _record_at(company: Company) -> Record:
    return Record(company.row, {})


# Comparing with the directory --------------------------------------------------------------------

COMPANY_FIELDS = ("id", "name", "company_number", "company_status", "incorporated_on", "development_stage")


def _details(company: Company) -> dict:
    return {
        "number": company.number,
        "name": company.name,
        "category": company.category,
        "form": company.form,
        "status": company.status,
        "incorporated_on": company.incorporated_on.isoformat() if company.incorporated_on else None,
        "postcode": company.postcode,
        "address_line_1": company.address_line_1,
        "address_line_2": company.address_line_2,
        "town": company.town,
        "sic": company.sic,
        "in_borough_by": "postcode" if _in_borough(company) else "",
    }


def _refresh_values(organisation: Organisation, details: dict) -> dict[str, list]:
    """The fields the file would change on ``organisation``: {field: [old, new]}, dates as text."""
    changes: dict[str, list] = {}
    if details["status"] and details["status"] != organisation.company_status:
        changes["company_status"] = [organisation.company_status, details["status"]]
    old = organisation.incorporated_on.isoformat() if organisation.incorporated_on else None
    if details["incorporated_on"] and details["incorporated_on"] != old:
        changes["incorporated_on"] = [old, details["incorporated_on"]]
    return changes


def _apply_refresh(organisation: Organisation, changes: dict[str, list], by: User | None) -> None:
    for name, (_old, new) in changes.items():
        setattr(organisation, name, date.fromisoformat(new) if name == "incorporated_on" else new)
    organisation._history_user = by
    organisation._change_reason = CHANGE_REASON
    organisation.save(update_fields=[*changes, "updated_at"])


def status_flag(status: str) -> str | None:
    """The finding a member with this CompanyStatus gets (REMOVED or INSOLVENT), or None."""
    words = status.casefold()
    if any(word in words for word in REMOVED_WORDS):
        return RegisterFinding.Kind.REMOVED
    if any(word in words for word in INSOLVENT_WORDS):
        return RegisterFinding.Kind.INSOLVENT
    return None


def _findings(register_import, paths, survey: Survey, directory, refreshes: list, progress: Progress):
    Kind = RegisterFinding.Kind

    def finding(kind, company, details, organisation_id=None, **data) -> RegisterFinding:
        return RegisterFinding(
            register_import=register_import,
            kind=kind,
            company_number=company.number,
            name=company.name,
            organisation_id=organisation_id,
            data={**details, **data},
        )

    for count, company in enumerate(_companies(paths), start=1):
        if count % PROGRESS_EVERY == 0:
            progress(55 + min(35, count // 150_000), _("Compared %(count)s companies") % {"count": f"{count:,}"})
        if company.form is None:
            continue
        organisation = directory.by_number.get(company.number)
        if organisation is not None:
            details = _details(company)
            changes = _refresh_values(organisation, details)
            refreshes.append((organisation, changes))
            if changes:
                refreshed = finding(Kind.REFRESHED, company, details, organisation.pk, changes=changes)
                refreshed.decision = RegisterFinding.Decision.ACCEPTED
                yield refreshed
            flag = status_flag(company.status)
            if flag and organisation.pk in directory.members:
                yield finding(flag, company, details, organisation.pk)
            continue
        if status_flag(company.status):
            continue
        matches = [(pk, name, 1.0) for pk, name in directory.unnumbered_keys.get(selectors.name_key(company.name), [])]
        matches += directory.fuzzy.get(company.number, [])
        if matches:
            details = _details(company)
            for pk, name, score in matches:
                yield finding(Kind.NAME_MATCH, company, details, pk, organisation_name=name, score=score)
        elif company.number in survey.borough:
            yield finding(Kind.PROPOSAL, company, _details(company))


# Running an import -------------------------------------------------------------------------------


def run_import(
    *, register_import: CharityRegisterImport, paths: Iterable[Path], by: User | None
) -> CharityRegisterImport:
    """Check the file, then write the findings and refresh the matched organisations, or nothing.

    The import must be claimed (status CHECKING). Returns it READY, or FAILED with ``error`` saying why
    (an ExtractError's message names the row and field)."""
    paths = list(paths)

    def progress(percent: int, step: str) -> None:
        _set_progress(register_import, percent, step)

    with all_or_nothing(register_import, log=logger, what="Companies House import"):
        survey = check_file(paths, progress=progress)
        CharityRegisterImport.objects.filter(pk=register_import.pk).update(status=CharityRegisterImport.Status.WRITING)
        progress(50, _("Comparing with the directory"))
        directory = charity_register._directory(
            survey.borough, number_field="company_number", fields=COMPANY_FIELDS, key=lambda number: number or None
        )
        refreshes: list[tuple[Organisation, dict]] = []
        counts = write_findings(_findings(register_import, paths, survey, directory, refreshes, progress))
        progress(92, _("Refreshing the matched organisations"))
        with transaction.atomic():
            for organisation, changes in refreshes:
                if changes:
                    _apply_refresh(organisation, changes, by)
            mark_ready(
                register_import,
                extract_date=survey.extract_date,
                counts={
                    "rows": survey.rows,
                    "companies": survey.companies,
                    "borough": len(survey.borough),
                    "matched": len(refreshes),
                    "findings": counts,
                },
            )
    return register_import


def start_import(*, uploads: list, by: User) -> CharityRegisterImport:
    """Keep the uploaded file in the private files storage and record an import waiting to run; the
    caller queues it (tasks.enqueue_register_import). ExtractError if a file is not a .zip or .csv."""
    return charity_register.start_import(
        uploads=uploads, by=by, register=CharityRegisterImport.Register.COMPANIES, check_names=check_names
    )


def run_uploaded_import(*, import_id: int) -> CharityRegisterImport | None:
    return charity_register.run_uploaded_import(import_id=import_id, run=run_import)


# Acting on findings ------------------------------------------------------------------------------


@transaction.atomic
def add_proposed_organisation(*, finding: RegisterFinding, by: User) -> Organisation:
    """Add a proposed borough company to the directory as a VCO, with its history."""
    charity_register._pending(finding, RegisterFinding.Kind.PROPOSAL)
    details = finding.data
    existing = selectors.organisation_with_number("company_number", finding.company_number)
    if existing is not None:
        raise ValidationError(
            _("Company %(number)s is already in the directory as “%(name)s”.")
            % {"number": finding.company_number, "name": existing.name}
        )
    name = details["name"].title() if details["name"].isupper() else details["name"]
    data = {
        "name": name[:200],
        "company_number": finding.company_number,
        "legal_form": Organisation.LegalForm.CIC if details.get("form") == CIC else Organisation.LegalForm.OTHER,
        "kinds": [TaxonomyTerm.objects.get(taxonomy__code=Taxonomy.ORGANISATION_KINDS, code=Organisation.KIND_VCO)],
        "activities": "; ".join(details.get("sic", []))[:2000],
        "company_status": details.get("status", "")[:60],
        "incorporated_on": date.fromisoformat(details["incorporated_on"]) if details.get("incorporated_on") else None,
        "address_line_1": details.get("address_line_1", ""),
        "address_line_2": details.get("address_line_2", ""),
        "public_fields": [],
    }
    if details.get("town"):
        data["town"] = details["town"]
    organisation = Organisation()
    organisation._change_reason = CHANGE_REASON
    try:
        organisation = services.save_organisation(
            organisation=organisation, data={**data, "postcode": details.get("postcode", "")}, by=by
        )
    except ValidationError as error:
        if "postcode" not in getattr(error, "error_dict", {}):
            raise
        # A postcode the directory does not accept is left out, not a reason to refuse.
        organisation = Organisation()
        organisation._change_reason = CHANGE_REASON
        organisation = services.save_organisation(organisation=organisation, data=data, by=by)
    charity_register._decide(finding, RegisterFinding.Decision.ACCEPTED, by, organisation)
    return organisation


@transaction.atomic
def confirm_name_match(*, finding: RegisterFinding, by: User) -> Organisation:
    """Record that the organisation is this company: give it the company number and refresh it from
    the file, in its history. Other possible matches for the company in the import are dismissed."""
    charity_register._pending(finding, RegisterFinding.Kind.NAME_MATCH)
    organisation = Organisation.objects.select_for_update().get(pk=finding.organisation_id)
    if organisation.company_number and organisation.company_number != finding.company_number:
        raise ValidationError(
            _("“%(name)s” already has company number %(number)s.")
            % {"name": organisation.name, "number": organisation.company_number}
        )
    existing = selectors.organisation_with_number("company_number", finding.company_number, exclude_id=organisation.pk)
    if existing is not None:
        raise ValidationError(
            _("Company %(number)s already belongs to “%(name)s”.")
            % {"number": finding.company_number, "name": existing.name}
        )
    changes = _refresh_values(organisation, finding.data)
    changes["company_number"] = [organisation.company_number, finding.company_number]
    _apply_refresh(organisation, changes, by)
    charity_register._decide(finding, RegisterFinding.Decision.ACCEPTED, by)
    for other in RegisterFinding.objects.filter(
        register_import=finding.register_import,
        company_number=finding.company_number,
        kind=finding.kind,
        decision=RegisterFinding.Decision.PENDING,
    ).exclude(pk=finding.pk):
        charity_register._decide(other, RegisterFinding.Decision.DISMISSED, by)
    return organisation
