"""The Charity Commission register import (organisations.charity_register, core.register_extract):
the project's own small extract files, in the public extract's shape."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from core.register_extract import read_table
from organisations import charity_register
from organisations.models import CharityRegisterImport, Membership, Organisation, RegisterFinding
from tests.factories import make_membership, make_network, make_organisation, make_superuser

pytestmark = pytest.mark.django_db

CHARITY_HEADER = [
    "date_of_extract", "organisation_number", "registered_charity_number", "linked_charity_number", "charity_name",
    "charity_type", "charity_registration_status", "date_of_registration", "date_of_removal",
    "charity_reporting_status", "latest_acc_fin_period_start_date", "latest_acc_fin_period_end_date",
    "latest_income", "latest_expenditure", "charity_contact_address1", "charity_contact_postcode",
    "charity_contact_phone", "charity_contact_email", "charity_contact_web", "charity_company_registration_number",
    "charity_insolvent", "charity_in_administration", "charity_activities",
]  # fmt: skip
AREA_HEADER = [
    "date_of_extract", "organisation_number", "registered_charity_number", "linked_charity_number",
    "geographic_area_type", "geographic_area_description", "parent_geographic_area_type",
    "parent_geographic_area_description", "welsh_ind",
]  # fmt: skip
CLASSIFICATION_HEADER = [
    "date_of_extract", "organisation_number", "registered_charity_number", "linked_charity_number",
    "classification_code", "classification_type", "classification_description",
]  # fmt: skip


def charity(number, name, **overrides) -> dict:
    row = {
        "date_of_extract": "2025-06-01",
        "organisation_number": str(number + 5),
        "registered_charity_number": str(number),
        "linked_charity_number": "0",
        "charity_name": name,
        "charity_type": "Other",
        "charity_registration_status": "Registered",
        "date_of_registration": "1999-04-01 00:00:00",
        "date_of_removal": "",
        "charity_reporting_status": "Submission Received",
        "latest_acc_fin_period_start_date": "2024-04-01",
        "latest_acc_fin_period_end_date": "2025-03-31",
        "latest_income": "5000.00",
        "latest_expenditure": "4000.00",
        "charity_contact_address1": "1 High Street",
        "charity_contact_postcode": "N1 1AA",
        "charity_contact_phone": "",
        "charity_contact_email": "",
        "charity_contact_web": "",
        "charity_company_registration_number": "",
        "charity_insolvent": "False",
        "charity_in_administration": "False",
        "charity_activities": "Helping people.",
    }
    row.update(overrides)
    return row


def area(number, description, linked="0") -> dict:
    return {
        "date_of_extract": "2025-06-01", "organisation_number": "1", "registered_charity_number": str(number),
        "linked_charity_number": linked, "geographic_area_type": "Local Authority",
        "geographic_area_description": description, "parent_geographic_area_type": "Region",
        "parent_geographic_area_description": "London", "welsh_ind": "False",
    }  # fmt: skip


def classification(number, description) -> dict:
    return {
        "date_of_extract": "2025-06-01", "organisation_number": "1", "registered_charity_number": str(number),
        "linked_charity_number": "0", "classification_code": "101", "classification_type": "What",
        "classification_description": description,
    }  # fmt: skip


def table_bytes(header: list[str], rows: list[dict]) -> bytes:
    lines = ["\t".join(header)] + ["\t".join(row.get(name, "") for name in header) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def write_extract(
    folder: Path, charities, areas=(), classifications=(), *, zipped=True, raw: dict | None = None
) -> Path:
    """The three tables as publicextract.<table>.zip (or .txt) in ``folder``; ``raw`` replaces a table's bytes."""
    contents = {
        "charity": table_bytes(CHARITY_HEADER, list(charities)),
        "charity_area_of_operation": table_bytes(AREA_HEADER, list(areas)),
        "charity_classification": table_bytes(CLASSIFICATION_HEADER, list(classifications)),
    }
    contents.update(raw or {})
    for table, data in contents.items():
        if zipped:
            with zipfile.ZipFile(folder / f"publicextract.{table}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(f"publicextract.{table}.txt", data)
        else:
            (folder / f"publicextract.{table}.txt").write_bytes(data)
    return folder


def run(folder: Path, by=None) -> CharityRegisterImport:
    register_import = CharityRegisterImport.objects.create(status=CharityRegisterImport.Status.CHECKING)
    return charity_register.run_import(register_import=register_import, paths=[folder], by=by)


def findings(kind) -> list[RegisterFinding]:
    return list(RegisterFinding.objects.filter(kind=kind).order_by("charity_number", "organisation_id"))


# Reading the extract -----------------------------------------------------------------------------


def test_read_table_joins_continuation_lines_and_reads_zips_and_text(tmp_path):
    activities = "Runs a lunch club.\r\n\tAnd a choir."
    write_extract(tmp_path, [charity(1100001, "Bow Lunch Club", charity_activities=activities)])
    for name in ("publicextract.charity.zip",):
        records = list(
            read_table(
                tmp_path / name, table="charity", columns=["charity_activities", "charity_name"], max_bytes=10**6
            )
        )
        assert [(r.line, r.values["charity_name"], r.values["charity_activities"]) for r in records] == [
            (2, "Bow Lunch Club", "Runs a lunch club.\nAnd a choir.")
        ]
    text = tmp_path / "plain"
    text.mkdir()
    write_extract(text, [charity(1100001, "A"), charity(1100002, "B")], zipped=False)
    records = list(
        read_table(text / "publicextract.charity.txt", table="charity", columns=["charity_name"], max_bytes=10**6)
    )
    assert [(r.line, r.values["charity_name"]) for r in records] == [(2, "A"), (3, "B")]


def test_a_good_extract_imports_and_the_command_prints_a_summary(tmp_path):
    write_extract(
        tmp_path,
        [
            charity(1100001, "Poplar Youth Trust", charity_contact_postcode="E14 2BB"),
            charity(1100002, "Leeds Choir", charity_contact_postcode="LS1 1AA"),
        ],
        classifications=[classification(1100001, "Education/training")],
    )
    out = io.StringIO()
    call_command("import_charity_register", str(tmp_path), stdout=out)
    assert "Read 2 charities" in out.getvalue()
    assert "1 in the borough" in out.getvalue()
    register_import = CharityRegisterImport.objects.get()
    assert register_import.status == CharityRegisterImport.Status.READY
    assert str(register_import.extract_date) == "2025-06-01"
    (proposal,) = findings(RegisterFinding.Kind.PROPOSAL)
    assert proposal.charity_number == "1100001"
    assert proposal.data["classifications"] == ["Education/training"]
    assert proposal.data["in_borough_by"] == "postcode"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"latest_income": "12k"}, "line 3, field “latest_income”: “12k” is not an amount"),
        ({"date_of_registration": "31/02/2001"}, "line 3, field “date_of_registration”: “31/02/2001” is not a date"),
        (
            {"registered_charity_number": "11A0002"},
            "line 3, field “registered_charity_number”: “11A0002” is not a charity number",
        ),
        ({"charity_registration_status": "Maybe"}, "line 3, field “charity_registration_status”"),
    ],
)
def test_a_bad_value_is_named_by_row_and_field_and_nothing_is_written(tmp_path, change, message):
    organisation = make_organisation(charity_number="1100001", latest_income=100)
    write_extract(tmp_path, [charity(1100001, "Kept", latest_income="9000"), charity(1100002, "Bad", **change)])
    register_import = run(tmp_path)
    assert register_import.status == CharityRegisterImport.Status.FAILED
    assert message in register_import.error
    assert "charity table" in register_import.error
    assert not RegisterFinding.objects.exists()
    organisation.refresh_from_db()
    assert organisation.latest_income == 100  # nothing half-imported
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_charity_register", str(tmp_path), stdout=io.StringIO())


def test_a_missing_column_is_named(tmp_path):
    header = [name for name in CHARITY_HEADER if name != "latest_income"]
    write_extract(tmp_path, [], raw={"charity": table_bytes(header, [charity(1100001, "A")])})
    register_import = run(tmp_path)
    assert register_import.status == CharityRegisterImport.Status.FAILED
    assert "The charity table has no “latest_income” column" in register_import.error


def test_mixed_encodings_are_refused_with_the_line(tmp_path):
    good = table_bytes(CHARITY_HEADER, [charity(1100001, "A"), charity(1100002, "Café Club"), charity(1100003, "C")])
    mixed = good.replace("Café".encode(), "Café".encode("latin-1"))
    write_extract(tmp_path, [], raw={"charity": mixed})
    register_import = run(tmp_path)
    assert "The charity table's line 3 is not UTF-8 (byte 0xE9" in register_import.error


def test_a_charity_given_twice_is_refused_naming_both_lines(tmp_path):
    write_extract(
        tmp_path,
        [
            charity(1100001, "A"),
            charity(1100001, "A subsidiary", linked_charity_number="1"),
            charity(1100002, "B"),
            charity(1100001, "A again"),
        ],
    )
    register_import = run(tmp_path)
    assert (
        "line 5, field “registered_charity_number”: charity 1100001 (linked charity 0) is also on line 2"
        in register_import.error
    )


def test_a_record_with_the_wrong_number_of_fields_is_named(tmp_path):
    data = table_bytes(CHARITY_HEADER, [charity(1100001, "A")]) + b"2025-06-01\t1\t1100002\n"
    write_extract(tmp_path, [], raw={"charity": data})
    assert "line 3 has 3 fields; the header has 23" in run(tmp_path).error


def test_a_broken_zip_is_refused(tmp_path):
    write_extract(tmp_path, [charity(1100001, "A")])
    path = tmp_path / "publicextract.charity.zip"
    path.write_bytes(path.read_bytes()[:-30])
    register_import = run(tmp_path)
    assert register_import.status == CharityRegisterImport.Status.FAILED
    assert "publicextract.charity.zip cannot be read: The file is damaged" in register_import.error


def test_a_zip_bomb_and_a_table_over_the_size_limit_are_refused(tmp_path):
    bomb = table_bytes(CHARITY_HEADER, [charity(1100001, "A")]) + b"\n" * (20 * 1024 * 1024)
    write_extract(tmp_path, [], raw={"charity": bomb})
    assert "zip bomb" in run(tmp_path).error
    plain = tmp_path / "plain"
    plain.mkdir()
    write_extract(plain, [charity(1100001, "A")], zipped=False)
    with override_settings(PORTAL_REGISTER_MAX_BYTES=300):
        assert "the largest accepted is" in run(plain).error


def test_a_missing_table_is_named(tmp_path):
    write_extract(tmp_path, [charity(1100001, "A")])
    (tmp_path / "publicextract.charity_classification.zip").unlink()
    assert "No file for the charity_classification table" in run(tmp_path).error


# Comparing with the directory --------------------------------------------------------------------


def test_borough_charities_not_in_the_directory_are_proposed_by_area_or_postcode(tmp_path):
    make_organisation(name="Already Here", charity_number="1100003")
    write_extract(
        tmp_path,
        [
            charity(1100001, "Stepney Arts", charity_contact_postcode="SE1 1AA"),  # area of operation
            charity(1100002, "Bow Bells Club", charity_contact_postcode="E3 2AA"),  # postcode district
            charity(1100003, "Already Here", charity_contact_postcode="E3 2AB"),
            charity(1100004, "Leeds Trust", charity_contact_postcode="LS1 1AA"),
            charity(1100005, "Closed Club", charity_contact_postcode="E1 1AA", charity_registration_status="Removed"),
            charity(1100006, "E14 Lookalike", charity_contact_postcode="E15 1AA"),
        ],
        areas=[area(1100001, "Tower Hamlets"), area(1100004, "Leeds")],
    )
    run(tmp_path)
    assert [(f.charity_number, f.data["in_borough_by"]) for f in findings(RegisterFinding.Kind.PROPOSAL)] == [
        ("1100001", "area"),
        ("1100002", "postcode"),
    ]
    with override_settings(PORTAL_BOROUGH_AREA="Leeds", PORTAL_BOROUGH_POSTCODE_DISTRICTS=[]):
        run(tmp_path)
    assert RegisterFinding.objects.filter(kind=RegisterFinding.Kind.PROPOSAL, charity_number="1100004").exists()


def test_a_proposal_is_added_as_an_organisation_with_its_history(tmp_path):
    admin = make_superuser()
    write_extract(
        tmp_path,
        [
            charity(
                1100001,
                "STEPNEY ARTS TRUST",
                charity_contact_postcode="E1 6AN",
                charity_contact_web="www.stepneyarts.org.uk",
                latest_income="45000",
                charity_type="CIO",
            )
        ],
    )
    run(tmp_path)
    (proposal,) = findings(RegisterFinding.Kind.PROPOSAL)
    organisation = charity_register.add_proposed_organisation(finding=proposal, by=admin)
    assert (organisation.name, organisation.charity_number, organisation.postcode) == (
        "Stepney Arts Trust",
        "1100001",
        "E1 6AN",
    )
    assert (organisation.website, organisation.latest_income, organisation.legal_form) == (
        "https://www.stepneyarts.org.uk",
        45000,
        "cio",
    )
    assert list(organisation.kinds.values_list("code", flat=True)) == ["vco"]
    assert {record.history_user for record in organisation.history.all()} == {admin}
    proposal.refresh_from_db()
    assert (proposal.decision, proposal.organisation) == (RegisterFinding.Decision.ACCEPTED, organisation)
    with pytest.raises(Exception, match="not a finding of that kind still to check"):
        charity_register.add_proposed_organisation(finding=proposal, by=admin)


def test_a_match_by_number_refreshes_income_status_and_web_address_with_history(tmp_path):
    admin = make_superuser()
    organisation = make_organisation(
        name="Bow Arts",
        charity_number="1100001",
        latest_income=1000,
        registration_status="registered",
        website="https://old.example.org",
    )
    unchanged = make_organisation(
        name="Same", charity_number="1100002", latest_income=5000, registration_status="registered"
    )
    write_extract(
        tmp_path,
        [
            charity(1100001, "BOW ARTS", latest_income="8000.40", charity_contact_web="https://www.bowarts.org"),
            charity(1100002, "SAME", latest_income="5000"),
        ],
    )
    before = unchanged.history.count()
    run(tmp_path, by=admin)
    organisation.refresh_from_db()
    assert (organisation.latest_income, organisation.website) == (8000, "https://www.bowarts.org")
    assert str(organisation.register_checked_on) == "2025-06-01"
    latest = organisation.history.first()
    assert (latest.history_user, latest.history_change_reason, latest.latest_income) == (
        admin,
        "Charity Commission register",
        8000,
    )
    (refreshed,) = findings(RegisterFinding.Kind.REFRESHED)
    assert refreshed.organisation == organisation
    assert refreshed.data["changes"] == {
        "latest_income": [1000, 8000],
        "website": ["https://old.example.org", "https://www.bowarts.org"],
    }
    unchanged.refresh_from_db()
    assert unchanged.history.count() == before  # nothing changed, nothing in its history
    assert str(unchanged.register_checked_on) == "2025-06-01"


def test_members_removed_or_insolvent_are_flagged(tmp_path):
    network = make_network()
    removed = make_organisation(charity_number="1100001", registration_status="registered")
    insolvent = make_organisation(charity_number="1100002")
    not_a_member = make_organisation(charity_number="1100003")
    make_membership(network=network, organisation=removed, status=Membership.Status.ACTIVE)
    make_membership(network=network, organisation=insolvent, status=Membership.Status.ACTIVE)
    write_extract(
        tmp_path,
        [
            charity(1100001, "GONE", charity_registration_status="Removed", date_of_removal="2025-01-10"),
            charity(1100002, "BROKE", charity_in_administration="True"),
            charity(1100003, "NOT A MEMBER", charity_registration_status="Removed"),
        ],
    )
    run(tmp_path)
    assert [f.organisation for f in findings(RegisterFinding.Kind.REMOVED)] == [removed]
    assert [f.organisation for f in findings(RegisterFinding.Kind.INSOLVENT)] == [insolvent]
    removed.refresh_from_db()
    not_a_member.refresh_from_db()
    assert removed.registration_status == not_a_member.registration_status == "removed"


@pytest.mark.parametrize(
    ("income", "current", "suggested"),
    [
        (5_000, None, 1),
        (5_000, 2, 1),
        (50_000, 1, 2),
        (500_000, 1, 2),
        (500_000, 3, None),
        (500_000, 2, None),
        (2_000_000, 2, 3),
        (9_000, 1, None),
    ],
)
def test_suggested_stage_follows_the_design_briefs_overlapping_bands(income, current, suggested):
    assert charity_register.suggested_stage(income, current) == suggested


def test_a_stage_suggestion_is_applied_only_when_the_admin_confirms(tmp_path):
    admin = make_superuser()
    organisation = make_organisation(charity_number="1100001", development_stage=1)
    write_extract(tmp_path, [charity(1100001, "GROWING", latest_income="300000")])
    run(tmp_path)
    (suggestion,) = findings(RegisterFinding.Kind.STAGE)
    assert (suggestion.data["stage"], suggestion.data["current_stage"]) == (2, 1)
    organisation.refresh_from_db()
    assert organisation.development_stage == 1
    charity_register.apply_suggested_stage(finding=suggestion, by=admin)
    organisation.refresh_from_db()
    assert organisation.development_stage == 2
    assert organisation.history.first().history_user == admin


def test_a_name_match_is_proposed_never_merged(tmp_path):
    admin = make_superuser()
    exact = make_organisation(name="Bow Community Choir")
    near = make_organisation(name="Poplar Youth Forums")
    write_extract(
        tmp_path,
        [
            charity(1100001, "THE BOW COMMUNITY CHOIR", charity_contact_postcode="M1 1AA"),  # same name, anywhere
            charity(
                1100002, "POPLAR YOUTH FORUM", charity_contact_postcode="E14 0AA", latest_income="20000"
            ),  # near, in the borough
            charity(
                1100003, "POPLAR YOUTH FORUM LEEDS", charity_contact_postcode="LS1 1AA"
            ),  # near, not in the borough
        ],
    )
    run(tmp_path)
    matches = findings(RegisterFinding.Kind.NAME_MATCH)
    assert [(f.charity_number, f.organisation) for f in matches] == [("1100001", exact), ("1100002", near)]
    assert not findings(RegisterFinding.Kind.PROPOSAL)  # a possible match is not also proposed
    exact.refresh_from_db()
    near.refresh_from_db()
    assert exact.charity_number == near.charity_number == ""  # nothing merged
    organisation = charity_register.confirm_name_match(finding=matches[1], by=admin)
    assert (organisation.charity_number, organisation.latest_income) == ("1100002", 20000)
    assert organisation.history.first().history_user == admin


def test_a_bad_table_after_good_ones_leaves_nothing_half_imported(tmp_path):
    organisation = make_organisation(charity_number="1100001", latest_income=10)
    bad_classification = table_bytes(
        CLASSIFICATION_HEADER,
        [classification(1100001, "A"), {**classification(1100001, "B"), "registered_charity_number": "x"}],
    )
    write_extract(
        tmp_path, [charity(1100001, "A", latest_income="99")], raw={"charity_classification": bad_classification}
    )
    register_import = run(tmp_path)
    assert "The charity_classification table's line 3" in register_import.error
    organisation.refresh_from_db()
    assert organisation.latest_income == 10
    assert not RegisterFinding.objects.exists()


def test_the_uploaded_import_runs_as_a_task_and_deletes_its_files(tmp_path, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from organisations import tasks

    admin = make_superuser()
    write_extract(tmp_path, [charity(1100001, "Bow Bells", charity_contact_postcode="E3 1AA")])
    uploads = [SimpleUploadedFile(path.name, path.read_bytes()) for path in sorted(tmp_path.glob("*.zip"))]
    register_import = charity_register.start_import(uploads=uploads, by=admin)
    result = tasks.import_charity_register(register_import.pk)
    assert result == {"import": register_import.pk, "ran": True, "status": "ready"}
    assert tasks.import_charity_register(register_import.pk)["ran"] is False  # idempotent
    assert RegisterFinding.objects.shown().filter(kind=RegisterFinding.Kind.PROPOSAL).count() == 1
    from core.files import private_file_storage

    assert private_file_storage().listdir(register_import.folder)[1] == []


# The admin -----------------------------------------------------------------------------------------


def test_the_admin_uploads_the_extract_queues_the_task_shows_progress_and_acts_on_findings(
    tmp_path, media_root, client, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from organisations import tasks

    admin = make_superuser()
    client.force_login(admin)
    published = []
    monkeypatch.setattr(tasks, "_publish", lambda import_id: published.append(import_id) or True)
    folder = tmp_path / "extract"
    folder.mkdir()
    write_extract(folder, [charity(1100001, "BOW BELLS CLUB", charity_contact_postcode="E3 1AA")])
    upload_url = reverse("admin:organisations_charityregisterimport_upload")
    assert "E1, E1W, E2, E3, E14" in client.get(upload_url).content.decode()

    only_two = [SimpleUploadedFile(p.name, p.read_bytes()) for p in sorted(folder.glob("*.zip"))[:2]]
    response = client.post(upload_url, {"files": only_two})
    assert "No file for the charity_classification table" in response.content.decode()
    assert not CharityRegisterImport.objects.exists()

    uploads = [SimpleUploadedFile(p.name, p.read_bytes()) for p in sorted(folder.glob("*.zip"))]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(upload_url, {"files": uploads})
    register_import = CharityRegisterImport.objects.get()
    assert published == [register_import.pk]
    assert response.url == reverse("admin:organisations_charityregisterimport_progress", args=[register_import.pk])
    page = client.get(response.url).content.decode()
    assert 'http-equiv="refresh"' in page and "<progress" in page

    # What the worker on the long queue runs (the task function, here in the test's process).
    tasks.import_charity_register(register_import.pk)
    page = client.get(response.url).content.decode()
    assert "Read 1 charities: 1 in the borough" in page and 'http-equiv="refresh"' not in page

    findings_url = reverse("admin:organisations_registerfinding_changelist")
    assert "BOW BELLS CLUB" in client.get(findings_url).content.decode()
    proposal = RegisterFinding.objects.get(kind=RegisterFinding.Kind.PROPOSAL)
    client.post(findings_url, {"action": "add_as_organisations", "_selected_action": [proposal.pk]})
    organisation = Organisation.objects.get(charity_number="1100001")
    assert organisation.name == "Bow Bells Club"
