from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Sector evidence and joint projects")

    def ready(self) -> None:
        from organisations.hooks import register_organisation_section

        from . import permissions  # noqa: F401  (registers the evidence.* rules)

        # The grants an organisation received, after its services and events.
        register_organisation_section("evidence/includes/organisation_grants.html")
