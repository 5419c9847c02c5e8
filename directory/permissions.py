"""The one place that decides object-level permissions.

Every view, form and API call asks ``can(user, action, obj)`` (or ``require``, which raises
PermissionDenied for a 403). Apps add the rules for their own records with ``@rule("action")``, in
their own ``permissions.py``, imported from their AppConfig.ready(). An unknown action is refused.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied

from .models import Affiliation, Organisation

Rule = Callable[[Any, Any], bool]
_RULES: dict[str, Rule] = {}


def rule(action: str) -> Callable[[Rule], Rule]:
    def register(check: Rule) -> Rule:
        if action in _RULES:
            raise ValueError(f"A permission rule for {action!r} is already registered.")
        _RULES[action] = check
        return check

    return register


def can(user, action: str, obj: Any = None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        check = _RULES.get(action)
        return bool(check and getattr(check, "allows_anonymous", False) and check(user, obj))
    if action not in _RULES:
        raise KeyError(f"No permission rule for {action!r}.")
    if user.is_network_admin:
        return True
    return bool(_RULES[action](user, obj))


def require(user, action: str, obj: Any = None) -> None:
    if not can(user, action, obj):
        raise PermissionDenied


def public(check: Rule) -> Rule:
    """Mark a rule as one that anonymous visitors may pass too."""
    check.allows_anonymous = True
    return check


def role_at(user, organisation: Organisation) -> str | None:
    """The user's role at an organisation, or None."""
    if not user.is_authenticated:
        return None
    return Affiliation.objects.filter(user=user, organisation=organisation).values_list("role", flat=True).first()


EDITING_ROLES = {Affiliation.Role.EDITOR, Affiliation.Role.OFFICER}


@rule("directory.view_organisation")
@public
def _view_organisation(user, organisation: Organisation) -> bool:
    # A closed organisation's page exists only for its own people and admins (404 for the rest).
    return organisation.is_active or (user is not None and user.is_authenticated and role_at(user, organisation) is not None)


@rule("directory.view_private_details")
def _view_private_details(user, organisation: Organisation) -> bool:
    return role_at(user, organisation) is not None


@rule("directory.change_organisation")
def _change_organisation(user, organisation: Organisation) -> bool:
    return role_at(user, organisation) in EDITING_ROLES


@rule("directory.apply_for_membership")
def _apply_for_membership(user, organisation: Organisation) -> bool:
    return role_at(user, organisation) in EDITING_ROLES


@rule("directory.manage_members")
def _manage_members(user, obj) -> bool:
    # Only network admins, who pass every rule above this line.
    return False


@rule("directory.view_history")
def _view_history(user, organisation: Organisation) -> bool:
    # Who changed what, and the old values, are for the people who keep the record.
    return role_at(user, organisation) in EDITING_ROLES


# Services: a provider's officers (and editors) keep its services; nobody else's. ------------------


def _provider_of(obj) -> Organisation:
    """Rules below take a service or, for creating one, the provider itself."""
    return obj if isinstance(obj, Organisation) else obj.organisation


@rule("directory.change_service")
def _change_service(user, obj) -> bool:
    return role_at(user, _provider_of(obj)) in EDITING_ROLES


@rule("directory.view_service")
@public
def _view_service(user, service) -> bool:
    # A closed service, or one of a closed organisation, is shown only to its provider's people.
    if service.status != "closed" and service.organisation.is_active:
        return True
    return user is not None and user.is_authenticated and role_at(user, service.organisation) is not None


@rule("directory.view_service_history")
def _view_service_history(user, service) -> bool:
    return role_at(user, _provider_of(service)) in EDITING_ROLES
