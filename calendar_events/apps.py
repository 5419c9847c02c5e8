from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarEventsConfig(AppConfig):
    name = "calendar_events"
    verbose_name = _("Calendar and notice board")

    def ready(self) -> None:
        from organisations.hooks import register_organisation_section

        from . import permissions  # noqa: F401  registers the app's permission rules

        # The organisation's upcoming events and its notices, on its page in the directory.
        register_organisation_section("calendar_events/includes/organisation_events.html")
