"""Every figure on the sector dashboards against values worked out by hand on a small borough."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from evidence import selectors, services
from evidence.selectors import Scope
from organisations.models import Organisation
from tests.factories import make_organisation, make_provider, make_service, make_user, term

pytestmark = pytest.mark.django_db

YEAR = Scope(start=date(2026, 1, 1), end=date(2026, 12, 31))


@pytest.fixture(autouse=True)
def forget_shared_figures():
    """A scope remembers the figures its sections share, and YEAR outlives each test's data."""
    YEAR.memo.clear()


def _at(day: date):
    return timezone.make_aware(datetime(day.year, day.month, day.day, 12))


def _vco(name, *, ward, stage=None, created, volunteers=None, segments=(), communities=(), **extra):
    organisation = make_organisation(
        name=name, ward=term("wards", ward) if ward else None, development_stage=stage, volunteers=volunteers,
        segments=[term("segments", s) for s in segments], communities_served=[term("communities", c) for c in communities], **extra,
    )
    Organisation.objects.filter(pk=organisation.pk).update(created_at=_at(created))
    return organisation


@pytest.fixture
def borough(db):
    """Bow East: six stage 1 (Q1), three stage 2 (Q2), one unstaged from 2025. Bow West: two stage 1 (Q3),
    five stage 3 (Q4). Left out: a closed VCO, one created after the period, and a provider."""
    for n in range(6):
        _vco(f"A{n}", ward="bow-east", stage=1, created=date(2026, 2, 10), volunteers=10, segments=["bme-vcos"])
    _vco("B0", ward="bow-east", stage=2, created=date(2026, 5, 5), volunteers=2, segments=["vcos-managing-volunteers"], communities=["young-people"])
    _vco("B1", ward="bow-east", stage=2, created=date(2026, 5, 5), segments=["vcos-managing-volunteers"])
    _vco("B2", ward="bow-east", stage=2, created=date(2026, 5, 5))
    _vco("C0", ward="bow-east", created=date(2025, 6, 1))
    _vco("D0", ward="bow-west", stage=1, created=date(2026, 8, 1), volunteers=3, segments=["bme-vcos"], communities=["women"])
    _vco("D1", ward="bow-west", stage=1, created=date(2026, 8, 1), volunteers=3)
    for n in range(5):
        _vco(f"E{n}", ward="bow-west", stage=3, created=date(2026, 11, 1), volunteers=20, communities=["women"])
    _vco("Closed", ward="bow-west", stage=1, created=date(2026, 3, 1), is_active=False)
    _vco("Later", ward="bow-east", stage=1, created=date(2027, 2, 1))
    provider_kind = [term("organisation-kinds", "general")]
    p1 = make_provider(name="P1", ward=term("wards", "bow-east"))
    p2 = make_provider(name="P2")
    p3 = make_provider(name="P3")
    p4 = make_provider(name="P4")
    make_service(organisation=p1, functions=[term("functions", "training")], wards=[term("wards", "bow-east")])
    make_service(organisation=p2, functions=[term("functions", "training"), term("functions", "information-and-advice")])
    make_service(organisation=p3, functions=[term("functions", "consultancy")], status="closed")
    make_service(organisation=p4, functions=[term("functions", "training")], wards=[term("wards", "bow-west")])
    return SimpleNamespace(provider_kind=provider_kind)


def _series(chart):
    rows = [(label, cell.display) for label, cell in chart.series.rows]
    return rows, chart.series.total.display if chart.series.total else None


def _chart(section, key):
    return next(chart for chart in section.charts if chart.key == key)


def test_vcos_by_stage_borough_wide(borough):
    section = selectors.organisation_section(YEAR)
    # 8 at stage 1, 3 at stage 2, 5 at stage 3, 1 unstaged: 17. The two small cells add up to 4, which
    # splits as 1+3, 2+2 or 3+1, so the total can stand.
    assert _series(_chart(section, "vcos-by-stage")) == (
        [("Stage 1: emerging", "8"), ("Stage 2: improving", "fewer than 5"), ("Stage 3: established", "5"), ("Stage not recorded", "fewer than 5")],
        "17",
    )


def test_vcos_by_stage_in_a_ward_withholds_a_second_cell(borough):
    section = selectors.organisation_section(Scope(start=YEAR.start, end=YEAR.end, area=term("wards", "bow-west")))
    # Bow West: 2 at stage 1 and 5 at stage 3, 7 in all. With the total shown, 7 - 5 would give the 2
    # away: the 5 is withheld too.
    assert _series(_chart(section, "vcos-by-stage")) == (
        [("Stage 1: emerging", "fewer than 5"), ("Stage 2: improving", "0"), ("Stage 3: established", "withheld"), ("Stage not recorded", "0")],
        "7",
    )
    assert not any(chart.key == "vcos-by-ward" for chart in section.charts)  # one ward: no ward chart


def test_vcos_by_ward(borough):
    rows, total = _series(_chart(selectors.organisation_section(YEAR), "vcos-by-ward"))
    as_dict = dict(rows)
    assert as_dict["Bow East"] == "10" and as_dict["Bow West"] == "7" and as_dict["Ward not recorded"] == "0"
    assert {value for label, value in rows if label not in ("Bow East", "Bow West")} == {"0"}
    assert total == "17"


def test_vcos_by_segment_and_community(borough):
    section = selectors.organisation_section(YEAR)
    segments, total = _series(_chart(section, "vcos-by-segment"))
    assert dict(segments)["BME VCOs"] == "7"
    assert dict(segments)["VCOs managing volunteers"] == "fewer than 5"
    assert dict(segments)["VCOs working with older people"] == "0"
    assert total == "17"  # counted once per organisation, not the sum of the rows
    communities, total = _series(_chart(section, "vcos-by-community"))
    assert dict(communities)["Women"] == "6" and dict(communities)["Young people"] == "fewer than 5" and total == "17"


def test_vcos_over_time(borough):
    section = selectors.organisation_section(YEAR)
    # One row per VCO: 1 on record before 2026, then 6 joining in Q1, 3 in Q2, 2 in Q3, 5 in Q4; 17. The
    # small ones add up to 6, which splits several ways, so the total stands.
    assert _series(_chart(section, "vcos-joining")) == (
        [("Before the period", "fewer than 5"), ("2026 Q1", "6"), ("2026 Q2", "fewer than 5"), ("2026 Q3", "fewer than 5"), ("2026 Q4", "5")],
        "17",
    )
    # No running count per quarter: 10 on record after Q2 and 7 after Q1 would give the 3 away.
    assert not any(chart.key == "vcos-on-record" for chart in section.charts)



def test_vcos_joining_by_the_local_day(db):
    """A VCO joins in the quarter of the local day its record was created, in this period's chart and in
    the period before's (figured out by the same statement)."""
    for name, created in (
        ("GMT", datetime(2025, 12, 31, 23, 30)),  # 23:30 on 31 December 2025 in London: before 2026
        ("BST spring", datetime(2026, 3, 31, 23, 30)),  # 00:30 on 1 April in London: Q2
        ("BST summer", datetime(2026, 6, 30, 23, 30)),  # 00:30 on 1 July: Q3
        ("Last", datetime(2026, 12, 31, 23, 30)),  # still 31 December: Q4
    ):
        organisation = _vco(name, ward="bow-east", created=date(2026, 1, 1))
        Organisation.objects.filter(pk=organisation.pk).update(created_at=created.replace(tzinfo=UTC))
    joined = _chart(selectors.organisation_section(YEAR), "vcos-joining").series.rows
    assert [(label, count.value) for label, count in joined] == [
        ("Before the period", 1), ("2026 Q1", 0), ("2026 Q2", 1), ("2026 Q3", 1), ("2026 Q4", 1)
    ]
    before, _name = selectors.previous_period(YEAR)
    joined = _chart(selectors.organisation_section(before), "vcos-joining").series.rows
    assert [(label, count.value) for label, count in joined] == [
        ("Before the period", 0), ("2025 Q1", 0), ("2025 Q2", 0), ("2025 Q3", 0), ("2025 Q4", 1)
    ]

def test_volunteers(borough):
    section = selectors.volunteer_section(YEAR)
    # Volunteers: stage 1 60 + 6 = 66, stage 2 2, stage 3 100, unstaged 0; 168 in all. 168 - 100 - 0
    # would give 66 + 2 away with 2 alone hidden: the 66 is withheld.
    assert _series(_chart(section, "volunteers-by-stage")) == (
        [("Stage 1: emerging", "withheld"), ("Stage 2: improving", "fewer than 5"), ("Stage 3: established", "100"), ("Stage not recorded", "0")],
        "168",
    )
    # Organisations reporting: 8, 1, 5, 0 (14). Withholding the 5 is not enough (14 - 8 - 0 = 6 = 1 + 5
    # exactly, since a withheld cell is at least 5), so the 8 goes too.
    assert _series(_chart(section, "vcos-reporting-volunteers")) == (
        [("Stage 1: emerging", "withheld"), ("Stage 2: improving", "fewer than 5"), ("Stage 3: established", "withheld"), ("Stage not recorded", "0")],
        "14",
    )
    assert _chart(section, "staff-by-stage").is_empty


def test_provider_coverage_and_gaps(borough):
    section = selectors.provider_section(YEAR)
    by_function = {label: cell for label, cell in _chart(section, "providers-by-function").series.rows}
    # Providers and their services are public facts: 3 is shown as 3, not suppressed.
    assert by_function["Training"].value == 3 and by_function["Training"].display == "3"
    assert by_function["Information and advice"].value == 1
    assert by_function["Consultancy"].value == 0 and by_function["Consultancy"].display == "0"  # P3's service is closed
    table = _chart(section, "coverage-by-ward").table
    cells = {(row, column): cell for row, row_cells, _total in table.rows() for column, cell in zip(table.column_labels, row_cells)}
    assert cells[("Training", "Bow East")].value == 2  # P1 (Bow East) and P2 (borough-wide)
    assert cells[("Training", "Bow West")].value == 2  # P2 and P4
    assert cells[("Training", "Mile End")].value == 1  # P2 only
    assert cells[("Information and advice", "Mile End")].value == 1
    assert cells[("Consultancy", "Bow East")].value == 0
    coverage = _chart(section, "coverage-by-ward")
    # Every gap is listed (no "…"), grouped by function: consultancy is offered nowhere.
    consultancy = dict(coverage.gaps)["Consultancy"]
    assert "Bow East" in consultancy and len(consultancy) == len(table.column_labels)
    assert coverage.gap_count == sum(1 for cell in cells.values() if cell.value == 0)
    assert coverage.note == f"{coverage.gap_count} gaps in provision."
    assert not any(cell.hidden for row in table.cells for cell in row)

    in_bow_west = selectors.provider_section(Scope(start=YEAR.start, end=YEAR.end, area=term("wards", "bow-west")))
    by_function = {label: cell.value for label, cell in _chart(in_bow_west, "providers-by-function").series.rows}
    assert by_function["Training"] == 2 and by_function["Information and advice"] == 1
    assert _chart(in_bow_west, "coverage-by-ward").table.column_labels == ["Bow West"]


def test_referral_section_suppresses_the_referral_figures(borough, monkeypatch):
    from referrals import selectors as referral_selectors

    received = {}

    def referral_statistics(*, start, end, ward, memo=None):
        received.update(start=start, end=end, ward=ward)
        return {
            "total": 40,
            "by_need": [("Funding and fundraising", 30), ("Premises", 3), ("Training", 12)],
            "by_outcome": [("Support given", 20), ("Declined", 2), ("Still open", 18)],
            "first_response": {"median_hours": 7.0, "count": 6},
            "satisfaction": [("5", 9), ("4", 3), ("3", 0)],
        }

    monkeypatch.setattr(referral_selectors, "referral_statistics", referral_statistics)
    section = selectors.referral_section(YEAR)
    assert received == {"start": YEAR.start, "end": YEAR.end, "ward": None}
    assert _series(_chart(section, "referrals-by-need")) == (
        [("Funding and fundraising", "30"), ("Premises", "fewer than 5"), ("Training", "12")],
        "40",
    )
    # 20 + 2 + 18 = 40: the 2 would be 40 - 20 - 18, so the 18 is withheld.
    assert _series(_chart(section, "referrals-by-outcome")) == (
        [("Support given", "20"), ("Declined", "fewer than 5"), ("Still open", "withheld")],
        "40",
    )
    assert _series(_chart(section, "referral-satisfaction")) == ([("5", "withheld"), ("4", "fewer than 5"), ("3", "0")], "12")
    median = section.statistics[0].value
    assert median.value == 7 and median.n == 6 and str(median) == "7.0 hours"


def test_a_median_from_few_records_is_withheld(borough, monkeypatch):
    from referrals import selectors as referral_selectors

    few = {"total": 3, "by_need": [], "by_outcome": [], "first_response": {"median_hours": 2.0, "count": 3}, "satisfaction": []}
    monkeypatch.setattr(referral_selectors, "referral_statistics", lambda **kw: few)
    median = selectors.referral_section(YEAR).statistics[0].value
    assert median.hidden and "withheld" in str(median)


def test_dashboard_queries_do_not_grow_with_the_number_of_organisations(borough):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            board = selectors.sector_dashboard(Scope(start=YEAR.start, end=YEAR.end))  # nothing remembered
            for section in board.sections:
                for chart in section.charts:
                    list(chart.long_rows())
        return len(captured)

    queries()  # the referrals' months summarised
    before = queries()
    for n in range(30):
        _vco(f"More {n}", ward="mile-end", stage=2, created=date(2026, 4, 1), volunteers=5, segments=["bme-vcos"], communities=["women"])
    assert queries() == before


def _funder_client(client):
    client.force_login(make_user(User.Role.FUNDER))
    return client


def test_dashboard_page_shows_charts_and_tables(borough, client):
    response = _funder_client(client).get(reverse("evidence:dashboard"), {"start": "2026-01-01", "end": "2026-12-31", "area": "bow-west"})
    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="bar-chart' in content and "fewer than 5" in content and "withheld" in content
    assert "VCOs by development stage" in content and "Bow West" in content
    for heading in ("Referrals by support need", "Median time to first response", "Training delivered", "Organisational health checks"):
        assert heading in content


def test_dashboard_download_has_the_same_suppressed_figures(borough, client):
    response = _funder_client(client).get(reverse("evidence:dashboard"), {"start": "2026-01-01", "end": "2026-12-31", "area": "bow-west", "format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "VCOs by development stage,Stage 1: emerging,,,fewer than 5" in text
    assert "VCOs by development stage,Stage 3: established,,,withheld" in text
    assert ",2," not in text.split("Volunteers")[0].split("VCOs by development stage")[1]


@pytest.fixture
def one_ward(db):
    """Eight VCOs, all in Bow East and all joining in 2026 Q1: four at stage 1 and four at stage 2."""
    for n in range(4):
        _vco(f"Emerging {n}", ward="bow-east", stage=1, created=date(2026, 2, 10))
        _vco(f"Improving {n}", ward="bow-east", stage=2, created=date(2026, 2, 10))


def test_a_total_withheld_in_one_chart_is_shown_nowhere_else(one_ward, client, settings, tmp_path):
    # By stage, 4 and 4 under a total of 8 would give both away, so that chart withholds its 8; on its
    # own, the ward chart shows it, as its total and as the Bow East row.
    section = selectors.organisation_section(YEAR)
    assert _series(_chart(section, "vcos-by-stage")) == (
        [("Stage 1: emerging", "fewer than 5"), ("Stage 2: improving", "fewer than 5"), ("Stage 3: established", "0"), ("Stage not recorded", "0")],
        "withheld",
    )
    ward_rows, ward_total = _series(_chart(section, "vcos-by-ward"))
    assert dict(ward_rows)["Bow East"] == "8" and ward_total == "8"

    # On the page, and in everything built from it, the 8 is withheld wherever the VCOs are counted: the
    # totals by ward, segment, community and joining, and the Bow East and 2026 Q1 rows that add up to it.
    funder = make_user(User.Role.FUNDER)
    client.force_login(funder)
    params = {"start": "2026-01-01", "end": "2026-12-31", "area": ""}
    board = selectors.sector_dashboard(YEAR)
    organisations = next(section for section in board.sections if section.key == "organisations")
    assert _series(_chart(organisations, "vcos-by-ward"))[1] == "withheld"
    assert dict(_series(_chart(organisations, "vcos-by-ward"))[0])["Bow East"] == "withheld"
    assert _series(_chart(organisations, "vcos-joining")) == (
        [("Before the period", "0"), ("2026 Q1", "withheld"), ("2026 Q2", "0"), ("2026 Q3", "0"), ("2026 Q4", "0")],
        "withheld",
    )
    assert _series(_chart(organisations, "vcos-by-segment"))[1] == _series(_chart(organisations, "vcos-by-community"))[1] == "withheld"

    for url in (reverse("evidence:dashboard"), reverse("evidence:report")):
        html = client.get(url, params).content.decode()
        assert "VCOs by ward" in html and "withheld" in html
        assert ">8<" not in html, url

    response = client.get(reverse("evidence:dashboard"), {**params, "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert ["Voluntary and community organisations", "VCOs by ward", "Bow East", "", "", "withheld"] in [row[:6] for row in rows]
    assert [row for row in rows if "8" in row[4:6]] == []

    response = client.get(reverse("evidence:dashboard"), {**params, "format": "xlsx"})
    sheet_rows = list(load_workbook(io.BytesIO(response.content), read_only=True).active.iter_rows(values_only=True))
    assert [row for row in sheet_rows if 8 in row[4:6] or "8" in row[4:6]] == []

    settings.EVIDENCE_EXPORT_DIR = tmp_path / "packs"
    export = services.build_evidence_pack(export_id=services.request_export(user=funder, start=YEAR.start, end=YEAR.end, area=None).pk)
    pack = load_workbook(export.file.path, read_only=True)
    figures = [row for name in pack.sheetnames[1:-1] for row in pack[name].iter_rows(values_only=True)]
    assert ("VCOs by ward", "Bow East", None, None, "withheld") in figures
    assert [row for row in figures if 8 in row or "8" in row] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-06-01", "end": "2026-01-01", "area": ""}, "is before its start"),
        ({"start": "2026-01-01", "end": "2026-12-31", "area": "atlantis"}, "There is no ward \u201catlantis\u201d"),
        ({"start": "yesterday", "end": "2026-12-31", "area": ""}, "Enter a real date as day/month/year"),
    ],
)
def test_bad_periods_and_areas_get_a_clear_message(borough, client, params, message):
    response = _funder_client(client).get(reverse("evidence:dashboard"), params)
    assert response.status_code == 400
    content = response.content.decode()
    assert message in content and "There is a problem" in content


def test_an_empty_period_gets_the_no_data_page(borough, client):
    response = _funder_client(client).get(reverse("evidence:dashboard"), {"start": "1990-01-01", "end": "1990-12-31"})
    assert response.status_code == 200
    assert "No data for this period" in response.content.decode()


def test_vco_staff_cannot_see_dashboards(borough, client):
    client.force_login(make_user())
    assert client.get(reverse("evidence:dashboard")).status_code == 403


def _held(organiser, *, category, booked, attended, on: date):
    """An event of a category held on a given day, with places booked and attendance marked. Booked
    ahead through the service (which takes no bookings for past dates), then moved to its day."""
    from calendar_events.models import Booking, Event
    from calendar_events.services import book
    from tests.factories import make_event

    event = make_event(organiser=organiser, category=category, booking_required=True, capacity=20)
    for n in range(booked):
        booking = book(event=event, occurrence_start=event.start, user=make_user())
        if n < attended:
            Booking.objects.filter(pk=booking.pk).update(attended=True)
    held_at = _at(on)
    Event.objects.filter(pk=event.pk).update(start=held_at, end=held_at + timedelta(hours=2), series_end=held_at + timedelta(hours=2))
    Booking.objects.filter(event=event).update(occurrence_start=held_at)
    return event


def _cells(chart):
    table = chart.table
    rows = {label: [cell.display for cell in cells] for label, cells, _total in table.rows()}
    return rows, [total.display for total in table.column_totals]


def test_events_and_attendance_from_the_calendar(borough):
    bow_east_provider = Organisation.objects.get(name="P1")
    borough_provider = Organisation.objects.get(name="P2")
    _held(bow_east_provider, category="training", booked=6, attended=5, on=date(2026, 3, 3))
    _held(borough_provider, category="networking", booked=3, attended=2, on=date(2026, 12, 31))
    _held(borough_provider, category="training", booked=4, attended=4, on=date(2027, 1, 1))  # after the period
    section = selectors.event_section(YEAR)
    # Two events on two dates, nine places booked, seven people attended.
    assert _series(_chart(section, "events-and-attendance")) == (
        [("Events", "fewer than 5"), ("Dates held", "fewer than 5"), ("Places booked", "9"), ("People who attended", "7")],
        None,
    )
    # Training delivered: one session, five people trained; networking one date, two people. The
    # attendance column adds up to 7: 7 - 5 would give the 2 away, so the 5 is withheld.
    rows, totals = _cells(_chart(section, "training-delivered"))
    assert rows["Training"] == ["fewer than 5", "withheld"] and rows["Networking"] == ["fewer than 5", "fewer than 5"]
    assert {tuple(cells) for label, cells in rows.items() if label not in ("Training", "Networking")} == {("0", "0")}
    assert next(iter(rows)) == "Training" and totals == ["fewer than 5", "7"]
    # Attendance by the organiser's ward: Bow East 5, no ward 2, 7 in all; 7 - 2 would give the 5
    # away... and 7 - 5 the 2: the 5 is withheld.
    rows, total = _series(_chart(section, "attendance-by-ward"))
    assert dict(rows)["Bow East"] == "withheld" and dict(rows)["Ward not recorded"] == "fewer than 5" and total == "7"
    assert {value for label, value in rows if label not in ("Bow East", "Ward not recorded")} == {"0"}
    in_bow_east = selectors.event_section(Scope(start=YEAR.start, end=YEAR.end, area=term("wards", "bow-east")))
    assert _series(_chart(in_bow_east, "events-and-attendance"))[0][2:] == [("Places booked", "6"), ("People who attended", "5")]
    rows, totals = _cells(_chart(in_bow_east, "training-delivered"))
    assert rows["Training"] == ["fewer than 5", "5"] and rows["Networking"] == ["0", "0"] and totals == ["fewer than 5", "5"]
    # The first day of 2027 holds the third event only.
    new_year = selectors.event_section(Scope(start=date(2027, 1, 1), end=date(2027, 1, 1)))
    assert _cells(_chart(new_year, "training-delivered"))[0]["Training"] == ["fewer than 5", "fewer than 5"]
    # Last year: nothing held.
    last_year = selectors.event_section(Scope(start=date(2025, 1, 1), end=date(2025, 12, 31)))
    assert _chart(last_year, "events-and-attendance").is_empty and _chart(last_year, "training-delivered").is_empty


def test_a_total_withheld_in_the_training_table_is_withheld_above_it_too(borough):
    # Four people trained (by P1, in Bow East) and four at a forum (P2, no ward): with 8 shown as the
    # total, both hidden counts would have to be 4. The table withholds its total, and on the page the
    # chart above (the same figure) does too; so does the ward chart, whose two cells are the same 4 and 4.
    _held(Organisation.objects.get(name="P1"), category="training", booked=4, attended=4, on=date(2026, 5, 1))
    _held(Organisation.objects.get(name="P2"), category="forum", booked=4, attended=4, on=date(2026, 5, 2))
    section = next(section for section in selectors.sector_dashboard(YEAR).sections if section.key == "events")
    rows, totals = _cells(_chart(section, "training-delivered"))
    assert rows["Training"][1] == rows["Forum or meeting"][1] == "fewer than 5" and totals[1] == "withheld"
    assert dict(_series(_chart(section, "events-and-attendance"))[0])["People who attended"] == "withheld"
    assert _series(_chart(section, "attendance-by-ward"))[1] == "withheld"
    long_rows = list(_chart(section, "training-delivered").long_rows())
    assert ("Total", "People who attended", None, "withheld") in long_rows
    assert ("Training", "People who attended", None, "fewer than 5") in long_rows


def test_health_check_progress_from_the_quality_app(borough):
    from quality import selectors as quality_selectors
    from quality.services import record_health_check

    def take(organisation, value):
        stage = organisation.development_stage
        answers = {question.pk: value for question in quality_selectors.health_check_questions(stage)}
        record_health_check(organisation=organisation, stage=stage, answers=answers, by=make_user())

    for name in ("A0", "A1", "A2", "A3", "A4", "A5"):
        organisation = Organisation.objects.get(name=name)
        take(organisation, 1)  # 33%
        take(organisation, 3)  # 100%
    same = Organisation.objects.get(name="B0")
    take(same, 2)
    take(same, 2)
    take(Organisation.objects.get(name="B1"), 3)  # only once: no progress to measure
    section = selectors.health_check_section(YEAR)
    # Six improved, one the same, none lower: 7. The 1 would be 7 - 6: the 6 is withheld.
    assert _series(_chart(section, "health-check-progress")) == (
        [("Improved", "withheld"), ("No change", "fewer than 5"), ("Lower", "0")],
        "7",
    )
    median = section.statistics[0].value
    assert median.n == 7 and median.value == 67 and str(median) == "67.0 points"
    in_bow_west = selectors.health_check_section(Scope(start=YEAR.start, end=YEAR.end, area=term("wards", "bow-west")))
    assert _chart(in_bow_west, "health-check-progress").is_empty and in_bow_west.statistics[0].value.n == 0


def test_quality_standard_coverage_from_the_quality_app(borough):
    from quality.selectors import current_version
    from tests.factories import make_verified_badge

    areas = list(current_version().areas.order_by("order", "name"))
    make_verified_badge(organisation=Organisation.objects.get(name="P1"))  # baseline in every area
    make_verified_badge(organisation=Organisation.objects.get(name="P2"), levels={areas[0].code: 2, areas[1].code: 0})
    table = _chart(selectors.quality_section(YEAR), "quality-coverage").table
    assert table.column_labels == ["Not assessed", "Baseline not met", "Baseline met", "Above baseline"]
    values = {label: [cell.value for cell in cells] + [total.value] for label, cells, total in table.rows()}
    # P3 and P4 have no badge; P1 meets every baseline; P2 is above it in the first area, misses the second.
    assert values[areas[0].name] == [2, 0, 1, 1, 4]
    assert values[areas[1].name] == [2, 1, 1, 0, 4]
    assert values[areas[2].name] == [2, 0, 2, 0, 4]
    # Counts of providers are public: small ones are shown as they are.
    assert [cell.display for cell in table.cells[0]] == ["2", "0", "1", "1"]
    in_bow_east = _chart(selectors.quality_section(Scope(start=YEAR.start, end=YEAR.end, area=term("wards", "bow-east"))), "quality-coverage").table
    assert [cell.value for cell in in_bow_east.cells[0]] == [0, 0, 1, 0]  # only P1 is in Bow East


def test_referrals_from_the_referrals_app(borough):
    """Six Bow East VCOs ask P1 in 2026 (one of them for premises too), one Bow West VCO in 2025. P1
    answers five within 1 to 9 hours, closes two and is given feedback on them."""
    from referrals import services as referral_services
    from tests.factories import make_affiliation
    from tests.referrals.factories import ask, make_officer, make_rule
    from tests.referrals.factories import make_service as make_referral_service

    provider = Organisation.objects.get(name="P1")
    officer = make_officer(provider)
    need = term("needs", "funding-and-fundraising")
    make_referral_service(provider, needs=[need])
    make_rule(need, [provider])

    def made(name, day, *, needs=(need,)):
        organisation = Organisation.objects.get(name=name)
        editor = make_user()
        make_affiliation(user=editor, organisation=organisation)
        return ask(organisation=organisation, by=editor, needs=list(needs), chosen_provider=provider, now=_at(day)), editor

    for n, (name, hours) in enumerate((("A0", 1), ("A1", 2), ("A2", 3), ("A3", 5), ("A4", 9), ("A5", None))):
        referral, editor = made(name, date(2026, 3, 2 + n), needs=(need, term("needs", "premises")) if name == "A0" else (need,))
        if hours is None:
            continue
        referral = referral_services.accept(referral=referral, by=officer, expected_version=referral.version, now=_at(date(2026, 3, 2 + n)) + timedelta(hours=hours))
        if name in ("A0", "A1"):
            referral = referral_services.close(referral=referral, by=officer, expected_version=referral.version, outcome="resolved")
            referral_services.give_feedback(referral=referral, by=editor, satisfaction=5)
    made("D0", date(2025, 6, 1))

    section = selectors.referral_section(YEAR)
    by_need, total = _series(_chart(section, "referrals-by-need"))
    assert dict(by_need)["Funding and fundraising"] == "6" and dict(by_need)["Premises"] == "fewer than 5" and total == "6"
    # Two resolved, three accepted, one with the provider: 6 = 2 + 3 + 1 splits more than one way.
    by_outcome, total = _series(_chart(section, "referrals-by-outcome"))
    assert (dict(by_outcome)["Resolved"], dict(by_outcome)["Accepted"], dict(by_outcome)["With provider"], total) == (
        "fewer than 5", "fewer than 5", "fewer than 5", "6",
    )
    assert {value for label, value in by_outcome if label not in ("Resolved", "Accepted", "With provider")} == {"0"}
    # Two pieces of feedback: the total is itself small.
    assert _series(_chart(section, "referral-satisfaction")) == (
        [("5: very satisfied", "fewer than 5"), ("4: satisfied", "0"), ("3: neither", "0"), ("2: dissatisfied", "0"), ("1: very dissatisfied", "0")],
        "fewer than 5",
    )
    median = section.statistics[0].value
    assert (median.value, median.n, str(median)) == (3, 5, "3.0 hours")  # 1, 2, 3, 5, 9
    # Bow West asked only in 2025: nothing in 2026, and no median from no records.
    in_bow_west = selectors.referral_section(Scope(start=YEAR.start, end=YEAR.end, area=term("wards", "bow-west")))
    assert _chart(in_bow_west, "referrals-by-need").is_empty and _chart(in_bow_west, "referrals-by-outcome").is_empty
    assert str(in_bow_west.statistics[0].value) == "no data"
    last_year = selectors.referral_section(Scope(start=date(2025, 1, 1), end=date(2025, 12, 31), area=term("wards", "bow-west")))
    assert _series(_chart(last_year, "referrals-by-outcome"))[1] == "fewer than 5"
