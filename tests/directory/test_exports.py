import csv
import io
from datetime import date

import pytest
from django.http import StreamingHttpResponse
from openpyxl import load_workbook

from directory import exports
from directory.models import Membership, Organisation
from tests.factories import make_membership, make_network, make_organisation, term


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(body[1:])))


def _xlsx_sheet(response):
    return load_workbook(io.BytesIO(response.content)).worksheets[0]


def test_csv_is_streamed_with_bom_headers_and_rows():
    response = exports.tabular_response(
        filename="people",
        headers=["name", "joined"],
        rows=[["Zoë’s Café", date(2024, 3, 1)], ["Bow Arts", None]],
        fmt="csv",
    )
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="people.csv"' == response["Content-Disposition"]
    assert _csv_rows(response) == [["name", "joined"], ["Zoë’s Café", "2024-03-01"], ["Bow Arts", ""]]


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://evil")', "+44 20 7946 0000", "-2+3", "@SUM(A1)", "\t=1"])
def test_csv_neutralises_formula_injection(dangerous):
    response = exports.tabular_response(filename="x", headers=["value"], rows=[[dangerous], [-5]], fmt="csv")
    rows = _csv_rows(response)
    assert rows[1] == ["'" + dangerous]
    assert rows[2] == ["-5"], "numbers are not text and need no apostrophe"
    assert exports.restore_formula_text(rows[1][0]) == dangerous


def test_xlsx_is_readable_with_bold_frozen_header_and_formulas_as_text():
    response = exports.tabular_response(
        filename="people",
        headers=["name", "joined", "staff"],
        rows=[["=1+1", date(2024, 3, 1), 4], ["@cmd", None, None], ["bad\x07control", None, None]],
        fmt="xlsx",
    )
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    assert 'filename="people.xlsx"' in response["Content-Disposition"]
    sheet = _xlsx_sheet(response)
    assert [cell.value for cell in sheet[1]] == ["name", "joined", "staff"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    formula_cell = sheet["A2"]
    assert formula_cell.value == "=1+1" and formula_cell.data_type == "s", "must be stored as text, not a formula"
    assert formula_cell.quotePrefix
    assert sheet["B2"].value.date() == date(2024, 3, 1)
    assert sheet["C2"].value == 4
    assert sheet["A3"].value == "@cmd" and sheet["A3"].data_type == "s"
    assert sheet["A4"].value == "badcontrol"


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        exports.tabular_response(filename="x", headers=[], rows=[], fmt="pdf")


@pytest.mark.django_db
def test_organisation_columns_join_terms_and_show_labels():
    organisation = make_organisation(
        name="Bow Arts",
        kinds=[term("organisation-kinds", "general"), term("organisation-kinds", "specialist")],
        segments=[term("segments", "bme-vcos")],
        ward=term("wards", "bow-east"),
        development_stage=Organisation.Stage.IMPROVING,
        charity_number="1012345",
    )
    response = exports.organisations_response(Organisation.objects.filter(pk=organisation.pk), fmt="csv")
    header, row = _csv_rows(response)
    assert header == list(exports.ORGANISATION_FIELDS)
    values = dict(zip(header, row, strict=True))
    assert values["name"] == "Bow Arts"
    assert (
        values["kinds"] == "General primary infrastructure organisation; Specialist primary infrastructure organisation"
    )
    assert values["segments"] == "BME VCOs"
    assert values["ward"] == "Bow East"
    assert values["development_stage"] == "Stage 2: improving"
    assert values["charity_number"] == "1012345"
    assert values["is_active"] == "yes"


@pytest.mark.django_db
def test_organisation_export_queries_do_not_grow_with_rows(django_assert_max_num_queries):
    for _ in range(5):
        make_organisation(segments=[term("segments", "bme-vcos")], ward=term("wards", "poplar"))
    with django_assert_max_num_queries(8):
        response = exports.organisations_response(Organisation.objects.all(), fmt="xlsx")
    assert _xlsx_sheet(response).max_row == 6


@pytest.mark.django_db
def test_membership_export_has_one_row_per_membership():
    network = make_network(name="BME Network")
    make_membership(organisation=make_organisation(name="Alpha"), network=network, renewal_due=date(2025, 1, 31))
    make_membership(organisation=make_organisation(name="Beta"), network=network, status=Membership.Status.APPLIED)
    sheet = _xlsx_sheet(exports.memberships_response(Membership.objects.all(), fmt="xlsx"))
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("organisation", "charity number", "email", "network", "status")
    assert [(row[0], row[3], row[4]) for row in rows[1:]] == [
        ("Alpha", "BME Network", "Active"),
        ("Beta", "BME Network", "Applied"),
    ]
    assert rows[1][7].date() == date(2025, 1, 31)
