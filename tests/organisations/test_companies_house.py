"""The Companies House bulk file import (organisations.companies_house, core.register_extract.read_csv):
the project's own small CSVs, in the shape of the free monthly file of live companies."""

import csv
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from organisations import companies_house, tasks
from organisations.models import CharityRegisterImport, Organisation, RegisterFinding
from tests.factories import make_membership, make_organisation, make_superuser

pytestmark = pytest.mark.django_db

# As in the real file: some names have a leading space.
HEADER = [
    "CompanyName", " CompanyNumber", "RegAddress.CareOf", "RegAddress.POBox", "RegAddress.AddressLine1",
    " RegAddress.AddressLine2", "RegAddress.PostTown", "RegAddress.County", "RegAddress.Country",
    "RegAddress.PostCode", "CompanyCategory", "CompanyStatus", "CountryOfOrigin", "DissolutionDate",
    "IncorporationDate", "SICCode.SicText_1", "SICCode.SicText_2", "SICCode.SicText_3", "SICCode.SicText_4",
]  # fmt: skip
CIC = "Community Interest Company"
GUARANTEE = "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)"
PRIVATE = "Private Limited Company"


def company(number, name, category=CIC, **overrides) -> dict:
    row = {
        "CompanyName": name,
        " CompanyNumber": number,
        "RegAddress.AddressLine1": "1 High Street",
        "RegAddress.PostTown": "LONDON",
        "RegAddress.Country": "ENGLAND",
        "RegAddress.PostCode": "N1 1AA",
        "CompanyCategory": category,
        "CompanyStatus": "Active",
        "CountryOfOrigin": "United Kingdom",
        "IncorporationDate": "01/04/2015",
        "SICCode.SicText_1": "88990 - Other social work activities without accommodation n.e.c.",
    }
    row.update(overrides)
    return row


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue().encode("utf-8")


def write_file(folder: Path, rows, *, zipped=True, header=HEADER, data: bytes | None = None) -> Path:
    data = csv_bytes(rows, header) if data is None else data
    if not zipped:
        path = folder / "BasicCompanyDataAsOneFile-2025-06-01.csv"
        path.write_bytes(data)
        return path
    path = folder / "BasicCompanyDataAsOneFile-2025-06-01.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("BasicCompanyDataAsOneFile-2025-06-01.csv", data)
    return path


def run(path: Path, by=None) -> CharityRegisterImport:
    register_import = CharityRegisterImport.objects.create(
        register=CharityRegisterImport.Register.COMPANIES, status=CharityRegisterImport.Status.CHECKING
    )
    return companies_house.run_import(register_import=register_import, paths=[path], by=by)


def findings(kind) -> list[RegisterFinding]:
    return list(RegisterFinding.objects.filter(kind=kind).order_by("company_number", "organisation_id"))


# Reading the file --------------------------------------------------------------------------------


def test_a_good_file_imports_keeping_cics_and_guarantee_companies_and_the_command_prints_a_summary(tmp_path):
    path = write_file(
        tmp_path,
        [
            company("12345678", "BOW COMMUNITY CAFE CIC", CIC, **{"RegAddress.PostCode": "E3 2AA"}),
            company("07654321", "POPLAR ADVICE LTD", GUARANTEE, **{"RegAddress.PostCode": "E14 0BB"}),
            company("SC123456", "LEEDS TRADING LTD", PRIVATE, **{"RegAddress.PostCode": "E1 1AA"}),
            company("01234567", "LEEDS CIC", CIC, **{"RegAddress.PostCode": "LS1 1AA"}),
        ],
    )
    out = io.StringIO()
    call_command("import_companies_house", str(path), stdout=out)
    assert "Read 4 companies: 3 CICs and companies limited by guarantee, 2 in the borough" in out.getvalue()
    register_import = CharityRegisterImport.objects.get()
    assert register_import.register == CharityRegisterImport.Register.COMPANIES
    assert register_import.status == CharityRegisterImport.Status.READY
    assert str(register_import.extract_date) == "2025-06-01"
    proposals = findings(RegisterFinding.Kind.PROPOSAL)
    # The private company in E1 is skipped however local; the Leeds CIC is not the borough's.
    assert [(f.company_number, f.data["form"]) for f in proposals] == [("07654321", "guarantee"), ("12345678", "cic")]
    assert proposals[1].data["incorporated_on"] == "2015-04-01"
    assert proposals[1].charity_number == ""


def test_leading_space_headers_and_a_plain_csv_are_read(tmp_path):
    path = write_file(tmp_path, [company("1234567", "Bow Cafe CIC", **{"RegAddress.PostCode": "e3 2aa"})], zipped=False)
    assert HEADER[1] == " CompanyNumber"
    register_import = run(path)
    assert register_import.status == CharityRegisterImport.Status.READY, register_import.error
    (proposal,) = findings(RegisterFinding.Kind.PROPOSAL)
    assert proposal.company_number == "01234567"  # the leading zero Companies House numbers have
    assert proposal.data["postcode"] == "E3 2AA"


def test_other_categories_are_skipped_even_when_they_match_by_number(tmp_path):
    organisation = make_organisation(company_number="12345678", company_status="Active")
    path = write_file(tmp_path, [company("12345678", "Shop Ltd", PRIVATE, CompanyStatus="Liquidation")])
    register_import = run(path)
    assert register_import.counts["companies"] == 0 and register_import.counts["matched"] == 0
    assert not RegisterFinding.objects.exists()
    organisation.refresh_from_db()
    assert organisation.company_status == "Active"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({" CompanyNumber": "12-34"}, "row 3, field “CompanyNumber”: “12-34” is not a valid company number (GB-COH"),
        ({" CompanyNumber": ""}, "row 3, field “CompanyNumber”: the number is empty"),
        ({"IncorporationDate": "31/02/2001"}, "row 3, field “IncorporationDate”: “31/02/2001” is not a date"),
        # Every row is checked, whatever its category.
        ({"IncorporationDate": "yesterday", "CompanyCategory": PRIVATE}, "row 3, field “IncorporationDate”"),
    ],
)
def test_a_bad_value_is_named_by_row_and_field_and_nothing_is_written(tmp_path, change, message):
    organisation = make_organisation(company_number="12345678", company_status="Active")
    path = write_file(
        tmp_path,
        [
            company("12345678", "Kept CIC", CompanyStatus="Liquidation", **{"RegAddress.PostCode": "E3 2AA"}),
            company("07654321", "Bad CIC", **change),
            company("07654322", "Proposed CIC", **{"RegAddress.PostCode": "E3 2AB"}),
        ],
    )
    register_import = run(path)
    assert register_import.status == CharityRegisterImport.Status.FAILED
    assert message in register_import.error
    assert register_import.error.startswith("The Companies House file's row 3")
    assert not RegisterFinding.objects.exists()  # nothing half-imported
    organisation.refresh_from_db()
    assert organisation.company_status == "Active"
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_companies_house", str(path), stdout=io.StringIO())


def test_a_missing_column_is_named(tmp_path):
    header = [name for name in HEADER if name != "IncorporationDate"]
    path = write_file(tmp_path, [company("12345678", "A CIC")], header=header)
    register_import = run(path)
    assert register_import.status == CharityRegisterImport.Status.FAILED
    assert "The Companies House file has no “IncorporationDate” column" in register_import.error


def test_a_row_with_the_wrong_number_of_fields_and_mixed_encodings_are_named(tmp_path):
    good = csv_bytes([company("12345678", "A CIC"), company("12345679", "Café CIC")])
    short = good + b"Short CIC,12345670\r\n"
    register_import = run(write_file(tmp_path, [], data=short))
    assert "row 4 has 2 fields; the header has 19" in register_import.error
    mixed = good.replace("Café".encode(), "Café".encode("latin-1"))
    register_import = run(write_file(tmp_path, [], data=mixed))
    assert register_import.status == CharityRegisterImport.Status.FAILED
    assert "is not UTF-8" in register_import.error


def test_a_company_given_twice_is_refused_naming_both_rows(tmp_path):
    path = write_file(tmp_path, [company("12345678", "A CIC"), company("12345678", "A CIC again", GUARANTEE)])
    register_import = run(path)
    assert "row 3, field “CompanyNumber”: company 12345678 is also on row 2" in register_import.error


def test_a_broken_zip_and_a_zip_without_one_csv_are_refused(tmp_path):
    path = write_file(tmp_path, [company("12345678", "A CIC")])
    path.write_bytes(path.read_bytes()[:-30])
    register_import = run(path)
    assert register_import.status == CharityRegisterImport.Status.FAILED
    assert f"{path.name} cannot be read" in register_import.error
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no data")
    assert "should hold one .csv file" in run(path).error
    assert not RegisterFinding.objects.exists()


def test_a_file_over_the_size_limit_is_refused_zipped_or_not(tmp_path, settings):
    settings.PORTAL_COMPANIES_HOUSE_MAX_BYTES = 1000
    rows = [company(f"{n:08d}", f"Company {n} CIC") for n in range(1, 40)]
    for zipped, message in ((True, "unpacks to more than"), (False, "the largest accepted is")):
        register_import = run(write_file(tmp_path, rows, zipped=zipped))
        assert register_import.status == CharityRegisterImport.Status.FAILED
        assert message in register_import.error
    assert not RegisterFinding.objects.exists()


def test_a_bad_row_at_the_end_of_a_big_file_leaves_nothing_half_imported(tmp_path):
    members = [make_organisation(company_number=f"{n:08d}", company_status="Active") for n in range(1, 4)]
    rows = [company(f"{n:08d}", f"Company {n} CIC", CompanyStatus="Liquidation") for n in range(1, 4)]
    rows += [company(f"{n:08d}", f"Borough {n} CIC", **{"RegAddress.PostCode": "E1 6AN"}) for n in range(10, 3000)]
    rows.append(company("XX", "Last CIC"))
    register_import = run(write_file(tmp_path, rows))
    assert f"row {len(rows) + 1}, field “CompanyNumber”" in register_import.error
    assert not RegisterFinding.objects.exists()
    assert {m.company_status for m in Organisation.objects.filter(pk__in=[m.pk for m in members])} == {"Active"}


# Findings ----------------------------------------------------------------------------------------


def test_a_borough_company_not_in_the_directory_is_proposed_and_added_with_history(tmp_path):
    make_organisation(company_number="07654321")  # already in the directory: a match, not a proposal
    path = write_file(
        tmp_path,
        [
            company("12345678", "BOW COMMUNITY CAFE CIC", **{"RegAddress.PostCode": "E3 2AA"}),
            company("07654321", "Known CIC", **{"RegAddress.PostCode": "E3 2AB"}),
            company("11111111", "Lewisham CIC", **{"RegAddress.PostCode": "SE13 5AA"}),
            company("22222222", "Closing CIC", CompanyStatus="Liquidation", **{"RegAddress.PostCode": "E2 6AA"}),
        ],
    )
    run(path)
    (proposal,) = findings(RegisterFinding.Kind.PROPOSAL)
    assert proposal.company_number == "12345678" and proposal.data["in_borough_by"] == "postcode"
    admin = make_superuser()
    organisation = companies_house.add_proposed_organisation(finding=proposal, by=admin)
    assert (organisation.name, organisation.company_number, organisation.legal_form) == (
        "Bow Community Cafe Cic",
        "12345678",
        Organisation.LegalForm.CIC,
    )
    assert str(organisation.incorporated_on) == "2015-04-01" and organisation.postcode == "E3 2AA"
    assert organisation.history.first().history_user == admin
    proposal.refresh_from_db()
    assert proposal.decision == RegisterFinding.Decision.ACCEPTED and proposal.organisation == organisation
    with pytest.raises(Exception, match="not a finding of that kind still to check"):
        companies_house.add_proposed_organisation(finding=proposal, by=admin)


def test_a_match_by_number_refreshes_status_and_incorporation_date_with_history(tmp_path):
    organisation = make_organisation(company_number="01234567", company_status="Active")
    unchanged = make_organisation(company_number="07654321", company_status="Active")
    unchanged.incorporated_on = "2015-04-01"
    unchanged.save()
    before = unchanged.history.count()
    admin = make_superuser()
    path = write_file(
        tmp_path,
        [
            company("1234567", "Matched CIC", GUARANTEE, CompanyStatus="Active - Proposal to Strike off"),
            company("07654321", "Unchanged CIC"),
        ],
    )
    register_import = run(path, by=admin)
    assert register_import.counts["matched"] == 2
    organisation.refresh_from_db()
    assert organisation.company_status == "Active - Proposal to Strike off"
    assert str(organisation.incorporated_on) == "2015-04-01"
    latest = organisation.history.first()
    assert (latest.history_user, latest.history_change_reason, latest.company_status) == (
        admin,
        "Companies House bulk file",
        "Active - Proposal to Strike off",
    )
    assert organisation.history.all()[1].company_status == "Active"
    (refreshed,) = findings(RegisterFinding.Kind.REFRESHED)
    assert refreshed.organisation == organisation
    assert refreshed.data["changes"] == {
        "company_status": ["Active", "Active - Proposal to Strike off"],
        "incorporated_on": [None, "2015-04-01"],
    }
    assert unchanged.history.count() == before  # nothing changed, nothing in its history
    assert not findings(RegisterFinding.Kind.REMOVED)  # not a member: nothing to flag


def test_members_dissolved_or_in_liquidation_are_flagged(tmp_path):
    striking = make_membership(organisation=make_organisation(company_number="00000001")).organisation
    liquidating = make_membership(organisation=make_organisation(company_number="00000002")).organisation
    administration = make_membership(organisation=make_organisation(company_number="00000003")).organisation
    make_membership(organisation=make_organisation(company_number="00000004"))
    path = write_file(
        tmp_path,
        [
            company("00000001", "One CIC", CompanyStatus="Active - Proposal to Strike off"),
            company("00000002", "Two CIC", GUARANTEE, CompanyStatus="Liquidation"),
            company("00000003", "Three CIC", CompanyStatus="In Administration"),
            company("00000004", "Four CIC", CompanyStatus="Active"),
        ],
    )
    run(path)
    assert [f.organisation for f in findings(RegisterFinding.Kind.REMOVED)] == [striking]
    assert [f.organisation for f in findings(RegisterFinding.Kind.INSOLVENT)] == [liquidating, administration]


def test_a_name_match_is_proposed_never_merged(tmp_path):
    same = make_organisation(name="Bow Community Cafe")
    near = make_organisation(name="Bow Comunity Cafe")
    numbered = make_organisation(name="Bow Community Cafe Trust", company_number="09999999")
    path = write_file(tmp_path, [company("12345678", "BOW COMMUNITY CAFE CIC", **{"RegAddress.PostCode": "E3 2AA"})])
    run(path)
    matches = findings(RegisterFinding.Kind.NAME_MATCH)
    assert {f.organisation for f in matches} == {same, near}
    assert not findings(RegisterFinding.Kind.PROPOSAL)
    for organisation in (same, near, numbered):
        organisation.refresh_from_db()
    assert same.company_number == "" and near.company_number == ""  # nothing merged by the import
    admin = make_superuser()
    match = next(f for f in matches if f.organisation == same)
    companies_house.confirm_name_match(finding=match, by=admin)
    same.refresh_from_db()
    assert same.company_number == "12345678" and same.company_status == "Active"
    assert same.history.first().history_user == admin
    other = next(f for f in matches if f.organisation == near)
    other.refresh_from_db()
    assert other.decision == RegisterFinding.Decision.DISMISSED


# The task and the admin --------------------------------------------------------------------------


def test_the_admin_uploads_the_file_queues_the_task_shows_progress_and_acts_on_findings(
    tmp_path, media_root, client, monkeypatch, django_capture_on_commit_callbacks
):
    admin = make_superuser()
    client.force_login(admin)
    queued = []
    monkeypatch.setattr(tasks.import_companies_house, "apply_async", lambda **kwargs: queued.append(kwargs["args"]))
    monkeypatch.setattr(tasks.import_charity_register, "apply_async", lambda **kwargs: pytest.fail("wrong task"))
    path = write_file(tmp_path, [company("12345678", "BOW BELLS CIC", **{"RegAddress.PostCode": "E3 1AA"})])
    upload_url = reverse("admin:organisations_charityregisterimport_upload_companies")
    page = client.get(upload_url).content.decode()
    assert "E1, E1W, E2, E3, E14" in page and "Companies House" in page

    response = client.post(upload_url, {"files": [SimpleUploadedFile("companies.xlsx", b"x")]})
    assert "companies.xlsx is not the Companies House bulk file" in response.content.decode()
    assert not CharityRegisterImport.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(upload_url, {"files": [SimpleUploadedFile(path.name, path.read_bytes())]})
    register_import = CharityRegisterImport.objects.get()
    assert register_import.register == CharityRegisterImport.Register.COMPANIES
    assert queued == [[register_import.pk]]
    assert response.url == reverse("admin:organisations_charityregisterimport_progress", args=[register_import.pk])

    # What the worker on the long queue runs (the task function, here in the test's process).
    assert tasks.import_companies_house(register_import.pk) == {
        "import": register_import.pk,
        "ran": True,
        "status": "ready",
    }
    assert tasks.import_companies_house(register_import.pk)["ran"] is False  # idempotent
    page = client.get(response.url).content.decode()
    assert "Read 1 community interest companies and companies limited by guarantee: 1 in the borough" in page

    from core.files import private_file_storage

    assert private_file_storage().listdir(register_import.folder)[1] == []  # the upload is deleted

    findings_url = reverse("admin:organisations_registerfinding_changelist")
    assert "BOW BELLS CIC" in client.get(findings_url).content.decode()
    proposal = RegisterFinding.objects.get(kind=RegisterFinding.Kind.PROPOSAL)
    client.post(findings_url, {"action": "add_as_organisations", "_selected_action": [proposal.pk]})
    organisation = Organisation.objects.get(company_number="12345678")
    assert organisation.name == "Bow Bells Cic"


def test_the_organisation_admin_page_shows_what_the_registers_said(client, tmp_path):
    organisation = make_organisation(company_number="12345678", company_status="Active")
    run(write_file(tmp_path, [company("12345678", "A CIC", CompanyStatus="Liquidation")]))
    client.force_login(make_superuser())
    page = client.get(reverse("admin:organisations_organisation_change", args=[organisation.pk])).content.decode()
    assert "From the registers" in page and "Liquidation" in page and "1 Apr 2015" in page
