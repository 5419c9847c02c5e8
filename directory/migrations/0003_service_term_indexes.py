"""Filtering the directory by a term ("services meeting the need payroll") reads a through table by
term. Django indexes the term column alone; an index on (term, service) answers from the index without
touching the table, which keeps filtered searches fast at tens of thousands of services."""

from django.db import migrations

RELATIONS = ("functions", "needs", "segments", "communities", "wards", "languages")


def _sql(template: str) -> list[str]:
    return [template.format(relation=relation) for relation in RELATIONS]


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_service_search_vector")]

    operations = [
        migrations.RunSQL(
            _sql(
                "CREATE INDEX IF NOT EXISTS directory_service_{relation}_term_service "
                "ON directory_service_{relation} (taxonomyterm_id, service_id)"
            ),
            reverse_sql=_sql("DROP INDEX IF EXISTS directory_service_{relation}_term_service"),
        )
    ]
