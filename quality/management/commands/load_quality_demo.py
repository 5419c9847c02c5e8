from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from quality.demo import load_quality_demo


class Command(BaseCommand):
    help = _(
        "Add quality demo data to the demo borough (run load_demo_data first): badges, an assessment waiting for "
        "review, support materials and a health check. Safe to run again. Refuses to run with DEBUG off."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help=_("Load even with DEBUG off. Never in production."))

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(_("Refusing to load demo data with DEBUG off. Set DJANGO_DEBUG=1, or pass --force on a private test server."))
        try:
            report = load_quality_demo()
        except LookupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                _("Quality demo data: %(badges)d badges, %(assessments)d assessment waiting for review, %(materials)d materials, %(health_checks)d health check added.")
                % report.__dict__
            )
        )
