"""Full-text search over services on PostgreSQL: a stored, generated tsvector (name weighted above
description) with a GIN index. The column is maintained by the database itself, so no save path can
forget it; Django never reads it directly (directory.search queries it). SQLite has no tsvector: the
search there falls back to icontains over the same fields, and this migration does nothing."""

from django.db import migrations

VECTOR = (
    "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')"
)


def add_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE directory_service ADD COLUMN IF NOT EXISTS search_vector tsvector "
        f"GENERATED ALWAYS AS ({VECTOR}) STORED"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS directory_service_search_vector_gin "
        "ON directory_service USING gin (search_vector)"
    )


def drop_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS directory_service_search_vector_gin")
    schema_editor.execute("ALTER TABLE directory_service DROP COLUMN IF EXISTS search_vector")


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(add_vector, drop_vector, elidable=False)]
