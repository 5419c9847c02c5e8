"""The directory's search rows (PostgreSQL; see directory.search.first_matches): a narrow copy of each
service's name, search words and facets, kept by the database from directory_service itself.

A search reads its first matches either through the GIN index, then their rows, or by scanning the
table until it has them. directory_service's rows are wide (descriptions, addresses, contact details):
a scan read about seven to a page, and each row's facets and search words sit behind all of that. The
search rows hold only what a search tests and ranks by: about twice as fast to scan and to fetch, so a
common word with filters costs much the same in a directory three times the size.

Statement triggers with transition tables keep them, set-wise: every insert, update (the facet triggers'
own updates included: they come last) and delete of services, and a truncate of the table. Django never
reads them (only first_matches's SQL does); SQLite has neither them nor the search they serve.
"""

from django.db import migrations

TABLE = "directory_service_search"

CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    search_vector tsvector,
    facets integer[]
);
INSERT INTO {TABLE} (id, name, search_vector, facets)
SELECT id, name, search_vector, facets FROM directory_service ORDER BY id
ON CONFLICT (id) DO NOTHING;
CREATE INDEX IF NOT EXISTS {TABLE}_listed_gin ON {TABLE} USING gin (search_vector, facets)
    WHERE facets @> '{{-2}}'::integer[];
CREATE INDEX IF NOT EXISTS {TABLE}_name ON {TABLE} (lower(name), id);
ANALYZE {TABLE};

CREATE OR REPLACE FUNCTION {TABLE}_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE {TABLE};
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM {TABLE} AS s USING gone WHERE s.id = gone.id;
    ELSE
        INSERT INTO {TABLE} AS s (id, name, search_vector, facets)
        SELECT id, name, search_vector, facets FROM written
        ON CONFLICT (id) DO UPDATE
            SET name = EXCLUDED.name, search_vector = EXCLUDED.search_vector, facets = EXCLUDED.facets
            WHERE (s.name, s.search_vector, s.facets) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.search_vector, EXCLUDED.facets);
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS {TABLE}_inserted ON directory_service;
CREATE TRIGGER {TABLE}_inserted AFTER INSERT ON directory_service
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_keep();
DROP TRIGGER IF EXISTS {TABLE}_updated ON directory_service;
CREATE TRIGGER {TABLE}_updated AFTER UPDATE ON directory_service
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_keep();
DROP TRIGGER IF EXISTS {TABLE}_deleted ON directory_service;
CREATE TRIGGER {TABLE}_deleted AFTER DELETE ON directory_service
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_keep();
DROP TRIGGER IF EXISTS {TABLE}_truncated ON directory_service;
CREATE TRIGGER {TABLE}_truncated AFTER TRUNCATE ON directory_service
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_keep();
"""

DROP = f"""
DROP TRIGGER IF EXISTS {TABLE}_inserted ON directory_service;
DROP TRIGGER IF EXISTS {TABLE}_updated ON directory_service;
DROP TRIGGER IF EXISTS {TABLE}_deleted ON directory_service;
DROP TRIGGER IF EXISTS {TABLE}_truncated ON directory_service;
DROP FUNCTION IF EXISTS {TABLE}_keep();
DROP TABLE IF EXISTS {TABLE};
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("directory", "0009_listed_search_gin")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
