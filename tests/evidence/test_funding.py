"""Funding into the sector (issue 17, item 3): every figure against values worked out by hand on a
small borough, the small-number rules, who sees it, its downloads, and the needs-and-money gap."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from directory.models import Service
from evidence import selectors, suppression
from evidence.selectors import Scope
from organisations.models import Organisation
from tests.factories import make_grant, make_network_admin, make_organisation, make_service, make_user, term

pytestmark = pytest.mark.django_db

CITY_BRIDGE = ("GB-CHC-1035628", "City Bridge Trust")
LOTTERY = ("GB-CHC-1036733", "National Lottery Community Fund")
SMALL_TRUST = ("GB-CHC-1100001", "Small Trust")
NETWORK = "Tower Hamlets Infrastructure Network (the network's own grants)"


def _year() -> Scope:
    return Scope(start=date(2026, 1, 1), end=date(2026, 12, 31))


def _org(name, *, ward, stage, segments=(), needs=()):
    organisation = make_organisation(
        name=name, ward=term("wards", ward) if ward else None, development_stage=stage, segments=[term("segments", s) for s in segments],
    )
    if needs:
        make_service(organisation=organisation, needs=[term("needs", n) for n in needs])
    return organisation


@pytest.fixture
def grants(db):
    """Bow East: A0-A5, stage 1, BME VCOs, meeting governance needs. Bow West: B0-B4, stage 3, meeting
    funding needs (B0 and B1 also BME VCOs, B0 also managing volunteers); B5 has no ward or stage.

    2026: City Bridge 6 x £1,000 to A0-A5 (Q1); the Lottery 5 x £2,000 to B0-B4 (Q2); the network 5 x
    £400 to A0, A1, B0, B1 and B5 (Q3, B5's beneficiary ward Bow West); Small Trust 2 x £500 to A2 and
    B2 (Q4). 18 grants, £19,000, 12 organisations. Left out: a grant in 2025, and one to an organisation
    not in the directory."""
    a = [_org(f"A{n}", ward="bow-east", stage=1, segments=["bme-vcos"], needs=["governance-and-trustees"]) for n in range(6)]
    b = [_org(f"B{n}", ward="bow-west", stage=3, needs=["funding-and-fundraising"]) for n in range(5)]
    b[0].segments.add(term("segments", "bme-vcos"), term("segments", "vcos-managing-volunteers"))
    b[1].segments.add(term("segments", "bme-vcos"))
    b5 = _org("B5", ward=None, stage=None)
    for organisation in a:
        make_grant(recipient=organisation, amount=1000, award_date=date(2026, 2, 15), funder=CITY_BRIDGE)
    for organisation in b:
        make_grant(recipient=organisation, amount=2000, award_date=date(2026, 5, 10), funder=LOTTERY)
    for organisation in (a[0], a[1], b[0], b[1], b5):
        make_grant(recipient=organisation, amount=400, award_date=date(2026, 8, 1), direction="distributed", beneficiary_ward=term("wards", "bow-west"))
    for organisation in (a[2], b[2]):
        make_grant(recipient=organisation, amount=500, award_date=date(2026, 11, 20), funder=SMALL_TRUST)
    make_grant(recipient=a[3], amount=9000, award_date=date(2025, 12, 31), funder=CITY_BRIDGE)
    make_grant(recipient=None, recipient_name="Elsewhere Trust", recipient_org_id="GB-CHC-1999999", amount=7000, award_date=date(2026, 3, 1))
    return {"a": a, "b": b, "b5": b5}


@pytest.fixture
def referrals(monkeypatch):
    """10 referrals in the period: 8 ask for governance, 5 for funding, 2 for setting up a new group."""
    from referrals import selectors as referral_selectors

    def referral_statistics(*, start, end, ward, memo=None):
        return {
            "total": 10,
            "by_need": [("Governance and trustees", 8), ("Funding and fundraising", 5), ("Setting up a new group", 2), ("Premises", 0)],
            "by_outcome": [("Support given", 10)],
            "first_response": {"median_hours": None, "count": 0},
            "satisfaction": [],
        }

    monkeypatch.setattr(referral_selectors, "referral_statistics", referral_statistics)


def _section(board) -> selectors.Section:
    return next(section for section in board.sections if section.key == "funding")


def _chart(section, key) -> selectors.Chart:
    return next(chart for chart in section.charts if chart.key == key)


def _money(chart) -> list[tuple[str, str, str]]:
    """(row, grants, amount) as published, the total last."""
    funding = chart.series
    rows = [(label, cell.display, money.display) for label, cell, money in funding.money_rows()]
    return rows + [(funding.total_label or "Total", funding.total.display, funding.total_money.display)]


def test_totals_by_funder_with_small_numbers_hidden_and_not_recoverable(grants, referrals):
    chart = _chart(_section(selectors.sector_dashboard(_year())), "grants-by-funder")
    # Small Trust's 2 grants are "fewer than 5"; with the total shown, 18 - 6 - 5 - 5 would give them
    # back, so the smallest other row (the Lottery's 5, first of the two fives) is withheld too.
    assert _money(chart) == [
        ("City Bridge Trust", "6", "£6,000"),
        ("National Lottery Community Fund", "withheld", "withheld"),
        ("Small Trust", "fewer than 5", "withheld"),
        (NETWORK, "5", "£2,000"),
        ("Total", "18", "£19,000"),
    ]


def _assert_no_line_gives_a_hidden_amount_away(chart):
    funding = chart.series
    if not funding.additive or funding.total.hidden:
        return
    hidden = [money for _label, _cell, money in funding.money_rows() if money.hidden]
    # One hidden amount alone in a line with a shown total is the total minus the shown amounts.
    assert len(hidden) != 1, chart.key


def test_by_ward_stage_segment_and_time_worked_out_by_hand(grants, referrals):
    section = _section(selectors.sector_dashboard(_year()))
    by_ward = {label: (n, money) for label, n, money in _money(_chart(section, "grants-by-ward"))}
    # Bow East: 6 City Bridge + 2 network + 1 Small Trust = 9, £7,300. Bow West: 5 Lottery + 2 network
    # + B5's network grant by its beneficiary ward + 1 Small Trust = 9, £11,700.
    assert by_ward["Bow East"] == ("9", "£7,300")
    assert by_ward["Bow West"] == ("9", "£11,700")
    assert by_ward["Mile End"] == ("0", "£0")
    assert by_ward["Ward not recorded"] == ("0", "£0")
    assert by_ward["Total"] == ("18", "£19,000")

    # Stage 1: A0-A5's 9 grants, £7,300; stage 3: B0-B4's 8, £11,300; B5's one grant is "fewer than 5",
    # so stage 3's (the smaller shown row) is withheld with it.
    assert _money(_chart(section, "grants-by-stage")) == [
        ("Stage 1: emerging", "9", "£7,300"),
        ("Stage 2: improving", "0", "£0"),
        ("Stage 3: established", "withheld", "withheld"),
        ("Stage not recorded", "fewer than 5", "withheld"),
        ("Total", "18", "£19,000"),
    ]

    by_segment = {label: (n, money) for label, n, money in _money(_chart(section, "grants-by-segment"))}
    # BME VCOs: A0-A5's 9 grants and B0's and B1's Lottery and network grants: 13, £12,100, overlapping
    # B0's 2 grants as a VCO managing volunteers. No segment: B2, B3, B4 and B5, 5 grants to 4
    # organisations: withheld, as the money would be about fewer than 5 organisations.
    assert by_segment["BME VCOs"] == ("13", "£12,100")
    assert by_segment["VCOs managing volunteers"] == ("fewer than 5", "withheld")
    assert by_segment["No segment recorded"] == ("withheld", "withheld")
    assert by_segment["All, each counted once"] == ("18", "£19,000")

    assert _money(_chart(section, "grants-over-time")) == [
        ("2026 Q1", "6", "£6,000"),
        ("2026 Q2", "withheld", "withheld"),
        ("2026 Q3", "5", "£2,000"),
        ("2026 Q4", "fewer than 5", "withheld"),
        ("Total", "18", "£19,000"),
    ]
    for chart in section.charts:
        if chart.series is not None:
            _assert_no_line_gives_a_hidden_amount_away(chart)


def test_an_area_counts_grants_by_the_recipients_ward_else_the_beneficiary_ward(grants, referrals):
    scope = Scope(start=date(2026, 1, 1), end=date(2026, 12, 31), area=term("wards", "bow-west"))
    section = _section(selectors.sector_dashboard(scope))
    assert _money(_chart(section, "grants-by-ward")) == [("Bow West", "9", "£11,700"), ("Total", "9", "£11,700")]
    # A network grant to A0 in Bow East names Bow West as its beneficiary ward: the recipient's ward wins.
    funders = {label: (n, money) for label, n, money in _money(_chart(section, "grants-by-funder"))}
    assert "City Bridge Trust" not in funders
    assert funders["Total"] == ("9", "£11,700")


def test_a_funder_giving_to_few_organisations_is_withheld():
    funding = suppression.suppress_funding(
        [("Big Trust", 6, 6, Decimal(6000)), ("One Charity's Funder", 7, 1, Decimal(70000)), ("Mid Trust", 8, 8, Decimal(800))],
        total=(21, 15, Decimal(76800)),
    )
    rows = [(label, cell.display, money.display) for label, cell, money in funding.money_rows()]
    # 7 grants all to one organisation: withheld (not "fewer than 5": there are 5 or more grants), and
    # the smaller shown row with it, or £76,800 - £6,000 - £800 would give the £70,000 away.
    assert rows == [("Big Trust", "withheld", "withheld"), ("One Charity's Funder", "withheld", "withheld"), ("Mid Trust", "8", "£800")]


def test_too_few_grants_overall_hides_every_total(db, referrals):
    organisation = _org("Lonely", ward="bow-east", stage=1)
    make_grant(recipient=organisation, amount=500, award_date=date(2026, 3, 1))
    make_organisation(name="Someone", kinds=[term("organisation-kinds", Organisation.KIND_VCO)])
    section = _section(selectors.sector_dashboard(_year()))
    for chart in section.charts:
        if chart.series is not None:
            assert chart.series.total.hidden and chart.series.total_money.hidden
            assert "£500" not in str(list(chart.long_rows()))
    assert "Too few grants" in str(section.trend)


def test_a_total_withheld_in_one_chart_is_withheld_in_all_and_in_the_trend(db, referrals):
    # Three funders, 4 grants each to 4 organisations of their own: each "fewer than 5", and with a total
    # of 12 each would be 4, so the total is withheld; then every chart's total of the same grants too.
    for funder in (CITY_BRIDGE, LOTTERY, SMALL_TRUST):
        for n in range(4):
            make_grant(recipient=_org(f"{funder[1]} {n}", ward="bow-east", stage=1), amount=1000, award_date=date(2026, 3, 1), funder=funder)
    section = _section(selectors.sector_dashboard(_year()))
    assert [row[1] for row in _money(_chart(section, "grants-by-funder"))] == ["fewer than 5"] * 3 + ["withheld"]
    for chart in section.charts:
        if chart.series is not None:
            assert chart.series.total.hidden and chart.series.total_money.hidden, chart.key
    assert chart.alignment.grants.hidden
    trend = str(section.trend)
    assert "12" not in trend and "£12,000" not in trend and "Too few grants" in trend


def test_needs_and_money_gap_sorted_by_biggest_gap(grants, referrals):
    chart = _chart(_section(selectors.sector_dashboard(_year())), "needs-and-funding")
    gaps = chart.alignment.gaps()
    shown = [(row.need, row.referral_display, row.money_display, row.gap_display) for row in gaps if row.gap is not None]
    # Governance: 8 of 10 referrals (80%); A0-A5 meet it and received £7,300 of £19,000 (38%): +42.
    # Funding: 5 of 10 (50%); B0-B4 received £11,300 (59%): -9. Premises: nobody asked, nothing went.
    assert shown == [
        ("Governance and trustees", "80%", "38%", "+42 points"),
        ("Premises", "0%", "0%", "0 points"),
        ("Funding and fundraising", "50%", "59%", "\u22129 points"),
    ]
    # 2 referrals is a small number: not compared, and last whatever its gap would be.
    assert (gaps[-1].need, gaps[-1].referral_display, gaps[-1].gap_display) == ("Setting up a new group", "withheld", "not compared")
    assert "Governance and trustees, asked for in 80% of referrals" in chart.alignment.summary()


def test_money_share_of_a_need_met_by_few_organisations_is_withheld(grants, referrals):
    grants["a"][2].services.all().delete()
    for organisation in grants["a"][3:]:
        organisation.services.all().delete()
    chart = _chart(_section(selectors.sector_dashboard(_year())), "needs-and-funding")
    governance = next(row for row in chart.alignment.gaps() if row.need == "Governance and trustees")
    # Only A0 and A1 meet it now: 4 grants to 2 organisations.
    assert (governance.money_display, governance.gap) == ("withheld", None)


def test_grants_by_need_count_each_grant_once_per_need_within_the_area(grants, referrals):
    """The needs table's grant figures, grouped in the database: an organisation with two listed
    services meeting a need counts its grants once for it, and an area counts only its grants."""
    governance, funding = term("needs", "governance-and-trustees"), term("needs", "funding-and-fundraising")
    make_service(organisation=grants["a"][0], needs=[governance, funding])
    borough = selectors._grants_by_recipient(_year())["need"]
    # Governance: A0-A5's 6 City Bridge grants, A0 and A1's from the network, A2's from Small Trust.
    assert borough[governance.pk] == (9, 6, Decimal("7300"))
    # Funding: B0-B4 (5 Lottery, 2 network, 1 Small Trust) and now A0 (City Bridge and network).
    assert borough[funding.pk] == (10, 6, Decimal("12700"))
    # Bow East: the grants to its organisations (the network's to A0 and A1 too: their recipient's ward
    # comes before the beneficiary ward), none of Bow West's.
    bow_east = selectors._grants_by_recipient(Scope(start=date(2026, 1, 1), end=date(2026, 12, 31), area=term("wards", "bow-east")))["need"]
    assert bow_east[governance.pk] == (9, 6, Decimal("7300"))
    assert bow_east[funding.pk] == (2, 1, Decimal("1400"))


def test_section_queries_stay_the_same_however_many_grants(grants, referrals):
    """The wards, segments and needs the rows are named by are kept per process (kept_wards,
    _kept_terms): after the first section, one reads only the grants. On PostgreSQL that is four
    statements: the data version of what the figures count (here the test's own transaction has
    written the grants, so they are counted rather than kept: see test_kept_funding), the breakdowns,
    the period before's totals, and the grants by segment and by need."""

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            section = selectors.funding_section(_year())
            for chart in section.charts:
                list(chart.long_rows())
        return [query["sql"] for query in captured]

    queries()  # keeps the terms
    before = queries()
    assert not [sql for sql in before if "taxonomies_taxonomyterm" in sql]
    if connection.vendor == "postgresql":
        assert len(before) == 4, before
    for n in range(40):
        organisation = _org(f"More {n}", ward="mile-end", stage=2, segments=["bme-vcos"], needs=["premises"])
        make_grant(recipient=organisation, amount=100 + n, award_date=date(2026, 1 + n % 12, 3), funder=(f"GB-CHC-{3000000 + n}", f"Funder {n}"))
    assert len(queries()) == len(before)


def test_long_periods_go_by_year(grants, referrals):
    scope = Scope(start=date(2022, 1, 1), end=date(2026, 12, 31))
    chart = _chart(selectors.funding_section(scope), "grants-over-time")
    assert [label for label, _cell in chart.series.rows] == ["2022", "2023", "2024", "2025", "2026"]
    assert chart.row_heading == "Year"
    # 2025's one grant (£9,000) is small, 2026 is withheld with it.
    assert [cell.display for _label, cell in chart.series.rows] == ["0", "0", "0", "fewer than 5", "withheld"]


def test_trend_against_the_previous_period(grants, referrals):
    intro = str(selectors.funding_section(_year()).trend)
    # 2025 had one grant: a small number, so no comparison.
    assert "£19,000 in 18 grants" in intro and "Not compared with the previous year" in intro
    for n in range(5):
        make_grant(recipient=_org(f"Old {n}", ward="bow-east", stage=1), amount=1000, award_date=date(2025, 6, 1))
    intro = str(selectors.funding_section(_year()).trend)
    # 2025: £9,000 + 5 x £1,000 = £14,000; 2026 is £5,000 up.
    assert "up £5,000 from £14,000 in the previous year" in intro


# Pages, downloads, permissions ----------------------------------------------------------------------

PERIOD = {"start": "01/01/2026", "end": "31/12/2026"}


def _get(client, user, **params):
    client.force_login(user)
    return client.get(reverse("evidence:dashboard"), {**PERIOD, **params})


@pytest.mark.parametrize("role", [User.Role.FUNDER, "network_admin"])
def test_funders_and_network_admins_see_the_section(grants, referrals, client, role):
    user = make_network_admin() if role == "network_admin" else make_user(role)
    response = _get(client, user)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="section-funding"' in content and "Funding into the sector" in content
    assert "360Giving" in content and "the network distributes itself" in content
    assert "£6,000" in content and "fewer than 5 grants" in content
    assert "Needs asked for and where the money goes" in content and '<td class="text-end">+42</td>' in content
    assert "Grants to organisations in the sector" in content  # the key figure


def test_vco_people_and_the_public_do_not_see_it(grants, referrals, client):
    assert _get(client, make_user(User.Role.VCO_STAFF)).status_code == 403
    client.logout()
    response = client.get(reverse("evidence:dashboard"), PERIOD)
    assert response.status_code == 302 and "login" in response["Location"]


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_each_table_downloads_as_csv_as_published(grants, referrals, client):
    response = _get(client, make_user(User.Role.FUNDER), format="csv", chart="grants-by-funder")
    assert response.status_code == 200
    assert "grants-by-funder" in response["Content-Disposition"]
    rows = _csv(response)
    body = [row[2:6] for row in rows[1:]]
    assert {row[1] for row in rows[1:]} == {"Grants by funder"}
    assert ["City Bridge Trust", "Amount (£)", "6000.00", "£6,000"] in body or ["City Bridge Trust", "Amount (£)", "6000", "£6,000"] in body
    assert ["Small Trust", "Grants", "", "fewer than 5"] in body
    assert ["Small Trust", "Amount (£)", "", "withheld"] in body
    assert ["National Lottery Community Fund", "Amount (£)", "", "withheld"] in body
    gap = _csv(_get(client, make_user(User.Role.FUNDER), format="csv", chart="needs-and-funding"))
    assert gap[1][2:6] == ["Governance and trustees", "Share of referrals (%)", "80", "80%"]
    assert _get(client, make_user(User.Role.FUNDER), format="csv", chart="no-such-chart").status_code == 404


def test_the_whole_dashboard_download_and_the_pack_carry_the_section(grants, referrals, client):
    from io import BytesIO

    from openpyxl import load_workbook

    from evidence import services
    from evidence.models import EvidenceExport

    rows = _csv(_get(client, make_user(User.Role.FUNDER), format="csv"))
    assert any(row[0] == "Funding into the sector" and row[1] == "Grants by ward" for row in rows)
    funder = make_user(User.Role.FUNDER)
    export = services.request_export(user=funder, start=date(2026, 1, 1), end=date(2026, 12, 31), area=None)
    services.build_evidence_pack(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == EvidenceExport.Status.READY
    with export.file.open("rb") as handle:
        workbook = load_workbook(BytesIO(handle.read()), read_only=True)
    sheet = workbook["Funding into the sector"]
    values = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert ("Grants by funder", "Small Trust", "Grants", None, "fewer than 5") in values
    assert ("Grants by funder", "Small Trust", "Amount (£)", None, "withheld") in values
    definitions = [tuple(row) for row in workbook["Definitions"].iter_rows(values_only=True)]
    assert any(row[1] == "Needs asked for and where the money goes" for row in definitions)


@pytest.mark.postgres
def test_breakdowns_in_one_statement_match_the_grouped_queries(grants, referrals):
    """PostgreSQL's one statement (GROUPING SETS, periods truncated from a timestamp) against the
    separate grouped queries SQLite runs, on every scope shape: a recipient with no ward and no beneficiary ward, one
    with a beneficiary ward only (B5), the same recipient from two funders (A0) and twice from one
    funder in two quarters, a funder spelling its name two ways, grants on the period's first and last
    days and just outside it, a ward, a partial period, five years by year, and a period with none."""
    nowhere = _org("Nowhere", ward=None, stage=2)
    make_grant(recipient=nowhere, amount=300, award_date=date(2026, 1, 1), funder=LOTTERY)
    make_grant(recipient=nowhere, amount=700, award_date=date(2026, 12, 31), funder=("GB-CHC-1036733", "The National Lottery"))
    make_grant(recipient=grants["a"][4], amount=250, award_date=date(2026, 2, 14), funder=CITY_BRIDGE)
    make_grant(recipient=grants["a"][4], amount=125, award_date=date(2026, 11, 11), funder=CITY_BRIDGE)
    make_grant(recipient=grants["b"][3], amount=50, award_date=date(2027, 1, 1), funder=LOTTERY)
    make_grant(recipient=grants["b5"], amount=80, award_date=date(2022, 3, 31), beneficiary_ward=None, funder=SMALL_TRUST)
    scopes = [
        (_year(), "quarter"),
        (Scope(start=date(2026, 1, 1), end=date(2026, 12, 31), area=term("wards", "bow-west")), "quarter"),
        (Scope(start=date(2026, 1, 1), end=date(2026, 12, 31), area=term("wards", "bow-east")), "quarter"),
        (Scope(start=date(2026, 2, 15), end=date(2026, 11, 10)), "quarter"),
        (Scope(start=date(2022, 1, 1), end=date(2027, 12, 31)), "year"),
        (Scope(start=date(2030, 1, 1), end=date(2030, 12, 31)), "quarter"),
    ]
    for scope, unit in scopes:
        assert selectors._funding_breakdowns(scope, unit) == selectors._funding_breakdowns_grouped_separately(scope, unit), (scope, unit)
    year = selectors._funding_breakdowns(_year(), "quarter")
    # 18 grants to 12 organisations, and Nowhere's 2 and A4's 2 more: 22 grants to 13 organisations.
    assert year["total"][None] == (22, 13, Decimal("20375"))
    # The Lottery: B0-B4 and Nowhere twice (under either spelling of the name): 7 grants to 6.
    assert year["funder"][("GB-CHC-1036733", "The National Lottery")] == (7, 6, Decimal("11000"))
    # No ward: Nowhere's 2 grants, 1 organisation; Bow East: A4 counted once for its 3 grants.
    assert year["ward"][None] == (2, 1, Decimal("1000"))
    assert year["ward"][term("wards", "bow-east").pk] == (11, 6, Decimal("7675"))
    assert selectors._funding_breakdowns(Scope(start=date(2030, 1, 1), end=date(2030, 12, 31)), "quarter")["total"] == {None: (0, 0, Decimal(0))}


@pytest.mark.postgres
def test_the_breakdowns_read_the_grants_alone(grants, referrals):
    """The recipient's ward and stage come from the grant's own copies (Grant.recipient_ward,
    recipient_stage): neither the breakdowns nor the grants by segment and by need read an
    organisation's row, over a period or in a ward (on SQLite, the listed services are found through
    their organisations)."""
    for scope in (_year(), Scope(start=date(2026, 1, 1), end=date(2026, 12, 31), area=term("wards", "bow-east"))):
        with CaptureQueriesContext(connection) as captured:
            selectors._funding_breakdowns(scope, "quarter")
            selectors._grants_by_recipient(scope)
        assert captured and not [query["sql"] for query in captured if '"organisations_organisation"' in query["sql"]], scope


def _recipient_ward_and_stage_kept() -> dict[int, tuple]:
    from evidence.models import Grant

    return {pk: (ward, stage) for pk, ward, stage in Grant.objects.values_list("pk", "recipient_ward_id", "recipient_stage")}


def _recipient_ward_and_stage_read() -> dict[int, tuple]:
    """{grant id: its recipient's ward and stage}, read through the recipient (None for none)."""
    from evidence.models import Grant

    return {pk: (ward, stage) for pk, ward, stage in Grant.objects.values_list("pk", "recipient__ward_id", "recipient__development_stage")}


def test_the_recipient_ward_and_stage_are_kept_by_every_write(grants):
    """The triggers keep each grant's copy of its recipient's ward and stage whatever writes the grants
    or the organisations: saves, a save carrying stale copies, a change of recipient (to one and to
    none), a bulk insert and a bulk update; an organisation's ward and stage changed by a save and by a
    bulk update, and cleared; a save of an organisation that changes neither."""
    from evidence.models import Grant

    def check(what):
        kept = _recipient_ward_and_stage_kept()
        assert kept == _recipient_ward_and_stage_read(), what
        return kept

    assert any(ward is not None for ward, _stage in check("fixture").values())
    a0, b0, b5 = grants["a"][0], grants["b"][0], grants["b5"]
    grant = make_grant(recipient=a0, amount=10, award_date=date(2026, 9, 1))
    check("a save")
    stale = Grant.objects.get(pk=grant.pk)
    a0.ward, a0.development_stage = term("wards", "mile-end"), Organisation.Stage.IMPROVING
    a0.save()
    assert check("an organisation saved")[grant.pk] == (term("wards", "mile-end").pk, 2)
    stale.title = "Renamed"
    stale.save()  # writes the copies it read before the organisation changed
    check("a stale save")
    for recipient in (b5, b0, None):
        grant.recipient = recipient
        grant.recipient_name, grant.recipient_org_id = ("Elsewhere", "GB-CHC-1999998") if recipient is None else ("", "")
        grant.save()
        check(recipient)
    assert _recipient_ward_and_stage_kept()[grant.pk] == (None, None)
    template = Grant.objects.get(pk=grant.pk)
    Grant.objects.bulk_create(
        [Grant(**{**{f.name: getattr(template, f.name) for f in Grant._meta.concrete_fields if not f.generated and f.name != "id"},
                  "identifier": f"360G-bulk-{n}", "recipient": recipient, "recipient_ward_id": None, "recipient_stage": 3})
         for n, recipient in enumerate((a0, b5, b0))]
    )
    check("a bulk insert")
    Grant.objects.filter(recipient=b0).update(recipient=a0)
    check("a bulk update of recipients")
    Grant.objects.filter(recipient=a0).update(recipient_ward_id=term("wards", "bow-west").pk, recipient_stage=None)
    check("a bulk update of the copies")
    Organisation.objects.filter(pk__in=[a0.pk, b5.pk]).update(ward=term("wards", "bow-west"), development_stage=Organisation.Stage.EMERGING)
    check("organisations updated in bulk")
    a0.refresh_from_db()
    a0.ward, a0.development_stage = None, None
    a0.save()
    assert all(kept == (None, None) for pk, kept in check("cleared").items() if Grant.objects.get(pk=pk).recipient_id == a0.pk)
    a0.name = "A0 renamed"
    a0.save()
    check("neither changed")


def _previous_awards_worked_out() -> dict[int, tuple]:
    """{grant id: its four previous_* dates}, worked out from every grant in Python: the award date of
    the grant before it to the same recipient, by award date then id, over any grant, the same funder's,
    the same beneficiary ward's, and both."""
    from evidence.models import Grant

    grants = Grant.objects.filter(recipient__isnull=False).order_by("award_date", "pk")
    grants = grants.values_list("pk", "recipient_id", "funder_org_id", "beneficiary_ward_id", "award_date")
    last: dict[tuple, date] = {}
    worked_out = {}
    for pk, recipient, funder, ward, award_date in grants:
        chains = [(recipient,), (recipient, funder), (recipient, "ward", ward), (recipient, "ward", ward, funder)]
        worked_out[pk] = tuple(last.get(chain) for chain in chains)
        for chain in chains:
            last[chain] = award_date
    return worked_out


def _previous_awards_kept() -> dict[int, tuple]:
    from evidence.models import Grant

    rows = Grant.objects.filter(recipient__isnull=False).values_list(
        "pk", "previous_to_recipient", "previous_from_funder", "previous_for_ward", "previous_from_funder_for_ward"
    )
    return {pk: tuple(previous) for pk, *previous in rows}


def test_the_previous_awards_are_kept_by_every_write(grants):
    """The triggers keep each grant's previous_* dates whatever writes the grants: saves (inserts out of
    date order, ties on a date), a save carrying stale dates, changes of date, recipient, funder and
    beneficiary ward, a bulk update and deletes."""
    from evidence.models import Grant

    assert _previous_awards_kept() == _previous_awards_worked_out()
    a0, b5 = grants["a"][0], grants["b5"]
    later = make_grant(recipient=a0, amount=10, award_date=date(2026, 9, 1), funder=CITY_BRIDGE)
    make_grant(recipient=a0, amount=20, award_date=date(2026, 1, 5), funder=CITY_BRIDGE)  # before every grant of A0's
    make_grant(recipient=a0, amount=30, award_date=date(2026, 9, 1), funder=LOTTERY)  # the same day as `later`
    make_grant(recipient=b5, amount=40, award_date=date(2026, 3, 1), beneficiary_ward=term("wards", "bow-east"))
    make_grant(recipient=b5, amount=50, award_date=date(2026, 4, 1), beneficiary_ward=term("wards", "bow-east"), funder=LOTTERY)
    assert _previous_awards_kept() == _previous_awards_worked_out()
    stale = Grant.objects.get(pk=later.pk)
    make_grant(recipient=a0, amount=60, award_date=date(2026, 8, 31), funder=CITY_BRIDGE)
    stale.title = "Renamed"
    stale.save()  # writes the dates it read before the grant just above
    assert _previous_awards_kept() == _previous_awards_worked_out()
    for change in ({"award_date": date(2025, 6, 1)}, {"recipient": grants["b"][1]}, {"funder_org_id": LOTTERY[0]}, {"beneficiary_ward": None}):
        for name, value in change.items():
            setattr(later, name, value)
        later.save()
        assert _previous_awards_kept() == _previous_awards_worked_out(), change
    Grant.objects.filter(recipient=a0).update(award_date=date(2026, 6, 30))
    assert _previous_awards_kept() == _previous_awards_worked_out()
    Grant.objects.filter(recipient=b5, amount_awarded=40).delete()
    later.delete()
    assert _previous_awards_kept() == _previous_awards_worked_out()


def test_the_amount_in_pence_is_kept_by_every_write(grants):
    """Grant.amount_in_pence, which the funding figures add up, is the amount in pence whatever writes
    the grants: saves (amounts a binary fraction cannot hold), a change of amount, a bulk update, a bulk
    insert; and the sums read from it are the amounts' sums, to the penny and with two places."""
    from django.db.models import F

    from evidence.models import Grant

    def kept():
        rows = Grant.objects.values_list("amount_awarded", "amount_in_pence")
        assert rows and all(pence == int(amount * 100) for amount, pence in rows), list(rows)

    a0 = grants["a"][0]
    for amount in ("0.29", "0.07", "1234567.89", "99999999.99", "19.99"):
        make_grant(recipient=a0, amount=Decimal(amount), award_date=date(2026, 5, 1))
    kept()
    changed = make_grant(recipient=a0, amount=Decimal("10.10"), award_date=date(2026, 5, 2))
    changed.amount_awarded = Decimal("33.33")
    changed.save()
    assert Grant.objects.get(pk=changed.pk).amount_in_pence == 3333
    Grant.objects.filter(recipient=a0).update(amount_awarded=F("amount_awarded") + Decimal("0.01"))
    kept()
    template = Grant.objects.get(pk=changed.pk)
    Grant.objects.bulk_create(
        [Grant(**{**{f.name: getattr(template, f.name) for f in Grant._meta.concrete_fields if not f.generated and f.name != "id"},
                  "identifier": f"360G-bulk-{n}", "amount_awarded": Decimal("0.57")}) for n in range(3)]
    )
    kept()
    scope = Scope(start=date(2022, 1, 1), end=date(2026, 12, 31))
    total = selectors._funding_breakdowns(scope, "year")["total"][None]
    assert total[2] == selectors._funding_totals(selectors._grants_into_sector(scope))[2]
    if connection.vendor == "postgresql":  # SQLite's separate grouped queries add up the decimals themselves
        assert total[2].as_tuple().exponent == -2
    segments = selectors._grants_by_recipient(scope)["segment"]
    assert segments == selectors._grouped(selectors._grants_into_sector(scope), "recipient__segments")
    assert all(amount.as_tuple().exponent == -2 for _n, _recipients, amount in segments.values())


def test_recipients_counted_from_first_grants_match_counting_them_distinct(grants, referrals):
    """The recipients of each breakdown, of the grants by segment and of the grants by need, counted from
    each recipient's first grant, against COUNT(DISTINCT) on the same grants, on every scope shape: a
    recipient with no ward whose grants go to two beneficiary wards from one funder (and none), one with
    several grants in a group, a period starting after a recipient's first grant, a ward, five years by
    year, and a period with none; then after grants change."""
    from evidence.models import Grant
    from taxonomies.models import Taxonomy, TaxonomyTerm

    roaming = _org("Roaming", ward=None, stage=2, segments=["bme-vcos"], needs=["funding-and-fundraising"])
    for award_date, ward in ((date(2025, 11, 1), "bow-west"), (date(2026, 2, 1), "bow-east"), (date(2026, 3, 1), "bow-west"), (date(2026, 7, 1), None)):
        make_grant(recipient=roaming, amount=100, award_date=award_date, funder=LOTTERY, beneficiary_ward=term("wards", ward) if ward else None)
    make_grant(recipient=grants["a"][1], amount=250, award_date=date(2025, 12, 31), funder=LOTTERY)
    make_grant(recipient=grants["a"][1], amount=250, award_date=date(2026, 2, 14), funder=LOTTERY)
    scopes = [
        (_year(), "quarter"),
        (Scope(start=date(2026, 1, 1), end=date(2026, 12, 31), area=term("wards", "bow-west")), "quarter"),
        (Scope(start=date(2026, 1, 1), end=date(2026, 12, 31), area=term("wards", "bow-east")), "quarter"),
        (Scope(start=date(2026, 2, 15), end=date(2026, 11, 10)), "quarter"),
        (Scope(start=date(2026, 2, 15), end=date(2026, 11, 10), area=term("wards", "bow-west")), "quarter"),
        (Scope(start=date(2022, 1, 1), end=date(2027, 12, 31)), "year"),
        (Scope(start=date(2030, 1, 1), end=date(2030, 12, 31)), "quarter"),
    ]
    needs = TaxonomyTerm.objects.in_taxonomy(Taxonomy.NEEDS)

    def check():
        for scope, unit in scopes:
            assert selectors._funding_breakdowns(scope, unit) == selectors._funding_breakdowns_grouped_separately(scope, unit), (scope, unit)
            in_sector = selectors._grants_into_sector(scope)
            by_recipient = selectors._grants_by_recipient(scope)
            assert by_recipient["segment"] == selectors._grouped(in_sector, "recipient__segments"), scope
            by_need = {}
            for need in needs:
                meeting = Organisation.objects.filter(services__in=Service.objects.listed().filter(needs=need))
                n, recipients, amount = selectors._funding_totals(in_sector.filter(recipient__in=meeting))
                if n:
                    by_need[need.pk] = (n, recipients, amount)
            assert by_recipient["need"] == by_need, scope

    check()
    year = selectors._funding_breakdowns(_year(), "quarter")
    # The Lottery in 2026: B0-B4, Roaming 3 times and A1 once: 9 grants to 7 organisations.
    assert year["funder"][LOTTERY] == (9, 7, Decimal("10550"))
    Grant.objects.filter(recipient=roaming, beneficiary_ward__isnull=True).update(beneficiary_ward=term("wards", "bow-east"))
    Grant.objects.filter(recipient=grants["a"][1], award_date=date(2025, 12, 31)).update(award_date=date(2026, 1, 1))
    check()
