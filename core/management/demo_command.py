"""What every app's demo loader command shares (load_demo_data, load_referral_demo, load_quality_demo,
load_calendar_demo, load_evidence_demo)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class DemoLoaderCommand(BaseCommand):
    """Refuses with DEBUG off unless given --force (the demo accounts' passwords are published), turns a
    missing prerequisite (a LookupError, such as the demo borough not loaded yet) into a command error,
    and has the subclass say what `load()` made in `report()`."""

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help=_("Load even with DEBUG off. The demo accounts' passwords are public: never use this in production."),
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                _(
                    "Refusing to load demo data with DEBUG off (when DEBUG is off this looks like production, and the "
                    "demo accounts have published passwords). For local development set DJANGO_DEBUG=1; to load "
                    "anyway (a test or staging server nobody else can reach), pass --force."
                )
            )
        try:
            report = self.load()
        except LookupError as error:
            raise CommandError(str(error)) from error
        self.report(report)

    def load(self):
        raise NotImplementedError

    def report(self, report) -> None:
        raise NotImplementedError
