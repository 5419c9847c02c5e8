"""Evidence packs are kept in the private files storage (core/files.py: a folder, or a bucket every
machine shares) as evidence-packs/<uuid>.xlsx, instead of at a path on the worker's disk: the field holds
the storage's name for the file. Packs built before, named by their path, are marked expired (they only
last 72 hours; whoever needs one asks again), and their files deleted where this runs."""

from pathlib import Path

from django.db import migrations, models

import core.files


def expire_packs_on_the_workers_disk(apps, schema_editor):
    EvidenceExport = apps.get_model("evidence", "EvidenceExport")
    old = EvidenceExport.objects.filter(file__startswith="/")
    for path in old.values_list("file", flat=True):
        Path(path).unlink(missing_ok=True)
    old.update(status="expired", file="")


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]

    operations = [
        migrations.RenameField(model_name="evidenceexport", old_name="file_path", new_name="file"),
        migrations.AlterField(
            model_name="evidenceexport",
            name="file",
            field=models.FileField(
                blank=True,
                max_length=500,
                storage=core.files.private_file_storage,
                upload_to="evidence-packs",
                verbose_name="file",
            ),
        ),
        migrations.RunPython(expire_packs_on_the_workers_disk, migrations.RunPython.noop),
    ]
