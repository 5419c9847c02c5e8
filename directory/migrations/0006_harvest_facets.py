"""Harvested services in the facets (PostgreSQL; see migration 0004 and directory/facets.py).

Our own services get the code -4 (OWN): what our Open Referral API publishes unless asked for
harvested ones too. A harvested service hidden by an admin or withdrawn by its source loses -1
(PROVIDER_OPEN) and -2 (LISTED), so the directory's listing and the API leave it out with the
index they already use, and no query gains a condition. Only the row trigger's function changes:
any write to a service recomputes its facets as before.
"""

from django.db import migrations

SET_FACETS = """
CREATE OR REPLACE FUNCTION directory_service_set_facets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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

# Migration 0004's function, put back on the way down.
PREVIOUS_SET_FACETS = """
CREATE OR REPLACE FUNCTION directory_service_set_facets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.facets := directory_service_facets(
        NEW.id, NEW.organisation_id, NEW.status, NEW.is_free, NEW.serves_stage_1, NEW.serves_stage_2, NEW.serves_stage_3
    );
    RETURN NEW;
END
$$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(SET_FACETS)
    schema_editor.execute("UPDATE directory_service SET facets = NULL")


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(PREVIOUS_SET_FACETS)
    schema_editor.execute("UPDATE directory_service SET facets = NULL")


class Migration(migrations.Migration):
    dependencies = [("directory", "0005_harvest_sources")]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
