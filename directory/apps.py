from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = _("Directory of services")

    def ready(self) -> None:
        from organisations.hooks import register_organisation_section

        from . import permissions  # noqa: F401  (registers the service rules)

        # A provider's services, first in the main column of its organisation page.
        register_organisation_section("directory/includes/organisation_services.html")
