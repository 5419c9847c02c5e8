# The evidence figures count a period's answered referrals from its covering index and find their median
# time to first answer from an index in that order, no longer from the history (so its index for them
# goes).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0004_backfill_first_response"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="referral", name="referral_made_idx"),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["submitted_at"],
                include=("id", "organisation", "status", "outcome", "first_response_after"),
                name="referral_made_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(("first_response_after__isnull", False)),
                fields=["first_response_after"],
                include=("submitted_at",),
                name="referral_first_response_idx",
            ),
        ),
        migrations.RemoveIndex(model_name="referralevent", name="referral_event_response_idx"),
    ]
