from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and accounts")

    def ready(self) -> None:
        from . import permissions  # noqa: F401  (registers the portal-wide rules)
