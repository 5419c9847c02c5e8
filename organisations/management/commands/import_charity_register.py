"""manage.py import_charity_register PATH [PATH...]: the Charity Commission register import, run here
and now (the admin's page runs the same as a background task)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from organisations import charity_register
from organisations.models import CharityRegisterImport


class Command(BaseCommand):
    help = (
        "Import the Charity Commission register extract: the publicextract.<table>.zip files (or .txt) of the "
        "charity, charity_area_of_operation and charity_classification tables, or a folder holding them."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, paths, **options):
        for path in paths:
            if not path.exists():
                raise CommandError(f"{path} does not exist.")
        register_import = CharityRegisterImport.objects.create(
            files=", ".join(path.name for path in paths)[:500], status=CharityRegisterImport.Status.CHECKING
        )
        charity_register.run_import(register_import=register_import, paths=paths, by=None)
        if register_import.status != CharityRegisterImport.Status.READY:
            raise CommandError(f"Nothing was imported. {register_import.error}")
        counts = register_import.counts
        self.stdout.write(
            f"Read {counts['charities']:,} charities ({', '.join(f'{table}: {rows:,} rows' for table, rows in counts['rows'].items())}); "
            f"{counts['borough']:,} in the borough, {counts['matched']:,} matched to organisations by number."
        )
        for kind, label in charity_register.RegisterFinding.Kind.choices:
            self.stdout.write(f"  {label}: {counts['findings'].get(kind, 0):,}")
        self.stdout.write(self.style.SUCCESS(f"Import {register_import.pk} is ready for review in the admin."))
