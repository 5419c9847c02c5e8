"""Seed version 1 of the quality standard (eight areas, a baseline and two levels above it) and the
organisational health-check questionnaire. See quality/seed.py; after this they are admin-edited data."""

from django.db import migrations

from quality.seed import seed_framework, seed_health_check


def forwards(apps, schema_editor):
    seed_framework(apps.get_model("quality", "FrameworkVersion"), apps.get_model("quality", "StandardArea"), apps.get_model("quality", "Criterion"))
    seed_health_check(
        apps.get_model("quality", "HealthCheckArea"),
        apps.get_model("quality", "HealthCheckQuestion"),
        apps.get_model("taxonomies", "TaxonomyTerm"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("quality", "0001_initial"),
        ("taxonomies", "0002_seed_vocabulary"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
