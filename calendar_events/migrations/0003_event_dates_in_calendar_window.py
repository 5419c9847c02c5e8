import datetime

from django.db import migrations, models

FIRST = datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone.utc)
END = datetime.datetime(2201, 1, 1, tzinfo=datetime.timezone.utc)


def remove_events_outside_the_window(apps, schema_editor):
    # Only a partner feed could bring such an event in (before its import refused them), and no page
    # could show one: every page and feed showing it failed. There is nothing to keep.
    Event = apps.get_model("calendar_events", "Event")
    Event.objects.exclude(start__gte=FIRST, series_end__lte=END).delete()


class Migration(migrations.Migration):
    dependencies = [("calendar_events", "0002_notice_attachments_private")]

    operations = [
        migrations.RunPython(remove_events_outside_the_window, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.CheckConstraint(
                condition=models.Q(("series_end__lte", END), ("start__gte", FIRST)),
                name="event_dates_in_calendar_window",
            ),
        ),
    ]
