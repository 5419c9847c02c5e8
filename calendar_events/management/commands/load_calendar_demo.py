from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from calendar_events.demo import load_calendar_demo


class Command(BaseCommand):
    help = _(
        "Add a year of calendar events, bookings and attendance, the months ahead, and notices to the demo borough "
        "(run `load_demo_data` first). Safe to run again. Refuses to run with DEBUG off unless given --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help=_("Load even with DEBUG off (a test or staging server).")
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                _("Refusing to load demo data with DEBUG off; pass --force on a test or staging server.")
            )
        try:
            report = load_calendar_demo()
        except LookupError as error:
            raise CommandError(str(error)) from error
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
