import time

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from core.management.demo_command import DemoLoaderCommand
from directory import demo
from organisations.demo import DEMO_ACCOUNTS


class Command(DemoLoaderCommand):
    help = _(
        "Load a demo borough (about 500 VCOs, 35 providers, networks, memberships and one user per role) for "
        "local development. Safe to run again: what exists is left alone. Refuses to run with DEBUG off."
    )

    def load(self):
        started = time.monotonic()
        report = demo.load_demo_data()
        self.seconds = time.monotonic() - started
        return report

    def report(self, report) -> None:
        self.stdout.write(self.style.SUCCESS(_("Demo data ready in %(seconds).1f s.") % {"seconds": self.seconds}))
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
        width = max(len(account.username) + len(account.password) for account in DEMO_ACCOUNTS) + 5
        for account in DEMO_ACCOUNTS:
            credentials = f"{account.username} / {account.password}"
            self.stdout.write(f"  {credentials:<{width}} {account.description}")
        self.stdout.write(_("Admin (for the network admin): %(url)s") % {"url": f"{site}{reverse('admin:index')}"})
        self.stdout.write(_("A password changed since the first load stays changed: demo users are never overwritten."))
