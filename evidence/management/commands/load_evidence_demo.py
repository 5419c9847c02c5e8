from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from evidence.demo import load_evidence_demo


class Command(BaseCommand):
    help = _(
        "Add a demo joint project, with returns and a consented case study, to the demo borough (run "
        "`load_demo_data` first). Safe to run again. Refuses to run with DEBUG off unless given --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help=_("Load even with DEBUG off (a test or staging server)."))

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(_("Refusing to load demo data with DEBUG off; pass --force on a test or staging server."))
        try:
            report = load_evidence_demo()
        except LookupError as error:
            raise CommandError(str(error)) from error
        if report.created:
            self.stdout.write(self.style.SUCCESS(_("Demo joint project created with %(count)d returns.") % {"count": report.returns}))
        else:
            self.stdout.write(_("The demo joint project is already there."))
