from django.utils.translation import gettext as _

from core.management.demo_command import DemoLoaderCommand
from quality.demo import load_quality_demo


class Command(DemoLoaderCommand):
    help = _(
        "Add quality demo data to the demo borough (run load_demo_data first): badges, an assessment waiting for "
        "review, support materials and a health check. Safe to run again. Refuses to run with DEBUG off."
    )

    def load(self):
        return load_quality_demo()

    def report(self, report) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                _("Quality demo data: %(badges)d badges, %(assessments)d assessment waiting for review, %(materials)d materials, %(health_checks)d health check added.")
                % report.__dict__
            )
        )
