"""Reads for quality standards, badges, the providers' matrix, the support-materials library and the
health check. Other apps (the directory's accreditation hook, evidence) read through these functions.

Every read of badges filters by expiry date, so an expired badge disappears without anyone acting.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organisations.models import Affiliation, Organisation
from organisations.permissions import EDITING_ROLES
from taxonomies.models import TaxonomyTerm

from .models import (
    Badge,
    BadgeArea,
    Criterion,
    CriterionResponse,
    FrameworkVersion,
    HealthCheck,
    HealthCheckArea,
    HealthCheckAreaScore,
    HealthCheckQuestion,
    Level,
    Material,
    MaterialVersion,
    SelfAssessment,
    StandardArea,
)

# The referrals app's "ask for support" page takes the needs to pre-fill as repeated `needs`
# parameters holding TaxonomyTerm uuids (agreed with the referrals app).
REFERRAL_ASK_PATH = "/referrals/ask/"


# The framework -----------------------------------------------------------------------------------


def current_version() -> FrameworkVersion | None:
    return FrameworkVersion.objects.published().first()


def current_areas() -> list[StandardArea]:
    """The current version's standard areas in order (none without one), in one query."""
    current = FrameworkVersion.objects.published().order_by("-number").values("pk")[:1]
    return list(StandardArea.objects.filter(version_id=Subquery(current)).order_by("order", "name"))


def framework_versions() -> QuerySet[FrameworkVersion]:
    return FrameworkVersion.objects.exclude(status=FrameworkVersion.Status.DRAFT).order_by("-number")


def areas_with_criteria(version: FrameworkVersion) -> QuerySet[StandardArea]:
    return version.areas.prefetch_related(Prefetch("criteria", queryset=Criterion.objects.order_by("level", "order", "code")))


# Self-assessments --------------------------------------------------------------------------------


def providers_assessed_by(user) -> QuerySet[Organisation]:
    """Providers whose self-assessment this user may fill in."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return (
        Organisation.objects.active()
        .filter(affiliations__user=user, affiliations__role__in=EDITING_ROLES, kinds__code__in=Organisation.PROVIDER_KINDS)
        .distinct()
        .order_by(Lower("name"))
    )


def assessments_of(organisations) -> QuerySet[SelfAssessment]:
    return (
        SelfAssessment.objects.filter(organisation__in=organisations)
        .select_related("organisation", "version", "reviewer")
        .order_by("organisation__name", "-created_at")
    )


def assessment_with_responses(pk: int) -> SelfAssessment | None:
    return (
        SelfAssessment.objects.select_related("organisation", "version", "reviewer", "submitted_by")
        .prefetch_related(
            Prefetch(
                "responses",
                queryset=CriterionResponse.objects.select_related("criterion", "criterion__area", "reviewed_by").prefetch_related("files"),
            )
        )
        .filter(pk=pk)
        .first()
    )


def _has_evidence(response: CriterionResponse) -> bool:
    # `files` is prefetched by the callers, so this costs no query per response.
    return bool(response.evidence_text.strip() or response.evidence_links.strip() or response.files.all())


def missing_items(assessment: SelfAssessment) -> list[str]:
    """What stops the assessment being submitted, one line per criterion: every baseline criterion
    needs a rating, and every criterion rated met or partly met needs evidence."""
    missing = []
    responses = assessment.responses.select_related("criterion", "criterion__area").prefetch_related("files")
    for response in responses:
        criterion = response.criterion
        label = f"{criterion.code} ({criterion.area.name}): {criterion.statement}"
        if not response.rating:
            if criterion.level == Level.BASELINE:
                missing.append(_("%(criterion)s – no rating yet.") % {"criterion": label})
        elif response.rating != CriterionResponse.Rating.NOT_MET and not _has_evidence(response):
            missing.append(_("%(criterion)s – rated “%(rating)s” but no evidence given.") % {"criterion": label, "rating": response.get_rating_display()})
    return missing


@dataclass
class AreaProgress:
    area: StandardArea
    responses: list
    answered: int = 0
    total: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


@dataclass
class Progress:
    areas: list[AreaProgress]
    answered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


def assessment_progress(assessment: SelfAssessment) -> Progress:
    """Per area, the prefetched responses and how many have a rating."""
    by_area: dict[int, AreaProgress] = {}
    for response in assessment.responses.all():
        area = response.criterion.area
        progress = by_area.setdefault(area.pk, AreaProgress(area=area, responses=[]))
        progress.responses.append(response)
        progress.total += 1
        progress.answered += bool(response.rating)
    areas = sorted(by_area.values(), key=lambda p: (p.area.order, p.area.name))
    return Progress(areas=areas, answered=sum(p.answered for p in areas), total=sum(p.total for p in areas))


def review_queue(user) -> QuerySet[SelfAssessment]:
    """Assessments waiting for a reviewer, and those this user is reviewing; never the user's own
    organisations'."""
    own = Affiliation.objects.filter(user=user).values("organisation_id")
    return (
        SelfAssessment.objects.filter(
            Q(status=SelfAssessment.Status.SUBMITTED) | Q(status=SelfAssessment.Status.IN_REVIEW, reviewer=user)
            | (Q(status=SelfAssessment.Status.IN_REVIEW) if user.is_network_admin else Q(pk__in=[]))
        )
        .exclude(organisation_id__in=own)
        .select_related("organisation", "version", "reviewer")
        .order_by("submitted_at", "pk")
    )




# Badges ------------------------------------------------------------------------------------------


@dataclass
class BadgeSummary:
    badge: Badge
    levels: list[tuple[str, str, int]]  # (area code, area name, level)

    @property
    def baseline_areas(self) -> int:
        return sum(1 for _code, _name, level in self.levels if level >= Level.BASELINE)

    @property
    def above_baseline(self) -> list[tuple[str, int]]:
        return [(name, level) for _code, name, level in self.levels if level > Level.BASELINE]

    @property
    def line(self) -> str:
        """For the directory and the ORUK accreditations field, e.g. "THIN Quality Standard: baseline met
        in 8 areas, level 2 in governance (verified until 2028-11-21)"."""
        parts = [
            ngettext("baseline met in %(count)d area", "baseline met in %(count)d areas", self.baseline_areas)
            % {"count": self.baseline_areas}
        ]
        parts += [_("level %(level)d in %(area)s") % {"level": level, "area": name.lower()} for name, level in self.above_baseline]
        return _("%(title)s: %(levels)s (verified until %(date)s)") % {
            "title": self.badge.version.title,
            "levels": ", ".join(parts),
            "date": self.badge.expires_on.isoformat(),
        }


def current_badges(organisation_ids: Iterable[int] | None = None, *, today: date | None = None) -> dict[int, BadgeSummary]:
    """Organisation id -> its current, unexpired badge, for badges that show at least one area at
    baseline. Two queries whatever the number of organisations; the area levels are read as plain
    values, since the matrix reads thousands of them."""
    today = today or timezone.localdate()
    badges = Badge.objects.current(today).select_related("version")
    if organisation_ids is not None:
        badges = badges.filter(organisation_id__in=list(organisation_ids))
    badges = {badge.pk: badge for badge in badges}
    levels: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    rows = (
        BadgeArea.objects.filter(badge_id__in=list(badges))
        .order_by("badge_id", "area__order", "area__name")
        .values_list("badge_id", "area__code", "area__name", "level")
    )
    for badge_id, code, name, level in rows:
        levels[badge_id].append((code, name, level))
    summaries = {}
    for badge in badges.values():
        summary = BadgeSummary(badge=badge, levels=levels[badge.pk])
        if summary.baseline_areas:
            summaries[badge.organisation_id] = summary
    return summaries


def accreditation_lines(organisation_ids: Iterable[int]) -> dict[int, list[str]]:
    """The directory's accreditation source (registered in QualityConfig.ready())."""
    return {pk: [summary.line] for pk, summary in current_badges(organisation_ids).items()}


def badge_of(organisation: Organisation, *, today: date | None = None) -> BadgeSummary | None:
    return current_badges([organisation.pk], today=today).get(organisation.pk)


# The network's matrix ----------------------------------------------------------------------------

NOT_ASSESSED = "not_assessed"
NOT_MET = "not_met"
BASELINE = "baseline"
ABOVE = "above"
CELL_LABELS = {
    NOT_ASSESSED: _("Not assessed"),
    NOT_MET: _("Baseline not met"),
    BASELINE: _("Baseline met"),
    ABOVE: _("Above baseline"),
}


@dataclass
class MatrixCell:
    state: str
    level: int | None = None

    @property
    def label(self) -> str:
        if self.state == ABOVE:
            return _("Level %(level)d") % {"level": self.level}
        return str(CELL_LABELS[self.state])


@dataclass
class MatrixRow:
    organisation: Organisation
    cells: list[MatrixCell]
    expires_on: date | None = None


@dataclass
class AreaTotals:
    area: StandardArea
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def meeting_baseline(self) -> int:
        return self.counts.get(BASELINE, 0) + self.counts.get(ABOVE, 0)


@dataclass
class Matrix:
    areas: list[StandardArea]
    rows: list[MatrixRow]
    totals: list[AreaTotals]

    @property
    def gaps(self) -> list[str]:
        """Where the borough is short: areas no verified provider meets, or none goes beyond."""
        lines = []
        unassessed = sum(1 for row in self.rows if row.expires_on is None)
        if unassessed:
            lines.append(
                ngettext(
                    "%(count)d provider has no current verified badge.",
                    "%(count)d providers have no current verified badge.",
                    unassessed,
                ) % {"count": unassessed}
            )
        for total in self.totals:
            if not total.meeting_baseline:
                lines.append(_("%(area)s: no provider is verified at the baseline.") % {"area": total.area.name})
            elif not total.counts.get(ABOVE):
                lines.append(_("%(area)s: no provider is verified above the baseline.") % {"area": total.area.name})
            if total.counts.get(NOT_MET):
                lines.append(
                    ngettext(
                        "%(area)s: %(count)d provider is verified as not meeting the baseline.",
                        "%(area)s: %(count)d providers are verified as not meeting the baseline.",
                        total.counts[NOT_MET],
                    ) % {"area": total.area.name, "count": total.counts[NOT_MET]}
                )
        return lines


def provider_matrix(*, today: date | None = None, q: str = "") -> Matrix:
    """Every open provider against the current version's areas: its verified level from its current
    badge (matched by area code, so a badge against an older version still counts), else not assessed."""
    today = today or timezone.localdate()
    areas = current_areas()
    providers = Organisation.objects.active().providers()
    for word in q.split():
        providers = providers.filter(name__icontains=word)
    providers = list(providers.only("pk", "name", "slug").order_by(Lower("name"), "pk"))
    badges = current_badges([p.pk for p in providers], today=today)
    totals = [AreaTotals(area=area) for area in areas]
    rows = []
    for provider in providers:
        summary = badges.get(provider.pk)
        levels = {code: level for code, _name, level in summary.levels} if summary else {}
        cells = []
        for index, area in enumerate(areas):
            level = levels.get(area.code)
            if level is None:
                cell = MatrixCell(NOT_ASSESSED)
            elif level == Level.NOT_MET:
                cell = MatrixCell(NOT_MET, level)
            elif level == Level.BASELINE:
                cell = MatrixCell(BASELINE, level)
            else:
                cell = MatrixCell(ABOVE, level)
            totals[index].counts[cell.state] = totals[index].counts.get(cell.state, 0) + 1
            cells.append(cell)
        rows.append(MatrixRow(organisation=provider, cells=cells, expires_on=summary.badge.expires_on if summary else None))
    return Matrix(areas=areas, rows=rows, totals=totals)


def matrix_table(matrix: Matrix) -> tuple[list[str], list[list]]:
    """The matrix as headers and rows for core.exports."""
    headers = [_("Provider")] + [area.name for area in matrix.areas] + [_("Verified until")]
    rows = [[row.organisation.name] + [cell.label for cell in row.cells] + [row.expires_on] for row in matrix.rows]
    return headers, rows


# Support materials --------------------------------------------------------------------------------


def search_materials(
    *, user, q: str = "", kind: str = "", function: TaxonomyTerm | None = None, need: TaxonomyTerm | None = None, stage: int | None = None
) -> QuerySet[Material]:
    """Materials the user may see, matching every word of `q` (title, summary or a category's name)
    and the filters, by title."""
    materials = Material.objects.visible_to(user)
    for word in q.split():
        materials = materials.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(needs__name__icontains=word) | Q(functions__name__icontains=word)
        )
    if kind:
        materials = materials.filter(kind=kind)
    if function is not None:
        materials = materials.filter(functions=function)
    if need is not None:
        materials = materials.filter(needs=need)
    if stage in (1, 2, 3):
        materials = materials.filter(**{f"for_stage_{stage}": True})
    ids = materials.values("pk")  # the joins above can repeat a row: pick each material once
    return (
        Material.objects.filter(pk__in=ids)
        .select_related("organisation")
        .prefetch_related("needs", "functions", Prefetch("versions", queryset=MaterialVersion.objects.order_by("-number")))
        .order_by(Lower("title"), "pk")
    )


def material_by_slug(slug: str) -> Material | None:
    return (
        Material.objects.select_related("organisation")
        .prefetch_related("needs", "functions", Prefetch("versions", queryset=MaterialVersion.objects.select_related("uploaded_by").order_by("-number")))
        .filter(slug=slug)
        .first()
    )


def latest_version(material: Material) -> MaterialVersion | None:
    return material.versions.order_by("-number").first()


def material_download_counts(*, start: date, end: date) -> list[tuple[str, int]]:
    """Downloads per material between two dates (inclusive), most downloaded first: for evidence."""
    from django.db.models import Sum

    return list(
        Material.objects.filter(download_days__day__gte=start, download_days__day__lte=end)
        .annotate(n=Sum("download_days__count"))
        .order_by("-n", "title")
        .values_list("title", "n")
    )


# The health check ---------------------------------------------------------------------------------


def health_check_questions(stage: int) -> QuerySet[HealthCheckQuestion]:
    """The questions asked at a development stage, in order, with their area."""
    return HealthCheckQuestion.objects.filter(is_active=True, **{f"for_stage_{stage}": True}).select_related("area").order_by("area__order", "order", "pk")


def organisations_checked_by(user) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.active().filter(affiliations__user=user, affiliations__role__in=EDITING_ROLES).distinct().order_by(Lower("name"))


def health_checks_of(organisation: Organisation) -> QuerySet[HealthCheck]:
    return (
        organisation.health_checks.select_related("completed_by")
        .prefetch_related(Prefetch("scores", queryset=HealthCheckAreaScore.objects.select_related("area").order_by("area__order")))
        .order_by("-completed_at")
    )


@dataclass
class AreaResult:
    area: HealthCheckArea
    score: int
    previous: int | None = None
    weak: bool = False

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.score - self.previous


@dataclass
class HealthCheckResult:
    health_check: HealthCheck
    areas: list[AreaResult]
    previous: HealthCheck | None
    suggestions: list[tuple[HealthCheckArea, list[Material]]]
    referral_needs: list[TaxonomyTerm]

    @property
    def weak_areas(self) -> list[AreaResult]:
        return [result for result in self.areas if result.weak]

    @property
    def referral_url(self) -> str:
        return referral_link(self.referral_needs)


def referral_link(needs: Iterable[TaxonomyTerm]) -> str:
    """/referrals/ask/?needs=<uuid>&needs=<uuid>: the referral form pre-filled with these needs."""
    query = urlencode([("needs", str(term.uuid)) for term in needs])
    return f"{REFERRAL_ASK_PATH}?{query}" if query else REFERRAL_ASK_PATH


SUGGESTIONS_PER_AREA = 3


def health_check_result(health_check: HealthCheck, *, user=None) -> HealthCheckResult:
    """Scores by area (with the previous check's, to show progress), the weak areas, library materials
    for them (suited to the stage) and the needs behind them for a referral."""
    weak_below = settings.QUALITY_HEALTH_CHECK_WEAK_BELOW
    scores = list(health_check.scores.select_related("area").prefetch_related("area__needs").order_by("area__order"))
    previous = (
        HealthCheck.objects.filter(organisation_id=health_check.organisation_id, completed_at__lt=health_check.completed_at)
        .order_by("-completed_at")
        .first()
    )
    previous_scores = dict(previous.scores.values_list("area_id", "score")) if previous else {}
    areas = [
        AreaResult(area=row.area, score=row.score, previous=previous_scores.get(row.area_id), weak=row.score < weak_below) for row in scores
    ]
    suggestions, needs, seen = [], [], set()
    for result in areas:
        if not result.weak:
            continue
        area_needs = list(result.area.needs.all())
        for term in area_needs:
            if term.pk not in seen:
                seen.add(term.pk)
                needs.append(term)
        materials = list(
            search_materials(user=user, stage=health_check.stage)
            .filter(needs__in=area_needs)
            .order_by("-download_count", Lower("title"))[:SUGGESTIONS_PER_AREA]
        ) if area_needs else []
        suggestions.append((result.area, materials))
    return HealthCheckResult(health_check=health_check, areas=areas, previous=previous, suggestions=suggestions, referral_needs=needs)


@dataclass
class OrganisationProgress:
    """One organisation's first and latest health checks in a period, area by area."""

    organisation_id: int
    organisation_name: str
    checks: int
    first_on: datetime
    latest_on: datetime
    first_scores: dict[str, int]
    latest_scores: dict[str, int]
    first_overall: int
    latest_overall: int

    @property
    def overall_change(self) -> int:
        return self.latest_overall - self.first_overall

    @property
    def improved_areas(self) -> list[str]:
        return [code for code, score in self.latest_scores.items() if score > self.first_scores.get(code, score)]


def health_check_progress(
    *, start: date | None = None, end: date | None = None, organisation_ids: Iterable[int] | None = None
) -> list[OrganisationProgress]:
    """For the evidence app: organisations that took the health check more than once in the period,
    with their first and latest scores (an outcome: what changed). Two queries, reading plain values
    (the evidence dashboards ask over thousands of checks)."""
    checks = HealthCheck.objects.all()
    if start:
        checks = checks.filter(completed_at__date__gte=start)
    if end:
        checks = checks.filter(completed_at__date__lte=end)
    if organisation_ids is not None:
        checks = checks.filter(organisation_id__in=list(organisation_ids))
    rows = checks.order_by("organisation_id", "completed_at", "pk").values_list(
        "pk", "organisation_id", "organisation__name", "completed_at", "overall_score"
    )
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        grouped[row[1]].append(row)
    series = {organisation_id: rows for organisation_id, rows in grouped.items() if len(rows) >= 2}
    wanted = [pk for rows in series.values() for pk in (rows[0][0], rows[-1][0])]
    scores: dict[int, dict[str, int]] = defaultdict(dict)
    for check_id, code, score in HealthCheckAreaScore.objects.filter(health_check_id__in=wanted).values_list(
        "health_check_id", "area__code", "score"
    ):
        scores[check_id][code] = score
    progress = [
        OrganisationProgress(
            organisation_id=organisation_id,
            organisation_name=rows[0][2],
            checks=len(rows),
            first_on=rows[0][3],
            latest_on=rows[-1][3],
            first_scores=scores[rows[0][0]],
            latest_scores=scores[rows[-1][0]],
            first_overall=rows[0][4],
            latest_overall=rows[-1][4],
        )
        for organisation_id, rows in series.items()
    ]
    return sorted(progress, key=lambda p: p.organisation_name.lower())

