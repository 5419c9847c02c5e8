"""The grants the network distributes as 360Giving data (standard 1.4.3, CC BY 4.0, © 360Giving): a JSON
data package and a spreadsheet with the standard's own column titles, which `flattentool` and the
360Giving Data Quality Tool read back as the same grants.

The field names and column titles come from the standard's schema (../shared/standards/360giving-1.4.3/).
"""

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.urls import reverse

from core.exports import Column

from .models import Grant

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
SCHEMA_VERSION = "1.4"


def _amount(value: Decimal) -> int | float:
    # JSON numbers, never strings: whole pounds as integers, pence as a float (exact to the penny at
    # the sizes the model allows).
    return int(value) if value == value.to_integral_value() else float(value)


def _timestamp(grant: Grant) -> str:
    return grant.updated_at.isoformat(timespec="seconds")


def data_source_url() -> str:
    return settings.SITE_URL + reverse("evidence:grant_list")


def grant_data(grant: Grant) -> dict:
    """One grant as the 360Giving schema has it; optional fields only when there is a value."""
    data = {
        "id": grant.identifier,
        "title": grant.title,
        "description": grant.description,
        "currency": grant.currency,
        "amountAwarded": _amount(grant.amount_awarded),
        "awardDate": grant.award_date.isoformat(),
        "recipientOrganization": [{"id": grant.recipient_identifier, "name": grant.recipient_display_name}],
        "fundingOrganization": [{"id": grant.funder_org_id, "name": grant.funder_name}],
        "dateModified": _timestamp(grant),
        "dataSource": data_source_url(),
    }
    planned = {}
    if grant.planned_start_date:
        planned["startDate"] = grant.planned_start_date.isoformat()
    if grant.planned_end_date:
        planned["endDate"] = grant.planned_end_date.isoformat()
    if planned:
        data["plannedDates"] = [planned]
    if grant.grant_programme:
        data["grantProgramme"] = [{"title": grant.grant_programme}]
    if grant.beneficiary_ward_id:
        data["beneficiaryLocation"] = [{"name": grant.beneficiary_ward.name, "countryCode": "GB"}]
    return data


class NothingToPublish(ValueError):
    """The standard's package schema requires at least one grant ("grants": minItems 1), so no grants
    is no package, never an empty one that 360Giving's tools would reject."""


def package(grants: Iterable[Grant]) -> dict:
    """A 360Giving data package of `grants` with the network as publisher; NothingToPublish if there
    are none."""
    grants = list(grants)
    if not grants:
        raise NothingToPublish("A 360Giving data package must hold at least one grant.")
    site = settings.SITE_URL
    data = {
        "grants": [grant_data(grant) for grant in grants],
        "version": SCHEMA_VERSION,
        "title": f"{settings.PORTAL_NETWORK_NAME}: grants distributed",
        "description": f"Grants distributed by {settings.PORTAL_NETWORK_NAME}, published from the {settings.SITE_NAME}.",
        "identifier": f"{settings.PORTAL_360G_PREFIX}-grants-distributed",
        "license": LICENSE,
        "publisher": {
            "identifier": settings.PORTAL_NETWORK_ORG_ID,
            "name": settings.PORTAL_NETWORK_NAME,
            "website": site,
        },
        "accessURL": data_source_url(),
        "downloadURL": site + reverse("evidence:grants_json"),
    }
    data["modified"] = max(grant.updated_at for grant in grants).isoformat(timespec="seconds")
    return data


# The standard's flattened column titles ("Recipient Org:Identifier" is recipientOrganization/0/id).
COLUMNS = [
    Column("Identifier", lambda grant: grant.identifier),
    Column("Title", lambda grant: grant.title),
    Column("Description", lambda grant: grant.description),
    Column("Currency", lambda grant: grant.currency),
    Column("Amount Awarded", lambda grant: grant.amount_awarded),
    Column("Award Date", lambda grant: grant.award_date),
    Column("Planned Dates:Start Date", lambda grant: grant.planned_start_date),
    Column("Planned Dates:End Date", lambda grant: grant.planned_end_date),
    Column("Recipient Org:Identifier", lambda grant: grant.recipient_identifier),
    Column("Recipient Org:Name", lambda grant: grant.recipient_display_name),
    Column("Funding Org:Identifier", lambda grant: grant.funder_org_id),
    Column("Funding Org:Name", lambda grant: grant.funder_name),
    Column("Grant Programme:Title", lambda grant: grant.grant_programme),
    Column("Beneficiary Location:Name", lambda grant: grant.beneficiary_ward.name if grant.beneficiary_ward_id else ""),
    Column("Beneficiary Location:Country Code", lambda grant: "GB" if grant.beneficiary_ward_id else ""),
    Column("Last Modified", _timestamp),
    Column("Data Source", lambda grant: data_source_url()),
]
