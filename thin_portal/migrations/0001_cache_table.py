"""The table of the database cache (settings.CACHES), so that `migrate` alone sets up a fresh
checkout. createcachetable makes the table of every database cache in the settings and leaves an
existing one alone; with another cache backend it does nothing."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies: list = []

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=True)]
