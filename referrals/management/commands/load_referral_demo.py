from django.utils.translation import gettext as _

from core.management.demo_command import DemoLoaderCommand
from referrals.demo import load_referral_demo


class Command(DemoLoaderCommand):
    help = _(
        "Add demo routing rules and a year of referrals, worked through the workflow, to the demo borough (run "
        "`load_demo_data` first). Safe to run again: what exists is left alone. Refuses to run with DEBUG off "
        "unless given --force."
    )

    def load(self):
        return load_referral_demo()

    def report(self, report) -> None:
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
