# Indexes for the evidence figures (referrals.selectors.referral_statistics).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["submitted_at"], include=("id", "organisation", "status", "outcome"), name="referral_made_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="referralevent",
            index=models.Index(
                condition=models.Q(("kind__in", ["sent", "accepted", "declined", "passed_on"])),
                fields=["referral", "at"],
                include=("kind",),
                name="referral_event_response_idx",
            ),
        ),
    ]
