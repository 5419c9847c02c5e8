import csv
import io
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from openpyxl import Workbook

from organisations import exports, imports
from organisations.models import Organisation
from tests.factories import make_organisation, make_superuser, make_user, term

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:organisations_organisation_import")
ORGANISATIONS = reverse("admin:organisations_organisation_changelist")

HEADERS = [
    "name",
    "kinds",
    "charity_number",
    "company_number",
    "postcode",
    "ward",
    "segments",
    "communities_served",
    "development_stage",
    "email",
    "phone",
]
GOOD_ROWS = [
    [
        "Bow Arts Trust",
        "vco",
        "1012345",
        "",
        "e3 2ab",
        "Bow East",
        "BME VCOs",
        "Young people; Women",
        "2",
        "hello@bowarts.org",
        "+44 20 7946 0000",
    ],
    ["Poplar Hub", "General; specialist", "", "123456", "E14 0AB", "poplar", "", "", "Stage 3: established", "", ""],
    ["Shadwell Stitchers", "VCO", "SC012345", "", "", "", "", "refugees-and-migrants", "", "", ""],
]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Uploads awaiting confirmation are kept in the private files storage (as imports/...): on local
    disk, here, a folder of this test's own."""
    settings.VAR_DIR = settings.PRIVATE_FILES_ROOT = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.VAR_DIR


@pytest.fixture
def admin(client):
    user = make_superuser()
    client.force_login(user)
    client.user = user
    return client


def csv_bytes(rows, headers=HEADERS, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, headers=HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, name="organisations.csv"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, content)})


def preview(client, content: bytes, name="organisations.csv"):
    """Upload a file and return the preview page (asserting the upload was accepted)."""
    response = upload(client, content, name)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    return client.get(response["Location"])


def upload_error(client, content: bytes, name="organisations.csv") -> str:
    response = upload(client, content, name)
    assert response.status_code == 200, "a bad file stays on the upload page"
    return " ".join(response.context["form"].errors["file"])


def confirm(client, preview_response):
    return client.post(preview_response.wsgi_request.path, {"confirm": "1"}, follow=True)


def _messages(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def _stored_files(var_dir: Path) -> list[Path]:
    folder = var_dir / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


# Good files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_good_file_creates_every_row_with_terms_and_history(admin, fmt, var_dir):
    content = csv_bytes(GOOD_ROWS) if fmt == "csv" else xlsx_bytes(GOOD_ROWS)
    page = preview(admin, content, f"organisations.{fmt}")
    report = page.context["report"]
    assert report.can_commit and [row.number for row in report.rows] == [2, 3, 4]
    assert "Import 3 organisations" in page.content.decode()
    assert Organisation.objects.count() == 0, "the preview saves nothing"
    assert len(_stored_files(var_dir)) == 2

    response = confirm(admin, page)
    assert "Imported 3 organisations." in _messages(response)
    assert response.wsgi_request.path == ORGANISATIONS

    bow = Organisation.objects.get(name="Bow Arts Trust")
    assert bow.postcode == "E3 2AB", "postcodes are tidied as the model tidies them"
    assert bow.charity_number == "1012345"
    assert bow.ward == term("wards", "bow-east")
    assert bow.development_stage == 2
    assert bow.phone == "+44 20 7946 0000"
    assert list(bow.kinds.all()) == [term("organisation-kinds", "vco")]
    assert set(bow.segments.all()) == {term("segments", "bme-vcos")}
    assert set(bow.communities_served.all()) == {term("communities", "young-people"), term("communities", "women")}
    assert bow.slug == "bow-arts-trust"
    history = bow.history.order_by("history_id")
    assert history.first().history_type == "+"
    assert {record.history_user for record in history} == {admin.user}

    poplar = Organisation.objects.get(name="Poplar Hub")
    assert set(poplar.kinds.values_list("code", flat=True)) == {"general", "specialist"}
    assert poplar.company_number == "00123456"
    assert poplar.development_stage == 3
    assert poplar.town == "London", "a missing column takes the model's default"
    # A Scottish number in the charity_number column (as files had it before its own column) goes to its own.
    shadwell = Organisation.objects.get(name="Shadwell Stitchers")
    assert (shadwell.charity_number, shadwell.scottish_charity_number) == ("", "SC012345")
    assert _stored_files(var_dir) == [], "the upload is deleted once imported"


def test_upload_is_kept_outside_media_root(admin, settings, var_dir):
    upload(admin, csv_bytes(GOOD_ROWS))
    stored = _stored_files(var_dir)
    assert stored and all(path.parent == Path(settings.VAR_DIR) / "imports" for path in stored)
    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*"))


def test_labels_as_headings_and_codes_in_any_case(admin):
    headings = ["Name", "Kind", "Ward or neighbourhood", "Specialist segments", "Languages spoken", "Active"]
    rows = [["Limehouse Lunch Club", "VCO", "LIMEHOUSE", "vcos-working-with-older-people", "BN; en", "no"]]
    response = confirm(admin, preview(admin, csv_bytes(rows, headings)))
    assert "Imported 1 organisation." in _messages(response)
    club = Organisation.objects.get(name="Limehouse Lunch Club")
    assert club.ward.code == "limehouse" and not club.is_active
    assert set(club.languages.values_list("code", flat=True)) == {"bn", "en"}


def test_round_trip_export_then_import(admin):
    original = make_organisation(
        name="Round Trip Trust",
        kinds=[term("organisation-kinds", "general"), term("organisation-kinds", "network")],
        charity_number="1099999",
        company_number="CE012345",
        postcode="E1 6AN",
        ward=term("wards", "whitechapel"),
        segments=[term("segments", "bme-vcos"), term("segments", "vcos-managing-volunteers")],
        communities_served=[term("communities", "lesbian-gay-bisexual-and-trans-communities")],
        functions=[term("functions", "training")],
        languages=[term("languages", "syl")],
        development_stage=3,
        income_band="1m_5m",
        legal_form="cio",
        paid_staff=12,
        volunteers=40,
        phone="-not a formula-",
        email="=cmd@example.org",
        year_founded=1987,
        activities="Advice, training; and more.",
    )
    for fmt in ("csv", "xlsx"):
        response = admin.post(ORGANISATIONS, {"action": f"export_{fmt}", "_selected_action": [original.pk]})
        content = b"".join(response.streaming_content) if fmt == "csv" else response.content
        exported = {
            field: getattr(original, field)
            for field in (
                "name",
                "email",
                "charity_number",
                "company_number",
                "postcode",
                "ward_id",
                "development_stage",
                "income_band",
                "legal_form",
                "paid_staff",
                "volunteers",
                "phone",
                "year_founded",
                "activities",
                "geographic_level",
            )
        }
        terms = {
            name: set(getattr(original, name).all())
            for name in ("kinds", "segments", "communities_served", "functions", "languages")
        }
        Organisation.objects.all().delete()

        if fmt == "csv":
            assert b"'=cmd@example.org" in content and b"'-not a formula-" in content
        response = confirm(admin, preview(admin, content, f"export.{fmt}"))
        assert "Imported 1 organisation." in _messages(response), fmt
        again = Organisation.objects.get()
        assert {field: getattr(again, field) for field in exported} == exported, fmt
        assert {name: set(getattr(again, name).all()) for name in terms} == terms, fmt
        original = again


# Bad rows ------------------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_row_numbers_and_nothing_is_saved(admin):
    rows = [
        GOOD_ROWS[0],
        ["Bad Postcode Group", "vco", "", "", "qq1 1aa", "", "", "", "", "", ""],
        ["Bad Numbers Group", "vco", "12", "ABC", "", "", "", "", "", "not-an-email", ""],
        ["Unknown Terms Group", "vco; moon base", "", "", "", "Atlantis", "Underwater basket weavers", "", "7", "", ""],
        ["", "", "", "", "", "", "", "", "", "", "07700 900000"],
        ["X" * 201, "vco", "", "", "", "", "", "", "", "", ""],
    ]
    page = preview(admin, csv_bytes(rows))
    report = page.context["report"]
    assert not report.can_commit
    errors = {row.number: {error.field: error.message for error in row.errors} for row in report.rows}
    assert errors[2] == {}
    assert "not a valid UK postcode" in errors[3]["postcode"]
    assert "not a valid charity number" in errors[4]["charity_number"]
    assert "not a valid company number" in errors[4]["company_number"]
    assert "valid email" in errors[4]["email"]
    assert errors[5]["kinds"] == "“moon base” is not in the kind list."
    assert errors[5]["ward"] == "“Atlantis” is not in the ward or neighbourhood list."
    assert "“Underwater basket weavers”" in errors[5]["segments"]
    assert "“7” is not one of" in errors[5]["development_stage"]
    assert "This field cannot be blank." in errors[6]["name"] and "kinds" in errors[6]
    assert "at most 200 characters (it has 201)" in errors[7]["name"]

    html = page.content.decode()
    assert "Row 3, postcode:" in html and "Row 5, ward:" in html
    assert 'name="confirm"' not in html, "no confirm button while rows have errors"

    response = admin.post(page.wsgi_request.path, {"confirm": "1"})
    assert response.status_code == 200
    assert "Nothing was imported: 5 rows have errors." in _messages(response)
    assert Organisation.objects.count() == 0


def test_over_long_text_field_is_refused(admin):
    headers = ["name", "kinds", "activities"]
    report = preview(admin, csv_bytes([["Talkative", "vco", "a" * 2001]], headers)).context["report"]
    assert [(e.field, e.message) for e in report.rows[0].errors] == [
        ("activities", "Ensure this value has at most 2000 characters (it has 2001).")
    ]


def test_duplicate_charity_number_in_the_file(admin):
    rows = [
        ["First", "vco", "1012345", "", "", "", "", "", "", "", ""],
        ["Second", "vco", "101 2345", "", "", "", "", "", "", "", ""],
        ["Third", "vco", "1000001", "", "", "", "", "", "", "", ""],
    ]
    report = preview(admin, csv_bytes(rows)).context["report"]
    messages = {row.number: [e.message for e in row.errors] for row in report.rows}
    assert messages[2] == ["Charity number 1012345 is also on row 3."]
    assert messages[3] == ["Charity number 1012345 is also on row 2."]
    assert messages[4] == []


def test_charity_or_company_number_already_in_the_directory(admin):
    make_organisation(name="Already Here", charity_number="1012345", company_number="00123456")
    rows = [["Newcomer", "vco", "1012345", "123456", "", "", "", "", "", "", ""]]
    report = preview(admin, csv_bytes(rows)).context["report"]
    assert {(e.field, e.message) for e in report.rows[0].errors} == {
        (
            "charity_number",
            "Charity number 1012345 (GB-CHC-1012345) already belongs to “Already Here” in the directory.",
        ),
        (
            "company_number",
            "Company number 00123456 (GB-COH-00123456) already belongs to “Already Here” in the directory.",
        ),
    }


def test_near_duplicate_name_is_a_warning_with_a_link(admin):
    existing = make_organisation(name="Bow Arts Trust Ltd")
    page = preview(admin, csv_bytes(GOOD_ROWS[:1]))
    row = page.context["report"].rows[0]
    assert row.similar == [existing] and not row.errors
    html = page.content.decode()
    assert "Possible duplicate of:" in html
    assert reverse("admin:organisations_organisation_change", args=[existing.pk]) in html
    assert page.context["report"].can_commit, "a warning does not block the import"


def test_same_name_twice_in_the_file_is_flagged(admin):
    rows = [["Mile End Youth", "vco"], ["mile end  youth", "vco"]]
    report = preview(admin, csv_bytes(rows, ["name", "kinds"])).context["report"]
    assert report.rows[1].same_name_rows == [2]


def test_empty_rows_are_skipped_and_reported(admin):
    rows = [GOOD_ROWS[0], ["", "", ""], GOOD_ROWS[1], [], GOOD_ROWS[2], [], ["", ""]]
    page = preview(admin, csv_bytes(rows))
    report = page.context["report"]
    assert [row.number for row in report.rows] == [2, 4, 6]
    assert report.notes == ["Row 3 is empty and was skipped.", "Row 5 is empty and was skipped."]
    assert "Row 5 is empty and was skipped." in page.content.decode()
    confirm(admin, page)
    assert Organisation.objects.count() == 3


# Bad files -----------------------------------------------------------------------------------------


def test_wrong_and_missing_columns(admin, var_dir):
    message = upload_error(admin, csv_bytes([["A", "b"]], ["Organisation name", "charity_number", "Colour"]))
    assert "Unknown columns: “Organisation name”, “Colour”." in message
    assert "Missing required columns: “name”, “kinds”." in message
    assert _stored_files(var_dir) == [], "a refused file is not kept"


def test_non_utf8_csv(admin):
    content = csv_bytes([["Café Bengali", "vco"]], ["name", "kinds"], encoding="cp1252")
    message = upload_error(admin, content)
    assert "not in UTF-8" in message and "line 2" in message
    assert "CSV UTF-8" in message


def test_utf16_csv_is_refused_with_advice(admin):
    message = upload_error(admin, csv_bytes([["A", "vco"]], ["name", "kinds"], encoding="utf-16"))
    assert "CSV UTF-8" in message


@pytest.mark.parametrize(
    "content, name, expected",
    [
        (b"%PDF-1.7 binary", "organisations.pdf", "is not a CSV (.csv) or Excel (.xlsx) file"),
        (b"PK\x03\x04 not really a zip", "organisations.xlsx", "cannot be read as an Excel workbook"),
        (b"just some text", "organisations.xlsx", "named .xlsx but is not an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "organisations.xls", "Excel 97-2003 (.xls)"),
        (b"", "organisations.csv", "The submitted file is empty."),
    ],
)
def test_files_that_are_not_csv_or_xlsx(admin, content, name, expected):
    assert expected in upload_error(admin, content, name)


def test_a_zip_that_is_not_a_workbook(admin):
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    assert "cannot be read as an Excel workbook" in upload_error(admin, buffer.getvalue(), "organisations.xlsx")


def test_file_with_headings_but_no_rows(admin):
    assert "no organisations in it" in upload_error(admin, csv_bytes([["", ""]], ["name", "kinds"]))
    assert "no organisations in it" in upload_error(admin, xlsx_bytes([], ["name", "kinds"]), "o.xlsx")


def test_file_over_the_size_limit(admin, settings):
    settings.PORTAL_IMPORT_MAX_BYTES = 100
    message = upload_error(admin, csv_bytes(GOOD_ROWS))
    assert "the largest file you can import is 100\xa0bytes" in message


def test_value_under_a_blank_heading(admin):
    message = upload_error(admin, csv_bytes([["A", "vco", "", "oops"]], ["name", "kinds", "", ""]))
    assert "Column D has no heading, but row 2 has a value in it." in message


# Confirming ----------------------------------------------------------------------------------------


def test_confirm_is_all_or_nothing(admin, var_dir):
    page = preview(admin, csv_bytes(GOOD_ROWS))
    real_save = imports.services.save_organisation
    calls = []

    def fail_on_last_row(**kwargs):
        calls.append(kwargs["data"]["name"])
        if len(calls) == len(GOOD_ROWS):
            raise IntegrityError("simulated failure")
        return real_save(**kwargs)

    with mock.patch.object(imports.services, "save_organisation", side_effect=fail_on_last_row):
        response = admin.post(page.wsgi_request.path, {"confirm": "1"})
    assert calls == [row[0] for row in GOOD_ROWS], "the first rows really were saved before the failure"
    assert response.status_code == 200
    assert "Nothing was imported: row 4 could not be saved" in _messages(response)
    assert Organisation.objects.count() == 0
    assert Organisation.history.count() == 0
    assert len(_stored_files(var_dir)) == 2, "the file stays so the import can be tried again"

    response = confirm(admin, page)
    assert "Imported 3 organisations." in _messages(response)
    assert Organisation.objects.count() == 3


def test_confirm_checks_the_file_again(admin):
    page = preview(admin, csv_bytes(GOOD_ROWS))
    make_organisation(name="Got There First", charity_number="1012345")  # added after the preview
    response = admin.post(page.wsgi_request.path, {"confirm": "1"})
    assert "Nothing was imported: 1 row has errors." in _messages(response)
    assert "already belongs to “Got There First”" in response.content.decode()
    assert Organisation.objects.count() == 1


def test_cancel_deletes_the_upload(admin, var_dir):
    page = preview(admin, csv_bytes(GOOD_ROWS))
    response = admin.post(page.wsgi_request.path, {"cancel": "1"}, follow=True)
    assert "The import was cancelled" in _messages(response)
    assert _stored_files(var_dir) == []
    assert Organisation.objects.count() == 0


def test_unknown_or_foreign_token_is_refused(admin, client):
    page = preview(admin, csv_bytes(GOOD_ROWS))
    url = page.wsgi_request.path

    response = admin.get(reverse("admin:organisations_organisation_import_preview", args=["x" * 32]), follow=True)
    assert "no longer waiting" in _messages(response)
    response = admin.get(
        reverse("admin:organisations_organisation_import_preview", args=["..%2F..%2Fetc%2Fpasswd"]), follow=True
    )
    assert "no longer waiting" in _messages(response)

    other = make_superuser()
    admin.force_login(other)
    response = admin.post(url, {"confirm": "1"}, follow=True)
    assert "no longer waiting" in _messages(response)
    assert Organisation.objects.count() == 0


def test_import_pages_need_add_permission(client):
    client.force_login(make_user(is_staff=True))
    assert client.get(IMPORT).status_code == 403


def test_upload_page_lists_columns_and_template_downloads(admin):
    response = admin.get(IMPORT)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<code>charity_number</code>" in html and "Names or codes from the “specialist segments” list" in html
    template = admin.get(reverse("admin:organisations_organisation_import_template", args=["csv"]))
    header = b"".join(template.streaming_content).decode("utf-8-sig").strip()
    assert header == ",".join(["org_id", *exports.ORGANISATION_FIELDS])
    assert "<code>org_id</code>" in html and "GB-CHC-1164883" in html
    assert "Import organisations" in admin.get(ORGANISATIONS).content.decode()


def test_the_same_upload_cannot_be_imported_twice_at_once(admin):
    page = preview(admin, csv_bytes(GOOD_ROWS))
    token = page.context["token"]
    real_save = imports.services.save_organisation
    second_attempt = []

    def save_and_try_again(**kwargs):
        if not second_attempt:
            # A second click arrives while the first import is still saving.
            with pytest.raises(imports.ImportExpired):
                imports.run_import(token=token, by=admin.user)
            second_attempt.append(True)
        return real_save(**kwargs)

    with mock.patch.object(imports.services, "save_organisation", side_effect=save_and_try_again):
        imports.run_import(token=token, by=admin.user)
    assert second_attempt and Organisation.objects.count() == 3


ORG_ID_HEADERS = ["org_id", "name", "kinds", "charity_number", "company_number"]


def test_an_org_id_column_fills_in_each_lists_number(admin):
    rows = [
        ["GB-CHC-1164883", "Bow Arts Trust", "vco", "", ""],
        ["gb-sc-sc042386", "Glasgow Friends", "vco", "", ""],
        ["GB-NIC-NIC100019", "Belfast Friends", "vco", "", ""],
        ["GB-COH-9506232", "Poplar Ltd", "vco", "", ""],
        ["GB-MPR-IP031455", "Mile End Co-op", "vco", "", ""],
        ["GB-CHC-1012345", "Both Columns", "vco", "101 2345", "123456"],
        ["", "Old Style", "vco", "1000001", ""],
    ]
    page = preview(admin, csv_bytes(rows, ORG_ID_HEADERS))
    assert not page.context["report"].error_rows
    confirm(admin, page)
    by_name = {organisation.name: organisation for organisation in Organisation.objects.all()}
    assert by_name["Bow Arts Trust"].charity_number == "1164883"
    assert by_name["Glasgow Friends"].scottish_charity_number == "SC042386"
    assert by_name["Belfast Friends"].ni_charity_number == "100019"
    assert by_name["Poplar Ltd"].company_number == "09506232"
    assert by_name["Mile End Co-op"].mutuals_number == "IP031455"
    assert by_name["Both Columns"].org_ids == ["GB-CHC-1012345", "GB-COH-00123456"]
    assert by_name["Old Style"].primary_org_id == "GB-CHC-1000001"


def test_an_exported_file_imports_again_keyed_by_org_id(admin):
    make_organisation(name="Bow Arts Trust", charity_number="1164883", scottish_charity_number="SC042386")
    exported = b"".join(exports.organisations_response(Organisation.objects.all(), fmt="csv").streaming_content).decode(
        "utf-8-sig"
    )
    assert exported.splitlines()[1].startswith("GB-CHC-1164883,Bow Arts Trust,")
    Organisation.objects.all().delete()
    confirm(admin, preview(admin, exported.encode()))
    again = Organisation.objects.get()
    assert again.org_ids == ["GB-CHC-1164883", "GB-SC-SC042386"]


def test_a_row_is_matched_to_an_organisation_by_org_id_before_its_name(admin):
    make_organisation(name="Bow Arts Trust", charity_number="1164883")
    rows = [
        ["GB-CHC-1164883", "Quite Another Name", "vco", "", ""],  # same org-id, different name
        ["", "Bow Arts Trust Ltd", "vco", "", ""],  # no org-id: only the name can match
    ]
    report = preview(admin, csv_bytes(rows, ORG_ID_HEADERS)).context["report"]
    by_org_id, by_name = report.rows
    assert [error.message for error in by_org_id.errors] == [
        "Charity number 1164883 (GB-CHC-1164883) already belongs to “Bow Arts Trust” in the directory."
    ]
    assert not by_name.errors and [match.name for match in by_name.similar] == ["Bow Arts Trust"]


@pytest.mark.parametrize(
    "org_id, words",
    [
        ("GB-XXX-1", ["GB-XXX", "not an identifier list", "GB-CHC, GB-SC, GB-NIC, GB-COH, GB-MPR"]),
        ("GB-CHC-12345", ["GB-CHC", "6 or 7 digits"]),
        ("GB-SC-12345678", ["GB-SC", "SC and 6 digits"]),
        ("GB-NIC-ABCDEF", ["GB-NIC", "6 digits"]),
        ("GB-COH-123456789", ["GB-COH", "8 digits"]),
        ("GB-MPR-!!", ["GB-MPR", "235C or IP031455"]),
        ("GB-CHC-" + "9" * 10_000, ["too long to be an org-id"]),
        ("1164883", ["not an org-id", "GB-CHC-1164883"]),
        ("GB-CHC-1012345", ["does not match the charity_number column's 1000001"]),
    ],
)
def test_a_malformed_org_id_is_a_row_error_naming_the_list_and_nothing_is_saved(admin, org_id, words):
    rows = [["GB-CHC-1164883", "Good Row", "vco", "", ""], [org_id, "Bad Row", "vco", "1000001", ""]]
    page = preview(admin, csv_bytes(rows, ORG_ID_HEADERS))
    report = page.context["report"]
    assert not report.can_commit
    errors = [error for error in report.rows[1].errors if error.field == "org_id"]
    message = " ".join(error.message for error in errors)
    for expected in words:
        assert expected in message
    assert "\x00" not in page.content.decode() and len(message) < 400
    confirm(admin, page)
    assert Organisation.objects.count() == 0


def test_an_org_id_with_a_nul_byte_is_refused_with_the_whole_file(admin):
    rows = [["GB-CHC-1164\x00883", "Bad Row", "vco", "", ""]]
    assert "not a plain-text CSV file" in upload_error(admin, csv_bytes(rows, ORG_ID_HEADERS))
    assert Organisation.objects.count() == 0
