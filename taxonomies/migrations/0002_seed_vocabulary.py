from django.db import migrations


def seed(apps, schema_editor):
    from taxonomies.vocabulary import seed_taxonomies

    seed_taxonomies(apps.get_model("taxonomies", "Taxonomy"), apps.get_model("taxonomies", "TaxonomyTerm"))


class Migration(migrations.Migration):
    dependencies = [("taxonomies", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
