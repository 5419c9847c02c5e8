"""Reads for accounts."""


from django.conf import settings

from .models import User


def username_for_email(email: str) -> str | None:
    """The username of the account with this email address, for logging in by email."""
    return User.objects.filter(email__iexact=email.strip()).values_list("username", flat=True).first()


def username_taken(username: str) -> bool:
    return User.objects.filter(username__iexact=username.strip()).exists()


def network_admin_emails() -> list[str]:
    """Who hears about the network's business: the configured addresses and every active network admin."""
    configured = list(settings.PORTAL_NETWORK_ADMIN_EMAILS)
    users = User.objects.filter(role=User.Role.NETWORK_ADMIN, is_active=True).exclude(email="")
    return sorted(set(configured) | set(users.values_list("email", flat=True)))
