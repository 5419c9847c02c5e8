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
