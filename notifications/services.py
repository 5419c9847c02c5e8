"""Writes for reminders: plan an email (schedule_reminder), send it once (send_reminder), cancel what
has not gone out. Every app plans its emails through here; the sweep (notifications.tasks) sends them.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, models, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Reminder

logger = logging.getLogger(__name__)


def schedule_reminder(
    *,
    key: str,
    kind: str,
    recipients: list[str],
    subject: str,
    template: str,
    context: dict | None = None,
    due_at: datetime | None = None,
    about: models.Model | None = None,  # the record the email is about (see Reminder.about)
) -> tuple[Reminder, bool]:
    """Store an email to send at `due_at`. Planning the same key again changes nothing."""
    return Reminder.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "recipients": sorted(set(recipients)),
            "subject": subject,
            "template": template,
            "context": context or {},
            "due_at": due_at or timezone.now(),
            "about": about,
        },
    )


def send_email(*, to: list[str], subject: str, template: str, context: dict) -> None:
    """Send an email in plain text and HTML, from templates/<template>.txt and .html."""
    context = {"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME, **context}
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"{template}.txt", context), to=to
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()


def send_reminder(*, reminder_id: int, now: datetime | None = None) -> bool:
    """Send one due reminder, once. Returns True if this call sent it.

    Three short transactions, none open while the mail server is talked to (SMTP may take as long as
    EMAIL_TIMEOUT): claim the row ("sending") and commit, so two workers (or a task run twice) cannot
    both send it; send; record the outcome. A worker that dies between the claim and the record leaves
    the row "sending": the sweep sends it again once the claim is PORTAL_REMINDER_CLAIM_TIMEOUT old, so
    a reminder may, rarely, go out twice but is never lost. Must not be called inside a transaction.
    """
    now = now or timezone.now()
    # durable: inside a caller's transaction the claim would not be committed before the send.
    with transaction.atomic(durable=True):
        claimed = (
            Reminder.objects.claimable(now)
            .filter(pk=reminder_id)
            .update(status=Reminder.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        )
    if not claimed:
        return False
    reminder = Reminder.objects.get(pk=reminder_id)
    # The outcome is recorded only while the claim is still ours.
    ours = Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.SENDING, claimed_at=now)
    if not reminder.recipients:
        with transaction.atomic(durable=True):
            ours.update(
                status=Reminder.Status.CANCELLED,
                claimed_at=None,
                attempts=F("attempts") - 1,  # nothing was tried
                last_error=_("Nobody to send it to: the organisation has no email and no editors."),
            )
        return False
    try:
        send_email(to=reminder.recipients, subject=reminder.subject, template=reminder.template, context=reminder.context)
    except Exception as error:  # a mail server failure: keep the row due and try again next sweep
        logger.warning("Reminder %s failed: %s", reminder.key, error)
        given_up = reminder.attempts >= settings.PORTAL_REMINDER_MAX_ATTEMPTS
        with transaction.atomic(durable=True):
            ours.update(
                status=Reminder.Status.FAILED if given_up else Reminder.Status.PENDING,
                claimed_at=None,
                last_error=f"{error.__class__.__name__}: {error}",
            )
        return False
    try:
        with transaction.atomic(durable=True):
            ours.update(status=Reminder.Status.SENT, sent_at=now, claimed_at=None, last_error="")
    except DatabaseError:
        # The email is out: the row stays claimed, so nothing resends it before the claim times out.
        logger.exception("Reminder %s was sent but could not be marked sent", reminder.key)
    return True


def send_reminder_now(*, reminder_id: int, now: datetime | None = None) -> bool:
    """Send a pending reminder at once, even one planned for later (an admin's "send now")."""
    now = now or timezone.now()
    Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.PENDING, due_at__gt=now).update(due_at=now)
    return send_reminder(reminder_id=reminder_id, now=now)


def cancel_pending_reminders(*, key_prefix: str, reason: str = "") -> int:
    """Cancel the reminders planned under a key prefix that have not gone out yet (the event behind
    them changed or was dealt with). Returns how many were cancelled."""
    return Reminder.objects.filter(key__startswith=key_prefix, status=Reminder.Status.PENDING).update(
        status=Reminder.Status.CANCELLED, last_error=reason
    )


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Send every reminder that is due (or whose claim went stale). Returns how many were sent."""
    now = now or timezone.now()
    due_ids = list(Reminder.objects.claimable(now).order_by("due_at").values_list("pk", flat=True))
    return sum(send_reminder(reminder_id=pk, now=now) for pk in due_ids)


# Planners find what is due with one set-based query and plan the rest in batches of this many.
PLANNING_BATCH = 500


def planning_batches(ids: list[int]):
    """`ids` in lists of at most PLANNING_BATCH."""
    for start in range(0, len(ids), PLANNING_BATCH):
        yield ids[start : start + PLANNING_BATCH]
