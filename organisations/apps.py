from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = _("Organisations and members")

    def ready(self) -> None:
        from notifications.tasks import register_sweep_step

        from . import permissions, services  # noqa: F401  (permissions registers its rules)

        # Lapse memberships and plan renewal reminders and confirmation requests in every reminder sweep.
        register_sweep_step(services.plan_reminders)
