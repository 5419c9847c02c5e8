"""The four statement pages with their first texts (site_pages/defaults.py); an existing page is left as
an admin wrote it."""

from django.db import migrations


def seed(apps, schema_editor):
    from site_pages.defaults import seed_pages

    seed_pages(apps.get_model("site_pages", "SitePage"))


class Migration(migrations.Migration):
    dependencies = [("site_pages", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
