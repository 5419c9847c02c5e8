"""Reads for evidence: joint projects and their monitoring, and the sector dashboards.

Dashboards are aggregates only, and every count leaves here through ``evidence.suppression``. A
count that states the size of a group of records (a population: "vcos", "referrals", "attendances")
carries the group's key, so that a total withheld in one chart is withheld wherever the page states it
(rule 4 there); ``sector_dashboard`` applies that across all sections. The directory is read through
its public querysets; referrals, events and quality through those apps' public selectors.
"""

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncQuarter, TruncYear
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calendar_events import selectors as calendar_selectors
from core.exports import MULTI_VALUE_SEPARATOR
from core.memos import once
from directory.models import HarvestSource, Service
from organisations.models import Affiliation, Organisation, OrganisationDay, OrganisationTermDay
from organisations.permissions import EDITING_ROLES
from quality import selectors as quality_selectors
from referrals import selectors as referral_selectors
from taxonomies.models import Taxonomy, TaxonomyTerm
from taxonomies.selectors import built_from_terms

from . import suppression
from .models import (
    BaselineItem,
    BaselineSnapshot,
    CaseStudy,
    EvidenceExport,
    Grant,
    Indicator,
    IndicatorTarget,
    JointProject,
    MonitoringReturn,
    ReportingPeriod,
)

# Dashboards ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The period and area a dashboard, report or pack covers. `area` None is the whole borough."""

    start: date
    end: date
    area: TaxonomyTerm | None = None
    # Figures several sections share (the VCOs grouped by stage and ward), worked out once per scope;
    # under PERIOD_BEFORE, the memo of the period before (previous_period), some filled by the same queries.
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def area_name(self) -> str:
        return self.area.name if self.area else _("the whole borough")

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        """The first moment after the period (exclusive upper bound)."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))


def ward_terms() -> QuerySet[TaxonomyTerm]:
    return TaxonomyTerm.objects.in_taxonomy(Taxonomy.WARDS).order_by("name")


def area_by_code(code: str) -> TaxonomyTerm | None:
    return ward_terms().filter(code=code).first()


def kept_wards() -> list[TaxonomyTerm]:
    """ward_terms, kept per process while the taxonomies' data version stays the same
    (taxonomies.selectors.built_from_terms): the dashboards read the same wards on every request."""
    return built_from_terms("evidence-wards", lambda: list(ward_terms()))


LONG_CHART_ROWS = 8


@dataclass
class Chart:
    """One chart and its table: the same suppressed figures, drawn and tabulated."""

    key: str
    title: str
    definition: str
    series: suppression.Series | None = None
    table: suppression.Table | None = None
    unit: str = ""
    note: str = ""
    # Where a zero is the finding (a gap in provision), an all-zero chart is not "nothing to count".
    zeros_are_findings: bool = False
    row_heading: str = gettext_lazy("Category")
    # Gaps in provision, every one: (function, the wards where no provider offers it).
    gaps: list[tuple[str, list[str]]] = field(default_factory=list)
    # Needs asked for against where the money goes (the funding section), instead of a series or table.
    alignment: "NeedAlignment | None" = None
    # Areas side by side (delivery by area), instead of a series or table.
    comparison: suppression.Comparison | None = None
    # (column, what it counts): for a chart whose columns each need their own definition.
    column_definitions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_long(self) -> bool:
        """A chart of many rows (every ward, every need), which the page lays out in two columns."""
        if self.alignment is not None or self.comparison is not None:
            return True  # a table of several columns: the page's full width
        return self.series is not None and len(self.series.rows) > LONG_CHART_ROWS

    @property
    def gap_count(self) -> int:
        return sum(len(wards) for _function, wards in self.gaps)

    @property
    def is_empty(self) -> bool:
        if self.zeros_are_findings:
            return False
        if self.alignment is not None:
            return self.alignment.is_empty
        if self.comparison is not None:
            return not self.comparison.total.base.value
        if self.series is not None:
            return self.series.is_empty
        if self.table is not None:
            return not any(cell.value for row in self.table.cells for cell in row)
        return True

    def long_rows(self):
        """(category, column, shown figure or None, how it is shown): one row per published cell."""
        if isinstance(self.series, suppression.Funding):
            grants, money = _("Grants"), _("Amount (£)")
            for label, cell, amount in self.series.money_rows():
                yield label, grants, cell.shown_value, cell.display
                yield label, money, amount.shown_value, amount.display
            total = self.series.total_label or _("Total")
            yield total, grants, self.series.total.shown_value, self.series.total.display
            yield total, money, self.series.total_money.shown_value, self.series.total_money.display
            return
        if self.alignment is not None:
            for row in self.alignment.gaps():
                yield row.need, _("Share of referrals (%)"), row.referral_share, row.referral_display
                yield row.need, _("Share of grant money (%)"), row.money_share, row.money_display
                yield row.need, _("Gap (percentage points)"), row.gap, row.gap_display
            return
        if self.comparison is not None:
            yield from _comparison_long_rows(self.comparison)
            return
        if self.series is not None:
            for label, cell in self.series.rows:
                yield label, "", cell.shown_value, cell.display
            if self.series.total is not None:
                yield self.series.total_label or _("Total"), "", self.series.total.shown_value, self.series.total.display
        if self.table is not None:
            for label, cells, total in self.table.rows():
                for column, cell in zip(self.table.column_labels, cells, strict=True):
                    yield label, column, cell.shown_value, cell.display
                if total is not None:
                    yield label, _("Total"), total.shown_value, total.display
            if self.table.column_totals is not None:
                for column, total in zip(self.table.column_labels, self.table.column_totals, strict=True):
                    yield _("Total"), column, total.shown_value, total.display
                if self.table.grand_total is not None:
                    yield _("Total"), _("Total"), self.table.grand_total.shown_value, self.table.grand_total.display


@dataclass
class Statistic:
    key: str
    title: str
    definition: str
    value: suppression.Statistic


@dataclass
class Section:
    key: str
    title: str
    charts: list[Chart] = field(default_factory=list)
    statistics: list[Statistic] = field(default_factory=list)
    intro: str = ""
    # A sentence worked out when the page is drawn (after the rules have run), shown under the intro.
    trend: object | None = None

    @property
    def is_empty(self) -> bool:
        return all(chart.is_empty for chart in self.charts) and all(s.value.n == 0 for s in self.statistics)


@dataclass
class Dashboard:
    scope: Scope
    sections: list[Section]

    @property
    def has_data(self) -> bool:
        return any(not section.is_empty for section in self.sections)

    def definitions(self) -> list[tuple[str, str, str]]:
        """(section, figure, definition) for every figure: the pack's Definitions sheet."""
        rows = []
        for section in self.sections:
            for chart in section.charts:
                rows.append((section.title, chart.title, chart.definition))
                rows += [(section.title, f"{chart.title}: {column}", definition) for column, definition in chart.column_definitions]
            for statistic in section.statistics:
                rows.append((section.title, statistic.title, statistic.definition))
        return rows


SUPPRESSION_NOTE = gettext_lazy(
    "Counts from 1 to 4 are shown as \u201cfewer than 5\u201d. Where a total would let a hidden count be "
    "worked out, another count (or the total) is \u201cwithheld\u201d as well; a total withheld in one chart is "
    "withheld in every chart that counts the same organisations, people or records, with any count that would "
    "add up to it. Medians and averages of fewer than 5 records are withheld."
)


def _vco_kind() -> int | None:
    """The VCO kind's id."""
    return built_from_terms(
        "evidence-vco-kind",
        lambda: TaxonomyTerm.objects.filter(taxonomy__code=Taxonomy.ORGANISATION_KINDS, code=Organisation.KIND_VCO)
        .values_list("pk", flat=True)
        .first(),
    )


# The memo of the period before (previous_period), kept in the period's: the VCO figures of both come
# from the same queries, since the VCOs on record by the end of the period before are those of the
# period already on record when it began.
PERIOD_BEFORE = "period_before"


def _memo_before(scope: Scope) -> dict:
    """The memo of the scope's period before, for figures worked out with the scope's own."""
    return scope.memo.setdefault(PERIOD_BEFORE, {})


# The many-to-many lists VCOs are counted by, a chart each (an organisation has each term once).
VCO_TERM_LISTS = ("segments", "communities_served")


def _vco_figures(scope: Scope) -> dict:
    """_count_vco_figures once per page."""
    return once(scope.memo, "vco_figures", lambda: _count_vco_figures(scope))


def _count_vco_figures(scope: Scope) -> dict:
    """What the organisation and volunteer sections count of the open VCOs on record by the end of the
    period, in the area, of the period and of the period before, from one statement over the
    organisations counted by local day of creation (OrganisationDay, OrganisationTermDay: a VCO is on
    record by the end of a period if created by its last day), grouped four ways:

    - "groups": (stage, ward id, organisations, volunteers, paid staff, organisations giving volunteers)
      per stage and ward;
    - each of VCO_TERM_LISTS: VCOs per term (term id: count);
    - "joined_before": for each day the joining charts of both periods ask about (_joining_days), the
      VCOs whose record was created before it: the VCOs counted between those days (a few dozen rows).
    """
    # On record by the end of the period before (which ends where this one starts): "earlier".
    where = "WHERE d.kind_id = %s AND d.day <= %s" + (" AND d.ward_id = %s" if scope.area is not None else "")
    params = [_vco_kind(), connection.ops.adapt_datefield_value(scope.end)] + ([scope.area.pk] if scope.area is not None else [])
    start = connection.ops.adapt_datefield_value(scope.start)
    days_table, term_days_table = OrganisationDay._meta.db_table, OrganisationTermDay._meta.db_table
    # The number of the days at or before each VCO's day of creation: the VCOs created before the day
    # numbered i are those numbered i or less. The period's start is one of the days, so the groups
    # per stage and ward come from the same pass: those numbered up to the start's are "earlier". The
    # day rows are grouped once per stage, ward and day number (some thousands of groups), and those
    # groups added up in the database two ways (per stage, ward and whether earlier; per day number),
    # so that a few hundred rows come back rather than every group.
    scope_before, _name = previous_period(scope)
    days = sorted({*_joining_days(scope), *_joining_days(scope_before)})
    earlier_than = days.index(scope.start)
    edges = [connection.ops.adapt_datefield_value(day) for day in days]
    if connection.vendor == "postgresql":
        bucket, bucket_params = "WIDTH_BUCKET(d.day, %s::date[])", [edges]
    else:
        bucket = "CASE " + "WHEN d.day < %s THEN {} " * len(edges) + "ELSE {} END"
        bucket, bucket_params = bucket.format(*range(len(edges) + 1)), edges
    statements = [
        (
            f"WITH g (stage, ward_id, day_number, organisations, volunteers, paid_staff, giving_volunteers) AS ("
            f"SELECT d.development_stage, d.ward_id, {bucket}, SUM(d.organisations), SUM(d.volunteers), SUM(d.paid_staff), "
            f"SUM(d.giving_volunteers) FROM {days_table} d {where} GROUP BY 1, 2, 3) "
            "SELECT %s, g.stage, g.ward_id, CASE WHEN g.day_number <= %s THEN 1 ELSE 0 END, SUM(g.organisations), SUM(g.volunteers), "
            "SUM(g.paid_staff), SUM(g.giving_volunteers) FROM g GROUP BY 2, 3, 4 "
            "UNION ALL SELECT %s, NULL, NULL, g.day_number, SUM(g.organisations), NULL, NULL, NULL FROM g GROUP BY 4",
            [*bucket_params, *params, "groups", earlier_than, "days"],
        ),
        (
            f"SELECT d.relation, d.term_id, NULL, SUM(CASE WHEN d.day < %s THEN d.organisations ELSE 0 END), SUM(d.organisations), "
            f"NULL, NULL, NULL FROM {term_days_table} d {where} GROUP BY 1, 2",
            [start, *params],
        ),
    ]
    groups: dict[tuple, list[int]] = {}
    groups_before: dict[tuple, list[int]] = {}
    terms = {relation: {} for relation in VCO_TERM_LISTS}
    terms_before = {relation: {} for relation in VCO_TERM_LISTS}
    by_day = [0] * (len(days) + 1)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(sql for sql, _params in statements), [p for _sql, params in statements for p in params])
        for figure, key, ward_id, earlier, n, *sums in cursor.fetchall():
            if figure == "groups":
                figures = [n, *(value or 0 for value in sums)]
                for kept in (groups, groups_before) if earlier else (groups,):
                    group = kept.get((key, ward_id))
                    kept[(key, ward_id)] = figures if group is None else [a + b for a, b in zip(group, figures, strict=True)]
            elif figure == "days":
                by_day[earlier] = n
            elif figure in terms:
                terms[figure][key] = n
                if earlier:
                    terms_before[figure][key] = earlier
    joined_before = dict(zip(days, accumulate(by_day), strict=False))
    figures = {"groups": [(stage, ward_id, *figures) for (stage, ward_id), figures in groups.items()], "joined_before": joined_before}
    figures_before = {
        "groups": [(stage, ward_id, *figures) for (stage, ward_id), figures in groups_before.items()],
        "joined_before": {day: n for day, n in joined_before.items() if day <= scope.start},
    }
    for relation in VCO_TERM_LISTS:
        figures[relation], figures_before[relation] = terms[relation], terms_before[relation]
    _memo_before(scope).setdefault("vco_figures", figures_before)
    return figures


def _vco_groups(scope: Scope) -> list[tuple[int | None, int | None, int, int, int, int]]:
    """(stage, ward id, organisations, volunteers, paid staff, organisations giving volunteers) per
    stage and ward, which the organisation and volunteer sections both read."""
    return _vco_figures(scope)["groups"]


def quarter_starts(start: date, end: date) -> list[date]:
    """The first day of each calendar quarter that overlaps [start, end]."""
    first = date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
    starts = []
    while first <= end:
        starts.append(first)
        first = _next_quarter(first)
    return starts


def _next_quarter(quarter: date) -> date:
    """The first day of the quarter after the one starting on `quarter` (date arithmetic rather than
    relativedelta, which costs more than the rest of a period's quarters)."""
    return date(quarter.year + 1, 1, 1) if quarter.month == 10 else date(quarter.year, quarter.month + 3, 1)


def quarter_label(start: date) -> str:
    return _("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1}


def organisation_section(scope: Scope) -> Section:
    section = Section(key="organisations", title=_("Voluntary and community organisations"))
    stage_counts, ward_counts = _vco_stage_and_ward_counts(scope)
    section.charts.append(_vcos_by_stage_chart(stage_counts))
    if scope.area is None:
        section.charts.append(_vcos_by_ward_chart(ward_counts, kept_wards()))
    section.charts.extend(_vcos_by_term_charts(scope, total_vcos=sum(stage_counts.values())))
    section.charts.append(_vcos_joining_chart(scope))
    return section


def _vco_stage_and_ward_counts(scope: Scope) -> tuple[dict[int | None, int], dict[int | None, int]]:
    """VCOs per development stage and per ward (None: not recorded), both from the one grouped query
    of stage and ward together; the section's total comes from them too."""
    stage_counts: dict[int | None, int] = defaultdict(int)
    ward_counts: dict[int | None, int] = defaultdict(int)
    for stage, ward_id, n, _volunteers, _staff, _reporting in _vco_groups(scope):
        stage_counts[stage] += n
        ward_counts[ward_id] += n
    return stage_counts, ward_counts


def _vcos_by_stage_chart(stage_counts: dict[int | None, int]) -> Chart:
    """Every development stage in order, then those with no stage recorded."""
    stage_rows = [(str(label), stage_counts.get(value, 0)) for value, label in Organisation.Stage.choices]
    stage_rows.append((_("Stage not recorded"), stage_counts.get(None, 0)))
    return Chart(
        key="vcos-by-stage",
        title=_("VCOs by development stage"),
        definition=_(
            "Open voluntary and community organisations in the directory by the end of the period, in the area, "
            "by the development stage recorded on their record (stage 1 emerging, 2 improving, 3 established)."
        ),
        series=suppression.suppress_series(stage_rows, total=True, population="vcos"),
        unit=_("organisations"),
    )


def _vcos_by_ward_chart(ward_counts: dict[int | None, int], wards: list[TaxonomyTerm]) -> Chart:
    """Every ward, then those with no ward recorded (shown only for the whole borough)."""
    ward_rows = [(term.name, ward_counts.get(term.pk, 0)) for term in wards]
    ward_rows.append((_("Ward not recorded"), ward_counts.get(None, 0)))
    return Chart(
        key="vcos-by-ward",
        title=_("VCOs by ward"),
        definition=_("Open VCOs in the directory by the end of the period, by the ward recorded on their record."),
        series=suppression.suppress_series(ward_rows, total=True, population="vcos"),
        unit=_("organisations"),
    )


def _vcos_by_term_charts(scope: Scope, *, total_vcos: int) -> list[Chart]:
    """VCOs per specialist segment and per community served: one chart each, one grouped query each."""
    charts = []
    for key, relation, taxonomy, title, definition in (
        (
            "vcos-by-segment",
            "segments",
            Taxonomy.SEGMENTS,
            _("VCOs by specialist segment"),
            _("Open VCOs in each specialist segment. An organisation can be in several segments, so the rows add up to more than the number of organisations."),
        ),
        (
            "vcos-by-community",
            "communities_served",
            Taxonomy.COMMUNITIES,
            _("VCOs by community served"),
            _("Open VCOs serving each community. Communities overlap and an organisation can serve several, so the rows add up to more than the number of organisations."),
        ),
    ):
        counts = _vco_figures(scope)[relation]
        rows = [(term.name, counts.get(term.pk, 0)) for term in _kept_terms(taxonomy)]
        charts.append(
            Chart(
                key=key,
                title=title,
                definition=definition,
                # Overlapping categories: the total is the number of organisations, counted on its own.
                series=suppression.suppress_series(rows, total=total_vcos, population="vcos"),
                unit=_("organisations"),
            )
        )
    return charts


def _joining_quarters(scope: Scope) -> list[tuple[date, date, date]]:
    """(quarter start, its first day in the period, the day after its last in the period) of each
    quarter the period overlaps."""
    after = scope.end + timedelta(days=1)
    return [(quarter, max(quarter, scope.start), min(_next_quarter(quarter), after)) for quarter in quarter_starts(scope.start, scope.end)]


def _joining_days(scope: Scope) -> list[date]:
    """The days the joining chart counts the VCOs created before."""
    return [scope.start, *(day for _quarter, first, after in _joining_quarters(scope) for day in (first, after))]


def _vcos_joining_chart(scope: Scope) -> Chart:
    """VCOs by the quarter they joined the directory, and those on record before the period.

    From the VCOs created before each quarter's first and last day in the period, counted in the one
    pass over the table however many quarters the period has. Each VCO is in one row (on record
    before the period, or the quarter it joined), so the rows add up to the VCOs on record: a running
    count per quarter would give each quarter's small number away by subtraction.
    """
    on_record_before = _vco_figures(scope)["joined_before"]
    joined = [(_("Before the period"), on_record_before[scope.start])]
    for quarter, first, after in _joining_quarters(scope):
        joined.append((quarter_label(quarter), on_record_before[after] - on_record_before[first]))
    return Chart(
        key="vcos-joining",
        title=_("VCOs by when they joined the directory"),
        definition=_(
            "Open VCOs on record by the end of the period, by the quarter their record was created (the first and last "
            "quarters only count the days inside the period), and those on record before the period began: how the "
            "sector in the directory has grown. Each organisation is in one row, so the rows add up to the total."
        ),
        series=suppression.suppress_series(joined, total=True, population="vcos"),
        row_heading=_("Joined"),
        unit=_("organisations"),
    )


def volunteer_section(scope: Scope) -> Section:
    section = Section(key="volunteers", title=_("Volunteers and staff"))
    sums: dict[int | None, tuple[int, int, int]] = {}
    for stage, _ward_id, _n, volunteers, staff, reporting in _vco_groups(scope):
        v, p, r = sums.get(stage, (0, 0, 0))
        sums[stage] = (v + volunteers, p + staff, r + reporting)
    labels = [(value, str(label)) for value, label in Organisation.Stage.choices] + [(None, _("Stage not recorded"))]
    section.charts.append(
        Chart(
            key="volunteers-by-stage",
            title=_("Volunteers, by development stage of their organisation"),
            definition=_("The number of volunteers VCOs report on their directory record, added up, for open VCOs in the area at the end of the period."),
            series=suppression.suppress_series([(label, sums.get(value, (0, 0, 0))[0]) for value, label in labels], total=True, population="volunteers"),
            unit=_("volunteers"),
        )
    )
    section.charts.append(
        Chart(
            key="staff-by-stage",
            title=_("Paid staff, by development stage of their organisation"),
            definition=_("The number of paid staff VCOs report on their directory record, added up, for open VCOs in the area at the end of the period."),
            series=suppression.suppress_series([(label, sums.get(value, (0, 0, 0))[1]) for value, label in labels], total=True, population="paid-staff"),
            unit=_("paid staff"),
        )
    )
    section.charts.append(
        Chart(
            key="vcos-reporting-volunteers",
            title=_("VCOs that report their volunteer numbers"),
            definition=_("Open VCOs whose directory record gives a number of volunteers (the figures above come from these)."),
            series=suppression.suppress_series(
                [(label, sums.get(value, (0, 0, 0))[2]) for value, label in labels], total=True, population="vcos-reporting-volunteers"
            ),
            unit=_("organisations"),
        )
    )
    return section


@dataclass
class Coverage:
    """Which providers cover which (function, ward). A provider with a borough-wide service (one that
    names no wards) covers the function in every ward: kept once per function, not copied into every
    ward's set, which was most of the dashboard's own work."""

    everywhere: dict[int, set[int]]  # function id: providers covering it in every ward
    in_ward: dict[tuple[int, int], set[int]]  # (function id, ward id): the others, ward by ward

    def providers(self, function_id: int, ward_ids) -> set[int]:
        found = set(self.everywhere.get(function_id, ()))
        for ward_id in ward_ids:
            found |= self.in_ward.get((function_id, ward_id), set())
        return found

    def count(self, function_id: int, ward_id: int) -> int:
        everywhere = self.everywhere.get(function_id, set())
        return len(everywhere) + len(self.in_ward.get((function_id, ward_id), set()) - everywhere)


def _infrastructure_functions() -> list[TaxonomyTerm]:
    return list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.FUNCTIONS).filter(parent__isnull=False).order_by("parent__order", "order", "name"))


# (function id, ward id or None, organisation id, whether put on record before a day): a listed
# service's function in one ward it names (None: it names none, and serves the whole borough).
CoveringRow = tuple[int, int | None, int, bool]


def _services_covering(until: datetime | None, *, earlier_than: datetime | None = None) -> list[CoveringRow]:
    """A row for each function and ward of each listed service of our own with a function, and
    whether the service was put on record before `earlier_than`; with `until`, only services put on
    record before then. One query: the joins give the pairs the page reads, where reading services,
    functions and wards apart and pairing them in Python cost more than the rows."""
    # Our own services only: one harvested from another directory serves that directory's area.
    services = Service.objects.listed().own().order_by().filter(functions__isnull=False)
    if until is not None:
        services = services.filter(created_at__lt=until)
    earlier = ExpressionWrapper(Q(created_at__lt=earlier_than), output_field=BooleanField()) if earlier_than else Value(False)
    return list(services.values_list("functions", "wards", "organisation_id", earlier))


def _coverage(rows: list[CoveringRow]) -> Coverage:
    in_ward: dict[tuple[int, int], set[int]] = defaultdict(set)
    everywhere: dict[int, set[int]] = defaultdict(set)
    for function_id, ward_id, organisation_id, _earlier in rows:
        if ward_id is None:
            everywhere[function_id].add(organisation_id)
        else:
            in_ward[(function_id, ward_id)].add(organisation_id)
    return Coverage(everywhere=dict(everywhere), in_ward=dict(in_ward))


def coverage_matrix(*, until: datetime | None = None) -> tuple[list[TaxonomyTerm], list[TaxonomyTerm], Coverage]:
    """Which providers cover which (function, ward): a listed service with the function, serving the
    ward (a service that names no wards covers the whole borough); with `until`, only services put on
    record before then. A handful of queries."""
    return _infrastructure_functions(), list(ward_terms()), _coverage(_services_covering(until))


def _scope_coverage(scope: Scope) -> tuple[list[TaxonomyTerm], list[TaxonomyTerm], Coverage]:
    """coverage_matrix by the end of the period, from services read once for the period and its period
    before (those of the period put on record before it began)."""
    functions = built_from_terms("evidence-infrastructure-functions", _infrastructure_functions)
    return functions, kept_wards(), _coverage(once(scope.memo, "services_covering", lambda: _scope_services_covering(scope)))


def _scope_services_covering(scope: Scope) -> list[CoveringRow]:
    """_services_covering by the end of the period, and the rows of services on record before it
    began filed for the period before."""
    rows = _services_covering(scope.end_at, earlier_than=scope.start_at)
    _memo_before(scope).setdefault("services_covering", [row for row in rows if row[3]])
    return rows


def provider_section(scope: Scope) -> Section:
    """Provision by the end of the period: the providers' services on record by then. Public facts
    (the directory lists them for anyone), so published as they are, small numbers and all."""
    functions, wards, coverage = _scope_coverage(scope)
    section = Section(
        key="providers",
        title=_("Infrastructure provider coverage"),
        intro=_("Counts of providers with an open service offering each kind of support. A \u201cgap\u201d is a function no provider offers in that ward. These are public facts from the directory, so small numbers are shown."),
    )
    area_wards = [scope.area] if scope.area is not None else wards
    area_ward_ids = [ward.pk for ward in area_wards]
    by_function = []
    everyone = set()
    for function in functions:
        providers = coverage.providers(function.pk, area_ward_ids)
        by_function.append((function.name, len(providers)))
        everyone |= providers
    section.charts.append(
        Chart(
            key="providers-by-function",
            title=_("Providers by infrastructure function, in %(area)s") % {"area": scope.area_name},
            definition=_("Infrastructure providers with at least one open service offering the function and serving the area (a service that names no wards serves the whole borough). A provider offering several functions counts once in each, and once in the total."),
            series=suppression.suppress_series(by_function, total=len(everyone), population="providers-offering", personal=False),
            unit=_("providers"),
            zeros_are_findings=True,
        )
    )
    cells = [[coverage.count(function.pk, ward_id) for ward_id in area_ward_ids] for function in functions]
    gaps = [
        (function.name, [ward.name for ward, n in zip(area_wards, row, strict=True) if n == 0])
        for function, row in zip(functions, cells, strict=True)
    ]
    gaps = [(function, in_wards) for function, in_wards in gaps if in_wards]
    chart = Chart(
        key="coverage-by-ward",
        title=_("Providers by function and ward"),
        definition=_("For each function and ward, the providers with an open service offering the function in the ward. 0 is a gap in provision. A provider covers many wards, so no totals are given."),
        table=suppression.suppress_table(cells, row_labels=[f.name for f in functions], column_labels=[w.name for w in area_wards], personal=False),
        unit=_("providers"),
        zeros_are_findings=True,
        row_heading=_("Function"),
        gaps=gaps,
    )
    chart.note = (
        ngettext("%(count)s gap in provision.", "%(count)s gaps in provision.", chart.gap_count) % {"count": chart.gap_count}
        if gaps
        else _("No gaps: every function is offered in every ward shown.")
    )
    section.charts.append(chart)
    return section


# Figures from the other apps ------------------------------------------------------------------------


def _pairs(rows) -> list[tuple[str, int]]:
    return [(str(label), int(value or 0)) for label, value in rows or []]


def _organisation_ids_in(scope: Scope) -> list[int] | None:
    """The organisations in the scope's ward, for selectors that filter by organisation; None for the borough."""
    if scope.area is None:
        return None
    return list(Organisation.objects.filter(ward=scope.area).values_list("pk", flat=True))


def referral_section(scope: Scope) -> Section:
    data = _referral_statistics(scope)
    first_response = data["first_response"]
    section = Section(key="referrals", title=_("Referrals for support"))
    section.charts += [
        Chart(
            key="referrals-by-need",
            title=_("Referrals by support need"),
            definition=_("Referrals made in the period by VCOs in the area, by the need asked for. A referral can name several needs, so the rows add up to more than the total."),
            series=suppression.suppress_series(_pairs(data["by_need"]), total=data["total"], population="referrals"),
            unit=_("referrals"),
        ),
        Chart(
            key="referrals-by-outcome",
            title=_("Referrals by outcome"),
            definition=_(
                "Referrals made in the period by VCOs in the area: closed ones by their outcome (withdrawn: the group no "
                "longer needed the support), the others by where they stand now. Each referral is in one row."
            ),
            series=suppression.suppress_series(
                _pairs(data["by_outcome"]),
                total=True,
                population="referrals",
                row_populations=[_referral_state_population(label) for label, _n in data["by_outcome"]],
            ),
            unit=_("referrals"),
        ),
        Chart(
            key="referral-satisfaction",
            title=_("Satisfaction with the support given"),
            definition=_("Feedback given by VCOs on referrals made in the period, by the score they gave (5 is very satisfied)."),
            series=suppression.suppress_series(_pairs(data["satisfaction"]), total=True, population="referral-feedback"),
            unit=_("responses"),
        ),
    ]
    section.statistics.append(
        Statistic(
            key="median-first-response",
            title=_("Median time to first response"),
            definition=_("The middle value of the hours from a referral reaching a provider to the provider's first response (accepting, declining or passing it on), for referrals made in the period."),
            value=suppression.Statistic(
                value=first_response["median_hours"], n=first_response["count"], unit=_("hours"), population="answered-referrals"
            ),
        )
    )
    return section


def _referral_state_population(label: str) -> str:
    """The key of "the referrals in the scope that stand at this state" (rule 4): the referral section
    counts them by outcome, and delivery by area counts the same referrals again in its scope's row."""
    return f"referrals:{label}"


def event_section(scope: Scope) -> Section:
    organisation_ids = _organisation_ids_in(scope)
    counts = calendar_selectors.attendance_counts(organisation_ids=organisation_ids, since=scope.start_at, until=scope.end_at)
    by_category = calendar_selectors.attendance_by_category(counts)
    section = Section(key="events", title=_("Events, training and attendance"))
    # Dates held and attendance by category: each date and each attendance is in one category, so the
    # columns add up to totals, protected with them. The chart above the table states those totals again,
    # and the ward chart the attendance: one population each (rule 4).
    held = suppression.suppress_table(
        [[sessions, attended] for _label, sessions, attended in by_category],
        row_labels=[label for label, _sessions, _attended in by_category],
        column_labels=[_("Dates held"), _("People who attended")],
        column_totals=True,
        column_populations=["event-dates", "attendances"],
    )
    section.charts.append(
        Chart(
            key="events-and-attendance",
            title=_("Events held, places booked and attendance"),
            definition=_(
                "For events on the community calendar organised by organisations in the area and held in the period: events "
                "with at least one booking, the dates they were held on, places booked (not cancelled), and people marked as "
                "having attended. Each row counts something different, so they are not added up."
            ),
            series=suppression.Series(
                rows=[
                    (_("Events"), suppression.count(sum(row["events"] for row in counts.values()))),
                    (_("Dates held"), suppression.count(sum(row["sessions"] for row in counts.values()), population="event-dates")),
                    (_("Places booked"), suppression.count(sum(row["booked"] for row in counts.values()))),
                    (_("People who attended"), suppression.count(sum(row["attended"] for row in counts.values()), population="attendances")),
                ]
            ),
            unit=_("events, dates or people"),
        )
    )
    section.charts.append(
        Chart(
            key="training-delivered",
            title=_("Training delivered, and the other events, by category"),
            definition=_(
                "Training delivered is the “Training” row: training sessions held (dates a training event on the "
                "community calendar, organised by an organisation in the area, was held in the period with at least one "
                "place booked) and people trained (people marked as having attended them; someone at three sessions counts "
                "three times). The other rows count the other kinds of event the same way. Each date and each attendance "
                "is in one category, so the columns add up to the totals."
            ),
            table=held,
            unit=_("dates or people"),
        )
    )
    # Attendance by the organiser's ward: each booking in one ward, so the rows add up.
    # Every organiser's ward (found by a join, not by the list of the counts' organisers: a long list of
    # ids costs more to send than the few more rows), without the organisations' default order (sorting
    # them by name to make them distinct cost more than the rest of the statement). Today's wards, the
    # same for the period before: read once for both.
    organiser_wards = once(
        scope.memo,
        "organiser_wards",
        lambda: dict(Organisation.objects.filter(events__isnull=False).distinct().order_by().values_list("pk", "ward_id")),
        also_into=_memo_before(scope),
    )
    by_ward: dict[int | None, int] = defaultdict(int)
    for organiser_id, row in counts.items():
        by_ward[organiser_wards.get(organiser_id)] += row["attended"]
    wards = [scope.area] if scope.area is not None else kept_wards()
    rows = [(ward.name, by_ward.get(ward.pk, 0)) for ward in wards]
    if scope.area is None:
        rows.append((_("Ward not recorded"), by_ward.get(None, 0)))
    section.charts.append(
        Chart(
            key="attendance-by-ward",
            title=_("Attendance, by the organiser's ward"),
            definition=_("People marked as having attended events held in the period, by the ward of the organisation that ran the event."),
            series=suppression.suppress_series(rows, total=True, population="attendances"),
            unit=_("people"),
        )
    )
    downloads = quality_selectors.material_download_counts(start=scope.start, end=scope.end)
    section.charts.append(
        Chart(
            key="materials-downloaded",
            title=_("Support materials downloaded"),
            definition=_("Downloads of each fact sheet, tool kit or other support material in the period, across the borough (downloads are not tied to an area)."),
            series=suppression.suppress_series(_pairs(downloads)),
            unit=_("downloads"),
        )
    )
    return section


def health_check_section(scope: Scope) -> Section:
    progress = quality_selectors.health_check_progress(
        start=scope.start, end=scope.end, organisation_ids=_organisation_ids_in(scope)
    )
    improved = sum(1 for p in progress if p.latest_overall > p.first_overall)
    same = sum(1 for p in progress if p.latest_overall == p.first_overall)
    declined = len(progress) - improved - same
    changes = [p.latest_overall - p.first_overall for p in progress]
    section = Section(key="health_checks", title=_("Organisational health checks"))
    section.charts.append(
        Chart(
            key="health-check-progress",
            title=_("Organisations that took the health check again: how their score moved"),
            definition=_(
                "Organisations in the area that completed the organisational health check at least twice in the period, by "
                "whether their latest overall score was higher, the same or lower than their first (an outcome: what changed)."
            ),
            series=suppression.suppress_series(
                [(_("Improved"), improved), (_("No change"), same), (_("Lower"), declined)], total=True, population="health-check-repeats"
            ),
            unit=_("organisations"),
        )
    )
    section.statistics.append(
        Statistic(
            key="health-check-median-change",
            title=_("Median change in overall health check score"),
            definition=_("The middle value of the change in overall score (percentage points) between each organisation's first and latest health check in the period."),
            value=suppression.Statistic(
                value=statistics.median(changes) if changes else None, n=len(changes), unit=_("points"), population="health-check-repeats"
            ),
        )
    )
    return section


def quality_section(scope: Scope) -> Section:
    # The same reading as the quality app's provider matrix (a provider's level in an area comes from
    # its current badge, matched by area code; no badge is "not assessed"), counted straight from the
    # badges rather than building the matrix's row for every provider.
    areas = quality_selectors.current_areas()
    providers = Organisation.objects.active().providers()
    if scope.area is not None:
        providers = providers.filter(ward=scope.area)
    provider_ids = set(providers.order_by().values_list("pk", flat=True))
    badges = {pk: summary for pk, summary in quality_selectors.current_badges().items() if pk in provider_ids}
    states = list(quality_selectors.CELL_LABELS)
    counts = []
    for area in areas:
        row = dict.fromkeys(states, 0)
        row[quality_selectors.NOT_ASSESSED] = len(provider_ids)
        for summary in badges.values():
            level = next((level for code, _name, level in summary.levels if code == area.code), None)
            if level is None:
                continue
            row[quality_selectors.NOT_ASSESSED] -= 1
            if level == quality_selectors.Level.NOT_MET:
                row[quality_selectors.NOT_MET] += 1
            elif level == quality_selectors.Level.BASELINE:
                row[quality_selectors.BASELINE] += 1
            else:
                row[quality_selectors.ABOVE] += 1
        counts.append([row[state] for state in states])
    section = Section(
        key="quality",
        title=_("Quality standards"),
        intro=_("Where the providers stand against the network's baseline quality standards today, from their current verified badges. Counts of providers are public facts, so small numbers are shown."),
    )
    section.charts.append(
        Chart(
            key="quality-coverage",
            title=_("Providers by standard area and verified level"),
            definition=_(
                "Open infrastructure providers in the area, for each quality standard area, by their current verified level: "
                "not assessed (no current badge), baseline not met, baseline met, or above the baseline. Each provider is in "
                "one column per area, so each row adds up to the number of providers."
            ),
            table=suppression.suppress_table(
                counts,
                row_labels=[area.name for area in areas],
                column_labels=[str(quality_selectors.CELL_LABELS[state]) for state in states],
                row_totals=True,
                row_populations=["providers"] * len(areas),
                personal=False,
            ),
            unit=_("providers"),
            row_heading=_("Standard area"),
            note=ngettext(
                "%(badged)s of %(count)s provider holds a current verified badge.",
                "%(badged)s of %(count)s providers hold a current verified badge.",
                len(provider_ids),
            )
            % {"badged": len(badges), "count": len(provider_ids)},
        )
    )
    return section


def project_section(scope: Scope) -> Section:
    """Joint projects' monitoring in the period: outputs and outcomes apart, summed over projects by
    indicator name is meaningless, so this counts projects and returns, and sums per kind per project."""
    section = Section(key="projects", title=_("Joint projects"))
    projects = JointProject.objects.filter(start_date__lte=scope.end, end_date__gte=scope.start)
    if scope.area is not None:
        projects = projects.filter(Q(lead__ward=scope.area) | Q(partners__ward=scope.area)).distinct()
    returns = MonitoringReturn.objects.filter(project__in=projects.values("pk"), period__end__gte=scope.start, period__end__lte=scope.end)
    status_counts = dict(returns.values_list("status").annotate(n=Count("pk")).order_by())
    section.charts.append(
        Chart(
            key="project-returns",
            title=_("Monitoring returns for periods ending in the period"),
            definition=_("Monitoring returns of joint projects running in the period (led by or partnered with an organisation in the area), for reporting periods that ended in the period, by status."),
            series=suppression.suppress_series(
                [(str(label), status_counts.get(value, 0)) for value, label in MonitoringReturn.Status.choices], total=True, population="monitoring-returns"
            ),
            unit=_("returns"),
        )
    )
    section.charts.append(
        Chart(
            key="projects-running",
            title=_("Joint projects running in the period"),
            definition=_("Joint projects whose dates overlap the period."),
            series=suppression.suppress_series([(_("Projects"), projects.count())]),
            unit=_("projects"),
        )
    )
    return section


# Funding into the sector ---------------------------------------------------------------------------

GRANT_FIGURES = {"n": Count("pk"), "recipients": Count("recipient_id", distinct=True), "amount": Sum("amount_awarded")}
# Over a longer period, quarters would be many rows of small numbers: years instead.
MAX_QUARTER_ROWS = 12


def _grants_into_sector(scope: Scope) -> QuerySet[Grant]:
    """Grants awarded in the period to organisations in the database, both the ones the network
    distributes and the ones imported from other funders' 360Giving files; in an area, those whose
    recipient is in the ward (or, with no ward recorded, whose beneficiary ward it is): the
    recipient's ward as the grant keeps it (Grant.recipient_ward), without joining the organisations."""
    grants = Grant.objects.filter(recipient__isnull=False, award_date__gte=scope.start, award_date__lte=scope.end)
    if scope.area is not None:
        grants = grants.annotate(ward=Coalesce("recipient_ward_id", "beneficiary_ward_id")).filter(ward=scope.area.pk)
    return grants.order_by()


def _kept_terms(taxonomy: str) -> list[TaxonomyTerm]:
    """A taxonomy's terms in the vocabulary's order, kept per process under the taxonomies' data version
    (taxonomies.selectors.built_from_terms): the VCO charts' rows and the funding rows."""
    return built_from_terms(f"evidence-terms:{taxonomy}", lambda: list(TaxonomyTerm.objects.in_taxonomy(taxonomy)))


def _first_since(previous: str, start: date) -> Q:
    return Q(**{f"{previous}__isnull": True}) | Q(**{f"{previous}__lt": start})


def _first_to_recipient(scope: Scope) -> Q:
    """Of ``_grants_into_sector(scope)``, each recipient's first: counting them counts the recipients,
    in any breakdown by what the recipient is (``_grants_by_recipient``), without sorting the grants
    (Grant.previous_*: a grant is its recipient's first in the period when the one before it is older
    than the period). In an area, a recipient with no ward recorded has only its grants for that
    beneficiary ward there: its first among those."""
    if scope.area is None:
        return _first_since("previous_to_recipient", scope.start)
    return Q(recipient_ward__isnull=False) & _first_since("previous_to_recipient", scope.start) | Q(
        recipient_ward__isnull=True
    ) & _first_since("previous_for_ward", scope.start)


def _grouped(grants: QuerySet[Grant], *keys) -> dict:
    """{key or tuple of keys: (grants, recipients, amount)} in one grouped query."""
    rows = grants.values_list(*keys).annotate(**GRANT_FIGURES).values_list(*keys, "n", "recipients", "amount")
    return {
        (row[0] if len(keys) == 1 else tuple(row[: len(keys)])): (n, recipients, amount or Decimal(0))
        for *row, n, recipients, amount in rows
    }


def _pounds(pence: int | Decimal | None) -> Decimal:
    """A sum of Grant.amount_in_pence as an amount in pounds, with its two decimal places (as a sum of
    the amounts would have them)."""
    return Decimal(pence).scaleb(-2) if pence is not None else Decimal(0)


def _funding_totals(grants: QuerySet[Grant]) -> tuple[int, int, Decimal]:
    totals = grants.aggregate(**GRANT_FIGURES)
    return totals["n"], totals["recipients"], totals["amount"] or Decimal(0)


# The breakdowns worked out together, in the order of their GROUPING SETS below (the total from the stages).
FUNDING_BREAKDOWNS = ("funder", "ward", "stage", "period", "total")


def _funding_breakdowns(scope: Scope, unit: str) -> dict[str, dict]:
    """{breakdown: {key: (grants, recipients, amount)}} for the grants into the sector in the scope, by
    funder (org-id, with a name), ward (the recipient's, else the grant's beneficiary ward), the
    recipient's development stage, `unit` ("quarter" or "year", keyed by its first day), and in total:
    one pass over the grants with GROUPING SETS, which the ORM does not write, where separate grouped
    queries would read the period's grants four times; the recipient's ward and stage are those the
    grant keeps (Grant.recipient_ward, recipient_stage), so no organisation is read. Same rows as
    ``_grants_into_sector``. The total is the stages' rows added up (every grant is in one, and so is
    every recipient's first): a grouping set fewer to work every grant's figures into.

    The recipients are counted from each one's first grant in the group (Grant.previous_*: the one
    before it is older than the period, or than the quarter or year for the over-time rows), not with
    COUNT(DISTINCT), which would sort the period's grants once per breakdown: every figure is a count
    or a sum (of whole pence, Grant.amount_in_pence: integers add up faster than decimals), and the sets
    are added up in hash tables in one scan."""
    if connection.vendor != "postgresql":
        return _funding_breakdowns_grouped_separately(scope, unit)
    grant = Grant._meta.db_table
    ward = 'COALESCE(g."recipient_ward_id", g."beneficiary_ward_id")'
    # From a timestamp without time zone: the same first day as through timestamptz (which the date
    # would be cast to), without working out the session time zone's offset for every grant.
    period = f"date_trunc('{'quarter' if unit == 'quarter' else 'year'}', g.\"award_date\"::timestamp)::date"

    def chain(own: str, for_ward: str, *, area: bool) -> str:
        """The grant before in the recipient's grants that share the group: in an area (or by ward), an
        organisation with no ward recorded is there only through its grants' beneficiary ward."""
        if not area:
            return f'g."{own}"'
        return f'CASE WHEN g."recipient_ward_id" IS NULL THEN g."{for_ward}" ELSE g."{own}" END'

    def first(previous: str, since: str = "%(start)s") -> str:
        return f"COUNT(*) FILTER (WHERE {previous} IS NULL OR {previous} < {since})"

    in_area = scope.area is not None
    to_recipient = chain("previous_to_recipient", "previous_for_ward", area=in_area)
    where, params = 'g."award_date" BETWEEN %(start)s AND %(end)s', {"start": scope.start, "end": scope.end}
    if in_area:
        where += f" AND {ward} = %(area)s"
        params["area"] = scope.area.pk
    sql = (
        f'SELECT GROUPING(g."funder_org_id", {ward}, g."recipient_stage", {period}), '
        f'g."funder_org_id", MAX(g."funder_name"), {ward}, g."recipient_stage", {period}, COUNT(*), '
        f'{first(chain("previous_from_funder", "previous_from_funder_for_ward", area=in_area))}, '
        f'{first(chain("previous_to_recipient", "previous_for_ward", area=True))}, '
        f"{first(to_recipient)}, {first(to_recipient, since=f'GREATEST(%(start)s, {period})')}, "
        f'SUM(g."amount_in_pence") '
        f'FROM "{grant}" g WHERE g."recipient_id" IS NOT NULL AND {where} '
        f'GROUP BY GROUPING SETS ((g."funder_org_id"), ({ward}), (g."recipient_stage"), ({period}))'
    )
    # GROUPING() sets a bit for each column left out of the row's set, the first column the highest;
    # then the set's name and which of the recipient counts is its own.
    which = {0b0111: ("funder", 0), 0b1011: ("ward", 1), 0b1101: ("stage", 2), 0b1110: ("period", 3)}
    result: dict[str, dict] = {name: {} for name in FUNDING_BREAKDOWNS}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for grouping, funder_id, funder_name, ward_id, stage, start, n, *recipients, amount in cursor.fetchall():
            name, counted = which[grouping]
            key = {"funder": (funder_id, funder_name), "ward": ward_id, "stage": stage, "period": start}[name]
            result[name][key] = (n, recipients[counted], _pounds(amount))
    stages = result["stage"].values()
    result["total"][None] = (
        sum(n for n, _recipients, _amount in stages),
        sum(recipients for _n, recipients, _amount in stages),
        sum((amount for _n, _recipients, amount in stages), Decimal(0)),
    )
    return result


def _funding_breakdowns_grouped_separately(scope: Scope, unit: str) -> dict[str, dict]:
    """The same breakdowns as ``_funding_breakdowns``, a grouped query each, for the embedded SQLite
    default (a newcomer's laptop), which has no GROUPING SETS."""
    grants = _grants_into_sector(scope).annotate(
        breakdown_ward=Coalesce("recipient_ward_id", "beneficiary_ward_id"),
        breakdown_period=(TruncQuarter if unit == "quarter" else TruncYear)("award_date"),
    )
    funders = grants.values("funder_org_id").annotate(funder=Max("funder_name"), **GRANT_FIGURES)
    return {
        "funder": {(row["funder_org_id"], row["funder"]): (row["n"], row["recipients"], row["amount"] or Decimal(0)) for row in funders},
        "ward": _grouped(grants, "breakdown_ward"),
        "stage": _grouped(grants, "recipient_stage"),
        "period": _grouped(grants, "breakdown_period"),
        "total": {None: _funding_totals(grants)},
    }


# The funding figures of a scope are kept in the shared cache under the data version of what they are
# counted from (migration 0009): asked again before anything they read has changed, a dashboard, its
# report or the key figures' period before reads them instead of three passes over the period's grants.
FUNDING_CHANGES = "evidence_funding_change"
KEPT_FUNDING_SECONDS = 24 * 60 * 60
# Moved on whenever what _funding_figures returns changes shape, so a deploy never reads an older one.
KEPT_FUNDING_KEY = "evidence-funding:1"


def _funding_version(scope: Scope) -> tuple[int, int] | None:
    """The data version of the grants, the organisations' segments and the listed services and their
    needs (migration 0009: its sum moves on when a transaction that wrote any of them commits), read
    once per page for the period and the period before, as (the changes table's oid, the sum): a
    database restored from a backup makes the table again, so it never reads figures kept before
    under a sum it comes back to. None when the figures are to be counted afresh: not on PostgreSQL,
    or this transaction has written there itself (what it sees is not yet anyone else's). Read before
    the figures, so figures kept under a version are never older than it."""
    if connection.vendor != "postgresql":
        return None

    def read() -> tuple[int, int] | None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT '{FUNDING_CHANGES}'::regclass::oid::bigint, SUM(changes)::bigint, "
                f"bool_or(transaction = txid_current_if_assigned()) FROM {FUNDING_CHANGES}"
            )
            table, changes, own = cursor.fetchone()
        return None if own else (table, changes)

    return once(scope.memo, "funding_version", read, also_into=_memo_before(scope))


def _funding_figures(scope: Scope, unit: str, before: Scope) -> tuple[dict[str, dict], dict[str, dict], tuple[int, int, Decimal]]:
    """(_funding_breakdowns, _grants_by_recipient, the totals of the period `before` for the trend) of
    the scope, kept under _funding_version."""

    def count():
        return _funding_breakdowns(scope, unit), _grants_by_recipient(scope), _funding_totals(_grants_into_sector(before))

    version = _funding_version(scope)
    if version is None:
        return count()
    key = f"{KEPT_FUNDING_KEY}:{version[0]}.{version[1]}:{scope.start}:{scope.end}:{scope.area.pk if scope.area else ''}:{unit}"
    figures = cache.get(key)
    if figures is None:
        figures = count()
        cache.set(key, figures, KEPT_FUNDING_SECONDS)
    return figures


def _recipient_groups() -> list[tuple[str, str, QuerySet, bool]]:
    """(breakdown, join, (group_key, group_organisation) pairs, whether a pair can repeat) for
    ``_grants_by_recipient``: a recipient's specialist segments (each once), joined LEFT so that a
    recipient in none counts under None, and the support needs its listed services meet, once per
    service meeting one: counted once per grant there, as the period's few grants' services can then be
    looked up rather than every listed service's pairs made distinct first."""
    segments = Organisation.segments.through.objects.order_by().values(
        group_key=F("taxonomyterm_id"), group_organisation=F("organisation_id")
    )
    meeting = (
        Service.objects.listed()
        .filter(needs__isnull=False)
        .order_by()
        .values(group_key=F("needs"), group_organisation=F("organisation_id"))
    )
    return [("segment", "LEFT", segments, False), ("need", "INNER", meeting, True)]


def _grants_by_recipient(scope: Scope) -> dict[str, dict]:
    """{"segment": {segment id or None: (grants, recipients, amount)}, "need": {need id: ...}} of the
    grants into the sector in the scope by what their recipient is or does (``_recipient_groups``): a
    grouped query per breakdown in one statement, each joining the period's grants to its pairs on the
    grant's recipient id (not through the organisation's row), so that the pairs are looked up or hashed
    for the grants there are, not built for every organisation first. A grant counts in every group its
    recipient is in. The recipients are counted from their first grants (``_first_to_recipient``)."""
    grants = _grants_into_sector(scope).values(
        grant_id=F("pk"),
        grant_recipient=F("recipient_id"),
        grant_amount=F("amount_in_pence"),
        grant_first=ExpressionWrapper(_first_to_recipient(scope), output_field=BooleanField()),
    )
    grants_sql, grants_params = grants.query.sql_with_params()
    groups = _recipient_groups()
    statements, params = [], []
    for number, (_name, join, pairs, repeats) in enumerate(groups):
        pairs_sql, pairs_params = pairs.query.sql_with_params()
        # Each grant once per group it counts in.
        in_groups = (
            f'SELECT {"DISTINCT " if repeats else ""}g."grant_id", g."grant_first", g."grant_amount", k."group_key" '
            f'FROM ({grants_sql}) g {join} JOIN ({pairs_sql}) k ON k."group_organisation" = g."grant_recipient"'
        )
        statements.append(
            f'SELECT {number}, r."group_key", COUNT(*), COUNT(CASE WHEN r."grant_first" THEN 1 END), SUM(r."grant_amount") '
            f'FROM ({in_groups}) r GROUP BY r."group_key"'
        )
        params += [*grants_params, *pairs_params]
    result: dict[str, dict] = {name: {} for name, _join, _pairs, _repeats in groups}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(statements), params)
        for number, key, n, recipients, pence in cursor.fetchall():
            result[groups[number][0]][key] = (n, recipients, _pounds(pence))
    return result


def _funding_chart(key: str, title: str, definition: str, rows, total, *, overlapping: bool = False, row_heading=None) -> Chart:
    return Chart(
        key=key,
        title=title,
        definition=definition,
        # One population: every breakdown's total is the same grants (rule 4).
        series=suppression.suppress_funding(rows, total=total, overlapping=overlapping, population="grants"),
        unit=_("grants and £"),
        row_heading=row_heading or _("Category"),
    )


def _funding_periods(scope: Scope) -> tuple[str, list[tuple[date, str]]]:
    """The rows of the over-time chart, (first day, label): each calendar quarter the period overlaps,
    or each year for a long period."""
    quarters = quarter_starts(scope.start, scope.end)
    if len(quarters) <= MAX_QUARTER_ROWS:
        return "quarter", [(quarter, quarter_label(quarter)) for quarter in quarters]
    return "year", [(date(year, 1, 1), str(year)) for year in range(scope.start.year, scope.end.year + 1)]


@dataclass
class NeedGap:
    """One need's row of the alignment table, as published: shares in whole per cent, or None when hidden."""

    need: str
    referral_share: int | None
    money_share: int | None
    referral_display: str
    money_display: str

    @property
    def gap(self) -> int | None:
        """Percentage points by which the need's share of referrals is above its share of the money."""
        if self.referral_share is None or self.money_share is None:
            return None
        return self.referral_share - self.money_share

    @property
    def gap_display(self) -> str:
        if self.gap is None:
            return _("not compared")
        return ngettext("%(sign)s%(points)s point", "%(sign)s%(points)s points", abs(self.gap)) % {
            "sign": "+" if self.gap > 0 else "\u2212" if self.gap < 0 else "",
            "points": abs(self.gap),
        }


def _share(part: int | Decimal, whole: int | Decimal) -> int:
    return int((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1))) if whole else 0


@dataclass
class NeedAlignment:
    """Per need, the referrals asking for it against the grants (and money) going to organisations with
    a service meeting it. The counts go through the rules like any others: a need's share of referrals
    is shown only when its count of referrals would be, its share of the money only when its count of
    grants would be, and neither when the total it is a share of is hidden (or the share would give the
    total away)."""

    rows: list[tuple[str, suppression.Count, suppression.Count, Decimal]]
    referrals: suppression.Count
    grants: suppression.Count
    total_amount: Decimal

    def counts(self):
        for _need, asked, funded, _amount in self.rows:
            yield asked
            yield funded
        yield self.referrals
        yield self.grants

    def replace_counts(self, change) -> None:
        self.rows = [(need, change(asked), change(funded), amount) for need, asked, funded, amount in self.rows]
        self.referrals = change(self.referrals)
        self.grants = change(self.grants)

    def lines(self) -> list:
        return []  # overlapping: a referral names several needs, an organisation meets several

    @property
    def is_empty(self) -> bool:
        return not self.referrals.value and not self.grants.value

    def summary(self) -> str:
        """The biggest gap in a sentence, or why there is none to give."""
        gaps = self.gaps()
        if not gaps or gaps[0].gap is None:
            return _("No need can be compared: too few referrals or grants, or no grants to organisations meeting a need.")
        top = gaps[0]
        return _(
            "The biggest gap: %(need)s, asked for in %(asked)s of referrals, while %(funded)s of the grant money went to "
            "organisations meeting it."
        ) % {"need": top.need, "asked": top.referral_display, "funded": top.money_display}

    def gaps(self) -> list[NeedGap]:
        """Every need, those with a gap shown first, biggest gap (most asked for against least funded)
        first; the rest after in the vocabulary's order, so that where a hidden row sits says nothing."""
        rows = []
        for need, asked, funded, amount in self.rows:
            if not self.referrals.value:
                referral_share, referral_display = None, _("no referrals")
            elif asked.hidden or self.referrals.hidden:
                referral_share, referral_display = None, _("withheld")
            else:
                referral_share = _share(asked.value, self.referrals.value)
                referral_display = f"{referral_share}%"
            if not self.total_amount:
                money_share, money_display = None, _("no grants")
            elif funded.hidden or self.grants.hidden:
                money_share, money_display = None, _("withheld")
            else:
                money_share = _share(amount, self.total_amount)
                money_display = f"{money_share}%"
            rows.append(NeedGap(need, referral_share, money_share, referral_display, money_display))
        shown = sorted((row for row in rows if row.gap is not None), key=lambda row: -row.gap)
        return shown + [row for row in rows if row.gap is None]


def _need_alignment(scope: Scope, total: tuple[int, int, Decimal], funded_by_need: dict[int, tuple[int, int, Decimal]]) -> NeedAlignment:
    """From the grants by the needs their recipients meet (``_grants_by_recipient``) and the referrals by need
    the referral section has already counted."""
    referral_data = _referral_statistics(scope)
    asked = dict(referral_data["by_need"])
    rows = []
    for need in _kept_terms(Taxonomy.NEEDS):
        if need.name not in asked and need.pk not in funded_by_need:
            continue
        n, recipients, amount = funded_by_need.get(need.pk, (0, 0, Decimal(0)))
        rows.append((need.name, suppression.count(asked.get(need.name, 0)), suppression.grant_count(n, recipients), amount))
    grants_n, recipients, amount = total
    return NeedAlignment(
        rows=rows,
        referrals=suppression.count(referral_data["total"], population="referrals"),
        grants=suppression.grant_count(grants_n, recipients, population="grants"),
        total_amount=amount,
    )


def _referral_statistics(scope: Scope) -> dict:
    """The referral figures of the scope, counted once for the referral and funding sections."""
    return once(
        scope.memo,
        "referral_statistics",
        lambda: referral_selectors.referral_statistics(start=scope.start, end=scope.end, ward=scope.area, memo=scope.memo),
    )


@dataclass
class FundingTrend:
    """The period's grants and money against the period before, in words (as the key figures). Read
    from the funder chart's total when the page is drawn, that is after every rule has run, so a total
    withheld anywhere on the page is not given here either."""

    chart: Chart
    before: tuple[int, int, Decimal]
    period_name: str

    def __str__(self) -> str:
        now, money = self.chart.series.total, self.chart.series.total_money
        before_n, before_recipients, before_amount = self.before
        before = suppression.grant_count(before_n, before_recipients)
        words = {"period": self.period_name}
        if not now.value:
            return _("No grants recorded in the period.")
        if now.hidden:
            return _("Too few grants in the period to give their total.")
        words.update(amount=money.display, grants=now.display, before=suppression.Money(before_amount).display)
        text = ngettext("%(amount)s in %(grants)s grant", "%(amount)s in %(grants)s grants", now.value) % words
        if not before_n:
            return text + ". " + _("Nothing was recorded in %(period)s to compare with.") % words
        if before.hidden:
            return text + ". " + _("Not compared with %(period)s: a small number is hidden.") % words
        change = money.value - before_amount
        words["change"] = suppression.Money(abs(change)).display
        if change > 0:
            return text + ": " + _("up %(change)s from %(before)s in %(period)s.") % words
        if change < 0:
            return text + ": " + _("down %(change)s from %(before)s in %(period)s.") % words
        return text + ": " + _("no change from %(period)s.") % words


def funding_section(scope: Scope) -> Section:
    """Money into the sector: grants awarded in the period to organisations in the database, by funder,
    ward, segment, development stage and over time, and how it lines up with the needs referrals ask for.
    Grants are counted like records about organisations (``suppression.grant_count``), and each sum of
    money is shown only when its count of grants is. A constant number of grouped queries."""
    unit, periods = _funding_periods(scope)
    before_scope, before_name = previous_period(scope)
    breakdowns, by_recipient, before_totals = _funding_figures(scope, unit, before_scope)
    total = breakdowns["total"][None]
    section = Section(
        key="funding",
        title=_("Funding into the sector"),
        intro=_(
            "Grants awarded in the period to organisations in the directory: those other funders publish in their "
            "360Giving data (imported here) and those the network distributes itself, both counted as money into the "
            "sector. Grants to organisations not in the directory are left out."
        ),
    )
    network_id = settings.PORTAL_NETWORK_ORG_ID
    funders = []
    # By org-id: one funder whose files spell its name two ways is one row.
    for (org_id, name), (n, recipients, amount) in breakdowns["funder"].items():
        label = _("%(name)s (the network's own grants)") % {"name": name} if org_id == network_id else name
        funders.append((label, n, recipients, amount))
    funders.sort(key=lambda row: row[0].lower())
    section.charts.append(
        _funding_chart(
            "grants-by-funder",
            _("Grants by funder"),
            _(
                "Grants awarded in the period to organisations in the directory (in the area), by funder: the number of "
                "grants and the amount awarded. Each grant is in one row, so the rows add up to the total. A funder's "
                "figures are shown only for 5 or more grants to 5 or more organisations."
            ),
            funders,
            total,
            row_heading=_("Funder"),
        )
    )
    section.trend = FundingTrend(chart=section.charts[-1], before=before_totals, period_name=before_name)
    ward_groups = breakdowns["ward"]
    wards = [scope.area] if scope.area is not None else kept_wards()
    ward_rows = [(ward.name, *ward_groups.get(ward.pk, (0, 0, Decimal(0)))) for ward in wards]
    if scope.area is None:
        ward_rows.append((_("Ward not recorded"), *ward_groups.get(None, (0, 0, Decimal(0)))))
    section.charts.append(
        _funding_chart(
            "grants-by-ward",
            _("Grants by ward"),
            _("The same grants by the ward of the organisation that received them or, when it has none recorded, the grant's beneficiary ward."),
            ward_rows,
            total,
            row_heading=_("Ward"),
        )
    )
    segment_groups = by_recipient["segment"]
    segment_rows = [
        (term.name, *segment_groups.get(term.pk, (0, 0, Decimal(0)))) for term in _kept_terms(Taxonomy.SEGMENTS)
    ]
    segment_rows.append((_("No segment recorded"), *segment_groups.get(None, (0, 0, Decimal(0)))))
    section.charts.append(
        _funding_chart(
            "grants-by-segment",
            _("Grants by the recipient's specialist segment"),
            _(
                "The same grants by the specialist segments of the organisation that received them. An organisation can "
                "be in several segments, so a grant can count in several rows and the rows add up to more than the total."
            ),
            segment_rows,
            total,
            overlapping=True,
            row_heading=_("Segment"),
        )
    )
    stage_groups = breakdowns["stage"]
    stage_rows = [(str(label), *stage_groups.get(value, (0, 0, Decimal(0)))) for value, label in Organisation.Stage.choices]
    stage_rows.append((_("Stage not recorded"), *stage_groups.get(None, (0, 0, Decimal(0)))))
    section.charts.append(
        _funding_chart(
            "grants-by-stage",
            _("Grants by the recipient's development stage"),
            _("The same grants by the development stage recorded for the organisation that received them (stage 1 emerging, 2 improving, 3 established)."),
            stage_rows,
            total,
            row_heading=_("Development stage"),
        )
    )
    by_start = breakdowns["period"]
    time_rows = [(label, *by_start.get(start, (0, 0, Decimal(0)))) for start, label in periods]
    section.charts.append(
        _funding_chart(
            "grants-over-time",
            _("Grants over time"),
            _(
                "The same grants by the %(unit)s they were awarded in (the first and last only count the days inside the "
                "period). Each grant is in one row, so the rows add up to the total."
            )
            % {"unit": _("quarter") if unit == "quarter" else _("year")},
            time_rows,
            total,
            row_heading=_("Quarter") if unit == "quarter" else _("Year"),
        )
    )
    section.charts.append(
        Chart(
            key="needs-and-funding",
            title=_("Needs asked for and where the money goes"),
            definition=_(
                "For each support need: the share of referrals made in the period (by VCOs in the area) that asked for it, "
                "against the share of the grant money above that went to organisations with a listed service meeting that "
                "need. A referral can name several needs and an organisation can meet several, so neither column adds up "
                "to 100%. The gap is the first share minus the second, in percentage points: a large gap is a need asked "
                "for far more often than money goes to organisations meeting it. Sorted by the gap, biggest first; needs "
                "whose shares rest on small numbers are not compared and come last."
            ),
            alignment=_need_alignment(scope, total, by_recipient["need"]),
            unit=_("per cent"),
            row_heading=_("Support need"),
        )
    )
    return section


# Delivery by area ----------------------------------------------------------------------------------


def _delivery_row(label: str, figures: dict, states: list[tuple[str, str]], *, populations: bool) -> suppression.ComparisonRow:
    """One area's row of the delivery table; `populations` for the row that counts the same referrals
    as the rest of the page (the referral section's), so that rule 4 links them."""
    return suppression.ComparisonRow(
        label=label,
        base=suppression.count(figures["asked"], population="referrals" if populations else ""),
        part=suppression.count(figures["in_time"]),
        statistic=suppression.Statistic(
            value=figures["median_hours"],
            n=figures["answered"],
            unit=_("hours"),
            population="answered-referrals" if populations else "",
        ),
        breakdown=[
            suppression.count(figures["states"].get(state, 0), population=_referral_state_population(state_label) if populations else "")
            for state, state_label in states
        ],
    )


def _delivery_comparison(scope: Scope, *, medians: bool) -> suppression.Comparison:
    """Every ward (and those with no ward recorded, when any asked) beside the whole borough; or, for
    a ward's dashboard, that ward beside the borough."""
    delivery = referral_selectors.delivery_by_ward(start=scope.start, end=scope.end, medians=medians, memo=scope.memo)
    by_ward, borough, states = delivery["wards"], delivery["borough"], delivery["states"]
    empty = {"asked": 0, "states": {}, "answered": 0, "in_time": 0, "median_hours": None}
    if scope.area is not None:
        rows = [_delivery_row(scope.area.name, by_ward.get(scope.area.pk, empty), states, populations=True)]
        total = _delivery_row(_("The whole borough"), borough, states, populations=False)
        adds_up = False
    else:
        wards = list(kept_wards())  # a copy: retired wards are added to it
        # A ward no longer in use still has its row while its organisations' referrals are counted,
        # or the borough less the rows would give its figures away.
        retired = set(by_ward) - {ward.pk for ward in wards} - {None}
        wards += TaxonomyTerm.objects.filter(pk__in=retired).order_by("name") if retired else []
        rows = [_delivery_row(ward.name, by_ward.get(ward.pk, empty), states, populations=False) for ward in wards]
        if None in by_ward:
            rows.append(_delivery_row(_("Ward not recorded"), by_ward[None], states, populations=False))
        total = _delivery_row(_("The whole borough"), borough, states, populations=True)
        adds_up = True
    return suppression.suppress_comparison(
        suppression.Comparison(breakdown_labels=[label for _state, label in states], rows=rows, total=total, total_adds_up=adds_up)
    )


DELIVERY_COLUMNS = {
    "asked": gettext_lazy("Referrals asked"),
    "in_time": gettext_lazy("Answered within the deadline"),
    "share": gettext_lazy("Share answered within the deadline (%)"),
    "median": gettext_lazy("Median hours to first response"),
}


def _comparison_long_rows(comparison: suppression.Comparison):
    for row in comparison.all_rows:
        yield row.label, str(DELIVERY_COLUMNS["asked"]), row.base.shown_value, row.base.display
        yield row.label, str(DELIVERY_COLUMNS["in_time"]), row.part.shown_value, row.part.display
        yield row.label, str(DELIVERY_COLUMNS["share"]), row.share, row.share_display
        median = row.statistic
        yield row.label, str(DELIVERY_COLUMNS["median"]), round(float(median.shown_value), 1) if median.shown_value is not None else None, median.display
        for label, cell in zip(comparison.breakdown_labels, row.breakdown, strict=True):
            yield row.label, label, cell.shown_value, cell.display


def delivery_section(scope: Scope, *, medians: bool = True) -> Section:
    """Referrals by the asking VCO's ward, side by side with the borough: how many were asked, how
    many answered within the deadline, how fast, and where they ended up. Two queries for every ward;
    one with medians=False (the medians are then not worked out)."""
    from referrals.services import response_days

    days = response_days()
    section = Section(
        key="areas",
        title=_("Delivery by area"),
        intro=_(
            "The same referrals as above, by the ward of the organisation that asked, beside the whole borough, so that "
            "differences between areas can be asked about. Small numbers are hidden as everywhere on this page."
        ),
    )
    section.charts.append(
        Chart(
            key="delivery-by-area",
            title=_("Referrals by area: answered, how fast, and outcomes"),
            definition=_(
                "Referrals made in the period by VCOs, by the ward recorded for the organisation that asked, and for the "
                "whole borough. Each referral is in one area and in one outcome column, so the outcome columns add up to "
                "the referrals asked, and the areas to the borough."
            ),
            comparison=_delivery_comparison(scope, medians=medians),
            unit=_("referrals, per cent or hours"),
            row_heading=_("Area"),
            note=_(
                "Areas harvested from other directories have no referral data here: only referrals made through this "
                "portal are counted, so they are not shown."
            ),
            column_definitions=[
                (str(DELIVERY_COLUMNS["asked"]), _("Referrals made in the period by VCOs in the area.")),
                (
                    str(DELIVERY_COLUMNS["in_time"]),
                    ngettext(
                        "Of those, the referrals a provider first answered (accepting, declining or passing them on) within "
                        "%(days)s working day: by the end of the first working day after the day the referral reached that "
                        "provider, weekends and England and Wales bank holidays not counted. This is the deadline providers "
                        "are given, reminded of and escalated on.",
                        "Of those, the referrals a provider first answered (accepting, declining or passing them on) within "
                        "%(days)s working days: by the end of working day %(days)s counted from the day after the referral "
                        "reached that provider, weekends and England and Wales bank holidays not counted. This is the "
                        "deadline providers are given, reminded of and escalated on.",
                        days,
                    )
                    % {"days": days},
                ),
                (
                    str(DELIVERY_COLUMNS["share"]),
                    _(
                        "Answered within the deadline as a share of all referrals asked, so referrals never answered (still "
                        "waiting, or withdrawn before an answer) count against it; shown only where both counts are."
                    ),
                ),
                (
                    str(DELIVERY_COLUMNS["median"]),
                    _(
                        "The middle value of the hours from a referral reaching a provider to its first answer, over the "
                        "referrals answered; withheld when fewer than 5 were answered."
                    ),
                ),
                (
                    _("Outcome columns"),
                    _(
                        "Where each referral stands now: closed ones by their outcome (withdrawn: the group no longer "
                        "needed the support), the others by their status."
                    ),
                ),
            ],
        )
    )
    return section


# Short names for the evidence pack's sheets (a spreadsheet allows 31 characters).
SHEET_NAMES = {
    "organisations": gettext_lazy("Organisations"),
    "volunteers": gettext_lazy("Volunteers and staff"),
    "providers": gettext_lazy("Provider coverage"),
    "referrals": gettext_lazy("Referrals"),
    "events": gettext_lazy("Events and training"),
    "health_checks": gettext_lazy("Health checks"),
    "quality": gettext_lazy("Quality standards"),
    "projects": gettext_lazy("Joint projects"),
    "funding": gettext_lazy("Funding into the sector"),
    "areas": gettext_lazy("Delivery by area"),
    "baseline": gettext_lazy("Baseline coverage"),  # not a dashboard section: services._write_baseline_sheet
}

SECTIONS = (
    organisation_section,
    volunteer_section,
    provider_section,
    referral_section,
    event_section,
    health_check_section,
    quality_section,
    project_section,
    funding_section,
    delivery_section,
)


def sector_dashboard(
    scope: Scope, *, on_section: Callable[[int, Section], None] | None = None, sections: tuple | None = None
) -> Dashboard:
    """Every section for a scope: the one way the dashboard page, its downloads, the report and the
    evidence pack get their figures, so that rule 4 of ``suppression`` (one population, one total)
    holds across all they publish together. `on_section(index, section)` hears of each section built.
    `sections` is only for key_figures' period before (see KEY_FIGURE_SECTIONS)."""
    builders, sections = SECTIONS if sections is None else sections, []
    for index, build in enumerate(builders):
        sections.append(build(scope))
        if on_section is not None:
            on_section(index, sections[-1])
    suppression.protect_shared_totals(
        [
            figure
            for section in sections
            for chart in section.charts
            for figure in (chart.series, chart.table, chart.alignment, chart.comparison)
            if figure is not None
        ]
        + [statistic.value for section in sections for statistic in section.statistics]
    )
    return Dashboard(scope=scope, sections=sections)


# The summary: a handful of headline figures and how each moved ---------------------------------------


def previous_period(scope: Scope) -> tuple[Scope, str]:
    """The period of the same length just before, and how to name it in a sentence ("the previous
    quarter"). A period of whole months steps back by months, any other by days."""
    after_end = scope.end + timedelta(days=1)
    # The only number of months that can step back from the day after the end to the start.
    months = (after_end.year - scope.start.year) * 12 + after_end.month - scope.start.month
    if not (1 <= months <= 240 and after_end - relativedelta(months=months) == scope.start):
        months = None
    if months is not None:
        start, end = scope.start - relativedelta(months=months), scope.start - timedelta(days=1)
        if months == 12 and scope.start.month == 1 and scope.start.day == 1:
            name = _("the previous year")
        elif months == 3 and scope.start.day == 1 and scope.start.month in (1, 4, 7, 10):
            name = _("the previous quarter")
        elif months == 1:
            name = _("the previous month")
        else:
            name = _("the previous %(count)s months") % {"count": months}
    else:
        days = (scope.end - scope.start).days + 1
        start, end = scope.start - timedelta(days=days), scope.start - timedelta(days=1)
        name = ngettext("the previous day", "the previous %(count)s days", days) % {"count": days}
    return Scope(start=start, end=end, area=scope.area, memo=_memo_before(scope)), name


@dataclass
class KeyFigure:
    """A headline figure of the period, with the same figure for the period before: both exactly as
    their own dashboards publish them, so the comparison gives nothing away that they do not."""

    key: str
    title: str
    figure: suppression.Count
    previous: suppression.Count | None  # None: nothing was recorded in the previous period
    previous_name: str
    section: str  # where the figure's breakdowns are

    @property
    def change(self) -> int | None:
        if self.previous is None or self.figure.hidden or self.previous.hidden:
            return None
        return self.figure.value - self.previous.value

    @property
    def trend(self) -> str:
        """How the figure moved, in words (never only an arrow or a colour)."""
        words = {"period": self.previous_name}
        if self.previous is None:
            return _("Nothing was recorded in %(period)s to compare with.") % words
        if self.change is None:
            return _("Not compared with %(period)s: a small number is hidden.") % words
        words.update(change=number_format(abs(self.change), force_grouping=True), before=self.previous.display)
        if self.change > 0:
            return _("Up %(change)s from %(before)s in %(period)s.") % words
        if self.change < 0:
            return _("Down %(change)s from %(before)s in %(period)s.") % words
        return _("No change from %(period)s.") % words

    @property
    def direction(self) -> str:
        """"up", "down", "same" or "": for the page's styling only (the words say it too)."""
        if self.change is None:
            return ""
        return "up" if self.change > 0 else "down" if self.change < 0 else "same"


# (key, title, section key, chart key, which count of the chart): the headline figures, each one a
# count already published in its section.
KEY_FIGURES = (
    ("vcos", gettext_lazy("Voluntary and community organisations on record"), "organisations", "vcos-by-stage", "total"),
    ("providers", gettext_lazy("Infrastructure providers offering support"), "providers", "providers-by-function", "total"),
    ("referrals", gettext_lazy("Referrals for support made"), "referrals", "referrals-by-outcome", "total"),
    ("attendances", gettext_lazy("People who attended events and training"), "events", "events-and-attendance", 3),
    ("volunteers", gettext_lazy("Volunteers in voluntary and community organisations"), "volunteers", "volunteers-by-stage", "total"),
    ("grants", gettext_lazy("Grants to organisations in the sector"), "funding", "grants-by-funder", "total"),
)


def _delivery_counts_section(scope: Scope) -> Section:
    """Delivery by area for the key figures' period before: rule 4 reads its counts there (the
    medians' numbers of records among them), and none of its medians is shown."""
    return delivery_section(scope, medians=False)


# The sections the key figures come from. The period before is built from these alone: the other
# sections count populations of their own (see tests/evidence: their populations share nothing with
# these), so rule 4 withholds exactly the same counts here as on that period's whole dashboard.
KEY_FIGURE_SECTIONS = (
    organisation_section,
    volunteer_section,
    provider_section,
    referral_section,
    event_section,
    funding_section,
    # It counts the referral section's referrals again, by area (rule 4 links them).
    _delivery_counts_section,
)


def _published_count(board: Dashboard, section_key: str, chart_key: str, which) -> suppression.Count | None:
    section = next((section for section in board.sections if section.key == section_key), None)
    chart = next((chart for chart in section.charts if chart.key == chart_key), None) if section else None
    if chart is None or chart.series is None:
        return None
    return chart.series.total if which == "total" else chart.series.rows[which][1]


def key_figures(board: Dashboard) -> list[KeyFigure]:
    """The dashboard's summary: each headline figure against the same figure for the period before,
    taken from that period's own dashboard (so suppressed the same way it would be there)."""
    scope, name = previous_period(board.scope)
    before = sector_dashboard(scope, sections=KEY_FIGURE_SECTIONS) if period_has_data(scope) else None
    figures = []
    for key, title, section_key, chart_key, which in KEY_FIGURES:
        figure = _published_count(board, section_key, chart_key, which)
        if figure is None:
            continue
        figures.append(
            KeyFigure(
                key=key,
                title=str(title),
                figure=figure,
                previous=_published_count(before, section_key, chart_key, which) if before is not None else None,
                previous_name=name,
                section=section_key,
            )
        )
    return figures


def period_has_data(scope: Scope) -> bool:
    """Whether anything happened in the period: organisations on record, projects running. A period
    before anything was recorded gets the "no data" page rather than a page of zeros."""
    # The VCOs' grouped figures rather than a query of its own: the organisation section reads them next.
    return bool(_vco_groups(scope)) or JointProject.objects.filter(start_date__lte=scope.end, end_date__gte=scope.start).exists()


# The baseline of support: which areas have the minimum the network agreed ------------------------------

BASELINE_DEFINITION = gettext_lazy(
    "For each area and each item of the baseline the network agreed: whether at least the item's number of "
    "different providers has a listed service offering the function (for the segment, when the item names one, "
    "only services naming that segment count). A service that names no wards serves every ward of the borough. "
    "Free of charge: only services marked free with no fee given count; one that charges, or whose fee is not "
    "known, does not. Our borough's areas count the portal's own services; another directory's area counts the "
    "services harvested from it (not those hidden by an admin or withdrawn by the directory), over the area as a "
    "whole, as its wards are not ours. An item to be met in each ward is met by the borough only when every ward "
    "meets it. Providers are public facts from the directory, so small numbers are shown as they are."
)
BASELINE_HEADERS = (
    gettext_lazy("Area"),
    gettext_lazy("Kind of area"),
    gettext_lazy("Baseline item"),
    gettext_lazy("Met"),
    gettext_lazy("Providers"),
    gettext_lazy("Provider names"),
    gettext_lazy("Missing"),
)
# The monthly record keeps what was met, not what was missing.
BASELINE_HISTORY_HEADERS = (gettext_lazy("Month"), *BASELINE_HEADERS[:-1])
BASELINE_HISTORY_MONTHS = 12
BOROUGH_AREA_KEY = "borough"
# Providers named in one cell on the page; the CSV names them all.
BASELINE_NAMES_SHOWN = 10


@dataclass(frozen=True)
class BaselineArea:
    """An area the baseline is measured in: the borough, one of its wards, or another directory's area."""

    key: str  # "borough", "ward:<code>" or "directory:<id>": what snapshots keep
    label: str
    kind: str  # BaselineSnapshot.AreaKind

    @property
    def anchor(self) -> str:
        return "area-" + self.key.replace(":", "-")

    @property
    def kind_label(self) -> str:
        return str(BaselineSnapshot.AreaKind(self.kind).label)


@dataclass(frozen=True)
class ProviderLink:
    name: str
    url: str


@dataclass
class BaselineCell:
    """One area against one baseline item. `applies` is False for an item to be met across the
    borough as a whole, looked at in one ward."""

    area: BaselineArea
    item: BaselineItem
    applies: bool
    providers: list[ProviderLink] = field(default_factory=list)
    met: bool = False
    missing: str = ""

    @property
    def status(self) -> str:
        return "met" if self.met else "missing" if self.applies else "not-applicable"

    @property
    def shown_providers(self) -> list[ProviderLink]:
        return self.providers[:BASELINE_NAMES_SHOWN]

    @property
    def more_providers(self) -> int:
        return max(0, len(self.providers) - BASELINE_NAMES_SHOWN)

    @property
    def met_text(self) -> str:
        """"yes", "no" or "not applicable", for downloads."""
        return _("yes") if self.met else _("no") if self.applies else _("not applicable")


@dataclass
class BaselineCoverage:
    items: list[BaselineItem]
    areas: list[BaselineArea]
    cells: dict[tuple[str, int], BaselineCell]

    def row(self, area: BaselineArea) -> list[BaselineCell]:
        return [self.cells[(area.key, item.pk)] for item in self.items]

    def rows(self) -> list[tuple[BaselineArea, list[BaselineCell], int, int]]:
        """(area, its cells in item order, items met, items that apply) for every area."""
        result = []
        for area in self.areas:
            cells = self.row(area)
            result.append((area, cells, sum(cell.met for cell in cells), sum(cell.applies for cell in cells)))
        return result

    def applicable_cells(self):
        for area in self.areas:
            for cell in self.row(area):
                if cell.applies:
                    yield cell

    def download_rows(self):
        """One row per area and item (BASELINE_HEADERS): the page's CSV and the evidence pack's sheet."""
        for area in self.areas:
            for cell in self.row(area):
                yield [
                    area.label,
                    area.kind_label,
                    cell.item.description,
                    cell.met_text,
                    len(cell.providers) if cell.applies else None,
                    MULTI_VALUE_SEPARATOR.join(provider.name for provider in cell.providers),
                    cell.missing,
                ]


def _shortfall(item: BaselineItem, count: int) -> str:
    words = {"need": item.minimum_providers, "has": count}
    if item.free_only:
        return ngettext("needs %(need)s free provider, has %(has)s", "needs %(need)s free providers, has %(has)s", item.minimum_providers) % words
    return ngettext("needs %(need)s provider, has %(has)s", "needs %(need)s providers, has %(has)s", item.minimum_providers) % words


def _baseline_areas(wards: list[TaxonomyTerm], sources: list[HarvestSource]) -> list[BaselineArea]:
    kinds = BaselineSnapshot.AreaKind
    return (
        [BaselineArea(BOROUGH_AREA_KEY, _("The whole borough"), kinds.BOROUGH)]
        + [BaselineArea(f"ward:{ward.code}", ward.name, kinds.WARD) for ward in wards]
        + [BaselineArea(f"directory:{source.pk}", source.name, kinds.HARVESTED) for source in sources]
    )


def _item_function_ids(items: list[BaselineItem]) -> dict[int, set[int]]:
    """The functions each item accepts: its own, and, for a heading, every function under it."""
    children = defaultdict(set)
    for pk, parent_id in TaxonomyTerm.objects.in_taxonomy(Taxonomy.FUNCTIONS).filter(parent__isnull=False).values_list("pk", "parent_id"):
        children[parent_id].add(pk)
    return {item.pk: {item.function_id} | children.get(item.function_id, set()) for item in items}


def baseline_coverage() -> BaselineCoverage:
    """Every area against every active baseline item, as the directory stands now: the borough, each
    ward and each other directory harvested (an active HarvestSource). Nine queries however many areas,
    items and services (see BASELINE_DEFINITION for what counts)."""
    items = list(BaselineItem.objects.active().select_related("function", "segment"))
    wards = list(ward_terms())
    sources = list(HarvestSource.objects.filter(is_active=True).order_by("name", "pk"))
    areas = _baseline_areas(wards, sources)
    accepts = _item_function_ids(items)
    wanted_functions = set().union(*accepts.values()) if accepts else set()
    wanted_segments = {item.segment_id for item in items if item.segment_id}
    # Our own services, and those harvested from an active source (listed(): not hidden, not withdrawn).
    services = Service.objects.listed().filter(Q(source__isnull=True) | Q(source__in=[source.pk for source in sources])).order_by()
    service_rows = {
        pk: (organisation_id, source_id, is_free and not fee_amount)
        for pk, organisation_id, source_id, is_free, fee_amount in services.values_list("pk", "organisation_id", "source_id", "is_free", "fee_amount")
    } if items else {}
    # The links of the wanted terms, kept for the services above: cheaper by the terms' indexes than
    # joining each link table to the services' conditions again.
    service_functions, service_segments, service_wards = defaultdict(set), defaultdict(set), defaultdict(set)
    link_tables = [(Service.functions.through, wanted_functions, service_functions), (Service.wards.through, None, service_wards)]
    if wanted_segments:
        link_tables.append((Service.segments.through, wanted_segments, service_segments))
    for through, wanted, found in link_tables if service_rows else ():
        rows = through.objects.order_by()
        if wanted is not None:
            rows = rows.filter(taxonomyterm_id__in=wanted)
        for service_id, term_id in rows.values_list("service_id", "taxonomyterm_id"):
            if service_id in service_rows:
                found[service_id].add(term_id)
    # Per item: the providers meeting it borough-wide, ward by ward, and in each other directory.
    everywhere, in_ward, own, by_source = defaultdict(set), defaultdict(set), defaultdict(set), defaultdict(set)
    for service_id, function_ids in service_functions.items():
        organisation_id, source_id, free = service_rows[service_id]
        for item in items:
            if not function_ids & accepts[item.pk] or (item.free_only and not free):
                continue
            if item.segment_id and item.segment_id not in service_segments.get(service_id, ()):
                continue
            if source_id is not None:
                by_source[(item.pk, source_id)].add(organisation_id)
                continue
            own[item.pk].add(organisation_id)
            ward_ids = service_wards.get(service_id)
            if not ward_ids:
                everywhere[item.pk].add(organisation_id)
            for ward_id in ward_ids or ():
                in_ward[(item.pk, ward_id)].add(organisation_id)
    named = set().union(*own.values(), *by_source.values()) if items else set()
    # Each organisation's page address from one reverse(), and its place in name order worked out once.
    page = reverse("organisations:organisation_detail", kwargs={"slug": "organisation-slug"})
    organisations = {
        pk: ProviderLink(name=name, url=page.replace("organisation-slug", slug))
        for pk, name, slug in Organisation.objects.filter(pk__in=named).values_list("pk", "name", "slug")
    }
    rank = {pk: n for n, pk in enumerate(sorted(organisations, key=lambda pk: (organisations[pk].name.lower(), organisations[pk].url)))}

    def links(ids) -> list[ProviderLink]:
        return [organisations[pk] for pk in sorted((pk for pk in ids if pk in organisations), key=rank.__getitem__)]

    def judged(area: BaselineArea, item: BaselineItem, ids) -> BaselineCell:
        met = len(ids) >= item.minimum_providers
        return BaselineCell(area=area, item=item, applies=True, providers=links(ids), met=met, missing="" if met else _shortfall(item, len(ids)))

    cells = {}
    ward_areas = dict(zip((area.key for area in areas if area.kind == BaselineSnapshot.AreaKind.WARD), wards, strict=True))
    for item in items:
        each_ward = item.reach == BaselineItem.Reach.EACH_WARD
        short = []
        for area in areas:
            if area.kind == BaselineSnapshot.AreaKind.WARD:
                if not each_ward:
                    cells[(area.key, item.pk)] = BaselineCell(area=area, item=item, applies=False)
                    continue
                cell = judged(area, item, everywhere[item.pk] | in_ward[(item.pk, ward_areas[area.key].pk)])
                if not cell.met:
                    short.append(area.label)
            elif area.kind == BaselineSnapshot.AreaKind.HARVESTED:
                cell = judged(area, item, by_source[(item.pk, int(area.key.split(":")[1]))])
            else:
                continue  # the borough: after its wards, for an item to be met in each
            cells[(area.key, item.pk)] = cell
        borough = areas[0]
        cell = judged(borough, item, own[item.pk])
        if each_ward and wards and short:
            cell.met = False
            cell.missing = ngettext(
                "short in %(count)s of %(wards)s ward: %(names)s",
                "short in %(count)s of %(wards)s wards: %(names)s",
                len(wards),
            ) % {"count": len(short), "wards": len(wards), "names": ", ".join(short)}
        cells[(borough.key, item.pk)] = cell
    return BaselineCoverage(items=items, areas=areas, cells=cells)


@dataclass
class BaselineChange:
    area: BaselineArea
    newly_met: list[BaselineItem]
    newly_missing: list[BaselineItem]


@dataclass
class BaselineHistory:
    """Items met per area per month (from the monthly snapshots), and what changed since last month."""

    months: list[date]
    # (area label, [(met, items recorded) or None for each month])
    rows: list[tuple[str, list[tuple[int, int] | None]]]
    previous_month: date
    changes: list[BaselineChange]
    has_previous: bool

    @property
    def is_empty(self) -> bool:
        return not self.rows


def month_start(day: date) -> date:
    return day.replace(day=1)


def baseline_history(coverage: BaselineCoverage, *, today: date | None = None) -> BaselineHistory:
    """The last BASELINE_HISTORY_MONTHS months of snapshots, area by area in the page's order (areas
    no longer measured after), and each area's items newly met or newly missing now against last
    month's snapshot. Two queries."""
    this_month = month_start(today or timezone.localdate())
    months = [this_month - relativedelta(months=n) for n in range(BASELINE_HISTORY_MONTHS - 1, -1, -1)]
    grouped = (
        BaselineSnapshot.objects.filter(month__gte=months[0], month__lte=this_month, item__is_active=True)
        .values_list("area_key", "month")
        .annotate(label=Max("area_label"), met=Count("pk", filter=Q(met=True)), n=Count("pk"))
        .order_by()
    )
    by_area: dict[str, dict[date, tuple[int, int]]] = defaultdict(dict)
    labels = {}
    for area_key, month, label, met, n in grouped:
        by_area[area_key][month] = (met, n)
        labels.setdefault(area_key, label)
    order = [area.key for area in coverage.areas if area.key in by_area]
    order += sorted((key for key in by_area if key not in set(order)), key=lambda key: labels[key].lower())
    current_labels = {area.key: area.label for area in coverage.areas}
    rows = [(current_labels.get(key, labels[key]), [by_area[key].get(month) for month in months]) for key in order]
    previous_month = this_month - relativedelta(months=1)
    before = dict(
        ((area_key, item_id), met)
        for area_key, item_id, met in BaselineSnapshot.objects.filter(month=previous_month).values_list("area_key", "item_id", "met")
    )
    changes = []
    for area in coverage.areas:
        newly_met, newly_missing = [], []
        for cell in coverage.row(area):
            was = before.get((area.key, cell.item.pk))
            if not cell.applies or was is None or was == cell.met:
                continue
            (newly_met if cell.met else newly_missing).append(cell.item)
        if newly_met or newly_missing:
            changes.append(BaselineChange(area=area, newly_met=newly_met, newly_missing=newly_missing))
    return BaselineHistory(months=months, rows=rows, previous_month=previous_month, changes=changes, has_previous=bool(before))


def baseline_history_rows():
    """Every snapshot kept, newest month first (BASELINE_HISTORY_HEADERS), streamed for the history CSV."""
    kinds = dict(BaselineSnapshot.AreaKind.choices)
    snapshots = BaselineSnapshot.objects.select_related("item").order_by("-month", "area_kind", "area_label", "item__order", "item_id")
    for snapshot in snapshots.iterator(chunk_size=2000):
        yield [
            snapshot.month.strftime("%Y-%m"),
            snapshot.area_label,
            str(kinds.get(snapshot.area_kind, snapshot.area_kind)),
            snapshot.item.description,
            _("yes") if snapshot.met else _("no"),
            snapshot.provider_count,
            snapshot.provider_names,
        ]


# Joint projects -------------------------------------------------------------------------------------


def projects_for(user, *, q: str = "") -> QuerySet[JointProject]:
    """The projects a user may read: network admins all; others those of their organisations, and
    funders those they fund."""
    projects = JointProject.objects.select_related("lead")
    if not user.is_network_admin:
        linked = Affiliation.objects.filter(user=user)
        editing = linked.filter(role__in=EDITING_ROLES).values("organisation_id")
        visible = Q(lead__in=editing) | Q(partners__in=editing)
        if user.is_funder:
            visible |= Q(funder_accounts=user) | Q(funders__in=linked.values("organisation_id"))
        projects = projects.filter(pk__in=JointProject.objects.filter(visible).values("pk"))
    for word in q.split():
        projects = projects.filter(title__icontains=word)
    return projects.order_by("-start_date", "title", "pk")


def project_page(slug: str) -> JointProject | None:
    return (
        JointProject.objects.select_related("lead")
        .prefetch_related("partners", "funders", Prefetch("periods", queryset=ReportingPeriod.objects.order_by("number")))
        .filter(slug=slug)
        .first()
    )


def team_of(project: JointProject) -> list[Organisation]:
    return [project.lead, *sorted(project.partners.all(), key=lambda organisation: organisation.name.lower())]


@dataclass
class IndicatorProgress:
    indicator: Indicator
    # (period, target, actual or None when no submitted return has a figure)
    rows: list[tuple[ReportingPeriod, Decimal, Decimal | None]]

    @property
    def total_target(self) -> Decimal:
        return sum((target for _p, target, _a in self.rows), Decimal(0))

    @property
    def total_actual(self) -> Decimal:
        return sum((actual for _p, _t, actual in self.rows if actual is not None), Decimal(0))

    @property
    def is_percentage(self) -> bool:
        return self.indicator.value_type == Indicator.ValueType.PERCENTAGE

    @property
    def scale(self) -> Decimal:
        return max([Decimal(1)] + [target for _p, target, _a in self.rows] + [a for _p, _t, a in self.rows if a is not None])


def indicator_progress(project: JointProject) -> dict[str, list[IndicatorProgress]]:
    """Targets and actuals per indicator per period, outputs and outcomes apart.

    Actuals add up the partners' SUBMITTED returns (drafts do not count); a percentage indicator takes
    the average of the partners' figures instead, since percentages do not add up. Four queries.
    """
    periods = list(project.periods.order_by("number"))
    indicators = list(project.indicators.order_by("order", "name"))
    targets = {
        (indicator_id, period_id): target
        for indicator_id, period_id, target in IndicatorTarget.objects.filter(indicator__project=project).values_list(
            "indicator_id", "period_id", "target"
        )
    }
    actual_rows = (
        MonitoringReturn.objects.submitted()
        .filter(project=project)
        .values_list("period_id", "figures__indicator_id")
        .annotate(total=Sum("figures__value"), n=Count("figures__pk"))
        .order_by()
    )
    actuals = {(indicator_id, period_id): (total, n) for period_id, indicator_id, total, n in actual_rows if indicator_id}
    result = {Indicator.Kind.OUTPUT: [], Indicator.Kind.OUTCOME: []}
    for indicator in indicators:
        rows = []
        for period in periods:
            total, n = actuals.get((indicator.pk, period.pk), (None, 0))
            actual = None
            if n:
                actual = (total / n).quantize(Decimal("0.1")) if indicator.value_type == Indicator.ValueType.PERCENTAGE else total
            rows.append((period, targets.get((indicator.pk, period.pk), Decimal(0)), actual))
        result[indicator.kind].append(IndicatorProgress(indicator=indicator, rows=rows))
    return {"outputs": result[Indicator.Kind.OUTPUT], "outcomes": result[Indicator.Kind.OUTCOME]}


def return_grid(project: JointProject, *, today: date | None = None) -> list[tuple[ReportingPeriod, list[tuple[Organisation, MonitoringReturn | None, str]]]]:
    """Per period, each team member's return and its state: submitted, draft, overdue, due or not yet due."""
    today = today or timezone.localdate()
    team = team_of(project)
    returns = {(r.period_id, r.partner_id): r for r in project.returns.all()}
    grid = []
    for period in project.periods.order_by("number"):
        row = []
        for organisation in team:
            monitoring_return = returns.get((period.pk, organisation.pk))
            if monitoring_return and monitoring_return.status == MonitoringReturn.Status.SUBMITTED:
                state = "submitted"
            elif period.due_date < today:
                state = "overdue"
            elif period.end < today:
                state = "due"
            elif monitoring_return:
                state = "draft"
            else:
                state = "not-yet"
            row.append((organisation, monitoring_return, state))
        grid.append((period, row))
    return grid


def shareable_case_studies(*, project: JointProject | None = None, scope: Scope | None = None) -> QuerySet[CaseStudy]:
    """Consented case studies only, the one door every page and download goes through."""
    studies = CaseStudy.objects.shareable().select_related("monitoring_return__project", "monitoring_return__period", "outcome")
    if project is not None:
        studies = studies.filter(monitoring_return__project=project)
    if scope is not None:
        studies = studies.filter(
            monitoring_return__period__end__gte=scope.start, monitoring_return__period__start__lte=scope.end
        )
        if scope.area is not None:
            projects = JointProject.objects.filter(Q(lead__ward=scope.area) | Q(partners__ward=scope.area))
            studies = studies.filter(monitoring_return__project__in=projects.values("pk"))
    return studies.order_by("-featured", "-created_at", "pk")


def editable_return_figures(monitoring_return: MonitoringReturn) -> dict[int, Decimal]:
    return dict(monitoring_return.figures.values_list("indicator_id", "value"))


# Evidence packs -------------------------------------------------------------------------------------


def exports_of(user) -> QuerySet[EvidenceExport]:
    return EvidenceExport.objects.filter(requested_by=user).select_related("area").order_by("-created_at")


def export_by_uuid(value) -> EvidenceExport | None:
    return EvidenceExport.objects.select_related("area", "requested_by").filter(uuid=value).first()


# 360Giving grants -----------------------------------------------------------------------------------


def published_grants():
    """The grants the network distributes that can be published: those whose recipient has an org-id."""
    return (
        Grant.objects.distributed()
        .with_recipient_org_id()
        .select_related("recipient", "beneficiary_ward")
        .order_by("-award_date", "identifier")
    )
