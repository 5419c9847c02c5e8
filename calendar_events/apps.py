from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarEventsConfig(AppConfig):
    name = "calendar_events"
    verbose_name = _("Calendar and notice board")
