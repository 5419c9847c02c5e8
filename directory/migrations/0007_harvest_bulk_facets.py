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

SET_FACETS = f"""
CREATE OR REPLACE FUNCTION directory_service_set_facets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {DEFERRED} AND NEW.facets IS NOT NULL THEN
        RETURN NEW;
    END IF;
    NEW.facets := directory_service_facets(
        NEW.id, NEW.organisation_id, NEW.status, NEW.is_free, NEW.serves_stage_1, NEW.serves_stage_2, NEW.serves_stage_3
    );
    IF NEW.source_id IS NULL THEN
        NEW.facets := array_prepend(-4, NEW.facets);
    ELSIF NEW.is_hidden OR NEW.is_withdrawn THEN
        NEW.facets := array_remove(array_remove(NEW.facets, -1), -2);
    END IF;
    RETURN NEW;
END
$$;
"""

REFRESH_BY_SERVICE_ID = f"""
CREATE OR REPLACE FUNCTION directory_service_refresh_facets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {DEFERRED} THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE directory_service SET facets = NULL WHERE id IN (SELECT service_id FROM new_rows);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE directory_service SET facets = NULL WHERE id IN (SELECT service_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$$;
"""

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
