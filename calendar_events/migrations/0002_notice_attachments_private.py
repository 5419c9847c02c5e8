"""Notice attachments leave MEDIA_ROOT (public at /media/notices/<year>/<month>/notice.pdf, guessable,
even while a notice waited for moderation) for the private files folder, under random names, sent only
through the notice's attachment view. Files left behind in media/notices (replaced uploads) are deleted,
as they were public too. Safe to run again: a notice whose file has moved is left alone."""

from django.core.files.storage import FileSystemStorage
from django.db import migrations, models

import calendar_events.models
import core.files


def move(apps, schema_editor):
    from core.files import delete_leftovers, move_files, private_file_storage

    media = FileSystemStorage()  # MEDIA_ROOT, read from settings now
    move_files(
        model=apps.get_model("calendar_events", "Notice"),
        field="attachment",
        source=media,
        target=private_file_storage(),
        folder="notices",
    )
    delete_leftovers(media, "notices")


class Migration(migrations.Migration):
    # Each notice is saved as its file moves (and the public copy deleted only then), so a failure
    # half-way leaves no notice pointing at a file that is gone; running again finishes the job.
    atomic = False

    dependencies = [("calendar_events", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="notice",
            name="attachment",
            field=models.FileField(
                blank=True,
                storage=core.files.private_file_storage,
                upload_to=calendar_events.models._notice_attachment_path,
                verbose_name="attachment",
            ),
        ),
        migrations.RunPython(move, migrations.RunPython.noop),
    ]
