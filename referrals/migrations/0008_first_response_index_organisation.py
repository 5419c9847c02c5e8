# The wards' medians of the wait for a first answer read the middle hours' answers with their asking
# organisation from the first-answer index alone, no longer visiting the referrals.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0007_wait_summaries"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="referral", name="referral_first_response_idx"),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(("first_response_after__isnull", False)),
                fields=["first_response_after"],
                include=("submitted_at", "organisation"),
                name="referral_first_response_idx",
            ),
        ),
    ]
