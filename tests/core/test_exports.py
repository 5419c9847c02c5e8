"""core.exports: the one CSV/XLSX writer (streamed CSV with a byte order mark, formula-safe cells)."""

import csv
import io
from datetime import date

import pytest
from django.http import StreamingHttpResponse
from openpyxl import load_workbook

from core import exports


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
