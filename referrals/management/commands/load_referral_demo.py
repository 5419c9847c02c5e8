from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from referrals.demo import load_referral_demo


class Command(BaseCommand):
    help = _(
        "Add demo routing rules and a year of referrals, worked through the workflow, to the demo borough (run "
        "`load_demo_data` first). Safe to run again: what exists is left alone. Refuses to run with DEBUG off "
        "unless given --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help=_("Load even with DEBUG off (a test or staging server).")
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                _("Refusing to load demo routing rules with DEBUG off; pass --force on a test or staging server.")
            )
        try:
            report = load_referral_demo()
        except LookupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                _("Routing rules: %(created)d created, %(existing)d already there.")
                % {"created": report.rules_created, "existing": report.rules_existing}
            )
        )
        if report.referrals_created:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Referrals: %(created)d created over the past year (%(open)d still open, %(feedback)d with "
                        "feedback), 0 already there."
                    )
                    % {"created": report.referrals_created, "open": report.referrals_open, "feedback": report.feedback}
                )
            )
        else:
            self.stdout.write(
                _("Referrals: 0 created, %(existing)d already there.") % {"existing": report.referrals_existing}
            )
