"""Template helpers for the directory's parts of other pages. Loaded as `{% load directory %}`."""

from dataclasses import dataclass

from django import template

from accounts.permissions import can

from .. import links, selectors

register = template.Library()


@dataclass
class OrganisationServices:
    services: list
    can_edit: bool
    ask_url: str


@register.simple_tag(takes_context=True)
def organisation_services(context, organisation) -> OrganisationServices:
    """The services section of an organisation's page: closed ones too for those who keep them."""
    can_edit = can(context["request"].user, "directory.change_service", organisation)
    return OrganisationServices(
        services=list(selectors.services_of(organisation, include_closed=can_edit)),
        can_edit=can_edit,
        ask_url=links.ask_for_support_url_for(organisation),
    )
