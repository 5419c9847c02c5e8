"""A second GIN index over the search words and the facets, of the services the public directory lists
(PostgreSQL; see migration 0004 and directory/facets.py).

Nine services in ten are listed: the "listed" code is the longest list of services in the facets' GIN
index, and the directory page, whose every search asks for it, made the index read that whole list.
Over the listed services alone the condition is the index's own predicate and the planner leaves it
out of the index scan. Queries not about listed services (the Open Referral API publishes closed ones
too) keep migration 0004's index. SQLite has neither.
"""

from django.db import migrations

INDEX = "directory_service_listed_search_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON directory_service USING gin (search_vector, facets) "
            "WHERE facets @> '{-2}'::integer[]"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("directory", "0008_harvest_run_shared_log")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
