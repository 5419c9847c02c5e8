"""manage.py import_companies_house PATH [PATH...]: the Companies House bulk file import (CICs and
companies limited by guarantee), run here and now (the admin's page runs the same as a background task)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from organisations import companies_house
from organisations.models import CharityRegisterImport, RegisterFinding


class Command(BaseCommand):
    help = (
        "Import the Companies House free bulk file of live companies (BasicCompanyDataAsOneFile-<date>.zip, "
        "the .csv in it, or its parts), keeping community interest companies and companies limited by guarantee."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, paths, **options):
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path} is not a file.")
        register_import = CharityRegisterImport.objects.create(
            register=CharityRegisterImport.Register.COMPANIES,
            files=", ".join(path.name for path in paths)[:500],
            status=CharityRegisterImport.Status.CHECKING,
        )
        companies_house.run_import(register_import=register_import, paths=paths, by=None)
        if register_import.status != CharityRegisterImport.Status.READY:
            raise CommandError(f"Nothing was imported. {register_import.error}")
        counts = register_import.counts
        self.stdout.write(
            f"Read {counts['rows']:,} companies: {counts['companies']:,} CICs and companies limited by guarantee, "
            f"{counts['borough']:,} in the borough, {counts['matched']:,} matched to organisations by number."
        )
        for kind, label in RegisterFinding.Kind.choices:
            self.stdout.write(f"  {label}: {counts['findings'].get(kind, 0):,}")
        self.stdout.write(self.style.SUCCESS(f"Import {register_import.pk} is ready for review in the admin."))
