"""Writes for the calendar and notice board. Keyword-only, one transaction each: nothing half-saved.

Emails go through the foundation's Reminder rows (notifications.services.schedule_reminder) with keys that
make planning idempotent; the directory's sweep sends whatever is due.
"""

import copy
import logging
import re
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import uploads
from directory.models import Location
from notifications.selectors import planned_reminder_keys
from notifications.services import cancel_pending_reminders, schedule_reminder
from notifications.tasks import enqueue_reminder
from organisations.models import Organisation

from . import recurrence
from .models import Booking, CalendarFeed, DigestSubscription, Event, Notice, NoticeReport
from .permissions import publishes_directly

logger = logging.getLogger(__name__)

EVENT_M2M_FIELDS = ("segments", "communities", "languages")
# Changing any of these tells calendar programs (SEQUENCE) that the event changed.
ICAL_FIELDS = (
    "title",
    "description",
    "start",
    "end",
    "frequency",
    "repeat_count",
    "repeat_until",
    "exceptions",
    "venue_id",
    "online_url",
    "location_text",
    "status",
    "category",
)
# Changing any of these moves the event for the people booked on it.
TIMING_FIELDS = ("start", "end", "frequency", "repeat_count", "repeat_until", "exceptions", "venue_id", "online_url")

_SCRIPT_RE = re.compile(r"<\s*/?\s*(script|iframe|object|embed|style)\b|javascript\s*:|\bon[a-z]+\s*=", re.IGNORECASE)


def refuse_script(text: str, *, field: str) -> None:
    """Script has no place in a description: say so, rather than silently dropping it."""
    if text and _SCRIPT_RE.search(text):
        raise ValidationError(
            {field: _("Remove the script or embedded code: plain text and Markdown (links, lists, bold) are allowed.")}
        )


def new_uid() -> str:
    import uuid

    return f"{uuid.uuid4()}@{settings.PORTAL_CALENDAR_UID_DOMAIN}"


def _snapshot(event: Event) -> dict:
    return {name: getattr(event, name) for name in ICAL_FIELDS}


# Events -------------------------------------------------------------------------------------------


@transaction.atomic
def save_event(
    *, event: Event, data: dict, by=None, local_start: datetime | None = None, local_end: datetime | None = None
) -> Event:
    """Create or update an event from cleaned data.

    `local_start`/`local_end` are naive Europe/London wall times as typed; a time the clocks skip is
    refused. Every problem is reported at once, each against its field. A new event from a provider
    (or a network admin) is published at once; one from a VCO waits for a moderator. A change to the
    time, place or status bumps the iCalendar SEQUENCE and tells everyone booked.
    """
    creating = event.pk is None
    stored = None if creating else Event.objects.select_for_update().get(pk=event.pk)
    before = None if creating else _snapshot(stored)
    old_capacity = None if creating else stored.capacity
    relations, problems = _prepare_event(event, data, by=by, local_start=local_start, local_end=local_end)
    if problems:
        raise ValidationError(problems)
    if creating:
        _start_new_event(event, by=by)
    elif stored.moderation == Event.Moderation.REJECTED and not _goes_straight_on(by, event.organiser):
        # Changed after a moderator turned it down: it goes back to the moderators.
        event.moderation, event.moderation_note = Event.Moderation.PENDING, ""
    event.full_clean(exclude=list(EVENT_M2M_FIELDS) + ["uid", "series_end"])
    changed = [] if creating else [name for name, value in before.items() if getattr(event, name) != value]
    if changed:
        event.sequence += 1
    event.save()
    for name, value in relations.items():
        getattr(event, name).set(value)
    if before is not None:
        _after_change(event=event, before=before, changed=changed)
        _offer_new_places(event=event, old_capacity=old_capacity)
    return event


def event_problems(
    *, event: Event, data: dict, by=None, local_start: datetime | None = None, local_end: datetime | None = None
) -> dict[str, list[str]]:
    """Every problem save_event would find with this data, by field, without saving or changing the
    event: the event form shows them together with its own errors."""
    return _prepare_event(copy.copy(event), data, by=by, local_start=local_start, local_end=local_end)[1]


def _prepare_event(
    event: Event, data: dict, *, by, local_start: datetime | None, local_end: datetime | None
) -> tuple[dict, dict[str, list[str]]]:
    """Copy the data onto the event; return the many-to-many lists to set once it is saved, and every
    problem found (field name to messages)."""
    data = dict(data)
    problems: dict[str, list[str]] = {}
    _collect(problems, _set_local_times, data, local_start=local_start, local_end=local_end)
    _collect(problems, refuse_script, data.get("title", event.title), field="title")
    _collect(problems, refuse_script, data.get("description", event.description), field="description")
    relations = _apply_event_data(event, data)
    if "start" not in problems and "end" not in problems:  # a series is checked on times that could be read
        _collect(problems, _check_series, event)
    _collect(problems, _check_event, event, by=by)
    return relations, problems


def _collect(problems: dict[str, list[str]], check, *args, **kwargs) -> None:
    try:
        check(*args, **kwargs)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            known = problems.setdefault(name, [])
            known.extend(message for message in messages if message not in known)


def _set_local_times(data: dict, *, local_start: datetime | None, local_end: datetime | None) -> None:
    """Put the wall times as typed into `data` as aware datetimes; a time the clocks skip is refused,
    with both fields' errors reported together."""
    errors = {}
    if local_start is not None:
        try:
            data["start"] = recurrence.make_local(local_start, field="start")
        except ValidationError as error:
            errors.update(error.message_dict)
    if local_end is not None:
        try:
            data["end"] = recurrence.make_local(local_end, field="end")
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)


def _apply_event_data(event: Event, data: dict) -> dict:
    """Copy the data onto the event, returning the many-to-many lists to set once it is saved (they are
    taken out of `data`). A one-off event keeps no repetition; exception dates are kept sorted, once each."""
    relations = {name: data.pop(name) for name in EVENT_M2M_FIELDS if name in data}
    for name, value in data.items():
        setattr(event, name, value)
    if event.frequency == Event.Frequency.ONCE:
        event.repeat_count, event.repeat_until, event.exceptions = None, None, []
    event.exceptions = sorted({str(day) for day in (event.exceptions or [])})
    return relations


def _check_event(event: Event, *, by) -> None:
    """Refuse an event with nowhere to go, at another organiser's venue (network admins excepted), paid
    with no cost given, or with fewer than 1 place: every one of these at once."""
    errors = {}
    if not event.venue_id and not event.online_url and not event.location_text:
        errors["venue"] = _("Choose a venue or give an online link (or both).")
    elif event.venue_id and event.venue.organisation_id != event.organiser_id and not (by and by.is_network_admin):
        errors["venue"] = _("Choose one of the organiser's own venues.")
    if not event.is_free and event.cost is None:
        errors["cost"] = _("Give the cost, or tick “free”.")
    if event.capacity is not None and event.capacity < 1:
        errors["capacity"] = _("Places must be at least 1, or left empty for no limit.")
    if errors:
        raise ValidationError(errors)


def _check_series(event: Event) -> None:
    """Check the repetition and record when the series ends."""
    if event.start is None or event.end is None:
        return
    event.series_end = recurrence.validate_series(
        start=event.start,
        end=event.end,
        frequency=event.frequency,
        count=event.repeat_count,
        until=event.repeat_until,
        exceptions=event.exceptions,
    )


def _start_new_event(event: Event, *, by) -> None:
    """Give a new event its calendar UID and creator, and decide its moderation: published at once when
    a network admin adds it or its organiser publishes directly (a provider), otherwise waiting."""
    event.uid = event.uid or new_uid()
    event.created_by = by
    if _goes_straight_on(by, event.organiser):
        event.moderation = Event.Moderation.APPROVED
    else:
        event.moderation = Event.Moderation.PENDING


def _goes_straight_on(by, organisation: Organisation) -> bool:
    """A network admin's events and notices, and a provider's, need no moderator."""
    return (by is not None and by.is_network_admin) or publishes_directly(organisation)


def _offer_new_places(*, event: Event, old_capacity: int | None) -> None:
    """If a change added places (or lifted the limit), promote the people waiting for upcoming dates."""
    if event.capacity != old_capacity and (
        event.capacity is None or (old_capacity is not None and event.capacity > old_capacity)
    ):
        # More places: the people waiting get them, first come first served.
        waiting_dates = (
            event.bookings.filter(status=Booking.Status.WAITING, occurrence_start__gt=timezone.now())
            .values_list("occurrence_start", flat=True)
            .distinct()
            .order_by("occurrence_start")
        )
        for occurrence_start in list(waiting_dates):
            promote_waiting(event=event, occurrence_start=occurrence_start)


def _after_change(*, event: Event, before: dict, changed: list[str]) -> None:
    """Move bookings to the new times and tell the people booked."""
    moved = any(name in changed for name in TIMING_FIELDS)
    cancelled = "status" in changed and event.status == Event.Status.CANCELLED
    postponed = "status" in changed and event.status == Event.Status.POSTPONED
    if not (moved or cancelled or postponed):
        return
    if moved and not cancelled:
        _move_bookings(event=event, before=before)
    what = "cancelled" if cancelled else "postponed" if postponed else "moved"
    notify_booked(event=event, change=what)


def _occurrence_starts(fields: dict, event: Event) -> list[datetime]:
    starts = recurrence.local_starts(
        start=fields["start"],
        frequency=fields["frequency"],
        count=fields["repeat_count"],
        until=fields["repeat_until"],
        exceptions=fields["exceptions"] or (),
    )
    return [recurrence.to_aware(value) for value in starts]


def _move_bookings(*, event: Event, before: dict) -> None:
    """Bookings follow their occurrence by position in the series; one whose date went is cancelled."""
    old = _occurrence_starts(before, event)
    new = _occurrence_starts(_snapshot(event), event)
    mapping = {start: (new[index] if index < len(new) else None) for index, start in enumerate(old)}
    now = timezone.now()
    for booking in event.bookings.active().select_for_update().order_by("pk"):
        target = mapping.get(booking.occurrence_start)
        if target == booking.occurrence_start:
            continue
        if target is None:
            booking.status, booking.cancelled_at = Booking.Status.CANCELLED, now
            booking.save(update_fields=["status", "cancelled_at"])
        else:
            booking.occurrence_start = target
            booking.save(update_fields=["occurrence_start"])
    _cancel_planned_reminders(event=event)


def _cancel_planned_reminders(*, event: Event) -> None:
    # Day-before reminders planned for the old times must not go out; the sweep plans new ones.
    cancel_pending_reminders(
        key_prefix=f"calendar-reminder:{event.pk}:", reason=_("The event changed; a new reminder is planned.")
    )


def notify_booked(*, event: Event, change: str) -> int:
    """Tell everyone booked (or waiting) that the event was cancelled, postponed or moved. Once per change."""
    upcoming = (
        event.bookings.active().filter(occurrence_start__gte=timezone.now() - timedelta(days=1)).select_related("user")
    )
    subjects = {
        "cancelled": _("Cancelled: %(title)s"),
        "postponed": _("Postponed: %(title)s"),
        "moved": _("Changed: %(title)s has a new time or place"),
    }
    planned = 0
    for booking in upcoming:
        if not booking.user.email:
            continue
        reminder, created = schedule_reminder(
            key=f"calendar-change:{event.pk}:{event.sequence}:{booking.pk}",
            kind="calendar-change",
            recipients=[booking.user.email],
            subject=subjects[change] % {"title": event.title},
            template="emails/calendar_changed",
            context=_email_context(event, booking) | {"change": change},
            about=event.organiser,
        )
        if created:
            planned += 1
            enqueue_reminder(reminder.pk)
    if change == "cancelled":
        _cancel_planned_reminders(event=event)
    return planned


def _email_context(event: Event, booking: Booking | None = None) -> dict:
    context = {
        "title": event.title,
        "organiser": event.organiser.name,
        "event_url": event.get_absolute_url(),
        "place": (
            str(event.venue)
            if event.venue_id
            else event.joining_link_for(has_place=booking is not None and booking.status == Booking.Status.BOOKED)
            or (_("Online") if event.online_url else event.location_text)
        ),
        "status": event.status,
    }
    if booking is not None:
        local = booking.occurrence_start.astimezone(recurrence.LONDON)
        context |= {"when": local.strftime("%A %-d %B %Y, %H:%M"), "booking_status": booking.status}
    return context


@transaction.atomic
def moderate_event(*, event: Event, approve: bool, by, note: str = "") -> Event:
    """Publish or reject an event; its creator is told by email when the decision changes."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    moderation = Event.Moderation.APPROVED if approve else Event.Moderation.REJECTED
    decided = event.moderation != moderation
    event.moderation = moderation
    event.moderation_note = note
    event.save(update_fields=["moderation", "moderation_note", "updated_at"])
    if decided:
        tell_of_moderation(record=event, author=event.created_by, published=approve, note=note, by=by)
    return event


def tell_of_moderation(*, record: Event | Notice, author, published: bool, note: str, by) -> bool:
    """Email the author of an event or notice that a moderator published it, or did not and why.

    Once per decision (the record's change time is in the key); nobody is told of their own decision.
    Returns True if an email was planned.
    """
    if author is None or not author.email or (by is not None and author.pk == by.pk):
        return False
    what = "event" if isinstance(record, Event) else "notice"
    subject = _("Published: %(title)s") if published else _("Not published: %(title)s")
    reminder, created = schedule_reminder(
        key=f"calendar-moderated:{what}:{record.pk}:{published:d}:{timezone.now().isoformat()}",
        kind="calendar-moderated",
        recipients=[author.email],
        subject=subject % {"title": record.title},
        template="emails/calendar_moderated",
        context={
            "what": what,
            "title": record.title,
            "published": published,
            "note": note,
            "url": record.get_absolute_url(),
        },
        about=record.organiser if isinstance(record, Event) else record.organisation,
    )
    if created:
        enqueue_reminder(reminder.pk)
    return created


def set_event_status(*, event: Event, status: str, by=None) -> Event:
    return save_event(event=event, data={"status": status}, by=by)


# Locations (the directory's record, owned by the organisation) ------------------------------------


@transaction.atomic
def create_location(*, organisation: Organisation, data: dict, by=None) -> Location:
    """Add a venue to an organisation's record, for its events."""
    location = Location(organisation=organisation, **data)
    location._history_user = by
    location.full_clean()
    location.save()
    return location


# Bookings -----------------------------------------------------------------------------------------


def _locked_event(event_id: int) -> Event:
    # The one lock every booking change takes: two people booking the last place queue here.
    return Event.objects.select_for_update().select_related("organiser").get(pk=event_id)


def booked_count(event: Event, occurrence_start: datetime) -> int:
    return event.bookings.filter(occurrence_start=occurrence_start, status=Booking.Status.BOOKED).count()


@transaction.atomic
def book(
    *,
    event: Event,
    occurrence_start: datetime,
    user,
    organisation: Organisation | None = None,
    join_waiting_list: bool = False,
) -> Booking:
    """Book a place (or a waiting-list place, when asked and full). Refuses with a clear reason."""
    event = _locked_event(event.pk)
    now = timezone.now()
    if not event.is_published:
        raise ValidationError(_("This event is not published, so it cannot be booked."))
    if event.status == Event.Status.CANCELLED:
        raise ValidationError(_("This event has been cancelled, so it cannot be booked."))
    if event.status == Event.Status.POSTPONED:
        raise ValidationError(_("This event has been postponed: it can be booked again once it has a new date."))
    if not event.booking_required:
        raise ValidationError(_("This event does not need booking: just come along."))
    valid = {occurrence.start for occurrence in recurrence.occurrences(event)}
    if occurrence_start not in valid:
        raise ValidationError(_("That date is not one of this event's dates."))
    if occurrence_start <= now:
        raise ValidationError(_("This event has already started or is over, so it cannot be booked."))
    if event.bookings.active().filter(occurrence_start=occurrence_start, user=user).exists():
        raise ValidationError(_("You have already booked this event (or are on its waiting list)."))
    full = event.capacity is not None and booked_count(event, occurrence_start) >= event.capacity
    if full and not join_waiting_list:
        raise ValidationError(
            _("This event is full. You can join the waiting list and will be told if a place frees up.")
        )
    booking = Booking(
        event=event,
        occurrence_start=occurrence_start,
        user=user,
        organisation=organisation,
        status=Booking.Status.WAITING if full else Booking.Status.BOOKED,
        created_at=now,
    )
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError:
        raise ValidationError(_("You have already booked this event (or are on its waiting list).")) from None
    return booking


@transaction.atomic
def cancel_booking(*, booking: Booking, by=None) -> Booking:
    """Cancel a booking; if it held a place, the next person waiting gets it and is told."""
    event = _locked_event(booking.event_id)
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status == Booking.Status.CANCELLED:
        raise ValidationError(_("This booking is already cancelled."))
    had_place = booking.status == Booking.Status.BOOKED
    booking.status, booking.cancelled_at = Booking.Status.CANCELLED, timezone.now()
    booking.save(update_fields=["status", "cancelled_at"])
    cancel_pending_reminders(
        key_prefix=f"calendar-reminder:{event.pk}:{booking.pk}:", reason=_("The booking was cancelled.")
    )
    if had_place and booking.occurrence_start > timezone.now():
        promote_waiting(event=event, occurrence_start=booking.occurrence_start)
    return booking


def promote_waiting(*, event: Event, occurrence_start: datetime) -> list[Booking]:
    """Fill free places from the waiting list, first come first served. Call with the event locked."""
    promoted = []
    while event.capacity is None or booked_count(event, occurrence_start) < event.capacity:
        waiting = (
            event.bookings.select_for_update()
            .select_related("user")
            .filter(occurrence_start=occurrence_start, status=Booking.Status.WAITING)
            .order_by("created_at", "pk")
            .first()
        )
        if waiting is None:
            break
        waiting.status, waiting.promoted_at = Booking.Status.BOOKED, timezone.now()
        waiting.save(update_fields=["status", "promoted_at"])
        promoted.append(waiting)
        if waiting.user.email:
            reminder, created = schedule_reminder(
                key=f"calendar-promoted:{waiting.pk}",
                kind="calendar-promoted",
                recipients=[waiting.user.email],
                subject=_("A place has come up: %(title)s") % {"title": event.title},
                template="emails/calendar_promoted",
                context=_email_context(event, waiting),
                about=event.organiser,
            )
            if created:
                enqueue_reminder(reminder.pk)
    return promoted


@transaction.atomic
def mark_attendance(*, event: Event, occurrence_start: datetime, attended_ids: set[int], by=None) -> int:
    """Record who came to one occurrence: ticked bookings attended, the rest did not. Returns how many came."""
    bookings = list(
        event.bookings.select_for_update().filter(occurrence_start=occurrence_start, status=Booking.Status.BOOKED)
    )
    for booking in bookings:
        booking.attended = booking.pk in attended_ids
    Booking.objects.bulk_update(bookings, ["attended"])
    return sum(1 for booking in bookings if booking.attended)


def plan_event_reminders(*, now: datetime | None = None) -> int:
    """Plan the day-before reminder for each booking on an occurrence in the next 36 hours. Idempotent."""
    now = now or timezone.now()
    bookings = (
        Booking.objects.filter(
            status=Booking.Status.BOOKED,
            occurrence_start__gt=now,
            occurrence_start__lte=now + timedelta(hours=36),
            event__status=Event.Status.SCHEDULED,
            event__is_withdrawn=False,
        )
        .exclude(user__email="")
        .select_related("event", "event__organiser", "event__venue", "user")
    )
    keys = {
        booking.pk: f"calendar-reminder:{booking.event_id}:{booking.pk}:{booking.occurrence_start.isoformat()}"
        for booking in bookings
    }
    planned = planned_reminder_keys(list(keys.values()))
    created = 0
    for booking in bookings:
        if keys[booking.pk] in planned:
            continue
        event = booking.event
        created += schedule_reminder(
            key=keys[booking.pk],
            kind="calendar-reminder",
            recipients=[booking.user.email],
            subject=_("Tomorrow: %(title)s") % {"title": event.title},
            template="emails/calendar_reminder",
            context=_email_context(event, booking),
            due_at=max(booking.occurrence_start - timedelta(days=1), now),
            about=event.organiser,
        )[1]
    return created


# Notice board -------------------------------------------------------------------------------------


@transaction.atomic
def save_notice(*, notice: Notice, data: dict, attachment=None, by=None, today: date | None = None) -> Notice:
    """Create or update a notice. The attachment is checked by its content before anything is saved;
    every problem is reported at once, each against its field."""
    problems, kind = _notice_problems(notice, data, attachment=attachment, today=today)
    if problems:
        raise ValidationError(problems)
    for name, value in data.items():
        setattr(notice, name, value)
    if attachment is not None:
        notice.attachment_kind = kind
        attachment.name = f"notice.{uploads.EXTENSIONS[kind]}"
        notice.attachment = attachment
    if notice.pk is None:
        notice.posted_by = by
        if _goes_straight_on(by, notice.organisation):
            notice.status, notice.published_at = Notice.Status.PUBLISHED, timezone.now()
        else:
            notice.status = Notice.Status.PENDING
    elif notice.status == Notice.Status.HIDDEN and not _goes_straight_on(by, notice.organisation):
        # Changed after a moderator hid it: it goes back to the moderators.
        notice.status, notice.moderation_note = Notice.Status.PENDING, ""
    notice.full_clean(exclude=["attachment"])
    notice.save()
    return notice


def notice_problems(*, notice: Notice, data: dict, attachment=None, today: date | None = None) -> dict[str, list[str]]:
    """Every problem save_notice would find, by field, without saving: for the notice form."""
    return _notice_problems(notice, data, attachment=attachment, today=today)[0]


def _notice_problems(notice: Notice, data: dict, *, attachment, today: date | None) -> tuple[dict, str | None]:
    """The problems with a notice's data (field name to messages), and the attachment's checked type."""
    today = today or timezone.localdate()
    problems: dict[str, list[str]] = {}
    _collect(problems, refuse_script, data.get("title", notice.title), field="title")
    _collect(problems, refuse_script, data.get("text", notice.text), field="text")
    expires_on = data.get("expires_on", notice.expires_on)
    if expires_on and expires_on < today:
        problems["expires_on"] = [_("The date to show it until cannot be in the past.")]
    elif expires_on and expires_on > today + timedelta(days=settings.PORTAL_NOTICE_MAX_DAYS):
        problems["expires_on"] = [
            _("A notice can be shown for at most %(days)s days.") % {"days": settings.PORTAL_NOTICE_MAX_DAYS}
        ]
    kind = None
    if attachment is not None:
        try:
            kind = uploads.check_upload(
                attachment,
                allowed={uploads.PDF} | uploads.IMAGES,
                max_bytes=settings.PORTAL_NOTICE_ATTACHMENT_MAX_BYTES,
            )
        except ValidationError as error:
            problems["attachment"] = error.messages
    return problems, kind


@transaction.atomic
def moderate_notice(*, notice: Notice, publish: bool, by=None, note: str = "") -> Notice:
    """Publish or hide a notice; its poster is told by email when the decision changes."""
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    status = Notice.Status.PUBLISHED if publish else Notice.Status.HIDDEN
    if publish and notice.published_at is None:
        notice.published_at = timezone.now()
    decided = notice.status != status
    notice.status = status
    notice.moderation_note = note
    notice.save(update_fields=["status", "published_at", "moderation_note"])
    if not publish:
        notice.reports.update(is_resolved=True)
    if decided:
        tell_of_moderation(record=notice, author=notice.posted_by, published=publish, note=note, by=by)
    return notice


def report_notice(*, notice: Notice, reason: str, details: str = "", by=None) -> NoticeReport:
    """Anyone may report a notice; network admins are told once per notice per day."""
    if reason not in NoticeReport.Reason.values:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    refuse_script(details, field="details")
    report = NoticeReport(
        notice=notice, reason=reason, details=details, reported_by=by if by and by.is_authenticated else None
    )
    report.full_clean()
    report.save()
    from accounts.selectors import network_admin_emails

    recipients = network_admin_emails()
    if recipients:
        reminder, created = schedule_reminder(
            key=f"calendar-notice-report:{notice.pk}:{timezone.localdate().isoformat()}",
            kind="calendar-notice-report",
            recipients=recipients,
            subject=_("A notice was reported: %(title)s") % {"title": notice.title},
            template="emails/calendar_notice_report",
            context={
                "title": notice.title,
                "reason": report.get_reason_display(),
                "details": details,
                "admin_url": reverse("admin:calendar_events_noticereport_changelist"),
            },
            about=notice.organisation,
        )
        if created:
            enqueue_reminder(reminder.pk)
    return report


def archive_expired_notices(*, today: date | None = None) -> int:
    """Notices past their date come off the board (they already stopped showing; this files them away)."""
    today = today or timezone.localdate()
    return Notice.objects.filter(
        status__in=[Notice.Status.PUBLISHED, Notice.Status.PENDING], expires_on__lt=today
    ).update(status=Notice.Status.ARCHIVED)


# Weekly digest ------------------------------------------------------------------------------------


def set_digest_subscription(*, user, subscribed: bool) -> DigestSubscription:
    subscription, _created = DigestSubscription.objects.update_or_create(user=user, defaults={"is_active": subscribed})
    return subscription


def plan_weekly_digest(*, today: date | None = None) -> int:
    """On the digest weekday, plan one email per subscriber about the past week's new notices and
    events. The key holds the ISO week, so planning twice (or two sweeps) sends once."""
    from . import selectors

    today = today or timezone.localdate()
    if today.weekday() != settings.PORTAL_DIGEST_WEEKDAY:
        return 0
    year, week, _weekday = today.isocalendar()
    since = timezone.make_aware(datetime.combine(today - timedelta(days=7), datetime.min.time()))
    items = selectors.digest_items(since=since, today=today)
    if not items["notices"] and not items["events"]:
        return 0
    created = 0
    for user_id, email in (
        DigestSubscription.objects.filter(is_active=True, user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", "user__email")
    ):
        created += schedule_reminder(
            key=f"calendar-digest:{user_id}:{year}-W{week:02d}",
            kind="calendar-digest",
            recipients=[email],
            subject=_("This week on the community calendar and notice board"),
            template="emails/calendar_digest",
            context={**items, "manage_url": reverse("calendar_events:digest")},
        )[1]
    return created


# Feeds in -------------------------------------------------------------------------------------------


@transaction.atomic
def register_feed(*, organisation: Organisation, url: str, category: str, by=None) -> CalendarFeed:
    if CalendarFeed.objects.filter(organisation=organisation, url=url).exists():
        raise ValidationError(
            {"url": _("This feed is registered for %(organisation)s already.") % {"organisation": organisation}}
        )
    feed = CalendarFeed(organisation=organisation, url=url, category=category, created_by=by)
    feed.full_clean()
    if not url.lower().startswith(("http://", "https://")):
        raise ValidationError({"url": _("The feed address must start with http:// or https://.")})
    feed.save()
    return feed


def remove_feed(*, feed: CalendarFeed) -> None:
    """Stop importing a feed; its events are withdrawn from the calendar."""
    with transaction.atomic():
        feed.events.update(is_withdrawn=True)
        feed.delete()
