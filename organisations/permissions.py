"""Who may do what with organisations: the rules for the VCO database's records, and the role a
person has at an organisation (role_at), which other apps' rules build on."""

from accounts.permissions import public, rule

from .models import Affiliation, Organisation


def role_at(user, organisation: Organisation) -> str | None:
    """The user's role at an organisation, or None."""
    if not user.is_authenticated:
        return None
    return Affiliation.objects.filter(user=user, organisation=organisation).values_list("role", flat=True).first()


EDITING_ROLES = {Affiliation.Role.EDITOR, Affiliation.Role.OFFICER}


@rule("organisations.view_organisation")
@public
def _view_organisation(user, organisation: Organisation) -> bool:
    # A closed organisation's page exists only for its own people and admins (404 for the rest).
    return organisation.is_active or (user is not None and user.is_authenticated and role_at(user, organisation) is not None)


@rule("organisations.view_private_details")
def _view_private_details(user, organisation: Organisation) -> bool:
    return role_at(user, organisation) is not None


@rule("organisations.change_organisation")
def _change_organisation(user, organisation: Organisation) -> bool:
    return role_at(user, organisation) in EDITING_ROLES


@rule("organisations.apply_for_membership")
def _apply_for_membership(user, organisation: Organisation) -> bool:
    return role_at(user, organisation) in EDITING_ROLES


@rule("organisations.view_history")
def _view_history(user, organisation: Organisation) -> bool:
    # Who changed what, and the old values, are for the people who keep the record.
    return role_at(user, organisation) in EDITING_ROLES
