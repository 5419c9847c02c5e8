"""Harvested services in the facets (PostgreSQL; see migration 0004 and directory/facets.py).

Our own services get the code -4 (OWN): what our Open Referral API publishes unless asked for
harvested ones too. A harvested service hidden by an admin or withdrawn by its source loses -1
(PROVIDER_OPEN) and -2 (LISTED), so the directory's listing and the API leave it out with the
index they already use, and no query gains a condition. Only the row trigger's function changes:
any write to a service recomputes its facets as before.

Every service's facets are then worked out again set-wise, in one statement (FACETS_OF: the row
trigger's result, each code table read once for all services, rather than the function run for each
service in turn), with the row trigger off for that statement.
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

TERM_TABLES = ("functions", "needs", "segments", "communities", "wards", "languages")

# The facets directory_service_set_facets gives each service chosen by {where} (a condition on
# directory_service), in one UPDATE. Migration 0007 makes a function of it for bulk writes.
FACETS_OF = (
    """
WITH chosen AS (
    SELECT id, organisation_id, status, is_free, serves_stage_1, serves_stage_2, serves_stage_3, source_id, is_hidden, is_withdrawn
    FROM directory_service WHERE {where}
), codes AS (
    """
    + "\n    UNION ".join(
        f"SELECT service_id AS id, taxonomyterm_id::integer AS code FROM directory_service_{name} WHERE service_id IN (SELECT id FROM chosen)"
        for name in TERM_TABLES
    )
    + """
    UNION SELECT link.service_id, location.ward_id::integer
        FROM directory_serviceatlocation link JOIN directory_location location ON location.id = link.location_id
        WHERE link.service_id IN (SELECT id FROM chosen) AND location.ward_id IS NOT NULL
    UNION SELECT service_id, -20 - array_position(ARRAY['MO','TU','WE','TH','FR','SA','SU'], weekday::text)
        FROM directory_schedule WHERE service_id IN (SELECT id FROM chosen)
    UNION SELECT chosen.id, -1 FROM chosen JOIN organisations_organisation provider ON provider.id = chosen.organisation_id
        WHERE provider.is_active
    UNION SELECT chosen.id, -2 FROM chosen JOIN organisations_organisation provider ON provider.id = chosen.organisation_id
        WHERE provider.is_active AND chosen.status <> 'closed'
    UNION SELECT id, -3 FROM chosen WHERE is_free
    UNION SELECT id, -11 FROM chosen WHERE serves_stage_1
    UNION SELECT id, -12 FROM chosen WHERE serves_stage_2
    UNION SELECT id, -13 FROM chosen WHERE serves_stage_3
), gathered AS (
    SELECT id, array_agg(code ORDER BY code) AS facets FROM codes GROUP BY id
)
UPDATE directory_service service SET facets = CASE
        WHEN chosen.source_id IS NULL THEN array_prepend(-4, coalesce(gathered.facets, '{{}}'))
        WHEN chosen.is_hidden OR chosen.is_withdrawn THEN array_remove(array_remove(coalesce(gathered.facets, '{{}}'), -1), -2)
        ELSE coalesce(gathered.facets, '{{}}')
    END
    FROM chosen LEFT JOIN gathered ON gathered.id = chosen.id
    WHERE service.id = chosen.id
"""
)


def refresh_every_service(schema_editor) -> None:
    schema_editor.execute("ALTER TABLE directory_service DISABLE TRIGGER directory_service_facets")
    schema_editor.execute(FACETS_OF.format(where="true"))
    schema_editor.execute("ALTER TABLE directory_service ENABLE TRIGGER directory_service_facets")


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
    refresh_every_service(schema_editor)


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
