from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = _("Directory and members")

    def ready(self) -> None:
        from notifications.tasks import register_sweep_step

        from . import services

        # Lapse memberships and plan renewal reminders and confirmation requests in every reminder sweep.
        register_sweep_step(services.plan_reminders)
