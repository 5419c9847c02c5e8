"""Fill in Referral.first_response_at and first_response_after for referrals answered before they were
kept, from each referral's history: its first accepted, declined or passed-on event, timed from its
sent event (a referral is sent once; passing it on is itself an answer).

In batches of referrals by id, each committed on its own (the migration is not atomic), so a large
table is not locked as a whole and a run that stops part-way carries on where it stopped when run again.
"""

from django.db import migrations, transaction
from django.db.models import Exists, OuterRef, Subquery

BATCH = 2000
SENT = "sent"
ANSWERS = ("accepted", "declined", "passed_on")


def backfill_first_responses(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    ReferralEvent = apps.get_model("referrals", "ReferralEvent")
    db = schema_editor.connection.alias
    history = ReferralEvent.objects.using(db).filter(referral=OuterRef("pk")).order_by("at", "pk")
    sent = history.filter(kind=SENT)
    answers = history.filter(kind__in=ANSWERS)
    unknown = Referral.objects.using(db).filter(first_response_at__isnull=True).order_by("pk")
    last = 0
    while True:
        ids = list(unknown.filter(pk__gt=last).values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        last = ids[-1]
        first_answer = Subquery(answers.values("at")[:1])
        with transaction.atomic(using=db):
            unknown.filter(pk__in=ids).filter(Exists(sent), Exists(answers)).update(
                first_response_at=first_answer,
                first_response_after=first_answer - Subquery(sent.values("at")[:1]),
            )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("referrals", "0003_referral_first_response"),
    ]

    operations = [
        migrations.RunPython(backfill_first_responses, migrations.RunPython.noop, elidable=True),
    ]
