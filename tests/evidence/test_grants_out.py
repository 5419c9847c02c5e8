"""360Giving out: the grants the network distributes, recorded with their rules and published as a valid
360Giving data package (checked against the standard's own schemas, offline) and as a spreadsheet."""

import csv
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker
from openpyxl import load_workbook
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from evidence import services
from evidence.models import Grant
from organisations.models import Organisation
from tests.factories import make_network_admin, make_organisation, make_user, term

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).resolve().parents[2] / "evidence" / "schemas_360giving"
# The package schema refers to the grant schema by its 1.4.2 address; the grant schema calls itself 1.4.3.
GRANT_SCHEMA_URLS = (
    "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json",
    "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.3/schema/360-giving-schema.json",
)
HEADERS = [
    "Identifier",
    "Title",
    "Description",
    "Currency",
    "Amount Awarded",
    "Award Date",
    "Planned Dates:Start Date",
    "Planned Dates:End Date",
    "Recipient Org:Identifier",
    "Recipient Org:Name",
    "Funding Org:Identifier",
    "Funding Org:Name",
    "Grant Programme:Title",
    "Beneficiary Location:Name",
    "Beneficiary Location:Country Code",
    "Last Modified",
    "Data Source",
]


@cache
def package_validator() -> Draft202012Validator:
    grant_schema = Resource.from_contents(
        json.loads((SCHEMAS / "360-giving-schema.json").read_text()), default_specification=DRAFT202012
    )
    registry = Registry().with_resources((url, grant_schema) for url in GRANT_SCHEMA_URLS)
    package_schema = json.loads((SCHEMAS / "360-giving-package-schema.json").read_text())
    return Draft202012Validator(package_schema, registry=registry, format_checker=FormatChecker())


def schema_errors(data: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in package_validator().iter_errors(data)
    ]


@pytest.fixture(autouse=True)
def network(settings):
    settings.PORTAL_360G_PREFIX = "360G-thin"
    settings.PORTAL_NETWORK_ORG_ID = "GB-CHC-1111111"
    settings.PORTAL_NETWORK_NAME = "Tower Hamlets Infrastructure Network"
    settings.SITE_URL = "https://portal.example.org"


@pytest.fixture
def charity():
    return make_organisation(name="Bow Lunch Club", slug="bow-lunch-club", charity_number="1098765")


@pytest.fixture
def company():
    return make_organisation(name="Poplar Makers CIC", slug="poplar-makers", company_number="09506232")


def full_grant(recipient: Organisation) -> Grant:
    """A grant with every optional field the portal records."""
    return services.record_grant(
        data={
            "reference": "2026-001",
            "title": "Volunteer training",
            "description": "Food hygiene and safeguarding training for the lunch club's volunteers.",
            "amount_awarded": Decimal("1234.50"),
            "award_date": date(2026, 3, 1),
            "planned_start_date": date(2026, 4, 1),
            "planned_end_date": date(2026, 9, 30),
            "recipient": recipient,
            "grant_programme": "Community Chest",
            "beneficiary_ward": term("wards", "bow-east"),
        }
    )


def minimal_grant(recipient: Organisation, reference: str = "2026-002") -> Grant:
    return services.record_grant(
        data={
            "reference": reference,
            "title": "Tools library",
            "description": "Tools for a community workshop.",
            "amount_awarded": Decimal(5000),
            "award_date": date(2026, 2, 14),
            "recipient": recipient,
        }
    )


def test_record_grant_stores_identifier_and_the_network_as_funder(charity):
    grant = full_grant(charity)
    assert grant.identifier == "360G-thin-2026-001"
    assert (grant.funder_org_id, grant.funder_name) == ("GB-CHC-1111111", "Tower Hamlets Infrastructure Network")
    assert grant.direction == Grant.Direction.DISTRIBUTED and grant.currency == "GBP"
    assert grant.recipient_identifier == "GB-CHC-1098765"


def test_identifier_is_stable_when_the_prefix_setting_changes(charity, settings):
    grant = full_grant(charity)
    settings.PORTAL_360G_PREFIX = "360G-other"
    grant = services.record_grant(grant=grant, data={"title": "Volunteer training, extended"})
    assert grant.identifier == "360G-thin-2026-001"
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.record_grant(grant=grant, data={"reference": "2026-999"})
    grant.refresh_from_db()
    assert (grant.reference, grant.identifier) == ("2026-001", "360G-thin-2026-001")


def test_package_validates_against_the_360giving_schema(client, charity, company):
    full_grant(charity)
    minimal_grant(company)
    services.record_grant(
        data={
            "reference": "2026-003",
            "title": "Youth summer scheme",
            "description": "A summer scheme run by a charity outside the database.",
            "amount_awarded": Decimal(750),
            "award_date": date(2026, 1, 20),
            "recipient_name": "Limehouse Youth Trust",
            "recipient_org_id": "gb-chc-1077777",
        }
    )
    response = client.get("/evidence/grants/360giving.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    data = response.json()
    assert schema_errors(data) == []
    assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert data["publisher"] == {
        "identifier": "GB-CHC-1111111",
        "name": "Tower Hamlets Infrastructure Network",
        "website": "https://portal.example.org",
    }
    assert data["downloadURL"] == "https://portal.example.org/evidence/grants/360giving.json"
    grants = {grant["id"]: grant for grant in data["grants"]}
    assert set(grants) == {"360G-thin-2026-001", "360G-thin-2026-002", "360G-thin-2026-003"}

    full = grants["360G-thin-2026-001"]
    assert full["amountAwarded"] == 1234.5 and full["currency"] == "GBP" and full["awardDate"] == "2026-03-01"
    assert full["recipientOrganization"] == [{"id": "GB-CHC-1098765", "name": "Bow Lunch Club"}]
    assert full["fundingOrganization"] == [{"id": "GB-CHC-1111111", "name": "Tower Hamlets Infrastructure Network"}]
    assert full["plannedDates"] == [{"startDate": "2026-04-01", "endDate": "2026-09-30"}]
    assert full["grantProgramme"] == [{"title": "Community Chest"}]
    assert full["beneficiaryLocation"] == [{"name": term("wards", "bow-east").name, "countryCode": "GB"}]
    assert datetime.fromisoformat(full["dateModified"]).tzinfo is not None
    assert full["dataSource"] == "https://portal.example.org/evidence/grants/"

    minimal = grants["360G-thin-2026-002"]
    assert minimal["amountAwarded"] == 5000 and isinstance(minimal["amountAwarded"], int)
    assert minimal["recipientOrganization"] == [{"id": "GB-COH-09506232", "name": "Poplar Makers CIC"}]
    assert not {"plannedDates", "grantProgramme", "beneficiaryLocation"} & set(minimal)
    # A recipient outside the database: its org-id tidied to the list's form.
    assert grants["360G-thin-2026-003"]["recipientOrganization"] == [
        {"id": "GB-CHC-1077777", "name": "Limehouse Youth Trust"}
    ]


def test_the_schema_check_catches_a_broken_grant(charity):
    """The check above is worth something: a package with a grant missing its amount, or with the amount
    as a string, fails it."""
    from evidence import three_sixty_giving

    data = three_sixty_giving.package([full_grant(charity)])
    assert schema_errors(data) == []
    data["grants"][0]["amountAwarded"] = "1234.50"
    assert schema_errors(data)
    del data["grants"][0]["amountAwarded"]
    assert schema_errors(data)


def test_spreadsheets_use_the_standards_column_titles(client, charity):
    full_grant(charity)
    response = client.get("/evidence/grants/360giving.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Identifier"] == "360G-thin-2026-001"
    assert row["Amount Awarded"] == "1234.50" and row["Award Date"] == "2026-03-01" and row["Currency"] == "GBP"
    assert row["Recipient Org:Identifier"] == "GB-CHC-1098765" and row["Recipient Org:Name"] == "Bow Lunch Club"
    assert row["Funding Org:Identifier"] == "GB-CHC-1111111"
    assert row["Planned Dates:End Date"] == "2026-09-30" and row["Grant Programme:Title"] == "Community Chest"
    assert datetime.fromisoformat(row["Last Modified"]).tzinfo is not None

    response = client.get("/evidence/grants/360giving.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert list(values[0]) == HEADERS
    xlsx_row = dict(zip(values[0], values[1], strict=True))
    assert xlsx_row["Amount Awarded"] == 1234.5
    assert xlsx_row["Award Date"] == datetime(2026, 3, 1)
    assert xlsx_row["Recipient Org:Identifier"] == "GB-CHC-1098765"


def future() -> date:
    return timezone.localdate() + timedelta(days=1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount_awarded", Decimal(0), "more than £0"),
        ("amount_awarded", Decimal(-50), "more than £0"),
        ("amount_awarded", Decimal(10**15), "less than £1,000,000,000"),
        ("award_date", None, "cannot be in the future"),
        ("award_date", date(1000, 1, 1), "1900 or later"),
        ("title", "Training\x00day", "control characters"),
    ],
)
def test_hostile_input_is_refused_and_nothing_saved(charity, field, value, message):
    data = {
        "reference": "2026-009",
        "title": "Training",
        "description": "Training for volunteers.",
        "amount_awarded": Decimal(100),
        "award_date": date(2026, 1, 5),
        "recipient": charity,
        field: future() if value is None else value,
    }
    with pytest.raises(ValidationError) as error:
        services.record_grant(data=data)
    assert any(message in text for text in error.value.message_dict[field])
    assert not Grant.objects.exists()


def test_a_recipient_without_an_org_id_is_refused(charity):
    unregistered = make_organisation(name="Stepney Knitting Circle", slug="stepney-knitting")
    with pytest.raises(ValidationError) as error:
        minimal_grant(unregistered)
    assert (
        "Stepney Knitting Circle has no charity, company or other register number"
        in error.value.message_dict["recipient"][0]
    )
    with pytest.raises(ValidationError) as error:
        services.record_grant(
            data={
                "reference": "2026-010",
                "title": "Outside",
                "description": "A recipient outside the database with a made-up number.",
                "amount_awarded": Decimal(100),
                "award_date": date(2026, 1, 5),
                "recipient_name": "Somewhere",
                "recipient_org_id": "GB-CHC-12",
            }
        )
    assert "charity number" in error.value.message_dict["recipient_org_id"][0]
    assert not Grant.objects.exists()


def test_a_recipient_that_loses_its_org_id_is_not_published(client, charity, company):
    full_grant(charity)
    minimal_grant(company)
    Organisation.objects.filter(pk=charity.pk).update(charity_number="")
    data = client.get("/evidence/grants/360giving.json").json()
    assert [grant["id"] for grant in data["grants"]] == ["360G-thin-2026-002"]
    assert schema_errors(data) == []
    page = client.get("/evidence/grants/").content.decode()
    assert "Tools library" in page and "Volunteer training" not in page


def test_grant_page_is_public_and_links_both_files(client, charity):
    full_grant(charity)
    response = client.get(reverse("evidence:grant_list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Volunteer training" in page and "GB-CHC-1098765" in page and "£1,234.50" in page
    assert 'href="/evidence/grants/360giving.json"' in page and 'href="/evidence/grants/360giving.xlsx"' in page
    assert "Only grants to organisations with a charity, company or other register number are published" in page


def test_only_network_admins_see_grants_in_the_admin(client, charity):
    full_grant(charity)
    client.force_login(make_user(is_staff=True, username="other_staff", email="other-staff@example.org"))
    assert client.get("/admin/evidence/grant/").status_code == 403
    client.force_login(make_network_admin(username="netadmin", email="netadmin@example.org"))
    assert "360G-thin-2026-001" in client.get("/admin/evidence/grant/?q=1098765").content.decode()
    response = client.get("/admin/evidence/grant/?q=GB-CHC-1098765")
    assert response.status_code == 200 and "360G-thin-2026-001" in response.content.decode()


def test_network_admin_records_a_grant_in_the_admin(client, charity):
    client.force_login(make_network_admin(username="netadmin", email="netadmin@example.org"))
    form = {
        "reference": "2026-020",
        "title": "Lunch club kitchen",
        "description": "A new cooker.",
        "grant_programme": "",
        "amount_awarded": "0",
        "award_date": "2026-02-02",
        "planned_start_date": "",
        "planned_end_date": "",
        "recipient": str(charity.pk),
        "recipient_name": "",
        "recipient_org_id": "",
        "beneficiary_ward": "",
    }
    response = client.post("/admin/evidence/grant/add/", form)
    assert response.status_code == 200 and "The amount awarded must be more than £0." in response.content.decode()
    assert not Grant.objects.exists()
    response = client.post("/admin/evidence/grant/add/", {**form, "amount_awarded": "800"})
    assert response.status_code == 302
    grant = Grant.objects.get()
    assert grant.identifier == "360G-thin-2026-020" and grant.funder_org_id == "GB-CHC-1111111"


def test_demo_grants_go_to_vcos_with_org_ids_once(settings, client):
    from django.core.management import call_command

    from organisations.demo import DEMO_PROVIDER, DEMO_VCO

    settings.DEBUG = True
    make_organisation(
        name="Tower Hamlets Voluntary Action", slug=DEMO_PROVIDER, kinds=[term("organisation-kinds", "general")]
    )
    make_organisation(name="Bow Bangladeshi Women's Group", slug=DEMO_VCO, charity_number="1090001")
    make_organisation(name="Another Group", company_number="09000002")
    make_organisation(name="A Third Group", charity_number="1090003")
    make_organisation(name="A Group Without A Number")
    call_command("load_evidence_demo")
    call_command("load_evidence_demo")
    grants = Grant.objects.distributed()
    assert grants.count() == 3
    assert all(grant.recipient.primary_org_id for grant in grants)
    assert not grants.filter(recipient__name="A Group Without A Number").exists()
    assert schema_errors(client.get("/evidence/grants/360giving.json").json()) == []


def test_evidence_index_links_the_grants_page(client):
    client.force_login(make_user())
    assert 'href="/evidence/grants/"' in client.get(reverse("evidence:index")).content.decode()


def test_with_no_grants_nothing_invalid_is_published(client):
    """The package schema wants at least one grant: no grants is a clear "not yet", never an empty package."""
    from evidence import three_sixty_giving

    with pytest.raises(three_sixty_giving.NothingToPublish):
        three_sixty_giving.package([])
    # An empty package is what the schema rejects, which is why none is served.
    assert any("should be non-empty" in error or "is too short" in error for error in schema_errors({"grants": [], "version": "1.4"}))
    response = client.get("/evidence/grants/360giving.json")
    assert response.status_code == 404 and response["Access-Control-Allow-Origin"] == "*"
    assert response.json()["grants"] == 0 and "at least one grant" in response.json()["error"]
    for address in ("/evidence/grants/360giving.csv", "/evidence/grants/360giving.xlsx"):
        response = client.get(address)
        assert response.status_code == 404 and "No grants are published yet" in response.content.decode()
    page = client.get(reverse("evidence:grant_list")).content.decode()
    assert "Nothing to download yet" in page and 'href="/evidence/grants/360giving.json"' not in page
    assert "/evidence/grants/360giving.json</code>" in page
