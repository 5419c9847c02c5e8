"""Referrals: a VCO's request for support, the rules that route it, its history and its feedback.

The directory owns organisations, services and the vocabulary; a referral points at them. Changes to
a referral go through ``referrals.services``, which checks the move, bumps ``version`` (so two officers
acting at once cannot both win) and keeps a ``ReferralEvent`` for the timeline.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import Service
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm, terms_of

# Long enough to explain a problem, short enough that an officer reads it.
DESCRIPTION_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 2000


class RoutingRule(models.Model):
    """The network's agreement: for this need (optionally only for some groups), ask these providers,
    in this order."""

    name = models.CharField(
        _("name"), max_length=200, help_text=_("A short label, such as “Funding advice for BME groups”.")
    )
    need = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        related_name="routing_rules",
        limit_choices_to=terms_of(Taxonomy.NEEDS),
        verbose_name=_("support need"),
    )
    segment = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=terms_of(Taxonomy.SEGMENTS),
        verbose_name=_("only for groups in segment"),
    )
    community = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=terms_of(Taxonomy.COMMUNITIES),
        verbose_name=_("only for groups serving"),
    )
    ward = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=terms_of(Taxonomy.WARDS),
        verbose_name=_("only for groups in ward"),
    )
    stage = models.PositiveSmallIntegerField(
        _("only for groups at stage"), choices=Organisation.Stage.choices, null=True, blank=True
    )
    language = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=terms_of(Taxonomy.LANGUAGES),
        verbose_name=_("only for groups preferring language"),
    )
    priority = models.PositiveIntegerField(
        _("priority"), default=100, help_text=_("Lower numbers are tried first when two rules are equally specific.")
    )
    is_active = models.BooleanField(_("in use"), default=True)
    notes = models.TextField(_("notes"), blank=True, help_text=_("Why the network agreed this rule; for admins only."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["need__name", "priority", "name"]
        indexes = [models.Index(fields=["need", "is_active"])]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name

    @property
    def specificity(self) -> int:
        """How many narrowing conditions the rule has: a closer fit beats a general rule."""
        return sum(
            value is not None
            for value in (self.segment_id, self.community_id, self.ward_id, self.stage, self.language_id)
        )


class RoutingRuleProvider(models.Model):
    """One provider in a rule's ordered list, optionally through one of its services."""

    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="entries", verbose_name=_("rule"))
    provider = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="routing_entries", verbose_name=_("provider")
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_entries",
        verbose_name=_("through service"),
        help_text=_("Leave empty to route to the provider; its services for this need are still checked for space."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=1)

    class Meta:
        ordering = ["rule", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "provider"], name="one_entry_per_rule_and_provider")]
        verbose_name = _("provider in a rule")
        verbose_name_plural = _("providers, in order")

    def __str__(self) -> str:
        return f"{self.position}. {self.provider}"


class ReferralQuerySet(models.QuerySet):
    def open(self) -> "ReferralQuerySet":
        return self.filter(status__in=Referral.OPEN_STATUSES)

    def for_provider(self, provider: Organisation) -> "ReferralQuerySet":
        return self.filter(provider=provider)

    def awaiting_response(self) -> "ReferralQuerySet":
        return self.filter(status__in=(Referral.Status.SUBMITTED, Referral.Status.WITH_PROVIDER))

    def overdue(self, now=None) -> "ReferralQuerySet":
        return self.awaiting_response().filter(response_due_at__lt=now or timezone.now())

    def finished(self) -> "ReferralQuerySet":
        return self.filter(status__in=(Referral.Status.CLOSED, Referral.Status.DECLINED))


class Referral(models.Model):
    """A VCO asking for support, and where that request has got to."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        WITH_PROVIDER = "with_provider", _("With provider")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        IN_PROGRESS = "in_progress", _("In progress")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        PARTLY_RESOLVED = "partly_resolved", _("Partly resolved")
        NOT_RESOLVED = "not_resolved", _("Not resolved")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Urgency(models.TextChoices):
        ROUTINE = "routine", _("Routine: within a few weeks")
        SOON = "soon", _("Soon: within two weeks")
        URGENT = "urgent", _("Urgent: a deadline within days")

    OPEN_STATUSES = (Status.SUBMITTED, Status.WITH_PROVIDER, Status.ACCEPTED, Status.IN_PROGRESS)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="referrals_made", verbose_name=_("organisation asking")
    )
    needs = models.ManyToManyField(
        TaxonomyTerm,
        related_name="referrals",
        limit_choices_to=terms_of(Taxonomy.NEEDS),
        verbose_name=_("support needs"),
    )
    description = models.TextField(_("what help is needed"), max_length=DESCRIPTION_MAX_LENGTH)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    # What the group confirmed about itself when it asked: routing uses these, not later edits.
    stage = models.PositiveSmallIntegerField(
        _("development stage"), choices=Organisation.Stage.choices, null=True, blank=True
    )
    communities = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="+",
        limit_choices_to=terms_of(Taxonomy.COMMUNITIES),
        verbose_name=_("communities served"),
    )
    language = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=terms_of(Taxonomy.LANGUAGES),
        verbose_name=_("preferred language"),
    )
    existing_provider = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("provider the group already works with"),
    )
    # Personal data: shown only to the group, the receiving provider's officers and network admins.
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True, db_index=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    consent_purpose = models.TextField(_("purpose consented to"))
    consent_given_at = models.DateTimeField(_("consent given at"))

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="referrals_requested",
        verbose_name=_("asked by"),
    )
    on_behalf = models.BooleanField(_("asked by an officer on the group's behalf"), default=False)
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_received",
        verbose_name=_("receiving provider"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals", verbose_name=_("service")
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals_assigned",
        verbose_name=_("assigned officer"),
    )
    suggestions = models.JSONField(_("suggestions shown"), default=list, blank=True)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    # Bumped by every change; a form carries the version it was drawn from (optimistic concurrency).
    version = models.PositiveIntegerField(_("version"), default=1)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent to the provider"), null=True, blank=True)
    response_due_at = models.DateTimeField(_("response due"), null=True, blank=True)
    remind_at = models.DateTimeField(_("remind officers at"), null=True, blank=True)
    escalate_at = models.DateTimeField(_("escalate to network admins at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed or declined"), null=True, blank=True)
    # Kept when a provider first answers (accepts, declines or passes on), for the evidence figures:
    # the wait is from the sending to that provider, as sent_at moves on when it is passed on.
    first_response_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    first_response_after = models.DurationField(_("time to first answer"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            # The inbox lists a provider's referrals newest first, optionally of one status.
            models.Index(fields=["provider", "-submitted_at", "-id"], name="referral_inbox_idx"),
            models.Index(fields=["provider", "status", "-submitted_at", "-id"], name="referral_inbox_status_idx"),
            models.Index(fields=["status", "remind_at"]),
            models.Index(fields=["status", "escalate_at"]),
            models.Index(fields=["status", "closed_at"]),
            # The evidence figures count a period's referrals by where they stand and how many were
            # answered (and, for an area, by the asking organisation) from this index alone, however
            # wide the rows grow.
            models.Index(
                fields=["submitted_at"],
                include=["id", "organisation", "status", "outcome", "first_response_after"],
                name="referral_made_idx",
            ),
            # Their median time to first answer without sorting a period's answers: only the answers
            # within the hour waited that holds the middle one (found from ReferralWaitMonth) are read,
            # with the asking organisation for the wards' medians, from this index alone.
            models.Index(
                fields=["first_response_after"],
                include=["submitted_at", "organisation"],
                condition=Q(first_response_after__isnull=False),
                name="referral_first_response_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="with_provider") | Q(provider__isnull=False),
                name="referral_with_provider_has_provider",
            ),
        ]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return _("Referral %(ref)s from %(organisation)s") % {"ref": self.reference, "organisation": self.organisation}

    @property
    def reference(self) -> str:
        return f"R{self.pk:06d}" if self.pk else "R-new"

    def get_absolute_url(self) -> str:
        return reverse("referrals:detail", kwargs={"uuid": self.uuid})

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, now=None) -> bool:
        return (
            self.status in (self.Status.SUBMITTED, self.Status.WITH_PROVIDER)
            and self.response_due_at is not None
            and self.response_due_at < (now or timezone.now())
        )


class ReferralEvent(models.Model):
    """One step in a referral's history: what happened, who did it, when."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Asked for support")
        SENT = "sent", _("Sent to provider")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        PASSED_ON = "passed_on", _("Passed on")
        STARTED = "started", _("Work started")
        CLOSED = "closed", _("Closed")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        ASSIGNED = "assigned", _("Assigned")
        REMINDED = "reminded", _("Officers reminded")
        ESCALATED = "escalated", _("Escalated to network admins")
        FEEDBACK = "feedback", _("Feedback given")
        ANONYMISED = "anonymised", _("Personal data removed")

    # A provider's answers to a referral that has reached it: the first one is its first response.
    ANSWERS = (Kind.ACCEPTED, Kind.DECLINED, Kind.PASSED_ON)

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events", verbose_name=_("referral"))
    kind = models.CharField(_("what happened"), max_length=20, choices=Kind.choices)
    from_status = models.CharField(_("from"), max_length=20, choices=Referral.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Referral.Status.choices, blank=True)
    provider = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("provider")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d %H:%M})"


# How the feedback form offers each score, and the evidence figures name it.
SATISFACTION_CHOICES = [
    (5, _("5: very satisfied")),
    (4, _("4: satisfied")),
    (3, _("3: neither")),
    (2, _("2: dissatisfied")),
    (1, _("1: very dissatisfied")),
]


class Feedback(models.Model):
    """The group's view once a referral closes: the network's shared evaluation of its support."""

    referral = models.OneToOneField(
        Referral, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("referral")
    )
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 (very dissatisfied) to 5 (very satisfied)"),
    )
    still_needed = models.TextField(_("what the group still needs"), max_length=NOTE_MAX_LENGTH, blank=True)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("given by")
    )
    given_at = models.DateTimeField(_("given at"), default=timezone.now)

    class Meta:
        ordering = ["-given_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__gte=1, satisfaction__lte=5), name="feedback_satisfaction_1_to_5"
            )
        ]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")

    def __str__(self) -> str:
        return f"{self.referral.reference}: {self.satisfaction}/5"


# Monthly summaries of the evidence figures -------------------------------------------------------------
# The dashboards add up whole months inside a period from these rows instead of counting every referral
# again (referrals.summaries keeps them; the period's partial months are counted live). They are a cache
# of figures the referrals table can always give again: never edited, only rebuilt month by month.


class ReferralFigures(models.Model):
    """The referrals submitted in one local (Europe/London) period by VCOs in one ward (None: no ward
    recorded), in one state (closed ones by their outcome): how many, how many answered, how many of
    those within the response deadline, and the feedback given on them by score."""

    ward_id = models.IntegerField(null=True)
    state = models.CharField(max_length=32)
    asked = models.PositiveIntegerField()
    answered = models.PositiveIntegerField()
    in_time = models.PositiveIntegerField()
    satisfaction_1 = models.PositiveIntegerField()
    satisfaction_2 = models.PositiveIntegerField()
    satisfaction_3 = models.PositiveIntegerField()
    satisfaction_4 = models.PositiveIntegerField()
    satisfaction_5 = models.PositiveIntegerField()

    class Meta:
        abstract = True


class ReferralNeedFigures(models.Model):
    """Referrals naming one need, submitted in one local period by VCOs in one ward."""

    ward_id = models.IntegerField(null=True)
    need_id = models.IntegerField()
    asked = models.PositiveIntegerField()

    class Meta:
        abstract = True


class ReferralWaitFigures(models.Model):
    """The referrals submitted in one local period by VCOs in one ward and answered, per whole hour
    waited for the first answer (Referral.first_response_after, rounded down): where the medians of
    the wait are looked for, as a median does not add up over periods."""

    ward_id = models.IntegerField(null=True)
    hours = models.IntegerField()
    answered = models.PositiveIntegerField()

    class Meta:
        abstract = True


class ReferralMonth(ReferralFigures):
    """ReferralFigures for one local month."""

    month = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["month", "ward_id"], name="referral_month_idx")]


class ReferralNeedMonth(ReferralNeedFigures):
    """ReferralNeedFigures for one local month."""

    month = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["month", "ward_id"], name="referral_need_month_idx")]


class ReferralWaitMonth(ReferralWaitFigures):
    """ReferralWaitFigures for one local month."""

    month = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["month", "ward_id"], name="referral_wait_month_idx")]


class ReferralDay(ReferralFigures):
    """ReferralFigures for one local day: a period's partial first and last months add up their days
    from these rows (written with the month's, counted from the same referrals)."""

    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["day", "ward_id"], name="referral_day_idx")]


class ReferralNeedDay(ReferralNeedFigures):
    """ReferralNeedFigures for one local day."""

    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["day", "ward_id"], name="referral_need_day_idx")]


class ReferralWaitDay(ReferralWaitFigures):
    """ReferralWaitFigures for one local day."""

    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["day", "ward_id"], name="referral_wait_day_idx")]


class SummarisedMonth(models.Model):
    """A local month whose ReferralMonth, ReferralNeedMonth and ReferralWaitMonth rows (and its days'
    ReferralDay, ReferralNeedDay and ReferralWaitDay rows) are up to date,
    and the basis they were worked out on (the response deadline's working days and the bank holiday
    calendar's version): a month not here, or on another basis, is summarised again before it is read."""

    month = models.DateField(unique=True)
    basis = models.CharField(max_length=64)


class ReferralChange(models.Model):
    """A UTC month in which a referral the figures count was written: inserted by database triggers
    (migration 0006) on every write to referrals, their needs and feedback, and to an organisation's
    ward, whatever wrote it (services, admin, imports, erasure, bulk SQL). Its local months are
    summarised again on the next read, and the row deleted."""

    month = models.DateField()
