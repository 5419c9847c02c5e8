# When a provider first answered each referral, and how long after it reached them: kept by
# referrals.services at the first accept, decline or pass-on (0004 fills them in from the history).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0002_evidence_figure_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="first_response_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="first answered"),
        ),
        migrations.AddField(
            model_name="referral",
            name="first_response_after",
            field=models.DurationField(blank=True, null=True, verbose_name="time to first answer"),
        ),
    ]
