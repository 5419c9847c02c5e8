"""Evidence files and support materials move from the quality app's own folder (PORTAL_QUALITY_FILES_ROOT,
by default var/quality-files) to PRIVATE_FILES_ROOT, which every app now shares (core/files.py).
Names are kept. Safe to run again: files already there are left alone."""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import migrations


def move(apps, schema_editor):
    from core.files import move_files, private_file_storage

    old_root = Path(os.environ.get("PORTAL_QUALITY_FILES_ROOT") or Path(settings.VAR_DIR) / "quality-files")
    target = private_file_storage()
    if not old_root.is_dir() or old_root.resolve() == Path(target.location).resolve():
        return
    source = FileSystemStorage(location=old_root)
    for model in (apps.get_model("quality", "EvidenceFile"), apps.get_model("quality", "MaterialVersion")):
        move_files(model=model, field="file", source=source, target=target)


class Migration(migrations.Migration):
    # Each record is saved as its file moves, so a failure half-way leaves no record pointing at a
    # file that is gone.
    atomic = False

    dependencies = [("quality", "0002_seed_framework_and_health_check")]

    operations = [migrations.RunPython(move, migrations.RunPython.noop)]
