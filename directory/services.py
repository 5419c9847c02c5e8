"""Writes for the directory: organisations, affiliations, memberships and reminders.

Functions are keyword-only and do their work in one transaction, so a failure leaves nothing
half-written.
"""

import logging
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .models import Membership, Network, Organisation, Reminder, User

logger = logging.getLogger(__name__)

ORGANISATION_M2M_FIELDS = ("kinds", "communities_served", "segments", "functions", "languages")


def unique_organisation_slug(name: str, *, exclude_id: int | None = None) -> str:
    base = slugify(name)[:200] or "organisation"
    slug, n = base, 2
    taken = Organisation.objects.exclude(pk=exclude_id) if exclude_id else Organisation.objects.all()
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def save_organisation(*, organisation: Organisation, data: dict, by: User | None) -> Organisation:
    """Create or update an organisation from cleaned data (plain fields and many-to-many lists).

    The change is recorded in the organisation's history with who made it.
    """
    relations = {name: data[name] for name in ORGANISATION_M2M_FIELDS if name in data}
    for name, value in data.items():
        if name not in relations:
            setattr(organisation, name, value)
    if not organisation.slug:
        organisation.slug = unique_organisation_slug(organisation.name)
    organisation._history_user = by
    organisation.full_clean(exclude=list(ORGANISATION_M2M_FIELDS))
    organisation.save()
    for name, value in relations.items():
        getattr(organisation, name).set(value)
    return organisation


def confirm_details(*, organisation: Organisation, by: User, today: date | None = None) -> Organisation:
    organisation.details_confirmed_on = today or timezone.localdate()
    organisation._history_user = by
    organisation.save(update_fields=["details_confirmed_on", "updated_at"])
    return organisation


def schedule_reminder(
    *,
    key: str,
    kind: str,
    recipients: list[str],
    subject: str,
    template: str,
    context: dict | None = None,
    due_at: datetime | None = None,
    organisation: Organisation | None = None,
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
            "organisation": organisation,
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

    The row is locked while it is sent, so two workers (or a task run twice) cannot both send it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update(skip_locked=True).due(now).filter(pk=reminder_id).first()
        if reminder is None:
            return False
        if not reminder.recipients:
            reminder.status = Reminder.Status.CANCELLED
            reminder.last_error = _("Nobody to send it to: the organisation has no email and no editors.")
            reminder.save(update_fields=["status", "last_error"])
            return False
        reminder.attempts += 1
        try:
            send_email(to=reminder.recipients, subject=reminder.subject, template=reminder.template, context=reminder.context)
        except Exception as error:  # a mail server failure: keep the row due and try again next sweep
            logger.warning("Reminder %s failed: %s", reminder.key, error)
            reminder.last_error = f"{error.__class__.__name__}: {error}"
            if reminder.attempts >= settings.PORTAL_REMINDER_MAX_ATTEMPTS:
                reminder.status = Reminder.Status.FAILED
            reminder.save(update_fields=["attempts", "last_error", "status"])
            return False
        reminder.status = Reminder.Status.SENT
        reminder.sent_at = now
        reminder.last_error = ""
        reminder.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        return True


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Send every reminder that is due. Returns how many were sent."""
    now = now or timezone.now()
    due_ids = list(Reminder.objects.due(now).order_by("due_at").values_list("pk", flat=True))
    return sum(send_reminder(reminder_id=pk, now=now) for pk in due_ids)


def organisation_contacts(organisation: Organisation) -> list[str]:
    """Who hears about an organisation's record: its editors and officers, else its own address."""
    emails = list(
        organisation.affiliations.filter(role__in=["editor", "officer"], user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not emails and organisation.email:
        emails = [organisation.email]
    return emails


def network_admin_emails() -> list[str]:
    configured = list(settings.PORTAL_NETWORK_ADMIN_EMAILS)
    users = User.objects.filter(role=User.Role.NETWORK_ADMIN, is_active=True).exclude(email="")
    return sorted(set(configured) | set(users.values_list("email", flat=True)))


@transaction.atomic
def apply_for_membership(*, organisation: Organisation, network: Network, note: str, by: User) -> Membership:
    """An organisation applies to join a network; network admins are told."""
    existing = Membership.objects.select_for_update().filter(network=network, organisation=organisation).first()
    if existing and existing.status in (Membership.Status.APPLIED, Membership.Status.ACTIVE):
        raise ValidationError(
            _("%(organisation)s is already %(status)s in %(network)s.")
            % {"organisation": organisation, "status": existing.get_status_display().lower(), "network": network}
        )
    if not network.accepts_applications:
        raise ValidationError(_("%(network)s does not take applications online.") % {"network": network})
    membership = existing or Membership(network=network, organisation=organisation)
    membership.status = Membership.Status.APPLIED
    membership.applied_on = timezone.localdate()
    membership.application_note = note
    membership.left_on = None
    membership._history_user = by
    membership.save()
    schedule_reminder(
        key=f"membership-application:{membership.pk}:{membership.applied_on.isoformat()}",
        kind="membership-application",
        recipients=network_admin_emails(),
        subject=_("%(organisation)s has applied to join %(network)s") % {"organisation": organisation, "network": network},
        template="emails/membership_application",
        context={"organisation": organisation.name, "network": network.name, "note": note, "membership_id": membership.pk},
        organisation=organisation,
    )
    return membership


def approve_membership(*, membership: Membership, by: User, today: date | None = None) -> Membership:
    today = today or timezone.localdate()
    membership.status = Membership.Status.ACTIVE
    membership.joined_on = membership.joined_on or today
    membership.renewal_due = today + relativedelta(months=membership.network.renewal_period_months)
    membership.left_on = None
    membership.approved_by = by
    membership._history_user = by
    membership.save()
    return membership


def renew_membership(*, membership: Membership, by: User, today: date | None = None) -> Membership:
    """Extend a membership by one period from its due date (or from today, if it had lapsed)."""
    today = today or timezone.localdate()
    start = membership.renewal_due or today
    if membership.status != Membership.Status.ACTIVE:
        start = max(start, today)
    membership.status = Membership.Status.ACTIVE
    membership.joined_on = membership.joined_on or today
    membership.renewal_due = start + relativedelta(months=membership.network.renewal_period_months)
    membership._history_user = by
    membership.save()
    return membership


def schedule_renewal_reminder(*, membership: Membership, manual: bool = False, today: date | None = None) -> tuple[Reminder, bool]:
    """Plan the "your membership is due for renewal" email for this renewal date.

    The sweep plans one per renewal date; an admin sending one by hand can do so once a day.
    """
    today = today or timezone.localdate()
    suffix = f"manual:{today.isoformat()}" if manual else "auto"
    organisation, network = membership.organisation, membership.network
    return schedule_reminder(
        key=f"membership-renewal:{membership.pk}:{membership.renewal_due}:{suffix}",
        kind="membership-renewal",
        recipients=organisation_contacts(organisation),
        subject=_("Your %(network)s membership is due for renewal") % {"network": network},
        template="emails/membership_renewal",
        context={
            "organisation": organisation.name,
            "organisation_url": organisation.get_absolute_url(),
            "network": network.name,
            "renewal_due": membership.renewal_due.isoformat() if membership.renewal_due else "",
        },
        organisation=organisation,
    )


def request_details_confirmation(*, organisation: Organisation, manual: bool = False, today: date | None = None) -> tuple[Reminder, bool]:
    """Plan the yearly "are your details still correct?" email (once per confirmation cycle)."""
    today = today or timezone.localdate()
    cycle = organisation.details_confirmed_on.isoformat() if organisation.details_confirmed_on else "never"
    suffix = f"manual:{today.isoformat()}" if manual else "auto"
    return schedule_reminder(
        key=f"confirm-details:{organisation.pk}:{cycle}:{suffix}",
        kind="confirm-details",
        recipients=organisation_contacts(organisation),
        subject=_("Are %(organisation)s's details still correct?") % {"organisation": organisation.name},
        template="emails/confirm_details",
        context={
            "organisation": organisation.name,
            "organisation_url": organisation.get_absolute_url(),
            "confirm_url": reverse("directory:organisation_confirm", kwargs={"slug": organisation.slug}),
            "details_confirmed_on": organisation.details_confirmed_on.isoformat() if organisation.details_confirmed_on else "",
        },
        organisation=organisation,
    )
