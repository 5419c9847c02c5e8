"""Forget the referral figures' monthly summaries, so each month is counted again from the referrals
on its next read (referrals.summaries). Only needed after something wrote to the referrals behind the
database triggers' back: a TRUNCATE, or one table restored from a backup."""

from django.core.management.base import BaseCommand

from referrals import summaries


class Command(BaseCommand):
    help = "Forget the referral figures' monthly summaries; each month is counted again when next read."

    def handle(self, *args, **options):
        summaries.forget()
        self.stdout.write("Monthly referral summaries forgotten: each month is counted again on its next read.")
