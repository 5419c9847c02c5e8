"""Downloads of the directory (directory.exports via /directory/download.<fmt>): the whole directory or
exactly the filtered view, as CSV (streamed), XLSX and JSON (streamed)."""

import csv
import io
import json

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.factories import make_location, make_organisation, make_service, term

pytestmark = pytest.mark.django_db


@pytest.fixture
def services():
    place = make_location(name="Bow hub", postcode="E3 5ES")
    return [
        make_service(
            name="Funding advice surgery",
            needs=[term("needs", "funding-and-fundraising")],
            schedules=[("TU", "10:00", "13:00")],
            locations=[place],
        ),
        make_service(
            name='=HYPERLINK("http://evil")', description="Formula-looking name.", needs=[term("needs", "payroll")]
        ),
        make_service(
            name="Trustee training",
            needs=[term("needs", "training")],
            is_free=False,
            fee_amount=25,
            fee_description="per course",
        ),
    ]


def _csv_rows(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_whole_directory_as_csv(client, services):
    response = client.get("/directory/download.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert len(rows) == 3
    funding = next(row for row in rows if row["service"] == "Funding advice surgery")
    assert funding["regular times"] == "Tuesdays 10:00 to 13:00"
    assert "Bow hub" in funding["locations"] and "E3 5ES" in funding["locations"]
    assert funding["support needs met"] == "Funding and fundraising"
    # Formula text is neutralised for spreadsheets.
    assert any(row["service"].startswith("'=HYPERLINK") for row in rows)
    trustee = next(row for row in rows if row["service"] == "Trustee training")
    assert trustee["cost"] == "£25.00 per course"


def test_filtered_download_is_exactly_the_current_view(client, services):
    params = {"need": "training", "free": ""}
    view = [service.name for service in client.get("/directory/", params).context["page"]]
    rows = _csv_rows(client.get("/directory/download.csv", params))
    assert [row["service"] for row in rows] == view == ["Trustee training"]
    data = json.loads(b"".join(client.get("/directory/download.json", {"q": "funding"}).streaming_content))
    assert [item["service"] for item in data] == ["Funding advice surgery"]


def test_xlsx_download(client, services):
    response = client.get("/directory/download.xlsx", {"q": "training"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == "service"
    assert [row[0] for row in values[1:]] == ["Trustee training"]


def test_json_download_streams(client, services):
    response = client.get("/directory/download.json")
    assert isinstance(response, StreamingHttpResponse)
    data = json.loads(b"".join(response.streaming_content))
    assert {item["service"] for item in data} >= {"Funding advice surgery", "Trustee training"}
    assert all(isinstance(item["online"], bool) for item in data)


def test_unknown_format_is_404_and_bad_filters_do_not_break_downloads(client, services):
    assert client.get("/directory/download.pdf").status_code == 404
    response = client.get("/directory/download.csv", {"ward": "atlantis", "q": "x" * 5000})
    assert len(_csv_rows(response)) == 3


def test_download_queries_do_not_grow_with_rows(client, services):
    client.get("/directory/download.csv")  # what is kept from the vocabulary is read once
    with CaptureQueriesContext(connection) as few:
        _csv_rows(client.get("/directory/download.csv"))
    for n in range(20):
        make_service(name=f"More {n}", needs=[term("needs", "payroll")], schedules=[("MO", "09:00", "10:00")])
    with CaptureQueriesContext(connection) as many:
        _csv_rows(client.get("/directory/download.csv"))
    assert len(many) == len(few)


def test_every_download_carries_the_providers_primary_org_id(client):
    general = [term("organisation-kinds", "general")]
    charity = make_organisation(name="Bow Advice", company_number="09506232", charity_number="1164883", kinds=general)
    company = make_organisation(name="Poplar Ltd", company_number="SC123456", kinds=general)
    unregistered = make_organisation(name="Mile End Friends", kinds=general)
    for provider, name in ((charity, "Advice"), (company, "Payroll"), (unregistered, "Tea")):
        make_service(organisation=provider, name=name, needs=[term("needs", "training")])
    expected = {"Advice": "GB-CHC-1164883", "Payroll": "GB-COH-SC123456", "Tea": ""}

    rows = _csv_rows(client.get("/directory/download.csv"))
    assert {row["service"]: row["provider org-id"] for row in rows} == expected
    data = json.loads(b"".join(client.get("/directory/download.json").streaming_content))
    assert {item["service"]: item["provider org-id"] for item in data} == expected
    values = list(load_workbook(io.BytesIO(client.get("/directory/download.xlsx").content)).active.values)
    column = values[0].index("provider org-id")
    assert {row[0]: row[column] or "" for row in values[1:]} == expected


@pytest.fixture
def described_service():
    """A service with something in every column, its related rows added out of their shown order."""
    from datetime import date
    from decimal import Decimal

    from directory.models import ServiceContact

    provider = make_organisation(
        name="Bow Advice", company_number="09506232", charity_number="1164883", kinds=[term("organisation-kinds", "general")]
    )
    hub = make_location(organisation=provider, name="Bow hub", address_line_1="1 Roman Road", postcode="E3 5ES")
    annex = make_location(organisation=provider, name="Annex", address_line_1="", town="London", postcode="")
    service = make_service(
        organisation=provider,
        name="Funding advice surgery",
        slug="funding-advice-surgery",
        description="Help with bids.",
        status="paused",
        functions=[term("functions", "training"), term("functions", "information-and-advice")],
        needs=[term("needs", "payroll"), term("needs", "funding-and-fundraising")],
        segments=[term("segments", "bme-vcos")],
        communities=[term("communities", "women"), term("communities", "older-people")],
        wards=[term("wards", "poplar"), term("wards", "bow-east")],
        languages=[term("languages", "en"), term("languages", "bn")],
        serves_stage_2=False,
        minimum_age=16,
        geographic_level="regional",
        area_served="East London",
        is_online=True,
        schedule_notes="Term time only",
        access_drop_in=True,
        access_self_referral=False,
        access_booking=True,
        is_free=False,
        fee_amount=Decimal("12.5"),
        fee_description="per session",
        accessibility="Step-free",
        email="advice@example.org",
        phone="020 7946 0000",
        url="https://example.org/funding",
        accepting_referrals=False,
        last_reviewed_on=date(2026, 3, 1),
        locations=[hub, annex],
        schedules=[("FR", "14:00", "16:00"), ("TU", "10:00", "13:00"), ("TU", "09:00", "10:00")],
    )
    ServiceContact.objects.create(service=service, name="Zoe Khan", title="Adviser", email="zoe@example.org")
    ServiceContact.objects.create(service=service, name="Ali Rahman", phone="020 7946 0001")
    plain = make_service(
        organisation=make_organisation(name="Mile End Friends", kinds=[term("organisation-kinds", "general")]),
        name="Tea and chat",
        slug="tea-and-chat",
        description="=1+1",
    )
    return service, plain


EXPECTED_ROWS = [
    {
        "service": "Funding advice surgery",
        "provider": "Bow Advice",
        "provider org-id": "GB-CHC-1164883",
        "description": "Help with bids.",
        "status": "Paused",
        "infrastructure functions": "Information and advice; Training",
        "support needs met": "Funding and fundraising; Payroll",
        "specialist segments": "BME VCOs",
        "communities served": "Older people; Women",
        "development stages": "1; 3",
        "ages": "16-",
        "area served": "Regional",
        "area served, in words": "East London",
        "wards served": "Bow East; Poplar",
        "locations": "Annex, London; Bow hub, 1 Roman Road, London, E3 5ES",
        "online": "yes",
        "outreach": "no",
        "regular times": "Tuesdays 09:00 to 10:00; Tuesdays 10:00 to 13:00; Fridays 14:00 to 16:00",
        "term-time or seasonal notes": "Term time only",
        "how to get it": "drop in; referral through the portal; booking needed",
        "cost": "£12.50 per session",
        "languages": "English; Bengali",
        "accessibility": "Step-free",
        "contacts": "Ali Rahman, 020 7946 0001; Zoe Khan, Adviser, zoe@example.org",
        "email": "advice@example.org",
        "phone": "020 7946 0000",
        "web page": "https://example.org/funding",
        "accepting new referrals": "no",
        "last reviewed": "2026-03-01",
        "directory page": "/services/funding-advice-surgery/",
    },
    {
        "service": "Tea and chat",
        "provider": "Mile End Friends",
        "provider org-id": "",
        "description": "'=1+1",
        "status": "Active",
        "infrastructure functions": "",
        "support needs met": "",
        "specialist segments": "",
        "communities served": "",
        "development stages": "1; 2; 3",
        "ages": "",
        "area served": "Local (borough)",
        "area served, in words": "",
        "wards served": "",
        "locations": "",
        "online": "no",
        "outreach": "no",
        "regular times": "",
        "term-time or seasonal notes": "",
        "how to get it": "self-referral; referral through the portal",
        "cost": "Free",
        "languages": "",
        "accessibility": "",
        "contacts": "",
        "email": "",
        "phone": "",
        "web page": "",
        "accepting new referrals": "yes",
        "last reviewed": "",
        "directory page": "/services/tea-and-chat/",
    },
]


def test_every_column_of_the_csv_for_a_small_directory(client, described_service):
    """The whole row, column by column and in order, as the download has always written it: read
    as values a chunk at a time, it must still show what the model's own methods would."""
    text = b"".join(client.get("/directory/download.csv").streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == list(EXPECTED_ROWS[0])
    assert [dict(zip(header, row, strict=True)) for row in rows] == EXPECTED_ROWS


def test_json_and_xlsx_rows_match_the_csv(client, described_service):
    data = json.loads(b"".join(client.get("/directory/download.json").streaming_content))
    assert [item["service"] for item in data] == ["Funding advice surgery", "Tea and chat"]
    assert data[0]["online"] is True and data[0]["last reviewed"] == "2026-03-01" and data[1]["ages"] == ""
    assert {key: value for key, value in data[0].items() if not isinstance(value, bool | type(None))} == {
        key: value for key, value in EXPECTED_ROWS[0].items() if key not in ("online", "outreach", "accepting new referrals")
    }
    values = list(load_workbook(io.BytesIO(client.get("/directory/download.xlsx").content)).active.values)
    assert list(values[0]) == list(EXPECTED_ROWS[0])
    assert values[1][list(EXPECTED_ROWS[0]).index("regular times")] == EXPECTED_ROWS[0]["regular times"]


def test_rows_across_chunks_keep_their_order_and_related_rows(client, monkeypatch):
    """A download longer than one chunk: every service once, in name order, with its own terms."""
    from directory import exports

    monkeypatch.setattr(exports, "EXPORT_CHUNK", 2)
    for n in (5, 3, 1, 4, 2):
        make_service(name=f"Service {n}", needs=[term("needs", "payroll" if n % 2 else "training")])
    rows = _csv_rows(client.get("/directory/download.csv"))
    assert [row["service"] for row in rows] == [f"Service {n}" for n in range(1, 6)]
    assert [row["support needs met"] for row in rows] == ["Payroll", "Training", "Payroll", "Training", "Payroll"]


def test_admin_exports_the_selected_services_with_the_same_rows(client, described_service):
    from django.urls import reverse

    from tests.factories import make_superuser

    client.force_login(make_superuser())
    service, _plain = described_service
    response = client.post(
        reverse("admin:directory_service_changelist"), {"action": "export_csv", "_selected_action": [service.pk]}
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert [dict(zip(header, row, strict=True)) for row in rows] == EXPECTED_ROWS[:1]
