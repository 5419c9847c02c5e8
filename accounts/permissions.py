"""The one place that decides object-level permissions.

Every view, form and API call asks ``can(user, action, obj)`` (or ``require``, which raises
PermissionDenied for a 403). Apps add the rules for their own records with ``@rule("action")``, in
their own ``permissions.py``, imported from their AppConfig.ready(). An unknown action is refused.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied

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


@rule("accounts.manage_portal")
def _manage_portal(user, obj) -> bool:
    # The admin pages of every app (NetworkAdminAccess): only network admins, who pass every rule.
    return False
