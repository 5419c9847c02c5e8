"""The Charity Commission register import: what the public extract says about the borough's charities
and the directory's organisations, as findings for a network admin to act on.

The extract's ``charity``, ``charity_area_of_operation`` and ``charity_classification`` tables are read
a row at a time (core.register_extract), twice, so the whole register (some 170,000 charities) runs in
bounded memory:

1. **check**: every row of every table is parsed; the first bad one (a missing column, a number, date
   or income that is not one, a line that is not UTF-8, a charity given twice) stops the import with
   an error naming the table, line and field, before anything is written. The check also notes which
   charities work in the borough (their area of operation is ``PORTAL_BOROUGH_AREA``, or their contact
   postcode is in ``PORTAL_BOROUGH_POSTCODE_DISTRICTS``) and what they do;
2. **findings**: the charity table is read again and compared with the directory. A charity whose number
   an organisation holds is a match: its income, registration status and web address are refreshed
   (through the organisation's history), and a member the register shows as removed or insolvent is
   flagged, as is a development stage its income no longer fits. A charity not in the directory whose
   name is like an organisation's without a charity number is a possible match, for an admin to confirm:
   nothing is ever merged silently. A borough charity not in the directory is proposed, to add with one
   admin action. Findings are written in batches; if anything fails they are deleted and nothing is
   refreshed, so an import is all or nothing.
"""

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import background_imports
from core.register_extract import ExtractError, Record, find_tables, read_table
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import selectors, services
from .models import CharityRegisterImport, Membership, Organisation, RegisterFinding

logger = logging.getLogger(__name__)

CHARITY = "charity"
AREA = "charity_area_of_operation"
CLASSIFICATION = "charity_classification"
TABLES = (CHARITY, AREA, CLASSIFICATION)
CHARITY_COLUMNS = (
    "registered_charity_number",
    "linked_charity_number",
    "charity_name",
    "charity_type",
    "charity_registration_status",
    "date_of_registration",
    "date_of_removal",
    "latest_acc_fin_period_end_date",
    "latest_income",
    "charity_contact_postcode",
    "charity_contact_web",
    "charity_company_registration_number",
    "charity_insolvent",
    "charity_in_administration",
    "charity_activities",
)
AREA_COLUMNS = (
    "registered_charity_number",
    "linked_charity_number",
    "geographic_area_type",
    "geographic_area_description",
)
CLASSIFICATION_COLUMNS = (
    "registered_charity_number",
    "linked_charity_number",
    "classification_type",
    "classification_description",
)
BATCH = 2000
PROGRESS_EVERY = 20_000
MAX_CHARITY_NUMBER = 99_999_999
STATUSES = {
    "registered": Organisation.RegistrationStatus.REGISTERED,
    "removed": Organisation.RegistrationStatus.REMOVED,
}
LEGAL_FORMS = {
    "cio": Organisation.LegalForm.CIO,
    "charitable company": Organisation.LegalForm.CHARITABLE_COMPANY,
}
TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes", "t"}, {"false", "0", "no", "f", ""}
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y", "%d/%m/%Y %H:%M:%S")
# The design brief's development stages by income; the bands overlap (2 and 3 between £250k and £1m).
STAGE_BANDS = (
    (Organisation.Stage.EMERGING, 0, 10_000),
    (Organisation.Stage.IMPROVING, 10_000, 1_000_000),
    (Organisation.Stage.ESTABLISHED, 250_000, None),
)
MEMBER_STATUSES = (Membership.Status.ACTIVE, Membership.Status.APPLIED, Membership.Status.LAPSED)
CHANGE_REASON = "Charity Commission register"


# Parsing a row -----------------------------------------------------------------------------------


def _row_error(table: str, record: Record, column: str, message: str) -> ExtractError:
    return ExtractError(
        _("The %(table)s table's line %(line)s, field “%(field)s”: %(message)s")
        % {"table": table, "line": record.line, "field": column, "message": message}
    )


def _number(table: str, record: Record, column: str, *, blank_is: int | None = None) -> int:
    text = record.values[column]
    if not text and blank_is is not None:
        return blank_is
    if not text.isdigit() or int(text) > MAX_CHARITY_NUMBER:
        raise _row_error(table, record, column, _("“%(value)s” is not a charity number.") % {"value": text[:40]})
    return int(text)


def _date(table: str, record: Record, column: str) -> date | None:
    text = record.values[column]
    if not text:
        return None
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise _row_error(table, record, column, _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": text[:40]})


def _income(table: str, record: Record, column: str) -> int | None:
    text = record.values[column]
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > 10**13:
        raise _row_error(table, record, column, _("“%(value)s” is not an amount in pounds.") % {"value": text[:40]})
    return int(amount.to_integral_value())


def _flag(table: str, record: Record, column: str) -> bool:
    word = record.values[column].casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _row_error(table, record, column, _("“%(value)s” is not True or False.") % {"value": word[:40]})


@dataclass(slots=True)
class Charity:
    line: int
    number: int
    linked: int
    name: str
    charity_type: str
    status: str
    registered_on: date | None
    removed_on: date | None
    income: int | None
    income_period_end: date | None
    postcode: str
    web: str
    company_number: str
    insolvent: bool
    in_administration: bool
    activities: str

    @property
    def postcode_district(self) -> str:
        return self.postcode.upper().split(" ")[0] if " " in self.postcode else self.postcode.upper()[:-3]


def parse_charity(record: Record) -> Charity:
    number = _number(CHARITY, record, "registered_charity_number")
    linked = _number(CHARITY, record, "linked_charity_number", blank_is=0)
    name = record.values["charity_name"]
    if not name:
        raise _row_error(CHARITY, record, "charity_name", _("the name is empty."))
    status = STATUSES.get(record.values["charity_registration_status"].casefold())
    if status is None:
        raise _row_error(
            CHARITY,
            record,
            "charity_registration_status",
            _("“%(value)s” is not Registered or Removed.")
            % {"value": record.values["charity_registration_status"][:40]},
        )
    return Charity(
        line=record.line,
        number=number,
        linked=linked,
        name=name[:300],
        charity_type=record.values["charity_type"],
        status=status,
        registered_on=_date(CHARITY, record, "date_of_registration"),
        removed_on=_date(CHARITY, record, "date_of_removal"),
        income=_income(CHARITY, record, "latest_income"),
        income_period_end=_date(CHARITY, record, "latest_acc_fin_period_end_date"),
        postcode=" ".join(record.values["charity_contact_postcode"].split()),
        web=record.values["charity_contact_web"],
        company_number=record.values["charity_company_registration_number"],
        insolvent=_flag(CHARITY, record, "charity_insolvent"),
        in_administration=_flag(CHARITY, record, "charity_in_administration"),
        activities=record.values["charity_activities"],
    )


# Reading the register ----------------------------------------------------------------------------


@dataclass
class Survey:
    """What the check learnt: the borough's charities (number: name) and what they do, and counts."""

    extract_date: date | None = None
    charities: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    in_area: set[int] = field(default_factory=set)
    borough: dict[int, str] = field(default_factory=dict)
    classifications: dict[int, list[str]] = field(default_factory=dict)


Progress = Callable[[int, str], None]


def _no_progress(percent: int, step: str) -> None:
    pass


def _records(paths: dict[str, Path], table: str, columns) -> Iterator[Record]:
    return read_table(paths[table], table=table, columns=columns, max_bytes=settings.PORTAL_REGISTER_MAX_BYTES)


def _charities(paths: dict[str, Path]) -> Iterator[Charity]:
    for record in _records(paths, CHARITY, CHARITY_COLUMNS):
        yield parse_charity(record)


def _in_borough_postcode(charity: Charity) -> bool:
    return bool(charity.postcode) and charity.postcode_district in settings.PORTAL_BOROUGH_POSTCODE_DISTRICTS


def check_register(paths: dict[str, Path], *, progress: Progress = _no_progress) -> Survey:
    """Read every row of the three tables; raise ExtractError at the first bad one. Writes nothing."""
    survey = Survey()
    area = settings.PORTAL_BOROUGH_AREA.casefold()
    progress(2, _("Checking the areas of operation"))
    count = 0
    for count, record in enumerate(_records(paths, AREA, AREA_COLUMNS), start=1):
        number = _number(AREA, record, "registered_charity_number")
        linked = _number(AREA, record, "linked_charity_number", blank_is=0)
        if linked == 0 and record.values["geographic_area_description"].casefold() == area:
            survey.in_area.add(number)
    survey.rows[AREA] = count

    progress(10, _("Checking the charities"))
    seen: dict[int, int] = {}
    count = 0
    for count, charity in enumerate(_charities(paths), start=1):
        key = charity.number << 20 | min(charity.linked, 2**20 - 1)
        if key in seen:
            raise ExtractError(
                _(
                    "The charity table's line %(line)s, field “registered_charity_number”: charity %(number)s "
                    "(linked charity %(linked)s) is also on line %(other)s."
                )
                % {"line": charity.line, "number": charity.number, "linked": charity.linked, "other": seen[key]}
            )
        seen[key] = charity.line
        if charity.linked:
            continue
        survey.charities += 1
        if charity.number in survey.in_area or _in_borough_postcode(charity):
            survey.borough[charity.number] = charity.name
        if count % PROGRESS_EVERY == 0:
            progress(10 + min(35, count // 10_000), _("Checked %(count)s charities") % {"count": f"{count:,}"})
    survey.rows[CHARITY] = count
    del seen

    progress(46, _("Checking the classifications"))
    count = 0
    for count, record in enumerate(_records(paths, CLASSIFICATION, CLASSIFICATION_COLUMNS), start=1):
        number = _number(CLASSIFICATION, record, "registered_charity_number")
        linked = _number(CLASSIFICATION, record, "linked_charity_number", blank_is=0)
        if linked == 0 and number in survey.borough and record.values["classification_type"].casefold() == "what":
            survey.classifications.setdefault(number, []).append(record.values["classification_description"][:200])
    survey.rows[CLASSIFICATION] = count
    survey.extract_date = _extract_date(paths)
    return survey


def _extract_date(paths: dict[str, Path]) -> date | None:
    """The date_of_extract of the charity table's first row, if the table has that column."""
    try:
        record = next(_records(paths, CHARITY, ("date_of_extract",)), None)
        return _date(CHARITY, record, "date_of_extract") if record else None
    except ExtractError:
        return None


# Comparing with the directory --------------------------------------------------------------------


def stages_for_income(income: int) -> list[int]:
    """The development stages whose income band holds ``income`` (one or two: the bands overlap)."""
    stages = [stage for stage, low, high in STAGE_BANDS if income >= low and (high is None or income < high)]
    return [int(stage) for stage in stages]


def suggested_stage(income: int | None, current: int | None) -> int | None:
    """The stage the income suggests, or None if there is no income or the current stage fits it."""
    if income is None:
        return None
    stages = stages_for_income(income)
    if not stages or current in stages:
        return None
    return min(stages, key=lambda stage: (abs(stage - (current or 0)), stage))


def _web_key(url: str) -> str:
    return re.sub(r"^(https?://)?(www\.)?", "", url.strip().lower()).rstrip("/")


def register_web_address(text: str) -> str:
    """The register's web address as a URL ("www.example.org" → "https://www.example.org"), or ""."""
    text = text.strip()
    if not text:
        return ""
    if not re.match(r"^https?://", text, re.IGNORECASE):
        text = "https://" + text
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError:
        return ""
    return text[:200]


def _refresh_values(organisation: Organisation, details: dict, checked_on: date) -> dict[str, list]:
    """The fields the register would change on ``organisation``: {field: [old, new]}."""
    changes: dict[str, list] = {}
    if details["income"] is not None and details["income"] != organisation.latest_income:
        changes["latest_income"] = [organisation.latest_income, details["income"]]
    if details["status"] != organisation.registration_status:
        changes["registration_status"] = [organisation.registration_status, details["status"]]
    web = details["web"]
    if web and _web_key(web) != _web_key(organisation.website):
        changes["website"] = [organisation.website, web]
    return changes


def _apply_refresh(
    organisation: Organisation, changes: dict[str, list], checked_on: date | None, by: User | None
) -> None:
    for name, (_old, new) in changes.items():
        setattr(organisation, name, new)
    organisation.register_checked_on = checked_on or timezone.localdate()
    organisation._history_user = by
    organisation._change_reason = CHANGE_REASON
    organisation.save(update_fields=[*changes, "register_checked_on", "updated_at"])


def _details(charity: Charity, survey: Survey) -> dict:
    """What a finding keeps of a charity: enough to add it as an organisation, or refresh one."""
    return {
        "number": charity.number,
        "name": charity.name,
        "status": charity.status,
        "charity_type": charity.charity_type,
        "income": charity.income,
        "income_period_end": charity.income_period_end.isoformat() if charity.income_period_end else None,
        "registered_on": charity.registered_on.isoformat() if charity.registered_on else None,
        "removed_on": charity.removed_on.isoformat() if charity.removed_on else None,
        "postcode": charity.postcode,
        "web": register_web_address(charity.web),
        "company_number": charity.company_number,
        "insolvent": charity.insolvent,
        "in_administration": charity.in_administration,
        "activities": charity.activities[:2000],
        "classifications": survey.classifications.get(charity.number, []),
        "in_borough_by": (
            "area" if charity.number in survey.in_area else "postcode" if charity.number in survey.borough else ""
        ),
    }


@dataclass
class _Directory:
    by_number: dict[int, Organisation]
    members: set[int]
    unnumbered_keys: dict[str, list[tuple[int, str]]]  # name key: [(organisation id, name)]
    fuzzy: dict[int, list[tuple[int, str, float]]]  # borough charity: [(organisation id, name, score)]


CHARITY_FIELDS = (
    "id",
    "name",
    "charity_number",
    "latest_income",
    "registration_status",
    "website",
    "development_stage",
)


def _charity_key(number: str):
    return int(number) if number.isdigit() else None


def _directory(
    borough: dict, *, number_field: str = "charity_number", fields=CHARITY_FIELDS, key=_charity_key
) -> _Directory:
    """The directory as a register import compares with it: organisations by their number in the
    register (``number_field``, turned into the register's key by ``key``), members, and the names of
    those without a number, alike or near the names of the register's borough entries (``borough``:
    key: name)."""
    by_number: dict = {}
    for organisation in Organisation.objects.exclude(**{number_field: ""}).only(*fields).iterator(chunk_size=2000):
        number = key(getattr(organisation, number_field))
        if number is not None:
            by_number[number] = organisation
    members = set(
        Membership.objects.filter(status__in=MEMBER_STATUSES).values_list("organisation_id", flat=True).distinct()
    )
    unnumbered_keys: dict[str, list[tuple[int, str]]] = {}
    unnumbered = Organisation.objects.filter(**{number_field: ""}).values_list("id", "name")
    for pk, name in unnumbered.iterator(chunk_size=2000):
        key = selectors.name_key(name)
        if key:
            unnumbered_keys.setdefault(key, []).append((pk, name))
    # Near names are only looked for among the borough's charities (a few thousand at most); the same
    # name anywhere in the register is found as each charity is read.
    # Two names alike enough share a word: only those pairs are compared.
    by_word: dict[str, set[str]] = {}
    for other in unnumbered_keys:
        for word in other.split():
            by_word.setdefault(word, set()).add(other)
    fuzzy: dict[int, list[tuple[int, str, float]]] = {}
    for number, charity_name in borough.items():
        if number in by_number:
            continue
        key = selectors.name_key(charity_name)
        candidates = set().union(*(by_word.get(word, ()) for word in set(key.split())))
        for other in sorted(candidates):
            organisations = unnumbered_keys[other]
            score = selectors.name_key_similarity(key, other)
            if score is not None and score < 1.0:
                fuzzy.setdefault(number, []).extend((pk, name, round(score, 3)) for pk, name in organisations)
    return _Directory(by_number, members, unnumbered_keys, fuzzy)


def _findings(
    register_import: CharityRegisterImport,
    paths,
    survey: Survey,
    directory: _Directory,
    refreshes: list,
    progress: Progress,
) -> Iterator[RegisterFinding]:
    Kind = RegisterFinding.Kind
    accepted = RegisterFinding.Decision.ACCEPTED

    def finding(kind, charity, details, organisation_id=None, **data) -> RegisterFinding:
        return RegisterFinding(
            register_import=register_import,
            kind=kind,
            charity_number=str(charity.number),
            name=charity.name,
            organisation_id=organisation_id,
            data={**details, **data},
        )

    for count, charity in enumerate(_charities(paths), start=1):
        if count % PROGRESS_EVERY == 0:
            progress(55 + min(35, count // 5_000), _("Compared %(count)s charities") % {"count": f"{count:,}"})
        if charity.linked:
            continue
        organisation = directory.by_number.get(charity.number)
        if organisation is not None:
            details = _details(charity, survey)
            changes = _refresh_values(organisation, details, survey.extract_date)
            refreshes.append((organisation, changes))
            if changes:
                refreshed = finding(Kind.REFRESHED, charity, details, organisation.pk, changes=changes)
                refreshed.decision = accepted
                yield refreshed
            if organisation.pk in directory.members:
                if charity.status == Organisation.RegistrationStatus.REMOVED:
                    yield finding(Kind.REMOVED, charity, details, organisation.pk)
                if charity.insolvent or charity.in_administration:
                    yield finding(Kind.INSOLVENT, charity, details, organisation.pk)
            stage = suggested_stage(charity.income, organisation.development_stage)
            if stage is not None and charity.status == Organisation.RegistrationStatus.REGISTERED:
                yield finding(
                    Kind.STAGE,
                    charity,
                    details,
                    organisation.pk,
                    stage=stage,
                    current_stage=organisation.development_stage,
                )
            continue
        matches = []
        if charity.status == Organisation.RegistrationStatus.REGISTERED:
            matches = [
                (pk, name, 1.0) for pk, name in directory.unnumbered_keys.get(selectors.name_key(charity.name), [])
            ]
            matches += directory.fuzzy.get(charity.number, [])
        if matches:
            details = _details(charity, survey)
            for pk, name, score in matches:
                yield finding(Kind.NAME_MATCH, charity, details, pk, organisation_name=name, score=score)
        elif charity.number in survey.borough and charity.status == Organisation.RegistrationStatus.REGISTERED:
            yield finding(Kind.PROPOSAL, charity, _details(charity, survey))


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# Running an import -------------------------------------------------------------------------------


def _set_progress(register_import: CharityRegisterImport, percent: int, step: str) -> None:
    background_imports.set_progress(register_import, percent, step)


def claim_import(*, import_id: int) -> CharityRegisterImport:
    """Mark a waiting import as running, once: a second worker (or a retry) gets ImportNotWaiting."""
    return background_imports.claim(CharityRegisterImport, import_id=import_id)


def run_import(
    *, register_import: CharityRegisterImport, paths: Iterable[Path], by: User | None
) -> CharityRegisterImport:
    """Check the extract, then write the findings and refresh the matched organisations, or nothing.

    The import must be claimed (status CHECKING). Returns it READY, or FAILED with ``error`` saying why
    (an ExtractError's message names the table, line and field)."""

    def progress(percent: int, step: str) -> None:
        _set_progress(register_import, percent, step)

    with all_or_nothing(register_import, log=logger, what="Charity register import"):
        tables = find_tables(list(paths), TABLES)
        survey = check_register(tables, progress=progress)
        CharityRegisterImport.objects.filter(pk=register_import.pk).update(status=CharityRegisterImport.Status.WRITING)
        progress(50, _("Comparing with the directory"))
        directory = _directory(survey.borough)
        refreshes: list[tuple[Organisation, dict]] = []
        counts = write_findings(_findings(register_import, tables, survey, directory, refreshes, progress))
        progress(92, _("Refreshing the matched organisations"))
        with transaction.atomic():
            unchanged = []
            for organisation, changes in refreshes:
                if changes:
                    _apply_refresh(organisation, changes, survey.extract_date, by)
                else:
                    unchanged.append(organisation.pk)
            for batch in _batches(unchanged, BATCH):
                Organisation.objects.filter(pk__in=batch).update(
                    register_checked_on=survey.extract_date or timezone.localdate()
                )
            mark_ready(
                register_import,
                extract_date=survey.extract_date,
                counts={
                    "charities": survey.charities,
                    "rows": survey.rows,
                    "borough": len(survey.borough),
                    "matched": len(refreshes),
                    "findings": counts,
                },
            )
    return register_import


def write_findings(findings: Iterable[RegisterFinding]) -> dict[str, int]:
    """Write an import's findings in batches; how many of each kind."""
    counts = {kind: 0 for kind in RegisterFinding.Kind.values}
    for batch in _batches(findings, BATCH):
        RegisterFinding.objects.bulk_create(batch)
        for item in batch:
            counts[item.kind] += 1
    return counts


def mark_ready(register_import: CharityRegisterImport, *, extract_date: date | None, counts: dict) -> None:
    background_imports.mark_ready(register_import, counts=counts, extract_date=extract_date)


def all_or_nothing(register_import: CharityRegisterImport, *, log: logging.Logger, what: str):
    """Run an import's work: a bad file (ExtractError) fails the import with its message; anything else
    fails it too and is raised again. Either way its findings are deleted (discard_partial)."""
    return background_imports.all_or_nothing(register_import, log=log, what=what)


# The admin's upload ------------------------------------------------------------------------------


def start_import(
    *, uploads: list, by: User, register: str = CharityRegisterImport.Register.CHARITIES, check_names=None
) -> CharityRegisterImport:
    """Keep the uploaded extract files in the private files storage and record an import waiting to
    run; the caller queues it (tasks.enqueue_register_import). ExtractError if a file is not one of
    the three tables, or one is missing or given twice (or what ``check_names`` refuses, for another
    register)."""
    names = [Path(upload.name).name for upload in uploads]
    if check_names is None:
        find_tables([Path(name) for name in names], TABLES)  # by name only: the task checks the contents
    else:
        check_names(names)
    return background_imports.start(CharityRegisterImport, uploads=uploads, by=by, register=register)


def run_uploaded_import(*, import_id: int, run=None) -> CharityRegisterImport | None:
    """The task's work: claim the import, run it (``run``, this module's run_import unless another
    register's) on its uploaded files, then delete them. Idempotent: an import already claimed or
    finished is left alone (returns None)."""
    run = run or run_import
    return background_imports.run_uploaded(
        CharityRegisterImport,
        import_id=import_id,
        run=lambda register_import, **files: run(register_import=register_import, **files),
    )


# Acting on findings ------------------------------------------------------------------------------


def _decide(finding: RegisterFinding, decision: str, by: User, organisation: Organisation | None = None) -> None:
    finding.decision, finding.decided_by, finding.decided_at = decision, by, timezone.now()
    fields = ["decision", "decided_by", "decided_at"]
    if organisation is not None:
        finding.organisation = organisation
        fields.append("organisation")
    finding.save(update_fields=fields)


def _pending(finding: RegisterFinding, kind: str) -> None:
    if finding.kind != kind or finding.decision != RegisterFinding.Decision.PENDING:
        raise ValidationError(_("“%(name)s” is not a finding of that kind still to check.") % {"name": finding.name})


@transaction.atomic
def add_proposed_organisation(*, finding: RegisterFinding, by: User) -> Organisation:
    """Add a proposed borough charity to the directory as a VCO, with its history."""
    _pending(finding, RegisterFinding.Kind.PROPOSAL)
    details = finding.data
    existing = selectors.organisation_with_number("charity_number", finding.charity_number)
    if existing is not None:
        raise ValidationError(
            _("Charity %(number)s is already in the directory as “%(name)s”.")
            % {"number": finding.charity_number, "name": existing.name}
        )
    name = details["name"].title() if details["name"].isupper() else details["name"]
    data = {
        "name": name[:200],
        "charity_number": finding.charity_number,
        "legal_form": LEGAL_FORMS.get(details.get("charity_type", "").casefold(), Organisation.LegalForm.CHARITY),
        "kinds": [TaxonomyTerm.objects.get(taxonomy__code=Taxonomy.ORGANISATION_KINDS, code=Organisation.KIND_VCO)],
        "activities": details.get("activities", "")[:2000],
        "website": details.get("web", ""),
        "latest_income": details.get("income"),
        "registration_status": details["status"],
        "register_checked_on": finding.register_import.extract_date or timezone.localdate(),
        "public_fields": [],
    }
    postcode = details.get("postcode", "")
    organisation = Organisation()
    organisation._change_reason = CHANGE_REASON
    try:
        organisation = services.save_organisation(organisation=organisation, data={**data, "postcode": postcode}, by=by)
    except ValidationError as error:
        if "postcode" not in getattr(error, "error_dict", {}):
            raise
        # A register postcode the directory does not accept is left out, not a reason to refuse.
        organisation = services.save_organisation(organisation=Organisation(), data=data, by=by)
    _decide(finding, RegisterFinding.Decision.ACCEPTED, by, organisation)
    return organisation


@transaction.atomic
def confirm_name_match(*, finding: RegisterFinding, by: User) -> Organisation:
    """Record that the organisation is this charity: give it the charity number and refresh it from
    the register, in its history. Other possible matches for the charity in the import are dismissed."""
    _pending(finding, RegisterFinding.Kind.NAME_MATCH)
    organisation = Organisation.objects.select_for_update().get(pk=finding.organisation_id)
    if organisation.charity_number and organisation.charity_number != finding.charity_number:
        raise ValidationError(
            _("“%(name)s” already has charity number %(number)s.")
            % {"name": organisation.name, "number": organisation.charity_number}
        )
    existing = selectors.organisation_with_number("charity_number", finding.charity_number, exclude_id=organisation.pk)
    if existing is not None:
        raise ValidationError(
            _("Charity %(number)s already belongs to “%(name)s”.")
            % {"number": finding.charity_number, "name": existing.name}
        )
    changes = _refresh_values(organisation, finding.data, finding.register_import.extract_date)
    changes["charity_number"] = [organisation.charity_number, finding.charity_number]
    _apply_refresh(organisation, changes, finding.register_import.extract_date, by)
    _decide(finding, RegisterFinding.Decision.ACCEPTED, by)
    for other in RegisterFinding.objects.filter(
        register_import=finding.register_import,
        charity_number=finding.charity_number,
        kind=finding.kind,
        decision=RegisterFinding.Decision.PENDING,
    ).exclude(pk=finding.pk):
        _decide(other, RegisterFinding.Decision.DISMISSED, by)
    return organisation


@transaction.atomic
def apply_suggested_stage(*, finding: RegisterFinding, by: User) -> Organisation:
    _pending(finding, RegisterFinding.Kind.STAGE)
    organisation = Organisation.objects.select_for_update().get(pk=finding.organisation_id)
    organisation.development_stage = finding.data["stage"]
    organisation._history_user = by
    organisation._change_reason = CHANGE_REASON
    organisation.save(update_fields=["development_stage", "updated_at"])
    _decide(finding, RegisterFinding.Decision.ACCEPTED, by)
    return organisation


def dismiss_finding(*, finding: RegisterFinding, by: User) -> None:
    if finding.decision != RegisterFinding.Decision.PENDING:
        raise ValidationError(_("“%(name)s” was already dealt with.") % {"name": finding.name})
    _decide(finding, RegisterFinding.Decision.DISMISSED, by)


def acknowledge_finding(*, finding: RegisterFinding, by: User) -> None:
    """A flag (removed, insolvent) seen and dealt with."""
    if finding.decision != RegisterFinding.Decision.PENDING:
        raise ValidationError(_("“%(name)s” was already dealt with.") % {"name": finding.name})
    _decide(finding, RegisterFinding.Decision.ACCEPTED, by)
