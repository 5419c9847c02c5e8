"""Writes for referrals: asking for support, every move in the workflow, reminders, feedback and
personal data.

Each function is keyword-only and runs in one transaction, so a refused or failed step leaves nothing
half-saved. A move checks, in order: may this person do it (PermissionDenied, a 403), is the form they
acted on still current (StaleReferral: "this referral changed, reload"), and is the move allowed from
the referral's status (TransitionRefused, a clear message). The change itself is an
``UPDATE ... WHERE version = N``: of two officers acting on the same version at once, the database
lets exactly one update the row; the other updates nothing and is told to reload.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import require
from accounts.selectors import network_admin_emails
from directory.models import Service
from notifications.models import Reminder
from notifications.selectors import planned_reminder_keys
from notifications.services import schedule_reminder
from notifications.tasks import enqueue_reminder
from organisations.models import Organisation
from taxonomies.models import TaxonomyTerm

from . import selectors, workdays
from .models import DESCRIPTION_MAX_LENGTH, NOTE_MAX_LENGTH, Feedback, Referral, ReferralEvent

logger = logging.getLogger(__name__)

Status = Referral.Status
Kind = ReferralEvent.Kind

CONSENT_PURPOSE = _(
    "I agree that the details in this request, including the contact's name, email and phone number, are shared "
    "with the infrastructure provider it is sent to, and with the network's co-ordinators, so that they can "
    "contact us and give the support asked for. They are kept until the referral closes and then for the "
    "network's retention period, after which the contact details are removed."
)
EMAIL_TEMPLATE = "emails/referrals_update"
ERASED = "[erased]"


class StaleReferral(Exception):
    """The referral changed since the form was drawn: the person must reload before acting."""

    message = _(
        "This referral changed while you were looking at it: somebody else acted on it first. Reload the page to see what happened, then try again if it still needs doing."
    )


class TransitionRefused(ValidationError):
    pass


def response_days() -> int:
    return int(getattr(settings, "PORTAL_REFERRAL_RESPONSE_DAYS", 5))


def escalate_after_days() -> int:
    return int(getattr(settings, "PORTAL_REFERRAL_ESCALATE_AFTER_DAYS", 2))


def retention_days() -> int:
    return int(getattr(settings, "PORTAL_REFERRAL_RETENTION_DAYS", 3 * 365))


# Who hears about a change ------------------------------------------------------------------------


def _group_emails(referral: Referral) -> list[str]:
    emails = {referral.contact_email} if referral.contact_email else set()
    if referral.requested_by_id and referral.requested_by.email:
        emails.add(referral.requested_by.email)
    return sorted(emails)


def _provider_emails(referral: Referral, provider: Organisation | None = None) -> list[str]:
    emails = set(selectors.officer_emails(provider or referral.provider))
    if (
        referral.assigned_to_id
        and referral.assigned_to.email
        and (provider is None or provider.pk == referral.provider_id)
    ):
        emails.add(referral.assigned_to.email)
    return sorted(emails)


def _plan_email(
    *,
    key: str,
    recipients: list[str],
    subject: str,
    context: dict,
    referral: Referral,
    due_at=None,
    enqueue: bool = True,
) -> bool:
    """Store the email as a Reminder row (so a broker outage loses nothing) and ask a worker to send it
    as soon as the transaction commits. Returns whether it was newly planned."""
    if not recipients:
        return False
    reminder, created = schedule_reminder(
        key=key,
        kind="referral",
        recipients=recipients,
        subject=subject,
        template=EMAIL_TEMPLATE,
        context=context,
        due_at=due_at,
        about=referral.organisation,
    )
    if created and enqueue:
        enqueue_reminder(reminder.pk)
    return created


def _context(
    referral: Referral,
    *,
    heading: str,
    message: str,
    note: str = "",
    audience: str,
    link_label: str = "",
    link: str = "",
) -> dict:
    return {
        "heading": heading,
        "message": message,
        "note": note,
        "reference": referral.reference,
        "organisation": referral.organisation.name,
        "provider": referral.provider.name if referral.provider_id else "",
        "status": referral.get_status_display(),
        "url": link or referral.get_absolute_url(),
        "link_label": link_label or _("See the referral and its history"),
        "audience": audience,
    }


_GROUP_MESSAGES = {
    Kind.SUBMITTED: _(
        "Your request for support has been received. The network's co-ordinators will choose a provider for it."
    ),
    Kind.SENT: _(
        "Your request for support has been sent to %(provider)s, who should reply within %(days)s working days."
    ),
    Kind.ACCEPTED: _("%(provider)s has accepted your request for support and will be in touch."),
    Kind.DECLINED: _(
        "%(provider)s cannot take on your request for support. Their reason is below; you can ask again and choose another provider."
    ),
    Kind.PASSED_ON: _(
        "Your request for support has been passed on to %(provider)s, who are better placed to help. The note is below."
    ),
    Kind.STARTED: _("%(provider)s has started work on your request for support."),
    Kind.CLOSED: _(
        "%(provider)s has closed your request for support. Please tell the network how it went: it takes a minute."
    ),
    Kind.WITHDRAWN: _("The request for support has been withdrawn."),
}
_PROVIDER_MESSAGES = {
    Kind.SENT: _(
        "%(organisation)s has asked %(provider)s for support. Please accept it, decline it with a reason, or pass it on, within %(days)s working days."
    ),
    Kind.PASSED_ON: _(
        "A request for support from %(organisation)s has been passed on to %(provider)s. Please accept it, decline it with a reason, or pass it on, within %(days)s working days."
    ),
    Kind.WITHDRAWN: _("%(organisation)s has withdrawn its request for support: there is nothing more to do."),
    Kind.FEEDBACK: _("%(organisation)s has given feedback on the support you gave."),
    Kind.ASSIGNED: _("A request for support from %(organisation)s has been assigned to you."),
}


def _notify(referral: Referral, event: ReferralEvent, *, by: User | None) -> None:
    """Tell each party what changed, with a link; never the person who made the change."""
    actor = {by.email} if by is not None and by.email else set()
    values = {
        "organisation": referral.organisation.name,
        "provider": referral.provider.name if referral.provider_id else "",
        "days": response_days(),
    }
    subject = _("Referral %(ref)s: %(what)s") % {"ref": referral.reference, "what": event.get_kind_display().lower()}
    group_message = _GROUP_MESSAGES.get(event.kind)
    if group_message:
        link, label = "", ""
        if event.kind == Kind.CLOSED:
            link = reverse("referrals:feedback", kwargs={"uuid": referral.uuid})
            label = _("Give feedback")
        _plan_email(
            key=f"referral-event:{event.pk}:group",
            recipients=[email for email in _group_emails(referral) if email not in actor],
            subject=subject,
            context=_context(
                referral,
                heading=subject,
                message=group_message % values,
                note=event.note,
                audience="group",
                link=link,
                link_label=label,
            ),
            referral=referral,
        )
    provider_message = _PROVIDER_MESSAGES.get(event.kind)
    if provider_message is None and event.kind in (Kind.ACCEPTED, Kind.DECLINED, Kind.STARTED, Kind.CLOSED):
        # Keep the provider's other officers in the loop when a colleague acts.
        provider_message = (
            _("%(provider)s's referral from %(organisation)s is now: ") % values
            + referral.get_status_display().lower()
            + "."
        )
    if provider_message:
        if event.kind == Kind.ASSIGNED:
            recipients = [referral.assigned_to.email] if referral.assigned_to_id and referral.assigned_to.email else []
        else:
            recipients = _provider_emails(referral)
        _plan_email(
            key=f"referral-event:{event.pk}:provider",
            recipients=[email for email in recipients if email not in actor],
            subject=subject,
            context=_context(
                referral, heading=subject, message=provider_message % values, note=event.note, audience="provider"
            ),
            referral=referral,
        )
    if event.kind == Kind.SUBMITTED and referral.provider_id is None:
        _plan_email(
            key=f"referral-event:{event.pk}:admins",
            recipients=[email for email in network_admin_emails() if email not in actor],
            subject=_("Referral %(ref)s needs a provider") % {"ref": referral.reference},
            context=_context(
                referral,
                heading=_("A request for support needs a provider"),
                message=_("%(organisation)s has asked for support and did not pick a provider. Please send it to one.")
                % values,
                audience="admins",
            ),
            referral=referral,
        )


def _event(
    referral: Referral,
    *,
    kind: str,
    by: User | None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    at=None,
) -> ReferralEvent:
    return ReferralEvent.objects.create(
        referral=referral,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        provider_id=referral.provider_id,
        by=by,
        note=note,
        at=at or timezone.now(),
    )


def _deadlines(moment: datetime) -> dict:
    """Response due at the end of the Nth working day; a reminder to the officers at the start of
    that day; escalation to network admins a few working days after it."""
    due = workdays.deadline_after(moment, response_days())
    due_day = timezone.localdate(due)
    return {
        "response_due_at": due,
        "remind_at": workdays.start_of_working_day(due_day),
        "escalate_at": workdays.start_of_working_day(workdays.add_working_days(due_day, escalate_after_days())),
    }


# Asking for support ------------------------------------------------------------------------------


def _check_request(
    *,
    organisation: Organisation,
    needs: list[TaxonomyTerm],
    description: str,
    consent: bool,
    existing_provider: Organisation | None,
    contact_email: str,
) -> None:
    errors: dict[str, list[str]] = {}
    if not needs:
        errors["needs"] = [_("Choose at least one kind of support you need.")]
    elif any(term.taxonomy.code != "needs" or not term.is_active for term in needs):
        errors["needs"] = [_("Choose support needs from the list.")]
    if not description.strip():
        errors["description"] = [_("Say in a few words what help you need.")]
    elif len(description) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = [
            _("Keep the description to %(max)d characters; it has %(n)d.")
            % {"max": DESCRIPTION_MAX_LENGTH, "n": len(description)}
        ]
    if not consent:
        errors["consent"] = [
            _("We can only send your request with your consent to share these details with the provider.")
        ]
    if not organisation.is_active:
        errors["organisation"] = [_("%(name)s is marked as closed in the directory.") % {"name": organisation.name}]
    if existing_provider is not None and not selectors.referral_providers().filter(pk=existing_provider.pk).exists():
        errors["existing_provider"] = [_("That provider is closed or is not an infrastructure provider.")]
    if not contact_email:
        errors["contact_email"] = [_("Give an email address the provider can reach you on.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def submit_referral(
    *,
    organisation: Organisation,
    needs: list[TaxonomyTerm],
    description: str,
    urgency: str,
    stage: int | None,
    communities: list[TaxonomyTerm],
    language: TaxonomyTerm | None,
    existing_provider: Organisation | None,
    service: Service | None,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    consent: bool,
    consent_given_at: datetime | None = None,
    chosen_provider: Organisation | None,
    by: User,
    now: datetime | None = None,
) -> Referral:
    """Record a request for support and, if the group chose a provider, send it there.

    The router runs again here: the chosen provider must be one it suggests (or the group's own
    existing provider), so an id typed into the form by hand is refused.
    """
    now = now or timezone.now()
    require(by, "referrals.ask", organisation)
    _check_request(
        organisation=organisation,
        needs=needs,
        description=description,
        consent=consent,
        existing_provider=existing_provider,
        contact_email=contact_email,
    )
    routing = selectors.suggest_providers(
        needs=needs,
        segments=list(organisation.segments.values_list("pk", flat=True)),
        communities=communities,
        ward=organisation.ward_id,
        stage=stage,
        language=language,
        existing_provider=existing_provider,
        service=service,
    )
    suggestion = _chosen_suggestion(routing, chosen_provider)
    referral = _record_request(
        organisation=organisation,
        needs=needs,
        description=description,
        urgency=urgency,
        stage=stage,
        communities=communities,
        language=language,
        existing_provider=existing_provider,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        consent_given_at=consent_given_at or now,
        suggestions=routing.suggestions,
        by=by,
        now=now,
    )
    submitted = _event(referral, kind=Kind.SUBMITTED, by=by, to_status=Status.SUBMITTED, at=now)
    if suggestion is None:
        _notify(referral, submitted, by=by)
        return referral
    # No "submitted" email when it goes straight to a provider: the "sent" email says it all.
    _send_to_chosen_provider(referral, suggestion, by=by, now=now)
    return referral


def _chosen_suggestion(routing: selectors.Routing, chosen_provider: Organisation | None) -> selectors.Suggestion | None:
    """The router's suggestion for the provider the group chose (None when it chose none); a provider
    the router does not suggest (now paused or full, or typed in by hand) is refused."""
    if chosen_provider is None:
        return None
    suggestion = routing.find(chosen_provider.pk)
    if suggestion is None:
        raise ValidationError(
            {
                "provider": [
                    _(
                        "Choose one of the suggested providers; the one sent is not among them (it may have paused or filled up)."
                    )
                ]
            }
        )
    return suggestion


def _record_request(
    *,
    organisation: Organisation,
    needs: list[TaxonomyTerm],
    description: str,
    urgency: str,
    stage: int | None,
    communities: list[TaxonomyTerm],
    language: TaxonomyTerm | None,
    existing_provider: Organisation | None,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    consent_given_at: datetime,
    suggestions: list[selectors.Suggestion],
    by: User,
    now: datetime,
) -> Referral:
    """Save the request as a submitted referral, with the router's suggestions as shown to the group.

    It is "on behalf" when the person asking is not linked to the organisation. Its needs and
    communities are set here too; the "submitted" event is the caller's.
    """
    is_member = organisation.affiliations.filter(user=by).exists()
    referral = Referral.objects.create(
        organisation=organisation,
        description=description.strip(),
        urgency=urgency or Referral.Urgency.ROUTINE,
        stage=stage,
        language=language,
        existing_provider=existing_provider,
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip(),
        contact_phone=contact_phone.strip(),
        consent_purpose=str(CONSENT_PURPOSE),
        consent_given_at=consent_given_at,
        requested_by=by,
        on_behalf=not is_member,
        suggestions=[s.as_json() for s in suggestions],
        submitted_at=now,
        # Until a provider is chosen, the network admins must route it within the same deadline.
        **_deadlines(now),
    )
    referral.needs.set(needs)
    referral.communities.set(communities)
    return referral


def _send_to_chosen_provider(referral: Referral, suggestion: selectors.Suggestion, *, by: User, now: datetime) -> None:
    """Send a just-submitted referral straight to the provider (and service) the group chose, with the
    router's reasons as the note, and tell the provider."""
    Referral.objects.filter(pk=referral.pk).update(
        status=Status.WITH_PROVIDER,
        provider=suggestion.provider,
        service=suggestion.service,
        sent_at=now,
        version=F("version") + 1,
    )
    referral.refresh_from_db()
    sent = _event(
        referral,
        kind=Kind.SENT,
        by=by,
        from_status=Status.SUBMITTED,
        to_status=Status.WITH_PROVIDER,
        note=" ".join(suggestion.reasons),
        at=now,
    )
    _notify(referral, sent, by=by)


# The workflow --------------------------------------------------------------------------------------

# Which statuses each move may start from.
ALLOWED_FROM = {
    Kind.SENT: (Status.SUBMITTED,),
    Kind.ACCEPTED: (Status.WITH_PROVIDER,),
    Kind.DECLINED: (Status.WITH_PROVIDER,),
    Kind.PASSED_ON: (Status.WITH_PROVIDER, Status.ACCEPTED),
    Kind.STARTED: (Status.ACCEPTED,),
    Kind.CLOSED: (Status.ACCEPTED, Status.IN_PROGRESS),
    Kind.WITHDRAWN: Referral.OPEN_STATUSES,
}
ACTION_PERMISSION = {
    Kind.SENT: "referrals.route",
    Kind.ACCEPTED: "referrals.act",
    Kind.DECLINED: "referrals.act",
    Kind.PASSED_ON: "referrals.act",
    Kind.STARTED: "referrals.act",
    Kind.CLOSED: "referrals.act",
    Kind.WITHDRAWN: "referrals.withdraw",
}


def _refused(referral: Referral, kind: str) -> TransitionRefused:
    return TransitionRefused(
        _("A referral that is “%(status)s” cannot be %(what)s. Only a referral that is %(allowed)s can.")
        % {
            "status": referral.get_status_display().lower(),
            "what": {
                Kind.SENT: _("sent to a provider"),
                Kind.ACCEPTED: _("accepted"),
                Kind.DECLINED: _("declined"),
                Kind.PASSED_ON: _("passed on"),
                Kind.STARTED: _("marked as in progress"),
                Kind.CLOSED: _("closed"),
                Kind.WITHDRAWN: _("withdrawn"),
            }[kind],
            "allowed": _(" or ").join(f"“{Status(value).label.lower()}”" for value in ALLOWED_FROM[kind]),
        },
        code="invalid_transition",
    )


def _move(
    *,
    referral: Referral,
    kind: str,
    to_status: str,
    by: User,
    expected_version: int,
    note: str = "",
    changes: dict | None = None,
    now: datetime | None = None,
) -> tuple[Referral, ReferralEvent]:
    """Check and make one move, in the caller's transaction."""
    now = now or timezone.now()
    current = Referral.objects.select_related("organisation", "provider", "requested_by", "assigned_to").get(
        pk=referral.pk
    )
    require(by, ACTION_PERMISSION[kind], current)
    if current.version != expected_version:
        raise StaleReferral
    if current.status not in ALLOWED_FROM[kind]:
        raise _refused(current, kind)
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": [_("Keep the note to %(max)d characters.") % {"max": NOTE_MAX_LENGTH}]})
    updates = {"status": to_status, "version": F("version") + 1, "updated_at": now, **(changes or {})}
    if kind in ReferralEvent.ANSWERS and current.first_response_at is None and current.sent_at is not None:
        # Its first answer, timed from the sending it answers: read before a pass-on moves sent_at on.
        updates.update(first_response_at=now, first_response_after=now - current.sent_at)
    # The optimistic lock: the row changes only if nobody changed it since the form was drawn.
    if Referral.objects.filter(pk=current.pk, version=expected_version).update(**updates) != 1:
        raise StaleReferral
    before = current.status
    current.refresh_from_db()
    event = _event(current, kind=kind, by=by, from_status=before, to_status=to_status, note=note, at=now)
    return current, event


def _transition(
    *,
    referral: Referral,
    kind: str,
    to_status: str,
    by: User,
    expected_version: int,
    note: str = "",
    changes=None,
    now=None,
) -> Referral:
    with transaction.atomic():
        current, event = _move(
            referral=referral,
            kind=kind,
            to_status=to_status,
            by=by,
            expected_version=expected_version,
            note=note,
            changes=changes,
            now=now,
        )
        _notify(current, event, by=by)
        return current


def send_to_provider(
    *,
    referral: Referral,
    provider: Organisation,
    service: Service | None = None,
    by: User,
    expected_version: int,
    note: str = "",
    now=None,
) -> Referral:
    """A network admin sends a referral nobody has picked up yet to a provider."""
    now = now or timezone.now()
    _check_provider(provider, service)
    return _transition(
        referral=referral,
        kind=Kind.SENT,
        to_status=Status.WITH_PROVIDER,
        by=by,
        expected_version=expected_version,
        note=note,
        now=now,
        changes={"provider": provider, "service": service, "sent_at": now, **_deadlines(now)},
    )


def accept(*, referral: Referral, by: User, expected_version: int, note: str = "", now=None) -> Referral:
    return _transition(
        referral=referral,
        kind=Kind.ACCEPTED,
        to_status=Status.ACCEPTED,
        by=by,
        expected_version=expected_version,
        note=note,
        now=now,
        changes=None if referral.assigned_to_id else {"assigned_to": by},
    )


def decline(*, referral: Referral, by: User, expected_version: int, reason: str, now=None) -> Referral:
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the group a reason for declining.")]})
    now = now or timezone.now()
    return _transition(
        referral=referral,
        kind=Kind.DECLINED,
        to_status=Status.DECLINED,
        by=by,
        expected_version=expected_version,
        note=reason.strip(),
        now=now,
        changes={"closed_at": now},
    )


def _check_provider(provider: Organisation, service: Service | None) -> None:
    if not selectors.referral_providers().filter(pk=provider.pk).exists():
        raise ValidationError({"provider": [_("That provider is closed or is not an infrastructure provider.")]})
    if service is not None and (
        service.organisation_id != provider.pk or not Service.objects.taking_referrals().filter(pk=service.pk).exists()
    ):
        raise ValidationError({"service": [_("That service is not taking referrals at the moment.")]})


def pass_on(
    *,
    referral: Referral,
    by: User,
    expected_version: int,
    provider: Organisation,
    note: str,
    service: Service | None = None,
    now=None,
) -> Referral:
    """Send the referral on to a better-placed provider, with a note; their clock starts afresh."""
    if not note.strip():
        raise ValidationError(
            {"note": [_("Add a note for the next provider and the group: why it is being passed on.")]}
        )
    _check_provider(provider, service)
    if provider.pk == referral.provider_id:
        raise ValidationError({"provider": [_("Choose a different provider from the one that has it now.")]})
    now = now or timezone.now()
    return _transition(
        referral=referral,
        kind=Kind.PASSED_ON,
        to_status=Status.WITH_PROVIDER,
        by=by,
        expected_version=expected_version,
        note=note.strip(),
        now=now,
        changes={"provider": provider, "service": service, "assigned_to": None, "sent_at": now, **_deadlines(now)},
    )


def start_work(*, referral: Referral, by: User, expected_version: int, note: str = "", now=None) -> Referral:
    return _transition(
        referral=referral,
        kind=Kind.STARTED,
        to_status=Status.IN_PROGRESS,
        by=by,
        expected_version=expected_version,
        note=note,
        now=now,
    )


def close(*, referral: Referral, by: User, expected_version: int, outcome: str, note: str = "", now=None) -> Referral:
    if outcome not in Referral.Outcome.values or outcome == Referral.Outcome.WITHDRAWN:
        raise ValidationError({"outcome": [_("Choose the outcome: resolved, partly resolved or not resolved.")]})
    now = now or timezone.now()
    return _transition(
        referral=referral,
        kind=Kind.CLOSED,
        to_status=Status.CLOSED,
        by=by,
        expected_version=expected_version,
        note=note,
        now=now,
        changes={"outcome": outcome, "closed_at": now},
    )


def withdraw(*, referral: Referral, by: User, expected_version: int, note: str = "", now=None) -> Referral:
    """The group no longer needs the support: closed with the outcome "withdrawn"."""
    now = now or timezone.now()
    return _transition(
        referral=referral,
        kind=Kind.WITHDRAWN,
        to_status=Status.CLOSED,
        by=by,
        expected_version=expected_version,
        note=note,
        now=now,
        changes={"outcome": Referral.Outcome.WITHDRAWN, "closed_at": now},
    )


@transaction.atomic
def assign(
    *, referrals: list[Referral], officer: User, by: User, expected_versions: dict[int, int] | None = None
) -> int:
    """Give referrals to a named officer of the receiving provider. Returns how many changed.

    All or nothing: if any referral may not be assigned by this person, or the officer does not work
    for its provider, nothing is assigned.
    """
    changed = 0
    for referral in referrals:
        current = Referral.objects.select_related("provider", "organisation", "requested_by").get(pk=referral.pk)
        require(by, "referrals.act", current)
        if not current.is_open:
            raise ValidationError(
                _("Referral %(ref)s is %(status)s and cannot be assigned.")
                % {"ref": current.reference, "status": current.get_status_display().lower()}
            )
        if not selectors.officers_of(current.provider).filter(pk=officer.pk).exists():
            raise ValidationError(
                {
                    "officer": [
                        _("%(name)s is not an officer of %(provider)s.")
                        % {"name": officer.get_full_name() or officer.username, "provider": current.provider.name}
                    ]
                }
            )
        expected = (expected_versions or {}).get(current.pk, current.version)
        if current.assigned_to_id == officer.pk:
            continue
        if (
            Referral.objects.filter(pk=current.pk, version=expected).update(
                assigned_to=officer, version=F("version") + 1
            )
            != 1
        ):
            raise StaleReferral
        current.refresh_from_db()
        event = _event(
            current,
            kind=Kind.ASSIGNED,
            by=by,
            note=_("Assigned to %(name)s") % {"name": officer.get_full_name() or officer.username},
        )
        _notify(current, event, by=by)
        changed += 1
    return changed


@transaction.atomic
def give_feedback(
    *, referral: Referral, by: User, satisfaction: int, still_needed: str = "", now: datetime | None = None
) -> Feedback:
    now = now or timezone.now()
    current = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("organisation", "provider", "requested_by", "assigned_to")
        .get(pk=referral.pk)
    )
    require(by, "referrals.give_feedback", current)
    if current.status != Status.CLOSED:
        raise ValidationError(_("Feedback can be given once the referral is closed."))
    if Feedback.objects.filter(referral=current).exists():
        raise ValidationError(_("Feedback on this referral has already been given. Thank you!"))
    if satisfaction not in (1, 2, 3, 4, 5):
        raise ValidationError({"satisfaction": [_("Choose a number from 1 to 5.")]})
    if len(still_needed) > NOTE_MAX_LENGTH:
        raise ValidationError({"still_needed": [_("Keep it to %(max)d characters.") % {"max": NOTE_MAX_LENGTH}]})
    feedback = Feedback.objects.create(
        referral=current, satisfaction=satisfaction, still_needed=still_needed.strip(), given_by=by, given_at=now
    )
    event = _event(
        current, kind=Kind.FEEDBACK, by=by, note=_("Satisfaction: %(n)d out of 5") % {"n": satisfaction}, at=now
    )
    _notify(current, event, by=by)
    return feedback


# Reminders and escalation, run by the sweep (referrals.tasks.sweep_referrals) --------------------

_BATCH = 500


def _stamp(moment: datetime | None) -> str:
    return str(int(moment.timestamp())) if moment else "none"


def reminder_key(referral: Referral) -> str:
    # One per provider and per sending: a referral passed on is chased afresh at its new provider.
    return f"referral-reminder:{referral.pk}:{referral.provider_id or 'unrouted'}:{_stamp(referral.sent_at or referral.submitted_at)}"


def escalation_key(referral: Referral) -> str:
    return f"referral-escalation:{referral.pk}:{referral.provider_id or 'unrouted'}:{_stamp(referral.sent_at or referral.submitted_at)}"


def plan_referral_reminders(*, now: datetime | None = None) -> dict[str, int]:
    """Chase referrals nobody has answered: the officers on the due day, then the network admins.

    Database-driven and idempotent: each reminder is a Reminder row with a unique key, so running the
    sweep twice (or two sweeps at once) plans each one once. The Reminder rows are sent by the
    directory's reminder sweep.
    """
    now = now or timezone.now()
    awaiting = Referral.objects.awaiting_response().select_related(
        "organisation", "provider", "assigned_to", "requested_by"
    )
    counts = {"reminded": 0, "escalated": 0}
    for field, key_of, kind in (("remind_at", reminder_key, "reminded"), ("escalate_at", escalation_key, "escalated")):
        due = list(awaiting.filter(**{f"{field}__lte": now}).order_by("pk"))
        planned = planned_reminder_keys([key_of(referral) for referral in due])
        for referral in due:
            key = key_of(referral)
            if key in planned:
                continue
            with transaction.atomic():
                counts[kind] += _plan_chase(referral, key=key, escalate=kind == "escalated", now=now)
    return counts


def _plan_chase(referral: Referral, *, key: str, escalate: bool, now: datetime) -> bool:
    due = timezone.localtime(referral.response_due_at).strftime("%-d %B %Y") if referral.response_due_at else ""
    values = {
        "organisation": referral.organisation.name,
        "provider": referral.provider.name if referral.provider_id else "",
        "due": due,
    }
    if escalate or referral.provider_id is None:
        recipients = network_admin_emails()
        heading = _("Referral %(ref)s has not been answered") % {"ref": referral.reference}
        if referral.provider_id:
            message = (
                _(
                    "%(provider)s has not answered the request for support from %(organisation)s, due by %(due)s. Please follow it up."
                )
                % values
            )
        else:
            message = (
                _(
                    "The request for support from %(organisation)s has still not been sent to a provider (due by %(due)s)."
                )
                % values
            )
        audience = "admins"
    else:
        recipients = _provider_emails(referral)
        heading = _("Referral %(ref)s: a reply is due today") % {"ref": referral.reference}
        message = (
            _(
                "Please accept, decline or pass on the request for support from %(organisation)s by the end of today, %(due)s."
            )
            % values
        )
        audience = "provider"
    created = _plan_email(
        key=key,
        recipients=recipients,
        subject=heading,
        context=_context(referral, heading=heading, message=message, audience=audience),
        referral=referral,
        due_at=now,
        enqueue=False,
    )
    if created:
        _event(
            referral,
            kind=Kind.ESCALATED if escalate else Kind.REMINDED,
            by=None,
            note=_("Sent to %(n)d recipients.") % {"n": len(recipients)},
            at=now,
        )
    return created


# Personal data -----------------------------------------------------------------------------------


def _anonymise(referral: Referral, *, by: User | None, note: str, now: datetime) -> None:
    Referral.objects.filter(pk=referral.pk).update(
        contact_name="",
        contact_email="",
        contact_phone="",
        description=ERASED,
        anonymised_at=now,
        version=F("version") + 1,
    )
    # Free text anywhere in the history may name people; the facts (what, when, status) stay.
    referral.events.exclude(note="").update(note="")
    Feedback.objects.filter(referral=referral).exclude(still_needed="").update(still_needed=ERASED)
    _event(referral, kind=Kind.ANONYMISED, by=by, note=note, at=now)


def anonymise_expired_referrals(*, now: datetime | None = None) -> int:
    """Remove the personal data from referrals closed or declined longer ago than the retention
    period (PORTAL_REFERRAL_RETENTION_DAYS, three years by default). Idempotent: an anonymised
    referral is never touched again. Returns how many were anonymised."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days())
    ids = list(
        Referral.objects.finished()
        .filter(closed_at__lt=cutoff, anonymised_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), _BATCH):
        with transaction.atomic():
            for referral in Referral.objects.filter(pk__in=ids[start : start + _BATCH], anonymised_at__isnull=True):
                _anonymise(
                    referral, by=None, note=_("Retention period over: contact details and free text removed."), now=now
                )
    return len(ids)


@transaction.atomic
def erase_contact(*, email: str, by: User, now: datetime | None = None) -> int:
    """Erase one person's details from every referral that holds them (a request under UK GDPR).

    The referrals stay, without the person, so the network's counts still add up. The person's email
    address is also removed from the recipients of referral emails planned for them.
    Returns how many referrals were changed.
    """
    require(by, "referrals.manage_personal_data")
    now = now or timezone.now()
    email = email.strip()
    if not email:
        raise ValidationError({"email": [_("Give the email address of the person whose details are to be erased.")]})
    referrals = list(selectors.referrals_about_contact(email))
    for referral in referrals:
        _anonymise(referral, by=by, note=_("Contact details erased on request."), now=now)
    for reminder in Reminder.objects.filter(key__startswith="referral-", recipients__icontains=email):
        remaining = [address for address in reminder.recipients if address.lower() != email.lower()]
        Reminder.objects.filter(pk=reminder.pk).update(
            recipients=remaining,
            status=Reminder.Status.CANCELLED
            if reminder.status == Reminder.Status.PENDING and not remaining
            else reminder.status,
        )
    return len(referrals)
