"""manage.py import_360giving PATH: a funder's 360Giving file (a JSON data package, or the standard's
CSV or XLSX spreadsheet) imported here and now, as the grants the sector received (the admin's page
runs the same as a background task)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evidence import grants_import
from evidence.models import GrantImport


class Command(BaseCommand):
    help = (
        "Import the grants in a 360Giving file (a .json data package, or the standard's .csv or .xlsx spreadsheet): "
        "all of them, or, if any is wrong, none, with every problem listed by row and field."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        grant_import = GrantImport.objects.create(files=path.name[:500], status=GrantImport.Status.CHECKING)
        grants_import.run_import(grant_import, paths=[path])
        if grant_import.status != GrantImport.Status.READY:
            for problem in grant_import.problems:
                self.stderr.write(f"  {problem}")
            total = grant_import.counts.get("problems", 0)
            if total > len(grant_import.problems):
                self.stderr.write(f"  … and {total - len(grant_import.problems):,} more.")
            raise CommandError(f"Nothing was imported. {grant_import.error}")
        counts = grant_import.counts
        self.stdout.write(
            f"Imported {counts['grants']:,} grants ({counts['created']:,} new, {counts['updated']:,} updated): "
            f"{counts['matched']:,} to organisations in the database, {counts['not_in_database']:,} to organisations "
            f"not in the database, {counts['to_individuals']:,} to individuals; {counts['wards']:,} in the borough's wards."
        )
