"""Facets for bulk writes (PostgreSQL; see migrations 0004 and 0006 and directory/facets.py).

A harvest writes a thousand services at a time with their terms, times and places, a statement per
table; each of those statements made the triggers work out the facets of every service it touched
again. Within a transaction that sets directory.facets_deferred (directory.facets.deferred) they now
leave services alone, and the writer calls directory_service_refresh_facets_of(ids) once at the end:
migration 0006's set-wise statement for those services. Outside it, nothing changes.
"""

import importlib

from django.db import migrations

FACETS_OF = importlib.import_module("directory.migrations.0006_harvest_facets").FACETS_OF
PREVIOUS_SET_FACETS = importlib.import_module("directory.migrations.0006_harvest_facets").SET_FACETS
PREVIOUS_REFRESH_BY_SERVICE_ID = importlib.import_module("directory.migrations.0004_service_facets").REFRESH_BY_SERVICE_ID

DEFERRED = "current_setting('directory.facets_deferred', true) = 'on'"



def _first(guard: str, function: str) -> str:
    """`function` (a plpgsql trigger function's definition) with `guard` first in its body."""
    return function.replace("BEGIN\n", f"BEGIN\n    IF {guard} THEN\n        RETURN {{result}};\n    END IF;\n", 1)


# Deferred, the row trigger keeps the facets it is given (unless none: a new row, or a refresh asked for
# by setting them to NULL), and the statement triggers on term, time and place tables do nothing.
SET_FACETS = _first(f"{DEFERRED} AND NEW.facets IS NOT NULL", PREVIOUS_SET_FACETS).replace("{result}", "NEW")
REFRESH_BY_SERVICE_ID = _first(DEFERRED, PREVIOUS_REFRESH_BY_SERVICE_ID).replace("{result}", "NULL")

REFRESH_OF = (
    "CREATE OR REPLACE FUNCTION directory_service_refresh_facets_of(ids bigint[]) RETURNS void LANGUAGE sql AS $$"
    + FACETS_OF.format(where="id = ANY(ids)")
    + "$$;"
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in (SET_FACETS, REFRESH_BY_SERVICE_ID, REFRESH_OF):
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP FUNCTION IF EXISTS directory_service_refresh_facets_of(bigint[])")
    schema_editor.execute(PREVIOUS_SET_FACETS)
    schema_editor.execute(PREVIOUS_REFRESH_BY_SERVICE_ID)


class Migration(migrations.Migration):
    dependencies = [("directory", "0006_harvest_facets")]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
