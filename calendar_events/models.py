"""Events and their bookings, feeds coming in from partners, the notice board and the weekly digest.

Times are stored in UTC; an event's wall-clock times are Europe/London (settings.TIME_ZONE), and a
recurring event keeps its wall-clock time across the clock changes (see calendar_events.recurrence).
"""

import uuid
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from core.files import private_file_storage, random_name
from core.parameters import EARLIEST, LATEST
from core.run_logs import RunLog
from directory.models import Location
from organisations.models import Organisation
from taxonomies.models import TaxonomyTerm

from .recurrence import LONDON, nth_weekday


class Category(models.TextChoices):
    TRAINING = "training", _("Training")
    NETWORKING = "networking", _("Networking")
    FORUM = "forum", _("Forum or meeting")
    FUNDING = "funding", _("Funding information")
    CONSULTATION = "consultation", _("Consultation")
    SOCIAL = "social", _("Social")
    OTHER = "other", _("Other")


# The years the calendar works in (the window its pages accept dates in). An event with a date outside
# them (year 1 or 9999, say) would break every page, feed and admin screen showing it, as working out its
# local times and its series leaves Python's years 1 to 9999: the database refuses to store one.
CALENDAR_FIRST = datetime.combine(EARLIEST, time.min, tzinfo=dt_timezone.utc)
CALENDAR_END = datetime.combine(LATEST + timedelta(days=1), time.min, tzinfo=dt_timezone.utc)


class EventQuerySet(models.QuerySet):
    def published(self) -> "EventQuerySet":
        """Events the public calendar and its feeds show: approved, not withdrawn (by its feed, or with
        its feed removed), from an open organisation."""
        return self.filter(moderation=Event.Moderation.APPROVED, is_withdrawn=False, organiser__is_active=True)

    def overlapping(self, start, end) -> "EventQuerySet":
        """Events with at least one occurrence that may fall in [start, end)."""
        return self.filter(start__lt=end, series_end__gt=start)


# nth_weekday's answers, in words.
ORDINALS = {1: _("first"), 2: _("second"), 3: _("third"), 4: _("fourth"), -1: _("last")}


class Event(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        POSTPONED = "postponed", _("Postponed")

    class Moderation(models.TextChoices):
        PENDING = "pending", _("Waiting for moderation")
        APPROVED = "approved", _("Published")
        REJECTED = "rejected", _("Rejected")

    class Frequency(models.TextChoices):
        ONCE = "once", _("Once only")
        WEEKLY = "weekly", _("Every week")
        FORTNIGHTLY = "fortnightly", _("Every two weeks")
        MONTHLY = "monthly", _("Every month, on the same weekday (for example the second Tuesday)")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The iCalendar UID: stable for the life of the event. Imported events keep their feed's UID.
    uid = models.CharField(_("iCalendar UID"), max_length=255, unique=True, editable=False)
    sequence = models.PositiveIntegerField(_("iCalendar sequence"), default=0, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=20000, blank=True, help_text=_("Markdown is allowed."))
    organiser = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="events", verbose_name=_("organiser")
    )
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.OTHER, db_index=True
    )
    segments = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="events_for_segment",
        verbose_name=_("for specialist segments"),
        limit_choices_to={"taxonomy__code": "segments"},
    )
    communities = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="events_for_community",
        verbose_name=_("for communities"),
        limit_choices_to={"taxonomy__code": "communities"},
    )
    for_stage_1 = models.BooleanField(_("for stage 1 (emerging) groups"), default=True)
    for_stage_2 = models.BooleanField(_("for stage 2 (improving) groups"), default=True)
    for_stage_3 = models.BooleanField(_("for stage 3 (established) groups"), default=True)
    languages = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="events_in_language",
        verbose_name=_("languages"),
        limit_choices_to={"taxonomy__code": "languages"},
    )

    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"))
    frequency = models.CharField(_("repeats"), max_length=12, choices=Frequency.choices, default=Frequency.ONCE)
    repeat_count = models.PositiveSmallIntegerField(_("number of times"), null=True, blank=True)
    repeat_until = models.DateField(_("repeats until"), null=True, blank=True)
    # Local dates (ISO strings) on which a recurring event does not happen.
    exceptions = models.JSONField(_("dates it does not happen"), default=list, blank=True)
    # When the last occurrence ends: lets the calendar find events overlapping a range with one query.
    series_end = models.DateTimeField(_("last occurrence ends"), editable=False, db_index=True)

    venue = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="events", verbose_name=_("venue")
    )
    online_url = models.URLField(_("online link"), blank=True)
    # Where an imported event says it is, in its feed's own words (portal events use a venue).
    location_text = models.CharField(_("place, as its feed gives it"), max_length=500, blank=True)
    capacity = models.PositiveIntegerField(_("places"), null=True, blank=True, help_text=_("Leave empty for no limit."))
    booking_required = models.BooleanField(_("booking needed"), default=False)
    is_free = models.BooleanField(_("free"), default=True)
    cost = models.DecimalField(_("cost (£)"), max_digits=8, decimal_places=2, null=True, blank=True)
    cost_notes = models.CharField(_("about the cost"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True
    )
    moderation = models.CharField(
        _("moderation"), max_length=10, choices=Moderation.choices, default=Moderation.PENDING
    )
    moderation_note = models.CharField(_("moderation note"), max_length=500, blank=True)

    # Imported events: the feed they came from and a digest of what it said, so an unchanged
    # re-import writes nothing.
    feed = models.ForeignKey(
        "CalendarFeed",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("imported from"),
    )
    remote_uid = models.CharField(_("UID in its feed"), max_length=500, blank=True, editable=False)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    is_withdrawn = models.BooleanField(_("withdrawn from its feed"), default=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["start", "pk"]
        indexes = [models.Index(fields=["moderation", "start", "series_end"])]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="event_starts_before_it_ends"),
            models.CheckConstraint(
                condition=Q(start__gte=CALENDAR_FIRST, series_end__lte=CALENDAR_END),
                name="event_dates_in_calendar_window",
            ),
            models.UniqueConstraint(
                fields=["feed", "remote_uid"], condition=Q(feed__isnull=False), name="one_event_per_feed_uid"
            ),
        ]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("calendar_events:event_detail", kwargs={"event_uuid": self.uuid})

    @property
    def is_recurring(self) -> bool:
        return self.frequency != self.Frequency.ONCE

    @property
    def repeats_text(self) -> str:
        """How the event repeats, in words that match its date: "Every month on the second Wednesday"."""
        local_start = self.start.astimezone(LONDON)
        day = formats.date_format(local_start, "l")
        if self.frequency == self.Frequency.WEEKLY:
            return _("Every week on %(day)s") % {"day": day}
        if self.frequency == self.Frequency.FORTNIGHTLY:
            return _("Every two weeks on %(day)s") % {"day": day}
        if self.frequency == self.Frequency.MONTHLY:
            which = ORDINALS[nth_weekday(local_start.date())]
            return _("Every month on the %(which)s %(day)s") % {"which": which, "day": day}
        return str(self.Frequency.ONCE.label)

    @property
    def is_online(self) -> bool:
        return bool(self.online_url)

    def joining_link_for(self, *, has_place: bool, manages: bool = False) -> str:
        """The online joining link, for someone who has a place (or runs the event), or for anyone when
        no booking is needed; "" otherwise, so the link is never where people without a place can take it
        (the page, its JSON-LD, the .ics feeds, emails to people on the waiting list)."""
        if not self.online_url or (self.booking_required and not (has_place or manages)):
            return ""
        return self.online_url

    @property
    def is_published(self) -> bool:
        return self.moderation == self.Moderation.APPROVED and not self.is_withdrawn

    @property
    def stages(self) -> list[int]:
        return [n for n in (1, 2, 3) if getattr(self, f"for_stage_{n}")]


class BookingQuerySet(models.QuerySet):
    def active(self) -> "BookingQuerySet":
        return self.filter(status__in=[Booking.Status.BOOKED, Booking.Status.WAITING])

    def with_waiting_position(self) -> "BookingQuerySet":
        """Each booking with `waiting_position`: for one on the waiting list, its place in the queue (1 is
        next), in the order places are offered (services.promote_waiting: by when asked, then id)."""
        ahead = (
            Booking.objects.filter(
                event=OuterRef("event"), occurrence_start=OuterRef("occurrence_start"), status=Booking.Status.WAITING
            )
            .filter(Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk")))
            .order_by()
            .values("event")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return self.annotate(waiting_position=Coalesce(Subquery(ahead), 0) + 1)


class Booking(models.Model):
    """A person's place (or place in the queue) at one occurrence of an event."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        WAITING = "waiting", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="bookings", verbose_name=_("event"))
    occurrence_start = models.DateTimeField(_("occurrence"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_bookings", verbose_name=_("person")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="event_bookings",
        verbose_name=_("booking for organisation"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    created_at = models.DateTimeField(_("booked at"), default=timezone.now)
    promoted_at = models.DateTimeField(_("given a place from the waiting list at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["occurrence_start", "created_at", "pk"]
        constraints = [
            # One live booking (or waiting-list place) per person per occurrence: the database refuses doubles.
            models.UniqueConstraint(
                fields=["event", "occurrence_start", "user"],
                condition=Q(status__in=["booked", "waiting"]),
                name="one_active_booking_per_person_and_occurrence",
            ),
        ]
        indexes = [models.Index(fields=["event", "occurrence_start", "status"])]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")

    def __str__(self) -> str:
        return f"{self.user} – {self.event} ({self.get_status_display()})"


class BookedDate(models.Model):
    """Places booked (not cancelled) at one occurrence of an event, and how many of them attended: the
    bookings grouped by event date, which the evidence figures read instead of every booking. Kept by
    database triggers on the bookings (migration 0005), so no write path can leave it behind; a date
    with no place booked has no row."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="booked_dates", editable=False)
    occurrence_start = models.DateTimeField(editable=False)
    booked = models.PositiveIntegerField(editable=False)
    attended = models.PositiveIntegerField(editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "occurrence_start"], name="one_booked_date_per_occurrence")]
        indexes = [models.Index(fields=["occurrence_start"])]


class CalendarFeed(models.Model):
    """An organisation's own iCalendar feed, imported on a schedule."""

    class Status(models.TextChoices):
        NEW = "new", _("Not imported yet")
        OK = "ok", _("Imported")
        ERROR = "error", _("Failed")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="calendar_feeds", verbose_name=_("organisation")
    )
    url = models.URLField(_("feed address (iCalendar URL)"), max_length=1000)
    category = models.CharField(
        _("category for its events"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    is_active = models.BooleanField(_("import it"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    last_error = models.TextField(_("last error"), blank=True)
    last_attempt_at = models.DateTimeField(_("last tried"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last imported"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "url"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "url"], name="one_feed_per_url_per_organisation")
        ]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.organisation}: {self.url}"


class FeedImportLog(RunLog):
    """One import of one feed: what it did, or why it failed."""

    feed = models.ForeignKey(CalendarFeed, on_delete=models.CASCADE, related_name="logs", verbose_name=_("feed"))

    class Meta(RunLog.Meta):
        verbose_name = _("feed import log")
        verbose_name_plural = _("feed import logs")

    def __str__(self) -> str:
        return f"{self.feed} at {self.started_at:%Y-%m-%d %H:%M}"


class NoticeQuerySet(models.QuerySet):
    def visible(self, today=None) -> "NoticeQuerySet":
        """Published and not past their expiry date: expired notices disappear even before the sweep archives them."""
        return self.filter(
            status=Notice.Status.PUBLISHED, expires_on__gte=today or timezone.localdate(), organisation__is_active=True
        )


def _notice_attachment_path(instance, filename: str) -> str:
    # A notice waits for moderation before anyone else may see it: its file is private, under a random name.
    return random_name("notices", filename)


class Notice(models.Model):
    class Category(models.TextChoices):
        INFORMATION = "information", _("Information")
        FLYER = "flyer", _("Flyer")
        FUNDING = "funding", _("Funding")
        VOLUNTEERING = "volunteering", _("Volunteering")
        JOBS = "jobs", _("Jobs")
        PREMISES = "premises", _("Premises and equipment")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for moderation")
        PUBLISHED = "published", _("Published")
        HIDDEN = "hidden", _("Hidden by a moderator")
        ARCHIVED = "archived", _("Expired")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), max_length=10000, help_text=_("Markdown is allowed."))
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.INFORMATION, db_index=True
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="notices", verbose_name=_("posted by organisation")
    )
    attachment = models.FileField(
        _("attachment"), upload_to=_notice_attachment_path, storage=private_file_storage, blank=True
    )
    attachment_kind = models.CharField(max_length=10, blank=True, editable=False)
    expires_on = models.DateField(_("show until"), db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    moderation_note = models.CharField(_("moderation note"), max_length=500, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )
    created_at = models.DateTimeField(_("posted"), auto_now_add=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, db_index=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("calendar_events:notice_detail", kwargs={"notice_uuid": self.uuid})

    def get_attachment_url(self) -> str:
        # The file itself has no public address: this view checks who may see the notice first.
        return reverse("calendar_events:notice_attachment", kwargs={"notice_uuid": self.uuid})


class NoticeReport(models.Model):
    class Reason(models.TextChoices):
        WRONG = "wrong", _("Wrong or out of date")
        OFFENSIVE = "offensive", _("Offensive or abusive")
        SPAM = "spam", _("Spam or advertising")
        SCAM = "scam", _("Looks like a scam")
        PERSONAL = "personal", _("Shares someone's personal details")
        OTHER = "other", _("Something else")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reports", verbose_name=_("notice"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    details = models.TextField(_("details"), max_length=2000, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)
    is_resolved = models.BooleanField(_("dealt with"), default=False)

    class Meta:
        ordering = ["is_resolved", "-created_at"]
        verbose_name = _("notice report")
        verbose_name_plural = _("notice reports")

    def __str__(self) -> str:
        return f"{self.notice}: {self.get_reason_display()}"


class DigestSubscription(models.Model):
    """A person who asked for the weekly email of new notices and events."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_digest", verbose_name=_("person")
    )
    is_active = models.BooleanField(_("receives the weekly digest"), default=True)
    created_at = models.DateTimeField(_("subscribed"), auto_now_add=True)

    class Meta:
        verbose_name = _("weekly digest subscription")
        verbose_name_plural = _("weekly digest subscriptions")

    def __str__(self) -> str:
        return str(self.user)
