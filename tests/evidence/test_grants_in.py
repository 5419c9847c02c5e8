"""360Giving grants in: funders' 360Giving files (JSON packages, the standard's CSV and XLSX) become the
grants the sector received, matched to organisations by org-id; a bad file imports nothing and lists
every problem by row (or grant) and field."""

import csv
import io
import json
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from evidence import grants_import
from evidence.models import Grant, GrantImport
from tests.factories import make_organisation, term

FUNDER = {"id": "GB-CHC-1005193", "name": "City Bridge Trust"}
TITLES = [
    "Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
    "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:Identifier", "Funding Org:Name",
    "Beneficiary Location:Name", "Grant Programme:Title",
]  # fmt: skip


def grant(number: int, **overrides) -> dict:
    data = {
        "id": f"360G-cbt-{number}",
        "title": f"Grant {number}",
        "description": "Core costs for a year.",
        "currency": "GBP",
        "amountAwarded": 5000,
        "awardDate": "2025-04-01",
        "recipientOrganization": [{"id": "GB-CHC-9990001", "name": "Somewhere Else Trust"}],
        "fundingOrganization": [FUNDER],
    }
    data.update(overrides)
    return data


def write_json(folder: Path, grants: list, name: str = "grants.json") -> Path:
    path = folder / name
    path.write_text(json.dumps({"grants": grants, "version": "1.4"}), encoding="utf-8")
    return path


def row(number: int, **overrides) -> dict:
    values = {
        "Identifier": f"360G-cbt-{number}",
        "Title": f"Grant {number}",
        "Description": "Core costs for a year.",
        "Currency": "GBP",
        "Amount Awarded": "5000",
        "Award Date": "2025-04-01",
        "Recipient Org:Identifier": "GB-CHC-9990001",
        "Recipient Org:Name": "Somewhere Else Trust",
        "Funding Org:Identifier": FUNDER["id"],
        "Funding Org:Name": FUNDER["name"],
        "Beneficiary Location:Name": "",
        "Grant Programme:Title": "",
    }
    values.update(overrides)
    return values


def write_csv(folder: Path, rows: list[dict], titles=TITLES, name: str = "grants.csv") -> Path:
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(titles)
        for values in rows:
            writer.writerow([values.get(title, "") for title in titles])
    return path


def write_xlsx(folder: Path, rows: list[dict], name: str = "grants.xlsx") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "grants"
    sheet.append(TITLES)
    for values in rows:
        sheet.append([values.get(title, "") for title in TITLES])
    path = folder / name
    workbook.save(path)
    return path


def run(path: Path) -> GrantImport:
    grant_import = GrantImport.objects.create(files=path.name, status=GrantImport.Status.CHECKING)
    return grants_import.run_import(grant_import, paths=[path])


def refused(path: Path) -> GrantImport:
    """The import of ``path`` failed and wrote nothing."""
    grant_import = run(path)
    assert grant_import.status == GrantImport.Status.FAILED, grant_import.counts
    assert Grant.objects.count() == 0
    assert grant_import.error.strip()
    return grant_import


def problems(grant_import: GrantImport) -> str:
    grant_import.refresh_from_db()
    return "\n".join([grant_import.error, *grant_import.problems])


@pytest.fixture
def charity(db):
    return make_organisation(name="Bow Lunch Club", slug="bow-lunch-club", charity_number="1098765")


@pytest.fixture
def company(db):
    return make_organisation(name="Poplar Makers CIC", slug="poplar-makers", company_number="09506232")


# A good file ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_package_becomes_received_grants_matched_by_org_id(tmp_path, charity, company):
    path = write_json(
        tmp_path,
        [
            grant(1, recipientOrganization=[{"id": "GB-CHC-1098765", "name": "BOW LUNCH CLUB"}],
                  beneficiaryLocation=[{"name": "Somewhere"}, {"name": "bow east"}],
                  grantProgramme=[{"title": "Small Grants"}], amountAwarded=1234.5),
            # The company's number written without its leading zero still finds it.
            grant(2, recipientOrganization=[{"id": "gb-coh-9506232", "name": "Poplar Makers"}],
                  plannedDates=[{"startDate": "2025-05-01", "endDate": "2026-04-30"}]),
            grant(3),  # a recipient not in the database
            grant(4, recipientOrganization=[{"id": "360G-cbt-org-77", "name": "Friends of the Park"}]),
        ],
    )  # fmt: skip
    grant_import = run(path)

    assert grant_import.status == GrantImport.Status.READY, problems(grant_import)
    assert grant_import.counts == {
        "grants": 4, "created": 4, "updated": 0, "matched": 2, "not_in_database": 2, "to_individuals": 0, "wards": 1,
    }  # fmt: skip
    first = Grant.objects.get(identifier="360G-cbt-1")
    assert first.direction == Grant.Direction.RECEIVED
    assert first.recipient == charity and first.recipient_name == first.recipient_org_id == ""
    assert (first.funder_org_id, first.funder_name) == ("GB-CHC-1005193", "City Bridge Trust")
    assert first.amount_awarded == Decimal("1234.50") and first.award_date == date(2025, 4, 1)
    assert first.amount_in_pence == 123450  # what the funding figures add up
    assert first.beneficiary_ward == term("wards", "bow-east")
    assert first.grant_programme == "Small Grants"
    second = Grant.objects.get(identifier="360G-cbt-2")
    assert second.recipient == company and second.planned_end_date == date(2026, 4, 30)
    outside = Grant.objects.get(identifier="360G-cbt-4")
    assert outside.recipient is None
    assert (outside.recipient_name, outside.recipient_org_id) == ("Friends of the Park", "360G-cbt-org-77")


@pytest.mark.django_db
def test_importing_the_same_file_again_updates_the_grants(tmp_path, charity):
    run(write_json(tmp_path, [grant(1), grant(2)]))
    second = run(write_json(tmp_path, [grant(1, title="Core costs, renewed", amountAwarded=99.99), grant(2), grant(3)]))

    assert second.counts["created"] == 1 and second.counts["updated"] == 2
    assert Grant.objects.count() == 3
    renewed = Grant.objects.get(identifier="360G-cbt-1")
    assert renewed.title == "Core costs, renewed"
    assert (renewed.amount_awarded, renewed.amount_in_pence) == (Decimal("99.99"), 9999)


@pytest.mark.django_db
def test_a_csv_in_the_standards_titles_is_imported_through_flattentool(tmp_path, charity):
    path = write_csv(
        tmp_path,
        [
            row(1, **{"Recipient Org:Identifier": "GB-CHC-1098765", "Beneficiary Location:Name": "Bow East"}),
            row(2, **{"Amount Awarded": "250.75", "Grant Programme:Title": "Small Grants"}),
        ],
    )
    grant_import = run(path)

    assert grant_import.status == GrantImport.Status.READY, problems(grant_import)
    assert grant_import.counts["grants"] == 2 and grant_import.counts["matched"] == 1
    assert Grant.objects.get(identifier="360G-cbt-1").recipient == charity
    assert Grant.objects.get(identifier="360G-cbt-2").amount_awarded == Decimal("250.75")


@pytest.mark.django_db
def test_an_xlsx_in_the_standards_titles_is_imported(tmp_path, charity):
    path = write_xlsx(tmp_path, [row(1, **{"Recipient Org:Identifier": "GB-CHC-1098765"}), row(2)])
    grant_import = run(path)

    assert grant_import.status == GrantImport.Status.READY, problems(grant_import)
    assert Grant.objects.get(identifier="360G-cbt-1").recipient == charity


@pytest.mark.django_db
def test_the_portals_own_360giving_spreadsheet_reads_back(tmp_path, client, charity, settings):
    """What the network publishes (360Giving out) is a file another network can import."""
    from evidence import services

    settings.PORTAL_360G_PREFIX, settings.PORTAL_NETWORK_ORG_ID = "360G-thin", "GB-CHC-1111111"
    services.record_grant(
        data={
            "reference": "2026-001", "title": "Volunteer training", "description": "Training.",
            "amount_awarded": Decimal("1234.50"), "award_date": date(2026, 3, 1), "recipient": charity,
        }
    )  # fmt: skip
    path = tmp_path / "published.csv"
    path.write_bytes(b"".join(client.get("/evidence/grants/360giving.csv").streaming_content))
    Grant.objects.all().delete()

    grant_import = run(path)

    assert grant_import.status == GrantImport.Status.READY, problems(grant_import)
    assert Grant.objects.get().recipient == charity


# Bad files: a clear error, nothing imported --------------------------------------------------------


@pytest.mark.django_db
def test_wrong_column_titles_are_named(tmp_path):
    titles = [title if title != "Amount Awarded" else "Amount" for title in TITLES]
    text = problems(refused(write_csv(tmp_path, [row(1)], titles=titles)))
    assert "no “Amount Awarded” column" in text and "Amount" in text


@pytest.mark.django_db
def test_a_csv_that_mixes_encodings_names_the_line(tmp_path):
    path = write_csv(tmp_path, [row(1), row(2)])
    path.write_bytes(path.read_bytes().replace(b"Grant 2", "Grant 2 café".encode("latin-1")))
    text = problems(refused(path))
    assert "Line 3 of the CSV is not UTF-8 (byte 0xE9" in text


@pytest.mark.django_db
def test_nul_bytes_are_refused(tmp_path):
    path = write_csv(tmp_path, [row(1)])
    path.write_bytes(path.read_bytes().replace(b"Grant 1", b"Grant\x001"))
    assert "Line 2 of the CSV holds a NUL byte" in problems(refused(path))

    escaped = write_json(tmp_path, [grant(1, title="Grant\u00001")])
    text = problems(refused(escaped))
    assert "Grant 1 (id “360G-cbt-1”), field “title” (Title): holds a control character" in text


@pytest.mark.django_db
def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "grants.json"
    path.write_text("Identifier,Title\n360G-1,Oops\n")
    assert "not valid JSON" in problems(refused(path))
    path.write_text(json.dumps([grant(1)]))
    assert "not a 360Giving data package" in problems(refused(path))
    path.write_text(json.dumps({"grants": {"id": "x"}}))
    assert "not a list of grants" in problems(refused(path))
    path.write_bytes(b'{"grants": [' + json.dumps(grant(1)).encode() + b", ")  # cut short
    assert "not valid JSON" in problems(refused(path))


@pytest.mark.django_db
def test_a_broken_xlsx_and_a_broken_zip_are_refused(tmp_path):
    not_a_zip = tmp_path / "grants.xlsx"
    not_a_zip.write_bytes(b"this is not a workbook at all" * 10)
    assert "cannot be read as an Excel workbook" in problems(refused(not_a_zip))

    good = write_xlsx(tmp_path, [row(1)], name="good.xlsx").read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good[: len(good) // 2])
    assert "cannot be read as an Excel workbook" in problems(refused(cut))

    damaged = tmp_path / "damaged.xlsx"
    # The right zip structure around parts whose packed bytes are garbage.
    middle = len(good) // 3
    damaged.write_bytes(good[:middle] + bytes(200) + good[middle + 200 :])
    assert "Excel workbook" in problems(refused(damaged))


@pytest.mark.django_db
def test_an_xlsx_zip_bomb_is_refused_before_it_is_opened(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (300 * 1024 * 1024))  # 300 MB of spaces, ~300 KB packed
    assert path.stat().st_size < 1024 * 1024
    text = problems(refused(path))
    assert "zip bomb" in text


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused_by_its_size(tmp_path, settings):
    settings.PORTAL_GRANTS_MAX_BYTES = 1024**3
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # a sparse 2 GB file: nothing written to disk
    assert "huge.json is 2,048 MB; the largest accepted is 1,024 MB" in problems(refused(path))
    spreadsheet = tmp_path / "huge.csv"
    with spreadsheet.open("wb") as handle:
        handle.truncate(200 * 1024**2)
    assert "give a bigger file as a JSON data package" in problems(refused(spreadsheet))


@pytest.mark.django_db
def test_duplicate_ids_name_both_grants_or_rows(tmp_path):
    text = problems(refused(write_json(tmp_path, [grant(1), grant(2), grant(1, title="Again")])))
    assert "Grant 3 (id “360G-cbt-1”), field “id” (Identifier): the same id as Grant 1 (id “360G-cbt-1”)" in text

    text = problems(refused(write_csv(tmp_path, [row(1), row(2), row(1, Title="Again")])))
    assert "Rows 2, 4 have the same id “360G-cbt-1”" in text


@pytest.mark.django_db
def test_extreme_dates_are_refused_with_row_and_column(tmp_path):
    text = problems(
        refused(
            write_json(
                tmp_path, [grant(1, awardDate="0000-01-01"), grant(2, awardDate="99999-01-01"), grant(3, awardDate="1850-06-01")]
            )
        )
    )
    assert "Grant 1 (id “360G-cbt-1”), field “awardDate” (Award Date): “0000-01-01” is not a date." in text
    assert "Grant 2 (id “360G-cbt-2”), field “awardDate” (Award Date): “99999-01-01” is not a date written YYYY-MM-DD." in text
    assert "Grant 3 (id “360G-cbt-3”), field “awardDate” (Award Date): 1850-06-01 is not a date from 1900 on." in text

    text = problems(refused(write_csv(tmp_path, [row(1), row(2, **{"Award Date": "0000-01-01"})])))
    assert "Row 3 (id “360G-cbt-2”), column “Award Date”: “0000-01-01” is not a date." in text


@pytest.mark.django_db
def test_bad_amounts_are_refused_with_row_and_column(tmp_path):
    text = problems(
        refused(
            write_json(
                tmp_path,
                [grant(1, amountAwarded=-50), grant(2, amountAwarded=1e15), grant(3, amountAwarded="lots"), grant(4, amountAwarded=0)],
            )
        )
    )
    assert "The file has 4 problems" in text
    assert "Grant 1 (id “360G-cbt-1”), field “amountAwarded” (Amount Awarded): -50: the amount awarded must be more than 0." in text
    assert "Grant 2 (id “360G-cbt-2”), field “amountAwarded” (Amount Awarded): 1000000000000000.0 is more than 999,999,999.99" in text
    assert "Grant 3 (id “360G-cbt-3”), field “amountAwarded” (Amount Awarded): “lots” is not a number." in text

    text = problems(refused(write_csv(tmp_path, [row(1), row(2, **{"Amount Awarded": "£1,000"})])))
    assert "Row 3 (id “360G-cbt-2”), column “Amount Awarded”: “£1,000” is not a number." in text


@pytest.mark.django_db
def test_missing_fields_are_named(tmp_path):
    incomplete = grant(1)
    del incomplete["title"], incomplete["recipientOrganization"]
    text = problems(refused(write_json(tmp_path, [incomplete])))
    assert "field “title” (Title): missing" in text
    assert "field “recipientOrganization” (Recipient Org): missing" in text


@pytest.mark.django_db
def test_deeply_nested_json_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"grants": [{"id": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}]}")
    assert "more than 32 deep" in problems(refused(path))


@pytest.mark.django_db
def test_every_problem_is_counted_and_the_list_is_capped(tmp_path):
    path = write_json(tmp_path, [grant(number, amountAwarded=-1) for number in range(1, 301)] + [grant(999)])
    grant_import = refused(path)
    assert "The file has 300 problems" in grant_import.error
    assert len(grant_import.problems) == grants_import.MAX_PROBLEMS
    assert grant_import.counts == {"problems": 300}


@pytest.mark.django_db
def test_the_id_of_a_grant_the_network_distributes_is_refused(tmp_path, charity):
    Grant.objects.create(
        identifier="360G-thin-2026-001", reference="2026-001", title="Ours", description="Ours",
        amount_awarded=10, award_date=date(2026, 1, 1), recipient=charity, funder_org_id="GB-CHC-1", funder_name="Us",
    )  # fmt: skip
    text = problems(run(write_json(tmp_path, [grant(1, id="360G-thin-2026-001")])))
    assert "the id of a grant the network distributes itself" in text
    assert Grant.objects.get().title == "Ours"


@pytest.mark.django_db
def test_a_network_grant_recorded_after_the_check_is_never_overwritten(tmp_path, charity, monkeypatch):
    Grant.objects.create(
        identifier="360G-thin-2026-001", reference="2026-001", title="Ours", description="Ours",
        amount_awarded=10, award_date=date(2026, 1, 1), recipient=charity, funder_org_id="GB-CHC-1", funder_name="Us",
    )  # fmt: skip
    monkeypatch.setattr(grants_import, "_check_network_ids", lambda ids, origin, check: None)  # as if recorded since

    text = problems(run(write_json(tmp_path, [grant(1), grant(2, id="360G-thin-2026-001")])))

    assert "360G-thin-2026-001 is now the id of a grant the network distributes itself" in text
    assert Grant.objects.get().title == "Ours"


@pytest.mark.django_db
def test_a_file_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "grants.pdf"
    path.write_bytes(b"%PDF-1.4")
    assert "not a 360Giving file" in problems(refused(path))


# The command ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_imports_and_reports(tmp_path, charity):
    out = io.StringIO()
    call_command("import_360giving", str(write_json(tmp_path, [grant(1), grant(2)])), stdout=out)
    assert "Imported 2 grants (2 new, 0 updated)" in out.getvalue()

    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_360giving", str(write_json(tmp_path, [grant(3, amountAwarded=-1)])), stderr=err)
    assert "Grant 1 (id “360G-cbt-3”)" in err.getvalue()
    assert Grant.objects.count() == 2


# The admin's pages --------------------------------------------------------------------------------


def upload(client, path: Path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/admin/evidence/grantimport/upload/", {"files": [SimpleUploadedFile(path.name, path.read_bytes())]})


@pytest.mark.django_db
def test_the_admin_uploads_a_file_and_sees_what_was_imported(tmp_path, client, charity, monkeypatch, settings):
    from evidence import tasks
    from tests.factories import make_network_admin

    settings.PRIVATE_FILES_ROOT = str(tmp_path / "private")
    queued = []
    monkeypatch.setattr(tasks, "enqueue_grant_import", queued.append)
    client.force_login(make_network_admin())
    assert "Import a funder" in client.get("/admin/evidence/grantimport/upload/").content.decode()

    path = write_json(tmp_path, [grant(1, recipientOrganization=[{"id": "GB-CHC-1098765", "name": "Bow"}]), grant(2)])
    response = upload(client, path)
    grant_import = GrantImport.objects.get()
    assert response.status_code == 302 and response.url == f"/admin/evidence/grantimport/{grant_import.pk}/progress/"
    assert queued == [grant_import.pk]
    page = client.get(response.url).content.decode()
    assert "Waiting for a worker to start" in page and 'http-equiv="refresh"' in page

    grants_import.run_uploaded_import(import_id=grant_import.pk)

    page = client.get(response.url).content.decode()
    assert "Imported 2 grants: 2 new, 0 updated." in page
    assert "1 to organisations in the database" in page and "1 to organisations not in the database" in page
    assert 'http-equiv="refresh"' not in page
    assert not list((tmp_path / "private").rglob("grants.json"))  # the upload is deleted once imported


@pytest.mark.django_db
def test_the_admin_sees_every_problem_of_a_refused_file(tmp_path, client, monkeypatch, settings):
    from evidence import tasks
    from tests.factories import make_network_admin

    settings.PRIVATE_FILES_ROOT = str(tmp_path / "private")
    monkeypatch.setattr(tasks, "enqueue_grant_import", lambda pk: None)
    client.force_login(make_network_admin())
    rows = [row(number, **{"Amount Awarded": "-5"}) for number in range(1, 206)]
    response = upload(client, write_csv(tmp_path, rows))
    grants_import.run_uploaded_import(import_id=GrantImport.objects.get().pk)

    page = client.get(response.url).content.decode()
    assert "Nothing was imported." in page and "The file has 205 problems" in page
    assert "Row 2 (id “360G-cbt-1”), column “Amount Awarded”: -5: the amount awarded must be more than 0." in page
    assert "… and 5 more problems." in page
    assert Grant.objects.count() == 0


@pytest.mark.django_db
def test_the_upload_form_refuses_what_is_not_a_360giving_file_and_a_2gb_upload(tmp_path, client, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from evidence import tasks
    from tests.factories import make_network_admin

    monkeypatch.setattr(tasks, "enqueue_grant_import", lambda pk: None)
    client.force_login(make_network_admin())
    response = client.post("/admin/evidence/grantimport/upload/", {"files": [SimpleUploadedFile("grants.pdf", b"%PDF")]})
    assert response.status_code == 200 and "grants.pdf is not a 360Giving file" in response.content.decode()

    big = SimpleUploadedFile("grants.json", b"{}")
    big.size = 2 * 1024**3  # as the upload handler reports a 2 GB upload, without writing one
    from django.utils.datastructures import MultiValueDict

    from evidence.admin import GrantsUploadForm

    form = GrantsUploadForm(data={}, files=MultiValueDict({"files": [big]}))
    assert not form.is_valid() and "at most 1,024 MB" in str(form.errors)
    assert GrantImport.objects.count() == 0


@pytest.mark.django_db
def test_other_staff_cannot_import_grants(client):
    from accounts.models import User
    from tests.factories import make_user

    client.force_login(make_user(User.Role.OFFICER, is_staff=True))
    assert client.get("/admin/evidence/grantimport/upload/").status_code in (302, 403)


@pytest.mark.django_db
def test_the_sweep_fails_an_import_whose_worker_died_and_queues_a_lost_one(monkeypatch, settings):
    from datetime import timedelta

    from django.utils import timezone

    from evidence import tasks

    published = []
    monkeypatch.setattr(tasks, "_publish_grant_import", lambda pk: published.append(pk) or True)
    long_ago = timezone.now() - timedelta(hours=3)
    died = GrantImport.objects.create(status=GrantImport.Status.CHECKING, started_at=long_ago, created_at=long_ago)
    running = GrantImport.objects.create(status=GrantImport.Status.WRITING, started_at=timezone.now())
    lost = GrantImport.objects.create(status=GrantImport.Status.QUEUED, created_at=long_ago)
    waiting = GrantImport.objects.create(status=GrantImport.Status.QUEUED)

    counts = tasks.sweep_evidence()

    assert counts["failed_grant_imports"] == 1 and counts["requeued_grant_imports"] == 1
    died.refresh_from_db()
    assert died.status == GrantImport.Status.FAILED and "the worker running it stopped" in died.error
    assert GrantImport.objects.get(pk=running.pk).status == GrantImport.Status.WRITING
    assert published == [lost.pk] and waiting.pk not in published


# The organisation's page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_organisation_page_shows_grants_received_newest_first(tmp_path, client, charity, settings):
    from evidence import services

    assert "Grants received" not in client.get(charity.get_absolute_url()).content.decode()

    settings.PORTAL_360G_PREFIX, settings.PORTAL_NETWORK_ORG_ID = "360G-thin", "GB-CHC-1111111"
    settings.PORTAL_NETWORK_NAME = "Tower Hamlets Infrastructure Network"
    services.record_grant(
        data={
            "reference": "2026-001", "title": "Volunteer training", "description": "Training.",
            "amount_awarded": Decimal("800"), "award_date": date(2025, 6, 1), "recipient": charity,
        }
    )  # fmt: skip
    ours = {"recipientOrganization": [{"id": "GB-CHC-1098765", "name": "Bow Lunch Club"}]}
    run(
        write_json(
            tmp_path,
            [
                grant(1, title="Lunches for older people", awardDate="2025-09-01", amountAwarded=12500, **ours),
                grant(2, title="An older grant", awardDate="2019-01-01", **ours),
                grant(3, title="Somebody else's grant"),
            ],
        )
    )

    page = client.get(charity.get_absolute_url()).content.decode()
    section = page[page.index("Grants received") :]
    assert "City Bridge Trust" in section and "£12,500.00" in section and "1 Sep 2025" in section
    assert "Tower Hamlets Infrastructure Network" in section and "Volunteer training" in section
    assert section.index("Lunches for older people") < section.index("Volunteer training") < section.index("An older grant")
    assert "Somebody else" not in page
    assert "Show all" not in section


@pytest.mark.django_db
def test_many_grants_are_capped_with_a_link_to_all_of_them(tmp_path, client, charity):
    ours = {"recipientOrganization": [{"id": "GB-CHC-1098765", "name": "Bow Lunch Club"}]}
    run(write_json(tmp_path, [grant(number, awardDate=f"2024-01-{number:02d}", **ours) for number in range(1, 13)]))

    page = client.get(charity.get_absolute_url()).content.decode()
    assert page.count("Core costs for a year.") == 5
    assert "Grant 12" in page and "Grant 7" not in page
    assert "Show all 12 grants received" in page

    everything = client.get(f"/evidence/grants/received/{charity.slug}/").content.decode()
    assert everything.count("Core costs for a year.") == 12 and "Grants received by Bow Lunch Club" in everything
