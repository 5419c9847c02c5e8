"""Writes for joint projects, monitoring returns, case studies and evidence packs.

Keyword-only functions, one transaction each: bad input raises ValidationError naming the field (or
the indicator) and leaves nothing half-saved.
"""

import logging
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from core.exports import MULTI_VALUE_SEPARATOR, xlsx_cell  # the one cell writer: formula-safe, dates formatted
from notifications.services import schedule_reminder
from organisations.models import Organisation
from organisations.services import organisation_contacts
from taxonomies.models import TaxonomyTerm

from . import selectors, suppression
from .models import (
    BaselineSnapshot,
    CaseStudy,
    EvidenceExport,
    Grant,
    Indicator,
    IndicatorTarget,
    JointProject,
    MonitoringReturn,
    ReportingPeriod,
    ReturnFigure,
)

logger = logging.getLogger(__name__)

# A project may not run for more periods than this: a typo in a year ("2205") must not make thousands.
MAX_PERIODS = 120
# Overdue returns are chased on the day after they fall due, then a week and two weeks later.
CHASE_AFTER_DAYS = (1, 8, 15)
# A reminder that a return is coming due goes out this many days before.
DUE_SOON_DAYS = 7


# Projects ------------------------------------------------------------------------------------------


def unique_project_slug(title: str, *, exclude_id: int | None = None) -> str:
    base = slugify(title)[:200] or "project"
    slug, n = base, 2
    taken = JointProject.objects.exclude(pk=exclude_id) if exclude_id else JointProject.objects.all()
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def period_bounds(*, start: date, end: date, months: int) -> list[tuple[date, date]]:
    """Consecutive periods of `months` from `start`; the last one stops at `end`."""
    if end < start:
        raise ValidationError({"end_date": _("The end date must be on or after the start date.")})
    bounds, number = [], 0
    while True:
        period_start = start + relativedelta(months=months * number)
        if period_start > end:
            break
        period_end = min(start + relativedelta(months=months * (number + 1)) - timedelta(days=1), end)
        bounds.append((period_start, period_end))
        number += 1
        if number > MAX_PERIODS:
            raise ValidationError(
                {"end_date": _("That would make more than %(max)s monitoring periods: check the dates.") % {"max": MAX_PERIODS}}
            )
    return bounds


def generate_periods(*, project: JointProject) -> list[ReportingPeriod]:
    """Make the project's periods match its dates. Periods that already have returns are kept as they
    are when their dates still fit; the rest are rebuilt."""
    bounds = period_bounds(start=project.start_date, end=project.end_date, months=project.period_length)
    existing = {period.number: period for period in project.periods.all()}
    periods = []
    for number, (start, end) in enumerate(bounds, start=1):
        due = end + timedelta(days=project.return_due_days)
        period = existing.pop(number, None) or ReportingPeriod(project=project, number=number)
        period.start, period.end, period.due_date = start, end, due
        period.save()
        periods.append(period)
    for leftover in existing.values():
        if leftover.returns.exists():
            raise ValidationError(
                {
                    "end_date": _(
                        "Period %(number)s already has monitoring returns, so the project cannot be shortened to end before it."
                    )
                    % {"number": leftover.number}
                }
            )
        leftover.delete()
    # Indicators added before these periods existed get a target row for each new period.
    for indicator in project.indicators.all():
        _ensure_targets(indicator=indicator, periods=periods, default=None)
    return periods


@transaction.atomic
def save_project(
    *,
    project: JointProject,
    data: dict,
    partners: list[Organisation],
    funders: list[Organisation],
    funder_accounts: list[User] | None = None,
    by: User | None,
) -> JointProject:
    """Create or update a project and (re)generate its monitoring periods from its dates."""
    for name, value in data.items():
        setattr(project, name, value)
    if project.start_date and project.end_date and project.end_date < project.start_date:
        raise ValidationError({"end_date": _("The end date must be on or after the start date.")})
    if not project.slug:
        project.slug = unique_project_slug(project.title)
    if project.pk is None:
        project.created_by = by
    project.full_clean()
    project.save()
    project.partners.set([organisation for organisation in partners if organisation.pk != project.lead_id])
    project.funders.set(funders)
    if funder_accounts is not None:
        not_funders = [user for user in funder_accounts if not user.is_funder]
        if not_funders:
            raise ValidationError(
                {"funder_accounts": _("%(user)s is not a funder account.") % {"user": not_funders[0].get_username()}}
            )
        project.funder_accounts.set(funder_accounts)
    generate_periods(project=project)
    return project


def _ensure_targets(*, indicator: Indicator, periods: list[ReportingPeriod], default: Decimal | None) -> None:
    have = set(indicator.targets.values_list("period_id", flat=True))
    missing = [
        IndicatorTarget(indicator=indicator, period=period, target=default or Decimal(0))
        for period in periods
        if period.pk not in have
    ]
    IndicatorTarget.objects.bulk_create(missing)


@transaction.atomic
def save_indicator(
    *, indicator: Indicator, data: dict, target_per_period: Decimal | None = None
) -> Indicator:
    """Create or update an indicator. A new one gets `target_per_period` as its target in every period."""
    for name, value in data.items():
        setattr(indicator, name, value)
    indicator.full_clean()
    indicator.save()
    if target_per_period is not None and target_per_period < 0:
        raise ValidationError({"target_per_period": _("A target cannot be negative.")})
    if target_per_period is not None:
        _check_value(indicator, target_per_period, field="target_per_period")
    periods = list(indicator.project.periods.all())
    _ensure_targets(indicator=indicator, periods=periods, default=target_per_period)
    return indicator


@transaction.atomic
def set_targets(*, project: JointProject, targets: dict[tuple[int, int], Decimal | str]) -> int:
    """Set targets from {(indicator id, period id): value}. Every key must belong to this project."""
    indicators = {indicator.pk: indicator for indicator in project.indicators.all()}
    periods = set(project.periods.values_list("pk", flat=True))
    errors, changed = {}, 0
    for (indicator_id, period_id), raw in targets.items():
        field = f"target_{indicator_id}_{period_id}"
        indicator = indicators.get(indicator_id)
        if indicator is None or period_id not in periods:
            errors[field] = _("That indicator or period belongs to another project.")
            continue
        try:
            value = parse_figure(indicator, raw)
        except ValidationError as error:
            errors[field] = error.messages
            continue
        IndicatorTarget.objects.update_or_create(indicator=indicator, period_id=period_id, defaults={"target": value})
        changed += 1
    if errors:
        raise ValidationError(errors)
    return changed


# Monitoring returns --------------------------------------------------------------------------------


def parse_figure(indicator: Indicator, raw) -> Decimal:
    """A figure for `indicator` from what someone typed, or a ValidationError that names the indicator.

    Counts must be whole numbers, percentages between 0 and 100, and nothing may be negative.
    """
    text = str(raw).strip().replace(",", "") if raw is not None else ""
    if text.endswith("%") and indicator.value_type == Indicator.ValueType.PERCENTAGE:
        text = text[:-1].strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(
            _("%(indicator)s: \u201c%(value)s\u201d is not a number.") % {"indicator": indicator.name, "value": raw}
        ) from None
    if not value.is_finite():
        raise ValidationError(_("%(indicator)s: give a number.") % {"indicator": indicator.name})
    _check_value(indicator, value)
    return value.quantize(Decimal("0.01")) if value.as_tuple().exponent < -2 else value


def _check_value(indicator: Indicator, value: Decimal, field: str | None = None) -> None:
    message = None
    if value < 0:
        message = _("%(indicator)s: a figure cannot be negative.")
    elif indicator.value_type == Indicator.ValueType.WHOLE_NUMBER and value != value.to_integral_value():
        message = _("%(indicator)s counts whole %(unit)s: give a whole number, not %(value)s.")
    elif indicator.value_type == Indicator.ValueType.PERCENTAGE and value > 100:
        message = _("%(indicator)s is a percentage: give a figure from 0 to 100, not %(value)s.")
    elif value >= Decimal("1e10"):
        message = _("%(indicator)s: %(value)s is too large.")
    if message:
        text = message % {"indicator": indicator.name, "unit": indicator.unit or _("numbers"), "value": value}
        raise ValidationError({field: text} if field else text)


def return_for(*, project: JointProject, period: ReportingPeriod, partner: Organisation) -> MonitoringReturn:
    """The partner's return for the period, created as an empty draft the first time it is opened."""
    if period.project_id != project.pk:
        raise ValidationError(_("That period belongs to another project."))
    if partner.pk != project.lead_id and not project.partners.filter(pk=partner.pk).exists():
        raise ValidationError(_("%(partner)s is not a partner in this project.") % {"partner": partner})
    monitoring_return, _created = MonitoringReturn.objects.get_or_create(
        period=period, partner=partner, defaults={"project": project}
    )
    return monitoring_return


@transaction.atomic
def save_return(
    *,
    monitoring_return: MonitoringReturn,
    figures: dict[int, object],
    narrative: str,
    submit: bool,
    by: User,
) -> MonitoringReturn:
    """Save a return's figures ({indicator id: value}) and narrative; `submit` also submits it.

    Refused, with the reason per indicator, when a figure is of the wrong type or an indicator belongs
    to another project. A submitted return must have a figure for every indicator.
    """
    monitoring_return = MonitoringReturn.objects.select_for_update().get(pk=monitoring_return.pk)
    if monitoring_return.status == MonitoringReturn.Status.SUBMITTED:
        raise ValidationError(_("This return is already submitted. Reopen it to correct it, then submit it again."))
    project = monitoring_return.project
    indicators = {indicator.pk: indicator for indicator in project.indicators.all()}
    errors: dict[str, list[str]] = {}
    parsed: dict[int, Decimal | None] = {}
    for key, raw in figures.items():
        try:
            indicator_id = int(key)
        except (TypeError, ValueError):
            errors.setdefault("__all__", []).append(_("\u201c%(key)s\u201d is not an indicator.") % {"key": key})
            continue
        indicator = indicators.get(indicator_id)
        if indicator is None:
            other = Indicator.objects.filter(pk=indicator_id).select_related("project").first()
            message = (
                _("The indicator \u201c%(indicator)s\u201d belongs to another project (%(project)s), not to %(this)s.")
                % {"indicator": other.name, "project": other.project.title, "this": project.title}
                if other
                else _("There is no indicator %(id)s.") % {"id": indicator_id}
            )
            errors.setdefault("__all__", []).append(message)
            continue
        if raw is None or str(raw).strip() == "":
            parsed[indicator_id] = None
            continue
        try:
            parsed[indicator_id] = parse_figure(indicator, raw)
        except ValidationError as error:
            errors[f"figure_{indicator_id}"] = error.messages
    if submit and not errors:
        known = {pk for pk, value in parsed.items() if value is not None}
        known |= set(
            monitoring_return.figures.exclude(indicator_id__in=parsed.keys()).values_list("indicator_id", flat=True)
        )
        for pk, indicator in indicators.items():
            if pk not in known:
                errors[f"figure_{pk}"] = [
                    _("%(indicator)s: give a figure before submitting (0 if there was none).") % {"indicator": indicator.name}
                ]
    if errors:
        raise ValidationError(errors)

    for indicator_id, value in parsed.items():
        if value is None:
            monitoring_return.figures.filter(indicator_id=indicator_id).delete()
        else:
            ReturnFigure.objects.update_or_create(
                monitoring_return=monitoring_return, indicator_id=indicator_id, defaults={"value": value}
            )
    monitoring_return.narrative = narrative
    if submit:
        monitoring_return.status = MonitoringReturn.Status.SUBMITTED
        monitoring_return.submitted_at = timezone.now()
        monitoring_return.submitted_by = by
    monitoring_return.full_clean()
    monitoring_return.save()
    return monitoring_return


@transaction.atomic
def reopen_return(*, monitoring_return: MonitoringReturn) -> MonitoringReturn:
    """Back to draft so a correction can be made; it is then submitted again."""
    monitoring_return.status = MonitoringReturn.Status.DRAFT
    monitoring_return.save(update_fields=["status", "updated_at"])
    return monitoring_return


@transaction.atomic
def add_case_study(
    *,
    monitoring_return: MonitoringReturn,
    title: str,
    subject_description: str,
    story: str,
    consent_given: bool,
    consent_how: str,
    outcome: Indicator | None,
    by: User,
    featured: bool = False,
    today: date | None = None,
) -> CaseStudy:
    """Record a case study. Without the subject's consent it is not stored at all."""
    errors = {}
    if not consent_given:
        errors["consent_given"] = _(
            "A case study can only be recorded with its subject's consent. Ask them first, then record how they agreed."
        )
    if consent_given and not consent_how.strip():
        errors["consent_how"] = _("Say how the subject gave consent (for example, a signed form and its date).")
    if outcome is not None and (outcome.project_id != monitoring_return.project_id or outcome.kind != Indicator.Kind.OUTCOME):
        errors["outcome"] = _("Choose one of this project's outcomes.")
    if errors:
        raise ValidationError(errors)
    case_study = CaseStudy(
        monitoring_return=monitoring_return,
        title=title,
        subject_description=subject_description,
        story=story,
        outcome=outcome,
        consent_given=True,
        consent_how=consent_how.strip(),
        consent_recorded_on=today or timezone.localdate(),
        consent_recorded_by=by,
        featured=featured,
    )
    case_study.full_clean()
    case_study.save()
    return case_study


def withdraw_consent(*, case_study: CaseStudy, today: date | None = None) -> CaseStudy:
    """The subject has withdrawn consent: the story disappears from every page and download at once."""
    case_study.consent_withdrawn_on = today or timezone.localdate()
    case_study.featured = False
    case_study.save(update_fields=["consent_withdrawn_on", "featured"])
    return case_study


# Reminders, planned by the sweep (evidence.tasks.sweep_evidence) -----------------------------------


def return_reminder_key(period_id: int, partner_id: int, stage: str) -> str:
    return f"evidence-return:{period_id}:{partner_id}:{stage}"


def _reminder_context(project: JointProject, period: ReportingPeriod, partner: Organisation) -> dict:
    return {
        "project": project.title,
        "partner": partner.name,
        "period": str(period),
        "due_date": period.due_date.isoformat(),
        "return_url": _return_url(project, period, partner),
    }


def _return_url(project: JointProject, period: ReportingPeriod, partner: Organisation) -> str:
    from django.urls import reverse

    return reverse("evidence:return_edit", kwargs={"slug": project.slug, "number": period.number, "partner": partner.slug})


def plan_return_reminders(*, today: date) -> int:
    """Plan "your return is due soon" and "your return is overdue" emails for returns not yet submitted.

    Database-driven and idempotent: the key names the period, the partner and the stage (due soon,
    first, second or third chase), so any number of sweeps plan each email once. Returns how many
    were newly planned.
    """
    window_start = today - timedelta(days=max(CHASE_AFTER_DAYS))
    periods = (
        ReportingPeriod.objects.filter(due_date__gte=window_start, due_date__lte=today + timedelta(days=DUE_SOON_DAYS))
        .select_related("project", "project__lead")
        .prefetch_related("project__partners")
        .order_by("due_date", "pk")
    )
    submitted = set(
        MonitoringReturn.objects.submitted()
        .filter(period__in=periods)
        .values_list("period_id", "partner_id")
    )
    created = 0
    for period in periods:
        project = period.project
        days_overdue = (today - period.due_date).days
        if days_overdue < 0:
            stage, subject = "due-soon", _("Your monitoring return for %(project)s is due on %(date)s")
            due_at = timezone.now()
        else:
            chases = [n for n, after in enumerate(CHASE_AFTER_DAYS, start=1) if days_overdue >= after]
            if not chases:
                continue
            stage, subject = f"chase-{chases[-1]}", _("Your monitoring return for %(project)s is overdue (it was due on %(date)s)")
            due_at = timezone.now()
        for partner in [project.lead, *project.partners.all()]:
            if (period.pk, partner.pk) in submitted:
                continue
            _reminder, new = schedule_reminder(
                key=return_reminder_key(period.pk, partner.pk, stage),
                kind="evidence-return",
                recipients=organisation_contacts(partner),
                subject=subject % {"project": project.title, "date": period.due_date.strftime("%-d %B %Y")},
                template="emails/evidence_return_reminder",
                context={**_reminder_context(project, period, partner), "overdue": days_overdue >= 0, "stage": stage},
                due_at=due_at,
                about=partner,
            )
            created += new
    return created


# Evidence packs ------------------------------------------------------------------------------------


def export_dir() -> Path:
    """The worker's local folder for a pack being written; the finished pack goes to the private files
    storage (EvidenceExport.file), which the web side reads on whatever machine it runs."""
    folder = Path(settings.EVIDENCE_EXPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@transaction.atomic
def request_export(*, user: User, start: date, end: date, area: TaxonomyTerm | None) -> EvidenceExport:
    """Record a request for an evidence pack; the caller queues the build (see tasks.enqueue_export)."""
    if end < start:
        raise ValidationError({"end": _("The end of the period must be on or after its start.")})
    export = EvidenceExport(requested_by=user, period_start=start, period_end=end, area=area)
    export.full_clean()
    export.save()
    return export


def claim_export(*, export_id: int) -> EvidenceExport | None:
    """Mark a queued pack as being built, once: a second worker (or a retry) gets None."""
    with transaction.atomic():
        export = (
            EvidenceExport.objects.select_for_update(skip_locked=True)
            .filter(pk=export_id, status=EvidenceExport.Status.QUEUED)
            .first()
        )
        if export is None:
            return None
        export.status = EvidenceExport.Status.RUNNING
        export.started_at = timezone.now()
        export.progress = 0
        export.save(update_fields=["status", "started_at", "progress"])
        return export


def set_export_progress(*, export: EvidenceExport, progress: int, step: str) -> None:
    # A plain UPDATE outside any long transaction, so the page polling the status sees it at once.
    export.progress, export.step = max(0, min(100, int(progress))), step[:200]
    EvidenceExport.objects.filter(pk=export.pk).update(progress=export.progress, step=export.step)


def store_pack(*, export: EvidenceExport, path: Path) -> None:
    """Put the written pack in the private files storage, as evidence-packs/<uuid>.xlsx."""
    with path.open("rb") as handle:
        export.file.save(f"{export.uuid}.xlsx", File(handle), save=False)
    export.size_bytes = path.stat().st_size


def finish_export(*, export: EvidenceExport) -> EvidenceExport:
    now = timezone.now()
    export.status = EvidenceExport.Status.READY
    export.progress = 100
    export.step = _("Ready")
    export.finished_at = now
    export.expires_at = now + timedelta(hours=settings.EVIDENCE_EXPORT_HOURS)
    export.save()
    return export


def fail_export(*, export: EvidenceExport, error: str) -> None:
    EvidenceExport.objects.filter(pk=export.pk).update(
        status=EvidenceExport.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def expire_exports(*, now=None) -> int:
    """Delete the files of packs past their time and mark them expired. Returns how many."""
    now = now or timezone.now()
    expired = 0
    for export in EvidenceExport.objects.filter(status=EvidenceExport.Status.READY, expires_at__lte=now):
        export.file.delete(save=False)  # nothing to do if there is no file, or it is gone already
        EvidenceExport.objects.filter(pk=export.pk).update(status=EvidenceExport.Status.EXPIRED, file="")
        expired += 1
    return expired


def stalled_exports(*, now=None) -> list[int]:
    """Packs still queued a while after they were asked for: their message was lost (the broker was
    down when they were requested), so the sweep queues them again."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.EVIDENCE_EXPORT_REQUEUE_AFTER)
    return list(
        EvidenceExport.objects.filter(status=EvidenceExport.Status.QUEUED, created_at__lte=cutoff).values_list("pk", flat=True)
    )


def fail_abandoned_exports(*, now=None) -> int:
    """A build that died with its worker (killed, out of memory) stays "being built" for ever: after an
    hour it is marked failed, so the person who asked sees it and can ask again."""
    now = now or timezone.now()
    return EvidenceExport.objects.filter(
        status=EvidenceExport.Status.RUNNING, started_at__lte=now - timedelta(hours=1)
    ).update(status=EvidenceExport.Status.FAILED, error=_("The build stopped part way. Please ask for the pack again."), finished_at=now)


def prune_funding_changes() -> int:
    """The funding figures' data version (migration 0009, selectors._funding_version) keeps a row per
    transaction that wrote what they read: fold the committed ones into transaction 0's, in one
    statement, so the version stays as it was. Rows of transactions still running are not seen, and
    stay. Returns how many rows were folded (none on SQLite, which has no such rows)."""
    if connection.vendor != "postgresql":
        return 0
    changes = selectors.FUNDING_CHANGES
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH folded AS (DELETE FROM {changes} WHERE transaction <> 0 RETURNING changes) "
            f"INSERT INTO {changes} AS kept (transaction, changes) SELECT 0, COALESCE(SUM(changes), 0) FROM folded "
            "ON CONFLICT (transaction) DO UPDATE SET changes = kept.changes + EXCLUDED.changes "
            "RETURNING (SELECT COUNT(*) FROM folded)"
        )
        return cursor.fetchone()[0]


# The evidence pack: one sheet per topic and a Definitions sheet, written row by row ------------------

PACK_COLUMNS = (_("Figure"), _("Category"), _("Breakdown"), _("Value"), _("As published"))


def build_evidence_pack(*, export_id: int) -> EvidenceExport | None:
    """Build a claimed-or-queued pack into a file, updating its progress as each topic is written, then
    store it with the private files.

    Idempotent: a pack already built or being built by another worker is left alone (returns None).
    The workbook is write-only, so rows stream to a local file (in export_dir) instead of piling up in
    memory; that file is stored, then deleted. Every figure comes from the same suppressed dashboard as
    the pages, so nothing small is let through here.
    """
    from openpyxl import Workbook

    export = claim_export(export_id=export_id)
    if export is None:
        return None
    path = export_dir() / f"{export.uuid}.xlsx"
    workbook = None
    try:
        scope = selectors.Scope(start=export.period_start, end=export.period_end, area=export.area)
        # Every section is worked out before any is written: a total withheld in one topic is withheld in all.
        board = selectors.sector_dashboard(
            scope,
            on_section=lambda index, section: set_export_progress(
                export=export, progress=5 + 75 * index // len(selectors.SECTIONS), step=_("Worked out %(topic)s") % {"topic": section.title}
            ),
        )
        workbook = Workbook(write_only=True)
        _write_pack_summary(workbook, export=export, scope=scope)
        set_export_progress(export=export, progress=82, step=_("Writing the topics"))
        _write_topic_sheets(workbook, board=board)
        set_export_progress(export=export, progress=88, step=_("Writing the joint projects' monitoring"))
        _write_project_sheets(workbook, scope=scope)
        set_export_progress(export=export, progress=92, step=_("Writing the baseline coverage"))
        _write_baseline_sheet(workbook)
        definitions = _pack_definitions(board)
        set_export_progress(export=export, progress=95, step=_("Writing the definitions"))
        _write_definitions_sheet(workbook, definitions=definitions)
        workbook.save(path)
        store_pack(export=export, path=path)
    except Exception as error:
        logger.exception("Evidence pack %s failed", export.pk)
        _close_sheets(workbook)
        fail_export(export=export, error=f"{error.__class__.__name__}: {error}")
        raise
    finally:
        path.unlink(missing_ok=True)
    return finish_export(export=export)


def _write_pack_summary(workbook, *, export: EvidenceExport, scope) -> None:
    """The first sheet: what the pack covers (period, area), when it was built, and how small numbers are treated."""
    summary = workbook.create_sheet(title=str(_("About this pack"))[:31])
    for line in (
        [_("Sector evidence pack")],
        [_("Period"), export.period_start, export.period_end],
        [_("Area"), scope.area_name],
        [_("Built"), timezone.now()],
        [str(selectors.SUPPRESSION_NOTE)],
        [_("Outputs (what was done) and outcomes (what changed) are kept in separate sheets.")],
    ):
        summary.append([xlsx_cell(summary, value) for value in line])


def _write_topic_sheets(workbook, *, board) -> None:
    """One sheet per dashboard section: each chart's long rows, then each statistic as published."""
    for section in board.sections:
        sheet = workbook.create_sheet(title=_sheet_title(selectors.SHEET_NAMES.get(section.key, section.title)))
        sheet.append([xlsx_cell(sheet, str(header), bold=True) for header in PACK_COLUMNS])
        for chart in section.charts:
            for category, breakdown, value, shown in chart.long_rows():
                sheet.append([xlsx_cell(sheet, v) for v in (chart.title, category, breakdown, value, shown)])
        for statistic in section.statistics:
            stat = statistic.value
            sheet.append(
                [xlsx_cell(sheet, v) for v in (statistic.title, "", "", float(stat.shown_value) if stat.shown_value is not None else None, stat.display)]
            )


def _write_project_sheets(workbook, *, scope) -> None:
    """The joint projects' monitoring: outputs (what was done) and outcomes (what changed) in separate sheets."""
    for kind, title in ((Indicator.Kind.OUTPUT, _("Project outputs")), (Indicator.Kind.OUTCOME, _("Project outcomes"))):
        sheet = workbook.create_sheet(title=_sheet_title(title))
        headers = (
            _("Project"), _("Indicator"), _("Unit"), _("Period"), _("Period start"), _("Period end"), _("Target"),
            _("Actual (submitted returns)"), _("Actual, as published"),
        )
        sheet.append([xlsx_cell(sheet, str(header), bold=True) for header in headers])
        for row in _project_rows(scope=scope, kind=kind):
            sheet.append([xlsx_cell(sheet, value) for value in row])


def _write_baseline_sheet(workbook) -> None:
    """Every area against the network's baseline of support as it stands when the pack is built: the
    same rows as the baseline page's CSV."""
    sheet = workbook.create_sheet(title=_sheet_title(selectors.SHEET_NAMES["baseline"]))
    sheet.append([xlsx_cell(sheet, str(header), bold=True) for header in selectors.BASELINE_HEADERS])
    for row in selectors.baseline_coverage().download_rows():
        sheet.append([xlsx_cell(sheet, value) for value in row])


def _pack_definitions(board) -> list[tuple]:
    """(topic, figure, definition) for every figure in the pack: the dashboard's, then the project sheets'."""
    return board.definitions() + [
        (_("Joint projects"), _("Project outputs"), _("For each output indicator (what was done) of each joint project running in the period, the target and the sum of the partners' submitted figures, per monitoring period. Counts from 1 to 4 are shown as \u201cfewer than 5\u201d.")),
        (_("Joint projects"), _("Project outcomes"), _("The same for outcome indicators (what changed). Percentages are the average of the partners' figures, not a sum.")),
        (selectors.SHEET_NAMES["baseline"], selectors.SHEET_NAMES["baseline"], _("As the directory stands when the pack is built, for every area whatever the pack's period and area. ") + str(selectors.BASELINE_DEFINITION)),
    ]


def _write_definitions_sheet(workbook, *, definitions: list[tuple]) -> None:
    """The Definitions sheet: every figure's definition, then the small-numbers rule for all topics."""
    sheet = workbook.create_sheet(title=str(_("Definitions")))
    sheet.append([xlsx_cell(sheet, str(header), bold=True) for header in (_("Topic"), _("Figure"), _("Definition"))])
    for row in definitions:
        sheet.append([xlsx_cell(sheet, str(value)) for value in row])
    sheet.append([xlsx_cell(sheet, str(value)) for value in (_("All topics"), _("Small numbers"), selectors.SUPPRESSION_NOTE)])


def _close_sheets(workbook) -> None:
    """After a failed build: close the sheets' temporary files now rather than whenever they are
    collected (the half-written file itself is deleted as every build ends)."""
    if workbook is not None:
        for worksheet in workbook.worksheets:
            worksheet.close()


def _sheet_title(title) -> str:
    import re

    return re.sub(r"[\[\]:*?/\\]", " ", str(title))[:31]


def _project_rows(*, scope, kind: str):
    """One row per indicator and period of the projects running in the scope, streamed from the database."""
    from django.db.models import Count, Q, Sum

    projects = JointProject.objects.filter(start_date__lte=scope.end, end_date__gte=scope.start)
    if scope.area is not None:
        projects = projects.filter(Q(lead__ward=scope.area) | Q(partners__ward=scope.area))
    actuals = {
        (indicator_id, period_id): (total, n)
        for indicator_id, period_id, total, n in ReturnFigure.objects.filter(
            monitoring_return__status=MonitoringReturn.Status.SUBMITTED,
            indicator__kind=kind,
            indicator__project__in=projects.values("pk"),
        )
        .values_list("indicator_id", "monitoring_return__period_id")
        .annotate(total=Sum("value"), n=Count("pk"))
        .order_by()
    }
    targets = (
        IndicatorTarget.objects.filter(indicator__kind=kind, indicator__project__in=projects.values("pk"))
        .select_related("indicator__project", "period")
        .order_by("indicator__project__title", "indicator__order", "indicator__name", "period__number")
    )
    for target in targets.iterator(chunk_size=2000):
        indicator, period = target.indicator, target.period
        total, n = actuals.get((indicator.pk, period.pk), (None, 0))
        actual, shown = total, ""
        if n and indicator.value_type == Indicator.ValueType.PERCENTAGE:
            actual = (total / n).quantize(Decimal("0.1"))
        if actual is not None and indicator.value_type == Indicator.ValueType.WHOLE_NUMBER:
            # A count in a download for any funder goes through suppression like every other count.
            published = suppression.count(int(actual))
            actual, shown = published.shown_value, published.display
        elif actual is not None:
            shown = f"{actual.normalize():f}"
        else:
            shown = _("no submitted return")
        yield (indicator.project.title, indicator.name, indicator.unit, period.number, period.start, period.end, target.target, actual, shown)


# The baseline of support: a snapshot a month ---------------------------------------------------------


def record_baseline_snapshot(*, today: date) -> int:
    """Record every area's standing against every active baseline item for the month of `today`: one
    row per month, area and item, written in one statement. Run again in the same month, it brings
    that month's rows up to date (so a month keeps its last recorded standing) and touches no other
    month. The number of rows written."""
    month = selectors.month_start(today)
    coverage = selectors.baseline_coverage()
    snapshots = [
        BaselineSnapshot(
            month=month,
            area_key=cell.area.key,
            area_label=cell.area.label[:200],
            area_kind=cell.area.kind,
            item=cell.item,
            met=cell.met,
            provider_count=len(cell.providers),
            provider_names=MULTI_VALUE_SEPARATOR.join(provider.name for provider in cell.providers),
        )
        for cell in coverage.applicable_cells()
    ]
    BaselineSnapshot.objects.bulk_create(
        snapshots,
        update_conflicts=True,
        unique_fields=["month", "area_key", "item"],
        update_fields=["area_label", "area_kind", "met", "provider_count", "provider_names", "recorded_at"],
    )
    return len(snapshots)


# 360Giving grants -----------------------------------------------------------------------------------


@transaction.atomic
def record_grant(*, grant: Grant | None = None, data: dict) -> Grant:
    """Record (or correct) a grant the network distributes. Every rule is checked before anything is
    saved (Grant.clean: an amount above £0, an award date not in the future, a recipient with an
    org-id); a ValidationError names the field otherwise."""
    grant = grant or Grant(direction=Grant.Direction.DISTRIBUTED)
    if grant.identifier and data.get("reference", grant.reference) != grant.reference:
        # The reference is part of the published identifier, which others may already have linked to.
        raise ValidationError({"reference": _("A grant's reference cannot be changed once it is recorded.")})
    for name, value in data.items():
        setattr(grant, name, value)
    grant.full_clean()
    grant.save()
    return grant
