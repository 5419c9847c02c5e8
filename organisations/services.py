"""Writes for the VCO database: organisations, affiliations, member networks and memberships,
registration, and the reminders they plan (stored and sent by ``notifications``): membership
renewals and the yearly "are your details still correct?" request.

Functions are keyword-only and do their work in one transaction, so a failure leaves nothing
half-written.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from accounts.selectors import network_admin_emails
from notifications.models import Reminder
from notifications.selectors import planned_reminder_keys
from notifications.services import PLANNING_BATCH, planning_batches, schedule_reminder
from taxonomies.models import Taxonomy, TaxonomyTerm

from .models import Affiliation, Membership, Network, Organisation
from .selectors import duplicate_number_errors

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
        about=organisation,
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


def renewal_reminder_key(membership_id: int, renewal_due: date | None, suffix: str = "auto") -> str:
    return f"membership-renewal:{membership_id}:{renewal_due.isoformat() if renewal_due else None}:{suffix}"


def confirmation_request_key(organisation_id: int, confirmed_on: date | None, suffix: str = "auto") -> str:
    return f"confirm-details:{organisation_id}:{confirmed_on.isoformat() if confirmed_on else 'never'}:{suffix}"


def schedule_renewal_reminder(*, membership: Membership, manual: bool = False, today: date | None = None) -> tuple[Reminder, bool]:
    """Plan the "your membership is due for renewal" email for this renewal date.

    The sweep plans one per renewal date; an admin sending one by hand can do so once a day.
    """
    today = today or timezone.localdate()
    suffix = f"manual:{today.isoformat()}" if manual else "auto"
    organisation, network = membership.organisation, membership.network
    return schedule_reminder(
        key=renewal_reminder_key(membership.pk, membership.renewal_due, suffix),
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
        about=organisation,
    )


def request_details_confirmation(*, organisation: Organisation, manual: bool = False, today: date | None = None) -> tuple[Reminder, bool]:
    """Plan the yearly "are your details still correct?" email (once per confirmation cycle)."""
    today = today or timezone.localdate()
    suffix = f"manual:{today.isoformat()}" if manual else "auto"
    return schedule_reminder(
        key=confirmation_request_key(organisation.pk, organisation.details_confirmed_on, suffix),
        kind="confirm-details",
        recipients=organisation_contacts(organisation),
        subject=_("Are the details of %(organisation)s still correct?") % {"organisation": organisation.name},
        template="emails/confirm_details",
        context={
            "organisation": organisation.name,
            "organisation_url": organisation.get_absolute_url(),
            "confirm_url": reverse("organisations:organisation_confirm", kwargs={"slug": organisation.slug}),
            "details_confirmed_on": organisation.details_confirmed_on.isoformat() if organisation.details_confirmed_on else "",
        },
        about=organisation,
    )


@dataclass(frozen=True)
class Registration:
    user: User
    organisation: Organisation
    membership: Membership | None


@transaction.atomic
def register_organisation(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    organisation_data: dict,
    network: Network | None = None,
    note: str = "",
) -> Registration:
    """A new group signs up: an account for the person (VCO staff, logging in with their email), the
    organisation, the person as its editor and, if they chose a network, an application to join it.

    One transaction: if any step fails nothing is kept, so the person can simply try again.
    """
    email = User.objects.normalize_email(email).strip()
    if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise ValidationError(
            {"email": _("There is already an account with this email address: log in, or reset your password.")}
        )
    errors = duplicate_number_errors(
        numbers={name: organisation_data.get(name, "") for name in Organisation.IDENTIFIER_FIELDS.values()}
    )
    if errors:
        raise ValidationError(errors)

    user = User(username=email, email=email, first_name=first_name, last_name=last_name, role=User.Role.VCO_STAFF)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()

    vco = TaxonomyTerm.objects.get(taxonomy__code=Taxonomy.ORGANISATION_KINDS, code=Organisation.KIND_VCO)
    organisation = save_organisation(
        organisation=Organisation(details_confirmed_on=timezone.localdate()),
        data={**organisation_data, "kinds": [vco]},
        by=user,
    )
    Affiliation.objects.create(user=user, organisation=organisation, role=Affiliation.Role.EDITOR)
    membership = None
    if network is not None:
        membership = apply_for_membership(organisation=organisation, network=network, note=note, by=user)
    return Registration(user=user, organisation=organisation, membership=membership)


# Reminder planning, run by the sweep (notifications.tasks.sweep_reminders, see plan_reminders) -----
#
# Each planner finds what is due with one set-based query, skips what is already planned by looking
# its keys up in bulk, and plans only the rest through the one-at-a-time functions above. A sweep over
# a large directory where little is new therefore costs a handful of queries.

# How long past its renewal date an active membership is kept before it lapses.
MEMBERSHIP_GRACE_DAYS = 30


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def lapse_overdue_memberships(*, today: date) -> int:
    """Active memberships more than MEMBERSHIP_GRACE_DAYS past their renewal date become lapsed.

    Each change goes into the membership's history, as an edit in the admin would. Returns how many
    lapsed.
    """
    with transaction.atomic():
        overdue = list(
            Membership.objects.select_for_update()
            .filter(status=Membership.Status.ACTIVE, renewal_due__lt=today - timedelta(days=MEMBERSHIP_GRACE_DAYS))
            .order_by("pk")
        )
        for membership in overdue:
            membership.status = Membership.Status.LAPSED
        bulk_update_with_history(
            overdue,
            Membership,
            ["status"],
            batch_size=PLANNING_BATCH,
            default_change_reason=f"Lapsed by the reminder sweep: renewal over {MEMBERSHIP_GRACE_DAYS} days overdue",
        )
    return len(overdue)


def plan_renewal_reminders(*, today: date) -> int:
    """Plan a renewal reminder for each active membership whose renewal falls due within
    PORTAL_RENEWAL_REMINDER_DAYS, one per renewal date. Returns how many were newly planned.

    Memberships already overdue but not yet lapsed are included, so one that was approved late or
    missed a sweep is still reminded.
    """
    due = Membership.objects.filter(
        status=Membership.Status.ACTIVE,
        organisation__is_active=True,
        renewal_due__lte=today + timedelta(days=settings.PORTAL_RENEWAL_REMINDER_DAYS),
        renewal_due__gte=today - timedelta(days=MEMBERSHIP_GRACE_DAYS),
    ).order_by("pk")
    keys = {pk: renewal_reminder_key(pk, renewal_due) for pk, renewal_due in due.values_list("pk", "renewal_due")}
    planned = planned_reminder_keys(list(keys.values()))
    created = 0
    for batch in planning_batches([pk for pk, key in keys.items() if key not in planned]):
        with transaction.atomic():
            for membership in due.filter(pk__in=batch).select_related("organisation", "network"):
                created += schedule_renewal_reminder(membership=membership, today=today)[1]
    return created


def plan_details_confirmation_requests(*, today: date) -> int:
    """Ask each active organisation whose details were last confirmed more than
    PORTAL_CONFIRM_DETAILS_AFTER_DAYS ago to confirm them again, once per confirmation.

    A record never confirmed counts from the day it was created, so a new organisation is not
    asked on its first day. Returns how many requests were newly planned.
    """
    cutoff = today - timedelta(days=settings.PORTAL_CONFIRM_DETAILS_AFTER_DAYS)
    due = (
        Organisation.objects.active()
        .filter(is_harvested=False)
        .filter(
            Q(details_confirmed_on__lt=cutoff)
            | Q(details_confirmed_on__isnull=True, created_at__lt=_start_of_day(cutoff))
        )
        .order_by("pk")
    )
    keys = {
        pk: confirmation_request_key(pk, confirmed) for pk, confirmed in due.values_list("pk", "details_confirmed_on")
    }
    planned = planned_reminder_keys(list(keys.values()))
    created = 0
    for batch in planning_batches([pk for pk, key in keys.items() if key not in planned]):
        with transaction.atomic():
            for organisation in due.filter(pk__in=batch):
                created += request_details_confirmation(organisation=organisation, today=today)[1]
    return created


def plan_reminders(*, today: date) -> dict[str, int]:
    """The VCO database's step of the reminder sweep (registered in OrganisationsConfig.ready): lapse first, so
    a membership long past its renewal date is not sent a renewal reminder, then plan what is due."""
    lapsed = lapse_overdue_memberships(today=today)
    renewals = plan_renewal_reminders(today=today)
    confirmations = plan_details_confirmation_requests(today=today)
    return {"lapsed": lapsed, "renewal_reminders": renewals, "confirmation_requests": confirmations}
