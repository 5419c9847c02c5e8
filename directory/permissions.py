"""Who may do what with services: a provider's officers (and editors) keep its services; nobody
else's. Built on organisations.permissions.role_at."""

from accounts.permissions import public, rule
from organisations.models import Organisation
from organisations.permissions import EDITING_ROLES, role_at


def _provider_of(obj) -> Organisation:
    """Rules below take a service or, for creating one, the provider itself."""
    return obj if isinstance(obj, Organisation) else obj.organisation


@rule("directory.change_service")
def _change_service(user, obj) -> bool:
    return role_at(user, _provider_of(obj)) in EDITING_ROLES


@rule("directory.view_service")
@public
def _view_service(user, service) -> bool:
    # A closed service, or one of a closed organisation, is shown only to its provider's people; a
    # harvested one hidden by an admin or withdrawn by its source only to network admins.
    if service.status != "closed" and service.organisation.is_active and not (service.is_hidden or service.is_withdrawn):
        return True
    return user is not None and user.is_authenticated and role_at(user, service.organisation) is not None


@rule("directory.view_service_history")
def _view_service_history(user, service) -> bool:
    return role_at(user, _provider_of(service)) in EDITING_ROLES
