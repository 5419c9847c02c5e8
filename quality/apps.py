from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = _("Quality standards and support materials")

    def ready(self):
        from organisations.hooks import register_accreditation_source, register_organisation_section

        from . import permissions  # noqa: F401  (registers the app's permission rules)
        from .selectors import accreditation_lines

        # Verified providers' current badges appear in the directory and its ORUK accreditations.
        register_accreditation_source(accreditation_lines)
        register_organisation_section("quality/includes/organisation_badge.html", column="aside")
