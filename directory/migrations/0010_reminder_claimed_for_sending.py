from django.db import migrations, models


class Migration(migrations.Migration):
    # A reminder is claimed ("sending", claimed_at) and committed before its email is sent, and marked
    # sent afterwards, so that no transaction or row lock is held while the mail server is talked to.

    dependencies = [("directory", "0009_organisation_year_founded_not_in_future")]

    operations = [
        migrations.AddField(
            model_name="reminder",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="claimed for sending at"),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="pending",
                max_length=10,
                verbose_name="status",
            ),
        ),
    ]
