"""What the VCO database downloads: organisations and memberships. Their columns are shared with
``organisations.imports``, so a file exported here can be edited and imported again. The writer
itself is ``core.exports``.
"""

from collections.abc import Callable

from django.db import models
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from core.exports import MULTI_VALUE_SEPARATOR, Column, dated_filename, export_rows, tabular_response

from .models import Membership, Organisation


def _terms_getter(name: str) -> Callable[[Organisation], str]:
    # Reads the prefetched terms (see ORGANISATION_PREFETCH) in the vocabulary's own order.
    return lambda organisation: MULTI_VALUE_SEPARATOR.join(term.name for term in getattr(organisation, name).all())


def _choice_getter(name: str) -> Callable[[Organisation], str]:
    return lambda organisation: (
        getattr(organisation, f"get_{name}_display")() if getattr(organisation, name) not in (None, "") else ""
    )


def _organisation_column(name: str) -> Column:
    field = Organisation._meta.get_field(name)
    if field.many_to_many:
        get = _terms_getter(name)
    elif field.many_to_one:
        get = lambda organisation: getattr(getattr(organisation, name), "name", "")  # noqa: E731
    elif field.choices:
        get = _choice_getter(name)
    else:
        get = lambda organisation: getattr(organisation, name)  # noqa: E731
    return Column(header=name, get=get, field=name)


# The headers are the field names, so a file is unambiguous to import; the import also accepts the
# fields' labels ("Charity number") and ignores case and spacing.
ORGANISATION_FIELDS = (
    "name",
    "kinds",
    "legal_form",
    "charity_number",
    "scottish_charity_number",
    "ni_charity_number",
    "company_number",
    "mutuals_number",
    "contact_name",
    "email",
    "phone",
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
    "ward",
    "geographic_level",
    "area_of_benefit",
    "activities",
    "development_stage",
    "income_band",
    "paid_staff",
    "volunteers",
    "communities_served",
    "segments",
    "functions",
    "languages",
    "premises_accessibility",
    "website",
    "facebook_url",
    "x_url",
    "instagram_url",
    "linkedin_url",
    "year_founded",
    "details_confirmed_on",
    "is_active",
)
# The key: the organisation's primary org-id ("GB-CHC-1164883"), which the import reads back into the
# matching number column.
ORG_ID = "org_id"
ORGANISATION_COLUMNS: tuple[Column, ...] = (
    Column(header=ORG_ID, get=lambda organisation: organisation.primary_org_id, field=ORG_ID),
    *(_organisation_column(name) for name in ORGANISATION_FIELDS),
)
ORGANISATION_PREFETCH = ("kinds", "communities_served", "segments", "functions", "languages")


def organisations_response(queryset: "models.QuerySet[Organisation]", *, fmt: str) -> HttpResponse:
    organisations = queryset.select_related("ward").prefetch_related(*ORGANISATION_PREFETCH).order_by("name", "pk")
    return tabular_response(
        filename=dated_filename("organisations"),
        headers=[column.header for column in ORGANISATION_COLUMNS],
        rows=export_rows(ORGANISATION_COLUMNS, organisations.iterator(chunk_size=500)),
        fmt=fmt,
    )


MEMBERSHIP_COLUMNS: tuple[Column, ...] = (
    Column(_("organisation"), lambda membership: membership.organisation.name),
    Column(_("org-id"), lambda membership: membership.organisation.primary_org_id),
    Column(_("charity number"), lambda membership: membership.organisation.charity_number),
    Column(_("email"), lambda membership: membership.organisation.email),
    Column(_("network"), lambda membership: membership.network.name),
    Column(_("status"), lambda membership: membership.get_status_display()),
    Column(_("applied on"), lambda membership: membership.applied_on),
    Column(_("joined on"), lambda membership: membership.joined_on),
    Column(_("renewal due"), lambda membership: membership.renewal_due),
    Column(_("left on"), lambda membership: membership.left_on),
)


def memberships_response(queryset: "models.QuerySet[Membership]", *, fmt: str) -> HttpResponse:
    memberships = queryset.select_related("organisation", "network").order_by(
        "network__name", "organisation__name", "pk"
    )
    return tabular_response(
        filename=dated_filename("memberships"),
        headers=[str(column.header) for column in MEMBERSHIP_COLUMNS],
        rows=export_rows(MEMBERSHIP_COLUMNS, memberships.iterator(chunk_size=500)),
        fmt=fmt,
    )
