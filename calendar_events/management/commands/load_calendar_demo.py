from django.utils.translation import gettext as _

from calendar_events.demo import load_calendar_demo
from core.management.demo_command import DemoLoaderCommand


class Command(DemoLoaderCommand):
    help = _(
        "Add a year of calendar events, bookings and attendance, the months ahead, and notices to the demo borough "
        "(run `load_demo_data` first). Safe to run again. Refuses to run with DEBUG off unless given --force."
    )

    def load(self):
        return load_calendar_demo()

    def report(self, report) -> None:
        if not report.events_created and not report.notices_created:
            self.stdout.write(
                _("Calendar: 0 events created, %(events)d already there; 0 notices created, %(notices)d already there.")
                % {"events": report.events_existing, "notices": report.notices_existing}
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Calendar: %(events)d events created (%(pending)d waiting for moderation), %(existing)d "
                    "already there; %(booked)d places booked, %(waiting)d on a waiting list, %(cancelled)d "
                    "cancelled; %(attended)d people came to %(held)d dates held; %(notices)d notices created."
                )
                % {
                    "events": report.events_created,
                    "pending": report.awaiting_moderation,
                    "existing": report.events_existing,
                    "booked": report.bookings["booked"],
                    "waiting": report.bookings["waiting"],
                    "cancelled": report.bookings["cancelled"],
                    "attended": report.attended,
                    "held": report.dates_held,
                    "notices": report.notices_created,
                }
            )
        )
