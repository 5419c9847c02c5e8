"""The Reminder: an email stored before it is sent, so that no outage loses it."""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReminderQuerySet(models.QuerySet):
    def due(self, now=None) -> "ReminderQuerySet":
        return self.filter(status=Reminder.Status.PENDING, due_at__lte=now or timezone.now())

    def claimable(self, now=None) -> "ReminderQuerySet":
        """Due, or claimed for sending so long ago that the worker must have died before it could
        record the outcome (see notifications.services.send_reminder)."""
        now = now or timezone.now()
        stale = now - timedelta(seconds=settings.PORTAL_REMINDER_CLAIM_TIMEOUT)
        return self.filter(
            Q(status=Reminder.Status.PENDING, due_at__lte=now) | Q(status=Reminder.Status.SENDING, claimed_at__lt=stale)
        )


class Reminder(models.Model):
    """An email that must go out at or after `due_at`, once.

    Every app schedules its reminders here; a beat-triggered sweep sends what is due. `key` makes
    scheduling idempotent: the same event can be planned any number of times and is sent once.
    Sending claims the row ("sending", `claimed_at`) and commits before the mail server is called, so
    no transaction or lock is held meanwhile; see notifications.services.send_reminder.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")  # claimed by a worker, handed to the mail server, outcome not yet recorded
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    key = models.CharField(_("key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=50, db_index=True)
    # The record the email is about, if any (an organisation, most often). A generic link, since
    # notifications sit below every app with records; models that want their reminders deleted with
    # them declare the reverse side (a GenericRelation, as organisations.Organisation.reminders does).
    about_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("about a")
    )
    about_id = models.PositiveBigIntegerField(_("about record"), null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    recipients = models.JSONField(_("recipients"), default=list)
    subject = models.CharField(_("subject"), max_length=300)
    template = models.CharField(_("template"), max_length=200, help_text=_("emails/<name>.txt and .html"))
    context = models.JSONField(_("context"), default=dict, blank=True)
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed for sending at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at"]
        indexes = [models.Index(fields=["status", "due_at"]), models.Index(fields=["about_type", "about_id"])]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")

    def __str__(self) -> str:
        return f"{self.subject} ({self.get_status_display()})"
