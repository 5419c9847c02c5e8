from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Sector evidence and joint projects")

    def ready(self) -> None:
        from . import permissions  # noqa: F401  (registers the evidence.* rules)
