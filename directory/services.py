"""Writes for the provider directory: services with their locations, schedules and contacts, and the
yearly service review (its reminders stored and sent by ``notifications``).

Functions are keyword-only and do their work in one transaction, so a failure leaves nothing
half-written.
"""

import logging
from datetime import date, datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import network_admin_emails
from notifications.models import Reminder
from notifications.selectors import planned_reminder_keys
from notifications.services import cancel_pending_reminders, planning_batches, schedule_reminder
from organisations.models import Organisation
from organisations.services import organisation_contacts

logger = logging.getLogger(__name__)

ORGANISATION_M2M_FIELDS = ("kinds", "communities_served", "segments", "functions", "languages")


# Services -----------------------------------------------------------------------------------------

SERVICE_M2M_FIELDS = ("functions", "needs", "segments", "communities", "wards", "languages")
SCHEDULE_FIELDS = ("weekday", "opens_at", "closes_at", "attending_type", "valid_from", "valid_to", "notes")
CONTACT_FIELDS = ("name", "title", "email", "phone")
LOCATION_FIELDS = ("name", "address_line_1", "address_line_2", "town", "postcode", "ward", "accessibility", "description")


def unique_service_slug(name: str, organisation: Organisation, *, exclude_id: int | None = None) -> str:
    from .models import Service

    base = slugify(f"{name} {organisation.name}")[:200] or "service"
    slug, n = base, 2
    taken = Service.objects.exclude(pk=exclude_id) if exclude_id else Service.objects.all()
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _save_rows(*, model, existing: dict, rows: list[dict], fields: tuple, parent: dict) -> None:
    """Apply an inline formset's rows: {"id": pk or None, "DELETE": bool, **fields}.

    Rows keep their primary key (and so their public UUID) when edited.
    """
    for row in rows:
        pk = row.get("id")
        instance = existing.get(pk) if pk else None
        if row.get("DELETE"):
            if instance is not None:
                instance.delete()
            continue
        if instance is None:
            if not any(row.get(name) not in (None, "") for name in fields):
                continue  # an untouched blank row
            instance = model(**parent)
        for name in fields:
            if name in row:
                setattr(instance, name, row[name])
        instance.full_clean(exclude=list(parent))
        instance.save()


@transaction.atomic
def save_service(
    *,
    service,
    organisation: Organisation,
    data: dict,
    by: User | None,
    locations: list | None = None,
    new_location: dict | None = None,
    schedules: list[dict] | None = None,
    contacts: list[dict] | None = None,
):
    """Create or update one of a provider's services, with its locations, schedules and contacts.

    All or nothing: a bad schedule or location leaves the service as it was. The change goes into the
    service's history with who made it.
    """
    from .models import Location, Schedule, ServiceAtLocation, ServiceContact

    relations = {name: data[name] for name in SERVICE_M2M_FIELDS if name in data}
    for name, value in data.items():
        if name not in relations:
            setattr(service, name, value)
    service.organisation = organisation
    if service.is_free:
        service.fee_amount = None
    if not service.slug:
        service.slug = unique_service_slug(service.name, organisation)
    service._history_user = by
    service.full_clean(exclude=list(SERVICE_M2M_FIELDS) + ["locations"])
    service.save()
    for name, value in relations.items():
        getattr(service, name).set(value)

    if locations is not None or new_location:
        chosen = [location for location in (locations or []) if location.organisation_id == organisation.pk]
        if new_location:
            location = Location(organisation=organisation)
            for name in LOCATION_FIELDS:
                if name in new_location:
                    setattr(location, name, new_location[name])
            location._history_user = by
            location.full_clean(exclude=["organisation"])
            location.save()
            chosen.append(location)
        if locations is not None:
            ServiceAtLocation.objects.filter(service=service).exclude(location__in=chosen).delete()
        for location in chosen:
            ServiceAtLocation.objects.get_or_create(service=service, location=location)
    if schedules is not None:
        _save_rows(
            model=Schedule,
            existing={s.pk: s for s in Schedule.objects.filter(service=service)},
            rows=schedules,
            fields=SCHEDULE_FIELDS,
            parent={"service": service},
        )
    if contacts is not None:
        _save_rows(
            model=ServiceContact,
            existing={c.pk: c for c in ServiceContact.objects.filter(service=service)},
            rows=contacts,
            fields=CONTACT_FIELDS,
            parent={"service": service},
        )
    return service


def service_review_key(service_id: int, reviewed_on: date | None, step: str) -> str:
    return f"service-review:{service_id}:{reviewed_on.isoformat() if reviewed_on else 'never'}:{step}"


@transaction.atomic
def mark_service_reviewed(*, service, by: User, today: date | None = None):
    """An officer has checked the service's details: reset its review date and call off any chasers."""
    from .models import Service

    service = Service.objects.select_for_update().get(pk=service.pk)
    old_prefix = f"service-review:{service.pk}:"
    service.last_reviewed_on = today or timezone.localdate()
    service.last_reviewed_by = by
    service._history_user = by
    service._change_reason = "Marked as reviewed"
    service.save(update_fields=["last_reviewed_on", "last_reviewed_by", "updated_at"])
    cancel_pending_reminders(key_prefix=old_prefix, reason=_("The service was reviewed."))
    return service


# The review steps: ask the provider's officers, remind them after REMIND days, tell the network
# admins after ESCALATE days. Each step is a Reminder with its own key, planned once per review cycle.
SERVICE_REVIEW_REMIND_AFTER_DAYS = 14
SERVICE_REVIEW_ESCALATE_AFTER_DAYS = 28


def _service_review_context(service) -> dict:
    return {
        "service": service.name,
        "organisation": service.organisation.name,
        "service_url": service.get_absolute_url(),
        "review_url": reverse("directory:service_edit", kwargs={"slug": service.slug}),
        "last_reviewed_on": service.last_reviewed_on.isoformat() if service.last_reviewed_on else "",
    }


def plan_service_review_reminders(*, today: date, now: datetime | None = None) -> dict[str, int]:
    """For every open service not reviewed for a year: ask its provider's officers to review it; if a
    request went out REMIND days ago and it is still not reviewed, remind them; after ESCALATE days,
    tell the network admins. Database-driven and idempotent (one key per service, cycle and step).
    """
    from .models import Service

    now = now or timezone.now()
    due = Service.objects.needs_review(today).filter(organisation__is_active=True).order_by("pk")
    rows = list(due.values_list("pk", "last_reviewed_on"))
    ask_keys = {pk: service_review_key(pk, reviewed, "ask") for pk, reviewed in rows}
    remind_keys = {pk: service_review_key(pk, reviewed, "remind") for pk, reviewed in rows}
    escalate_keys = {pk: service_review_key(pk, reviewed, "escalate") for pk, reviewed in rows}
    planned = planned_reminder_keys([*ask_keys.values(), *remind_keys.values(), *escalate_keys.values()])
    sent_asks = dict(
        Reminder.objects.filter(key__in=list(ask_keys.values()), status=Reminder.Status.SENT).values_list("key", "sent_at")
    )
    counts = {"asked": 0, "reminded": 0, "escalated": 0}
    wanted: dict[int, list[str]] = {}
    for pk, _reviewed in rows:
        steps = []
        if ask_keys[pk] not in planned:
            steps.append("ask")
        asked_at = sent_asks.get(ask_keys[pk])
        if asked_at and remind_keys[pk] not in planned and now - asked_at >= timedelta(days=SERVICE_REVIEW_REMIND_AFTER_DAYS):
            steps.append("remind")
        if asked_at and escalate_keys[pk] not in planned and now - asked_at >= timedelta(days=SERVICE_REVIEW_ESCALATE_AFTER_DAYS):
            steps.append("escalate")
        if steps:
            wanted[pk] = steps
    for batch in planning_batches(list(wanted)):
        with transaction.atomic():
            for service in due.filter(pk__in=batch).select_related("organisation"):
                for step in wanted[service.pk]:
                    counts[{"ask": "asked", "remind": "reminded", "escalate": "escalated"}[step]] += schedule_service_review(
                        service=service, step=step, due_at=now
                    )[1]
    return counts


def schedule_service_review(*, service, step: str, due_at: datetime | None = None) -> tuple[Reminder, bool]:
    context = _service_review_context(service)
    if step == "escalate":
        recipients = network_admin_emails()
        subject = _("%(service)s (%(organisation)s) has not been reviewed for over a year") % context
        template = "emails/directory_service_review_escalation"
    else:
        recipients = organisation_contacts(service.organisation)
        if step == "remind":
            subject = _("Reminder: please review %(service)s in the directory") % context
        else:
            subject = _("Please review %(service)s in the directory") % context
        template = "emails/directory_service_review"
    return schedule_reminder(
        key=service_review_key(service.pk, service.last_reviewed_on, step),
        kind=f"service-review-{step}",
        recipients=recipients,
        subject=subject,
        template=template,
        context={**context, "step": step},
        due_at=due_at,
        about=service.organisation,
    )
