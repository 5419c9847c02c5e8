from django.utils.translation import gettext as _

from core.management.demo_command import DemoLoaderCommand
from evidence.demo import load_evidence_demo


class Command(DemoLoaderCommand):
    help = _(
        "Add a demo joint project, with returns and a consented case study, to the demo borough (run "
        "`load_demo_data` first). Safe to run again. Refuses to run with DEBUG off unless given --force."
    )

    def load(self):
        return load_evidence_demo()

    def report(self, report) -> None:
        if report.created:
            self.stdout.write(self.style.SUCCESS(_("Demo joint project created with %(count)d returns.") % {"count": report.returns}))
        else:
            self.stdout.write(_("The demo joint project is already there."))
        self.stdout.write(_("Demo grants added: %(count)d.") % {"count": report.grants})
