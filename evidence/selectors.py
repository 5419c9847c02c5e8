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

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calendar_events import selectors as calendar_selectors
from directory.models import Service
from organisations.models import Affiliation, Organisation
from organisations.permissions import EDITING_ROLES
from quality import selectors as quality_selectors
from referrals import selectors as referral_selectors
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import suppression
from .models import (
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
    # Figures several sections share (the VCOs grouped by stage and ward), worked out once per scope.
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

    @property
    def is_long(self) -> bool:
        """A chart of many rows (every ward, every need), which the page lays out in two columns."""
        return self.series is not None and len(self.series.rows) > LONG_CHART_ROWS

    @property
    def gap_count(self) -> int:
        return sum(len(wards) for _function, wards in self.gaps)

    @property
    def is_empty(self) -> bool:
        if self.zeros_are_findings:
            return False
        if self.series is not None:
            return self.series.is_empty
        if self.table is not None:
            return not any(cell.value for row in self.table.cells for cell in row)
        return True

    def long_rows(self):
        """(category, column, shown figure or None, how it is shown): one row per published cell."""
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
            for statistic in section.statistics:
                rows.append((section.title, statistic.title, statistic.definition))
        return rows


SUPPRESSION_NOTE = gettext_lazy(
    "Counts from 1 to 4 are shown as \u201cfewer than 5\u201d. Where a total would let a hidden count be "
    "worked out, another count (or the total) is \u201cwithheld\u201d as well; a total withheld in one chart is "
    "withheld in every chart that counts the same organisations, people or records, with any count that would "
    "add up to it. Medians and averages of fewer than 5 records are withheld."
)


def _vcos(scope: Scope) -> QuerySet[Organisation]:
    """Open VCOs on record by the end of the period, in the area."""
    # The kind's id as a literal (not a subquery), so PostgreSQL knows most organisations are VCOs and
    # hash-joins instead of looking each one up.
    vco_kind = (
        TaxonomyTerm.objects.filter(taxonomy__code=Taxonomy.ORGANISATION_KINDS, code=Organisation.KIND_VCO)
        .values_list("pk", flat=True)
        .first()
    )
    vcos = Organisation.objects.active().filter(kinds=vco_kind, created_at__lt=scope.end_at)
    if scope.area is not None:
        vcos = vcos.filter(ward=scope.area)
    return vcos.order_by()


def _vco_groups(scope: Scope) -> list[tuple[int | None, int | None, int, int, int, int]]:
    """(stage, ward id, organisations, volunteers, paid staff, organisations giving volunteers) per
    stage and ward: one grouped query that the organisation and volunteer sections both read."""
    if "vco_groups" not in scope.memo:
        scope.memo["vco_groups"] = [
            (stage, ward_id, n, volunteers or 0, staff or 0, reporting)
            for stage, ward_id, n, volunteers, staff, reporting in _vcos(scope)
            .values_list("development_stage", "ward_id")
            .annotate(n=Count("pk"), v=Sum("volunteers"), s=Sum("paid_staff"), r=Count("pk", filter=Q(volunteers__isnull=False)))
            .values_list("development_stage", "ward_id", "n", "v", "s", "r")
            .order_by()
        ]
    return scope.memo["vco_groups"]


def _term_counts(vcos: QuerySet[Organisation], relation: str) -> dict[int, int]:
    """Organisations per term of a many-to-many list, in one grouped join (each organisation has a
    term once, so no DISTINCT is needed)."""
    return {term_id: n for term_id, n in vcos.values_list(relation).annotate(n=Count("pk")).order_by() if term_id is not None}


def quarter_starts(start: date, end: date) -> list[date]:
    """The first day of each calendar quarter that overlaps [start, end]."""
    first = date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
    starts = []
    while first <= end:
        starts.append(first)
        first += relativedelta(months=3)
    return starts


def quarter_label(start: date) -> str:
    return _("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1}


def organisation_section(scope: Scope) -> Section:
    vcos = _vcos(scope)
    section = Section(key="organisations", title=_("Voluntary and community organisations"))
    stage_counts, ward_counts = _vco_stage_and_ward_counts(scope)
    section.charts.append(_vcos_by_stage_chart(stage_counts))
    if scope.area is None:
        section.charts.append(_vcos_by_ward_chart(ward_counts))
    section.charts.extend(_vcos_by_term_charts(vcos, total_vcos=sum(stage_counts.values())))
    section.charts.append(_vcos_joining_chart(vcos, scope))
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


def _vcos_by_ward_chart(ward_counts: dict[int | None, int]) -> Chart:
    """Every ward, then those with no ward recorded (shown only for the whole borough)."""
    ward_rows = [(term.name, ward_counts.get(term.pk, 0)) for term in ward_terms()]
    ward_rows.append((_("Ward not recorded"), ward_counts.get(None, 0)))
    return Chart(
        key="vcos-by-ward",
        title=_("VCOs by ward"),
        definition=_("Open VCOs in the directory by the end of the period, by the ward recorded on their record."),
        series=suppression.suppress_series(ward_rows, total=True, population="vcos"),
        unit=_("organisations"),
    )


def _vcos_by_term_charts(vcos: QuerySet[Organisation], *, total_vcos: int) -> list[Chart]:
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
        counts = _term_counts(vcos, relation)
        rows = [(term.name, counts.get(term.pk, 0)) for term in TaxonomyTerm.objects.in_taxonomy(taxonomy)]
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


def _vcos_joining_chart(vcos: QuerySet[Organisation], scope: Scope) -> Chart:
    """VCOs by the quarter they joined the directory, and those on record before the period.

    Organisations by the local day their record was created (at most a few thousand rows), binned into
    quarters here: one pass over the table however many quarters the period has. Each VCO is in one
    row (on record before the period, or the quarter it joined), so the rows add up to the VCOs on
    record: a running count per quarter would give each quarter's small number away by subtraction.
    """
    by_day = dict(vcos.annotate(day=TruncDate("created_at")).values_list("day").annotate(n=Count("pk")).order_by())
    joined = [(_("Before the period"), sum(n for day, n in by_day.items() if day < scope.start))]
    for quarter in quarter_starts(scope.start, scope.end):
        first, last = max(quarter, scope.start), min(quarter + relativedelta(months=3) - timedelta(days=1), scope.end)
        joined.append((quarter_label(quarter), sum(n for day, n in by_day.items() if first <= day <= last)))
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


def coverage_matrix(*, until: datetime | None = None) -> tuple[list[TaxonomyTerm], list[TaxonomyTerm], dict[tuple[int, int], set[int]]]:
    """Which providers cover which (function, ward): a listed service with the function, serving the
    ward (a service that names no wards covers the whole borough); with `until`, only services put on
    record before then. A handful of queries."""
    functions = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.FUNCTIONS).filter(parent__isnull=False).order_by("parent__order", "order", "name"))
    wards = list(ward_terms())
    # Our own services only: one harvested from another directory serves that directory's area.
    services = Service.objects.listed().own().order_by()
    if until is not None:
        services = services.filter(created_at__lt=until)
    service_org = dict(services.values_list("pk", "organisation_id"))
    service_functions = defaultdict(set)
    for service_id, term_id in Service.functions.through.objects.filter(service_id__in=services.values("pk")).values_list(
        "service_id", "taxonomyterm_id"
    ):
        service_functions[service_id].add(term_id)
    service_wards = defaultdict(set)
    for service_id, term_id in Service.wards.through.objects.filter(service_id__in=services.values("pk")).values_list(
        "service_id", "taxonomyterm_id"
    ):
        service_wards[service_id].add(term_id)
    covered: dict[tuple[int, int], set[int]] = defaultdict(set)
    # Borough-wide services are kept apart and added to every ward once at the end, rather than
    # service by service.
    everywhere: dict[int, set[int]] = defaultdict(set)
    for service_id, function_ids in service_functions.items():
        organisation_id = service_org[service_id]
        service_ward_ids = service_wards.get(service_id)
        for function_id in function_ids:
            if not service_ward_ids:
                everywhere[function_id].add(organisation_id)
                continue
            for ward_id in service_ward_ids:
                covered[(function_id, ward_id)].add(organisation_id)
    for function_id, organisation_ids in everywhere.items():
        for ward in wards:
            covered[(function_id, ward.pk)] |= organisation_ids
    return functions, wards, covered


def provider_section(scope: Scope) -> Section:
    """Provision by the end of the period: the providers' services on record by then. Public facts
    (the directory lists them for anyone), so published as they are, small numbers and all."""
    functions, wards, covered = coverage_matrix(until=scope.end_at)
    section = Section(
        key="providers",
        title=_("Infrastructure provider coverage"),
        intro=_("Counts of providers with an open service offering each kind of support. A \u201cgap\u201d is a function no provider offers in that ward. These are public facts from the directory, so small numbers are shown."),
    )
    area_wards = [scope.area] if scope.area is not None else wards
    by_function = []
    everyone = set()
    for function in functions:
        providers = set()
        for ward in area_wards:
            providers |= covered.get((function.pk, ward.pk), set())
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
    cells = [[len(covered.get((function.pk, ward.pk), ())) for ward in area_wards] for function in functions]
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
    data = referral_selectors.referral_statistics(start=scope.start, end=scope.end, ward=scope.area)
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
            series=suppression.suppress_series(_pairs(data["by_outcome"]), total=True, population="referrals"),
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
    organiser_wards = dict(Organisation.objects.filter(pk__in=list(counts)).values_list("pk", "ward_id"))
    by_ward: dict[int | None, int] = defaultdict(int)
    for organiser_id, row in counts.items():
        by_ward[organiser_wards.get(organiser_id)] += row["attended"]
    wards = [scope.area] if scope.area is not None else list(ward_terms())
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
    version = quality_selectors.current_version()
    areas = list(version.areas.order_by("order", "name")) if version else []
    providers = Organisation.objects.active().providers()
    if scope.area is not None:
        providers = providers.filter(ward=scope.area)
    provider_ids = set(providers.values_list("pk", flat=True))
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
)


def sector_dashboard(scope: Scope, *, on_section: Callable[[int, Section], None] | None = None) -> Dashboard:
    """Every section for a scope: the one way the dashboard page, its downloads, the report and the
    evidence pack get their figures, so that rule 4 of ``suppression`` (one population, one total)
    holds across all they publish together. `on_section(index, section)` hears of each section built."""
    sections = []
    for index, build in enumerate(SECTIONS):
        sections.append(build(scope))
        if on_section is not None:
            on_section(index, sections[-1])
    suppression.protect_shared_totals(
        [figure for section in sections for chart in section.charts for figure in (chart.series, chart.table) if figure is not None]
        + [statistic.value for section in sections for statistic in section.statistics]
    )
    return Dashboard(scope=scope, sections=sections)


# The summary: a handful of headline figures and how each moved ---------------------------------------


def previous_period(scope: Scope) -> tuple[Scope, str]:
    """The period of the same length just before, and how to name it in a sentence ("the previous
    quarter"). A period of whole months steps back by months, any other by days."""
    after_end = scope.end + timedelta(days=1)
    months = next((n for n in range(1, 241) if after_end - relativedelta(months=n) == scope.start), None)
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
    return Scope(start=start, end=end, area=scope.area), name


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
    before = sector_dashboard(scope) if period_has_data(scope) else None
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
    return _vcos(scope).exists() or JointProject.objects.filter(start_date__lte=scope.end, end_date__gte=scope.start).exists()


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
