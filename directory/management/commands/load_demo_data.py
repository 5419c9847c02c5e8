import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.translation import gettext as _

from directory import demo


class Command(BaseCommand):
    help = _(
        "Load a demo borough (about 500 VCOs, 35 providers, networks, memberships and one user per role) for "
        "local development. Safe to run again: what exists is left alone. Refuses to run with DEBUG off."
    )

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
                    "Refusing to load demo data: DEBUG is off, so this looks like production, and the demo accounts "
                    "have published passwords. For local development set DJANGO_DEBUG=1; to load anyway "
                    "(a test or staging server nobody else can reach), pass --force."
                )
            )
        started = time.monotonic()
        try:
            report = demo.load_demo_data()
        except LookupError as error:
            raise CommandError(str(error)) from error
        seconds = time.monotonic() - started

        self.stdout.write(self.style.SUCCESS(_("Demo data ready in %(seconds).1f s.") % {"seconds": seconds}))
        for what in report.created:
            self.stdout.write(
                "  "
                + _("%(what)s: %(created)d created, %(existing)d already there")
                % {"what": what, "created": report.created[what], "existing": report.existing[what]}
            )
        for note in report.notes:
            self.stdout.write(self.style.WARNING("  " + note))

        site = settings.SITE_URL
        self.stdout.write("")
        self.stdout.write(
            self.style.MIGRATE_HEADING(
                _("Log in at %(url)s with a demo account (local use only, never in production):")
                % {"url": f"{site}{reverse('login')}"}
            )
        )
        width = max(len(account.username) + len(account.password) for account in demo.DEMO_ACCOUNTS) + 5
        for account in demo.DEMO_ACCOUNTS:
            credentials = f"{account.username} / {account.password}"
            self.stdout.write(f"  {credentials:<{width}} {account.description}")
        self.stdout.write(_("Admin (for the network admin): %(url)s") % {"url": f"{site}{reverse('admin:index')}"})
        self.stdout.write(_("A password changed since the first load stays changed: demo users are never overwritten."))
