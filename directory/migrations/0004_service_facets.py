"""Filter facets of a service on PostgreSQL: an integer array column with a GIN index, kept by the
database itself through triggers, and one GIN index over the search words and the facets, so that a
search with filters ("funding", open on Tuesdays, free) is one index scan instead of reading every
service that mentions funding.

The array holds the ids of the service's terms (functions, needs, segments, communities, languages,
the wards it lists and the wards of its locations) and negative codes for its other filters; the
codes are spelt out in directory/facets.py, which is how Django reads the column. Any write to a
service, its term lists, its regular times, its places, a place's ward or a provider's open/closed
state refreshes the services concerned, whatever wrote it (forms, admin, imports, bulk loads).
SQLite has none of this: directory/search.py filters there with subqueries, and this migration does
nothing.
"""

from django.db import migrations

TERM_TABLES = ("functions", "needs", "segments", "communities", "wards", "languages")
# Tables with a service_id column whose rows change a service's facets.
SERVICE_ROW_TABLES = [f"directory_service_{name}" for name in TERM_TABLES] + [
    "directory_schedule",
    "directory_serviceatlocation",
]

FACETS_FUNCTION = (
    """
CREATE OR REPLACE FUNCTION directory_service_facets(
    service bigint, provider bigint, status text, is_free boolean,
    stage_1 boolean, stage_2 boolean, stage_3 boolean
) RETURNS integer[] LANGUAGE sql STABLE AS $$
    WITH open_provider AS (
        SELECT EXISTS (SELECT 1 FROM organisations_organisation WHERE id = provider AND is_active) AS yes
    )
    SELECT ARRAY(
        """
    + "\n        UNION ".join(
        f"SELECT taxonomyterm_id::integer FROM directory_service_{name} WHERE service_id = service" for name in TERM_TABLES
    )
    + """
        UNION SELECT location.ward_id::integer
            FROM directory_serviceatlocation link JOIN directory_location location ON location.id = link.location_id
            WHERE link.service_id = service AND location.ward_id IS NOT NULL
        UNION SELECT -20 - array_position(ARRAY['MO','TU','WE','TH','FR','SA','SU'], weekday::text)
            FROM directory_schedule WHERE service_id = service
        UNION SELECT -1 FROM open_provider WHERE yes
        UNION SELECT -2 FROM open_provider WHERE yes AND status <> 'closed'
        UNION SELECT -3 WHERE is_free
        UNION SELECT -11 WHERE stage_1
        UNION SELECT -12 WHERE stage_2
        UNION SELECT -13 WHERE stage_3
        ORDER BY 1
    )
$$;
"""
)

SET_FACETS = """
CREATE OR REPLACE FUNCTION directory_service_set_facets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.facets := directory_service_facets(
        NEW.id, NEW.organisation_id, NEW.status, NEW.is_free, NEW.serves_stage_1, NEW.serves_stage_2, NEW.serves_stage_3
    );
    RETURN NEW;
END
$$;
"""

# Statement triggers: one UPDATE for all the services a statement touched (the row trigger above
# recomputes each one). Transition tables are always called new_rows and old_rows.
REFRESH_BY_SERVICE_ID = """
CREATE OR REPLACE FUNCTION directory_service_refresh_facets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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

REFRESH_BY_LOCATION = """
CREATE OR REPLACE FUNCTION directory_location_refresh_facets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_service SET facets = NULL WHERE id IN (
        SELECT link.service_id FROM directory_serviceatlocation link
        JOIN new_rows ON new_rows.id = link.location_id JOIN old_rows ON old_rows.id = new_rows.id
        WHERE new_rows.ward_id IS DISTINCT FROM old_rows.ward_id
    );
    RETURN NULL;
END
$$;
"""

REFRESH_BY_ORGANISATION = """
CREATE OR REPLACE FUNCTION directory_organisation_refresh_facets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_service SET facets = NULL WHERE organisation_id IN (
        SELECT new_rows.id FROM new_rows JOIN old_rows ON old_rows.id = new_rows.id
        WHERE new_rows.is_active IS DISTINCT FROM old_rows.is_active
    );
    RETURN NULL;
END
$$;
"""


def _statement_triggers(table: str, function: str, events: tuple[str, ...]) -> list[str]:
    transition = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}
    return [
        f"CREATE TRIGGER {table}_facets_{event.lower()} AFTER {event} ON {table} "
        f"REFERENCING {transition[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        for event in events
    ]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    statements = [
        "ALTER TABLE directory_service ADD COLUMN IF NOT EXISTS facets integer[] NOT NULL DEFAULT '{}'",
        FACETS_FUNCTION,
        SET_FACETS,
        REFRESH_BY_SERVICE_ID,
        REFRESH_BY_LOCATION,
        REFRESH_BY_ORGANISATION,
        "CREATE TRIGGER directory_service_facets BEFORE INSERT OR UPDATE ON directory_service "
        "FOR EACH ROW EXECUTE FUNCTION directory_service_set_facets()",
    ]
    for table in SERVICE_ROW_TABLES:
        statements += _statement_triggers(table, "directory_service_refresh_facets", ("INSERT", "UPDATE", "DELETE"))
    statements += _statement_triggers("directory_location", "directory_location_refresh_facets", ("UPDATE",))
    statements += _statement_triggers("organisations_organisation", "directory_organisation_refresh_facets", ("UPDATE",))
    statements += [
        "UPDATE directory_service SET facets = NULL",
        # One GIN index over the words and the facets: a search with filters is one index scan, and
        # either column alone still uses it. It replaces migration 0002's index on the words alone.
        "CREATE INDEX IF NOT EXISTS directory_service_search_gin ON directory_service USING gin (search_vector, facets)",
        "DROP INDEX IF EXISTS directory_service_search_vector_gin",
        # Pages of services by name: counted and listed from the index alone (name is included because
        # the planner reads an index-only scan's columns, not lower(name), from the index).
        "CREATE INDEX IF NOT EXISTS directory_service_name_order ON directory_service (lower(name), id) INCLUDE (facets, name)",
    ]
    for statement in statements:
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in [*SERVICE_ROW_TABLES, "directory_location", "organisations_organisation"]:
        for event in ("insert", "update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_facets_{event} ON {table}")
    schema_editor.execute("DROP TRIGGER IF EXISTS directory_service_facets ON directory_service")
    for function in (
        "directory_service_set_facets()",
        "directory_service_refresh_facets()",
        "directory_location_refresh_facets()",
        "directory_organisation_refresh_facets()",
        "directory_service_facets(bigint, bigint, text, boolean, boolean, boolean, boolean)",
    ):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}")
    schema_editor.execute("DROP INDEX IF EXISTS directory_service_name_order")
    schema_editor.execute("DROP INDEX IF EXISTS directory_service_search_gin")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS directory_service_search_vector_gin ON directory_service USING gin (search_vector)"
    )
    schema_editor.execute("ALTER TABLE directory_service DROP COLUMN IF EXISTS facets")


class Migration(migrations.Migration):
    dependencies = [("directory", "0003_service_term_indexes")]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
