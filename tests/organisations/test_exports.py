"""directory.exports: the organisation, membership and service columns, through the core writer."""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from organisations import exports
from organisations.models import Membership, Organisation
from tests.factories import make_membership, make_network, make_organisation, term


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(body[1:])))


def _xlsx_sheet(response):
    return load_workbook(io.BytesIO(response.content)).worksheets[0]


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
    assert header == ["org_id", *exports.ORGANISATION_FIELDS]
    values = dict(zip(header, row, strict=True))
    assert values["org_id"] == "GB-CHC-1012345"
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
    assert rows[0][:6] == ("organisation", "org-id", "charity number", "email", "network", "status")
    assert [(row[0], row[4], row[5]) for row in rows[1:]] == [
        ("Alpha", "BME Network", "Active"),
        ("Beta", "BME Network", "Applied"),
    ]
    assert rows[1][8].date() == date(2025, 1, 31)
