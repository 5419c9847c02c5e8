"""Template helpers for organisations' pages: their schema.org data. Loaded as
`{% load organisations %}`."""

from django import template
from django.conf import settings
from django.utils.safestring import SafeString

from core.templatetags.portal import json_ld_script

from ..models import Organisation

register = template.Library()


def organisation_json_ld_data(organisation: Organisation, *, networks=()) -> dict:
    """schema.org Organization data for an organisation's page: only what its public page shows."""
    url = settings.SITE_URL + organisation.get_absolute_url()
    data = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "@id": url,
        "name": organisation.name,
        "url": url,
    }
    if organisation.activities:
        data["description"] = organisation.activities
    if organisation.logo:
        data["logo"] = (
            settings.SITE_URL + organisation.logo.url
            if organisation.logo.url.startswith("/")
            else organisation.logo.url
        )
    if organisation.shows("email") and organisation.email:
        data["email"] = organisation.email
    if organisation.shows("phone") and organisation.phone:
        data["telephone"] = organisation.phone
    address = {"@type": "PostalAddress", "addressCountry": "GB"}
    if organisation.town:
        address["addressLocality"] = organisation.town
    if organisation.shows("address"):
        street = ", ".join(line for line in (organisation.address_line_1, organisation.address_line_2) if line)
        if street:
            address["streetAddress"] = street
        if organisation.postcode:
            address["postalCode"] = organisation.postcode
    data["address"] = address
    if organisation.ward_id:
        data["areaServed"] = organisation.ward.name
    if organisation.year_founded:
        data["foundingDate"] = str(organisation.year_founded)
    if organisation.identifiers:
        # Each register number, named by its org-id list (propertyID "GB-CHC"), the primary first.
        data["identifier"] = [
            {"@type": "PropertyValue", "propertyID": identifier.list.code, "value": identifier.number}
            for identifier in organisation.identifiers
        ]
    links = [
        organisation.website,
        organisation.facebook_url,
        organisation.x_url,
        organisation.instagram_url,
        organisation.linkedin_url,
    ]
    if any(links):
        data["sameAs"] = [link for link in links if link]
    if networks:
        data["memberOf"] = [{"@type": "Organization", "name": network.name} for network in networks]
    return data


@register.simple_tag
def organisation_json_ld(organisation: Organisation, networks=()) -> SafeString:
    return json_ld_script(
        organisation_json_ld_data(organisation, networks=[membership.network for membership in networks])
    )
