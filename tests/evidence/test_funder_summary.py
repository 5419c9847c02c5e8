"""Funder dashboards (issue 16, item 9): the demo borough has a past to count, public provider counts
are published as they are while personal figures stay suppressed, and the page opens on key figures
whose trends are told in words."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from directory.demo import load_demo_data
from directory.models import Service
from evidence import selectors, suppression
from evidence.selectors import KeyFigure, Scope
from organisations.demo import DEMO_VCO, PORTAL_AGE_DAYS, build_demo_borough
from organisations.models import Organisation
from tests.factories import make_organisation, make_provider, make_service, make_user, term

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 6)


def _chart(board, key):
    return next(chart for section in board.sections for chart in section.charts if chart.key == key)


# Demo data: a past to count --------------------------------------------------------------------------


def test_demo_join_dates_are_fixed_by_the_slug_and_spread_over_the_portals_years():
    borough = build_demo_borough(today=TODAY)
    again = build_demo_borough(today=TODAY)
    dates = {spec.slug: spec.joined_at for spec in borough.organisations}
    assert dates == {spec.slug: spec.joined_at for spec in again.organisations}
    days_ago = [(TODAY - timezone.localdate(moment)).days for moment in dates.values()]
    assert min(days_ago) >= 14 and max(days_ago) <= PORTAL_AGE_DAYS
    # Spread over the years, not bunched on one day: every one of the last eight quarters has joiners.
    for quarter in range(8):
        assert any(91 * quarter <= days < 91 * (quarter + 1) for days in days_ago), quarter
    # The demo group and the providers are founding members, on record in the portal's first months.
    assert (TODAY - timezone.localdate(dates[DEMO_VCO])).days > PORTAL_AGE_DAYS - 60


def test_loaded_demo_has_figures_in_past_periods_and_loading_again_changes_nothing(settings):
    settings.DEBUG = True
    load_demo_data(today=TODAY)
    created = dict(Organisation.objects.values_list("slug", "created_at"))
    services = dict(Service.objects.values_list("slug", "created_at"))
    assert min(created.values()).date() < TODAY - timedelta(days=700)
    # Every service is on record after its provider joined.
    for service in Service.objects.select_related("organisation"):
        assert service.created_at >= service.organisation.created_at

    # The year before last: organisations and provision on record, not "Nothing to count".
    past = Scope(start=date(2025, 1, 1), end=date(2025, 3, 31))
    assert selectors.period_has_data(past)
    board = selectors.sector_dashboard(past)
    joining = _chart(board, "vcos-joining")
    assert not joining.is_empty and joining.series.rows[1][1].value > 0  # some joined in 2025 Q1 itself
    assert joining.series.rows[0][1].value > 0  # and some were on record before it
    providers = _chart(board, "providers-by-function")
    assert providers.series.total.value > 0
    # A period counts only what was on record by its end.
    assert joining.series.total.value < Organisation.objects.vcos().active().count()

    load_demo_data(today=TODAY)
    assert dict(Organisation.objects.values_list("slug", "created_at")) == created
    assert dict(Service.objects.values_list("slug", "created_at")) == services


# Suppression: per figure -------------------------------------------------------------------------------


def test_public_counts_are_shown_and_personal_counts_are_still_suppressed():
    providers = suppression.suppress_series([("Training", 2), ("Consultancy", 0)], total=True, personal=False)
    assert [cell.display for _label, cell in providers.rows] == ["2", "0"] and providers.total.display == "2"
    referrals = suppression.suppress_series([("Resolved", 2), ("Declined", 7)], total=True)
    # 2 is hidden; 9 - 7 would give it away, so the 7 is withheld too.
    assert [cell.display for _label, cell in referrals.rows] == ["fewer than 5", "withheld"]
    grid = suppression.suppress_table([[1, 3], [0, 2]], row_labels=["a", "b"], column_labels=["x", "y"], personal=False)
    assert [[cell.display for cell in row] for row in grid.cells] == [["1", "3"], ["0", "2"]]
    suppression.protect_shared_totals([providers, referrals, grid])
    assert providers.total.display == "2" and not any(cell.hidden for row in grid.cells for cell in row)


@pytest.fixture
def two_providers(db):
    """Two providers offering training borough-wide, and two referrals' worth of personal figures."""
    for name in ("Provider One", "Provider Two"):
        provider = make_provider(name=name)
        make_service(organisation=provider, functions=[term("functions", "training")])
    make_organisation(name="A group", ward=term("wards", "bow-east"), development_stage=1, volunteers=3)


def test_a_section_counting_providers_shows_two_when_there_are_two(two_providers):
    board = selectors.sector_dashboard(Scope(start=date(2026, 1, 1), end=date(2026, 12, 31)))
    by_function = dict(_chart(board, "providers-by-function").series.rows)
    assert by_function["Training"].display == "2"
    assert _chart(board, "providers-by-function").series.total.display == "2"
    coverage = _chart(board, "coverage-by-ward").table
    assert {cell.display for cell in coverage.cells[[label for label in coverage.row_labels].index("Training")]} == {"2"}
    # The one group's 3 volunteers are a personal figure: still hidden.
    volunteers = _chart(board, "volunteers-by-stage").series
    assert dict(volunteers.rows)["Stage 1: emerging"].display == "fewer than 5"


# The summary: key figures and their trends ----------------------------------------------------------------


def _figure(value, previous, *, name="the previous quarter", personal=True):
    return KeyFigure(
        key="x",
        title="X",
        figure=suppression.count(value, personal=personal),
        previous=None if previous is None else suppression.count(previous, personal=personal),
        previous_name=name,
        section="x",
    )


def test_trends_are_told_in_words():
    assert _figure(352, 340).trend == "Up 12 from 340 in the previous quarter."
    assert _figure(1203, 2450, name="the previous 12 months").trend == "Down 1,247 from 2,450 in the previous 12 months."
    assert _figure(20, 20).trend == "No change from the previous quarter."
    assert _figure(20, None).trend == "Nothing was recorded in the previous quarter to compare with."
    # A hidden figure on either side is not compared, or the difference would give it away.
    assert _figure(20, 3).trend == "Not compared with the previous quarter: a small number is hidden."
    assert _figure(3, 20).trend == _figure(20, 3).trend
    assert _figure(3, 2, personal=False).trend == "Up 1 from 2 in the previous quarter."
    assert (_figure(9, 6).direction, _figure(6, 9).direction, _figure(5, 5).direction, _figure(3, 20).direction) == ("up", "down", "same", "")


def test_the_previous_period_is_the_same_length_just_before():
    assert selectors.previous_period(Scope(start=date(2026, 7, 1), end=date(2026, 9, 30))) == (
        Scope(start=date(2026, 4, 1), end=date(2026, 6, 30)),
        "the previous quarter",
    )
    assert selectors.previous_period(Scope(start=date(2026, 1, 1), end=date(2026, 12, 31)))[1] == "the previous year"
    last_year, name = selectors.previous_period(Scope(start=date(2025, 12, 7), end=date(2026, 12, 6)))
    assert (last_year.start, last_year.end, name) == (date(2024, 12, 7), date(2025, 12, 6), "the previous 12 months")
    ten_days, name = selectors.previous_period(Scope(start=date(2026, 3, 11), end=date(2026, 3, 20)))
    assert (ten_days.start, ten_days.end, name) == (date(2026, 3, 1), date(2026, 3, 10), "the previous 10 days")


def test_the_previous_period_steps_back_by_months_only_where_whole_months_step_back_to_its_start():
    """The number of months is worked out, not searched for: a period that only looks like whole months
    (a month's last day clipped to a shorter month) still steps back by days, and 240 months is the most."""
    def before(start: date, end: date) -> tuple[date, date, str]:
        scope, name = selectors.previous_period(Scope(start=start, end=end))
        return scope.start, scope.end, name

    assert before(date(2026, 1, 31), date(2026, 2, 27)) == (date(2026, 1, 3), date(2026, 1, 30), "the previous 28 days")
    assert before(date(2026, 3, 31), date(2026, 4, 29)) == (date(2026, 3, 1), date(2026, 3, 30), "the previous 30 days")
    assert before(date(2024, 2, 29), date(2025, 2, 27)) == (date(2023, 3, 1), date(2024, 2, 28), "the previous 365 days")
    assert before(date(2024, 3, 1), date(2025, 2, 28)) == (date(2023, 3, 1), date(2024, 2, 29), "the previous 12 months")
    assert before(date(2006, 1, 1), date(2025, 12, 31)) == (date(1986, 1, 1), date(2005, 12, 31), "the previous 240 months")
    assert before(date(2005, 12, 1), date(2025, 12, 31)) == (date(1985, 10, 31), date(2005, 11, 30), "the previous 7336 days")


def test_key_figures_compare_with_the_previous_period_as_published_there(two_providers):
    # Seven groups on record before 2026 and twelve by the end of it.
    for n in range(7):
        Organisation.objects.filter(pk=make_organisation(name=f"Old {n}").pk).update(
            created_at=timezone.make_aware(timezone.datetime(2025, 3, 1, 12))
        )
    for n in range(4):
        make_organisation(name=f"New {n}")
    Organisation.objects.filter(name="A group").update(created_at=timezone.make_aware(timezone.datetime(2026, 5, 1, 12)))
    Service.objects.update(created_at=timezone.make_aware(timezone.datetime(2025, 2, 1, 12)))
    board = selectors.sector_dashboard(Scope(start=date(2026, 1, 1), end=date(2026, 12, 31)))
    figures = {figure.key: figure for figure in selectors.key_figures(board)}
    assert list(figures) == ["vcos", "providers", "referrals", "attendances", "volunteers", "grants"]
    assert figures["vcos"].figure.display == "12"
    assert figures["vcos"].trend == "Up 5 from 7 in the previous year."
    assert figures["providers"].trend == "No change from the previous year."
    assert figures["referrals"].figure.display == "0"


def test_the_dashboard_opens_on_the_key_figures(two_providers, client):
    client.force_login(make_user(User.Role.FUNDER))
    response = client.get(reverse("evidence:dashboard"), {"start": "2026-01-01", "end": "2026-12-31", "area": ""})
    content = response.content.decode()
    assert content.index("Key figures") < content.index('id="section-organisations"')
    assert "Infrastructure providers offering support" in content
    # Each table is behind a native "Show the table", inside a region a keyboard can scroll.
    assert content.count("<details") >= content.count("<table")
    assert content.count('role="region"') == content.count("<table") and 'tabindex="0"' in content
    assert "Show the table for VCOs by ward" in content
    assert "…" not in content


def _populations(sections) -> set[str]:
    figures = [figure for section in sections for chart in section.charts for figure in (chart.series, chart.table, chart.comparison) if figure is not None]
    figures += [statistic.value for section in sections for statistic in section.statistics]
    return {cell.population for figure in figures for cell in figure.counts() if cell.population}


def test_the_period_before_is_built_from_the_key_sections_alone_and_publishes_the_same_counts(two_providers):
    """key_figures builds the period before from KEY_FIGURE_SECTIONS only (half the dashboard's work on
    a five-year page). Exact only while the other sections count populations of their own: rule 4
    then withholds the same counts as on that period's whole dashboard."""
    from evidence.selectors import KEY_FIGURE_SECTIONS, KEY_FIGURES, SECTIONS, _published_count

    for n in range(3):  # small numbers, so that suppression has something to withhold
        make_organisation(name=f"Small {n}", ward=term("wards", "poplar"), development_stage=2, volunteers=n + 1)
    scope = Scope(start=date(2026, 1, 1), end=date(2026, 12, 31))
    whole = selectors.sector_dashboard(scope)
    keys_only = selectors.sector_dashboard(scope, sections=KEY_FIGURE_SECTIONS)
    others = [section for section in whole.sections if section.key not in {s.key for s in keys_only.sections}]
    assert len(others) == len(SECTIONS) - len(KEY_FIGURE_SECTIONS)
    assert not _populations(keys_only.sections) & _populations(others)
    for _key, _title, section_key, chart_key, which in KEY_FIGURES:
        mine, theirs = (_published_count(board, section_key, chart_key, which) for board in (keys_only, whole))
        assert (mine.display, mine.hidden) == (theirs.display, theirs.hidden), chart_key


def _published(board) -> list:
    return [(section.key, chart.key, list(chart.long_rows())) for section in board.sections for chart in section.charts]


def test_the_period_before_counted_with_the_period_is_what_it_counts_alone(two_providers):
    """The period before's VCO figures and provider coverage come from the period's own queries (its
    memo is kept in the period's): exactly what that period's own dashboard counts, on both sides of
    the boundary between them and in every breakdown."""
    from evidence.selectors import KEY_FIGURE_SECTIONS

    def on_record_since(organisation_or_service, *moment):
        type(organisation_or_service).objects.filter(pk=organisation_or_service.pk).update(created_at=timezone.make_aware(timezone.datetime(*moment)))

    wards, segments, communities = term("wards", "poplar"), term("segments", "bme-vcos"), term("communities", "women")
    for n, moment in enumerate([(2024, 6, 1, 12), (2025, 2, 3, 9), (2025, 7, 1, 0, 30), (2025, 12, 31, 23, 30), (2026, 1, 1, 0, 30), (2026, 8, 1, 12)] * 3):
        group = make_organisation(
            name=f"Group {n}", ward=wards if n % 2 else None, development_stage=1 + n % 3, volunteers=n if n % 4 else None, paid_staff=n,
            segments=[segments] if n % 3 else [], communities_served=[communities] if n % 2 else [],
        )
        on_record_since(group, *moment)
    newer = make_provider(name="Newer")
    on_record_since(make_service(organisation=newer, functions=[term("functions", "training")], wards=[wards]), 2026, 3, 1, 12)
    on_record_since(make_service(organisation=newer, functions=[term("functions", "information-and-advice")]), 2025, 3, 1, 12)
    Service.objects.filter(organisation__name__startswith="Provider").update(created_at=timezone.make_aware(timezone.datetime(2024, 1, 1, 12)))
    scope = Scope(start=date(2026, 1, 1), end=date(2026, 12, 31))
    selectors.key_figures(selectors.sector_dashboard(scope))
    before, _name = selectors.previous_period(scope)
    assert "vco_figures" in before.memo and "services_covering" in before.memo  # counted with the period
    counted_with_the_period = selectors.sector_dashboard(before, sections=KEY_FIGURE_SECTIONS)
    alone = selectors.sector_dashboard(Scope(start=before.start, end=before.end), sections=KEY_FIGURE_SECTIONS)
    assert _published(counted_with_the_period) == _published(alone)
    joined = dict((label, cell.value) for label, cell in _chart(alone, "vcos-joining").series.rows)
    assert joined == {"Before the period": 3, "2025 Q1": 3, "2025 Q2": 0, "2025 Q3": 3, "2025 Q4": 3}


def test_coverage_counts_borough_wide_providers_in_every_ward_once(db):
    """A provider with a borough-wide service and a ward-only one counts once in that ward."""
    both = make_provider(name="Both")
    make_service(organisation=both, functions=[term("functions", "training")])
    make_service(organisation=both, functions=[term("functions", "training")], wards=[term("wards", "poplar")])
    poplar_only = make_provider(name="Poplar only")
    make_service(organisation=poplar_only, functions=[term("functions", "training")], wards=[term("wards", "poplar")])
    functions, wards, coverage = selectors.coverage_matrix()
    training = next(function.pk for function in functions if function.name == "Training")
    counts = {ward.code: coverage.count(training, ward.pk) for ward in wards}
    assert counts["poplar"] == 2 and counts["bow-east"] == 1
    assert coverage.providers(training, [ward.pk for ward in wards]) == {both.pk, poplar_only.pk}
    board = selectors.sector_dashboard(Scope(start=date(2026, 1, 1), end=date(2026, 12, 31)))
    table = _chart(board, "coverage-by-ward").table
    row = table.cells[list(table.row_labels).index("Training")]
    assert {label: cell.value for label, cell in zip(table.column_labels, row, strict=True)}["Poplar"] == 2
