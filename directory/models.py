"""The provider directory: services, the locations they run at, their opening times and contacts."""

import uuid
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.fields import PostcodeField
from core.run_logs import RunLog
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm, terms_of

from . import facets


class Location(models.Model):
    """A place where a provider delivers services or an event is held, with its accessibility."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="locations", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    address_line_1 = models.CharField(_("address line 1"), max_length=200)
    address_line_2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    town = models.CharField(_("town or city"), max_length=100, default="London")
    postcode = PostcodeField(_("postcode"))
    ward = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="locations_in_ward",
        limit_choices_to=terms_of(Taxonomy.WARDS),
        verbose_name=_("ward"),
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    accessibility = models.TextField(
        _("accessibility"), max_length=2000, blank=True, help_text=_("Step-free access, toilets, hearing loop, parking...")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self) -> str:
        return f"{self.name}, {self.postcode}" if self.postcode else self.name

    @property
    def is_harvested(self) -> bool:
        return self.organisation.is_harvested


class ServiceQuerySet(models.QuerySet):
    def listed(self) -> "ServiceQuerySet":
        """Services the public directory shows: not closed, from an active organisation, and (if
        harvested from another directory) neither hidden by an admin nor withdrawn by their source."""
        if facets.available():
            return self.filter(facets.has_all([facets.LISTED]))
        return self.exclude(status=Service.Status.CLOSED).filter(organisation__is_active=True).shown()

    def of_open_providers(self) -> "ServiceQuerySet":
        """Every service, closed ones too, of an active organisation (harvested ones hidden or
        withdrawn left out)."""
        if facets.available():
            return self.filter(facets.has_all([facets.PROVIDER_OPEN]))
        return self.filter(organisation__is_active=True).shown()

    def shown(self) -> "ServiceQuerySet":
        """Our own services, and harvested ones neither hidden by an admin nor withdrawn by their source.
        (On PostgreSQL `listed` and `of_open_providers` include this through the facets.)"""
        return self.filter(is_hidden=False, is_withdrawn=False)

    def own(self) -> "ServiceQuerySet":
        """The portal's own services, none harvested from another directory: what our Open Referral
        API publishes unless asked for harvested ones too, so portals never re-publish each other."""
        if facets.available():
            return self.filter(facets.has_all([facets.OWN]))
        return self.filter(source__isnull=True)

    def taking_referrals(self) -> "ServiceQuerySet":
        return self.filter(status=Service.Status.ACTIVE, accepting_referrals=True, organisation__is_active=True)

    def needs_review(self, today: date | None = None) -> "ServiceQuerySet":
        """Open services nobody has reviewed for SERVICE_REVIEW_AFTER_DAYS (never reviewed counts from creation)."""
        cutoff = (today or timezone.localdate()) - timedelta(days=SERVICE_REVIEW_AFTER_DAYS)
        start_of_cutoff = timezone.make_aware(datetime.combine(cutoff, time.min))
        # Harvested services are reviewed by the directory that lists them, not asked for here.
        return self.exclude(status=Service.Status.CLOSED).filter(source__isnull=True).filter(
            Q(last_reviewed_on__lt=cutoff) | Q(last_reviewed_on__isnull=True, created_at__lt=start_of_cutoff)
        )


# A service's details are checked with its provider once a year.
SERVICE_REVIEW_AFTER_DAYS = 365


class Service(models.Model):
    """Something a provider offers: who it is for, where, when, how to get it and what it costs."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        CLOSED = "closed", _("Closed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="services", verbose_name=_("provider")
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("web address"), max_length=220, unique=True)
    description = models.TextField(_("description"), max_length=10000)
    url = models.URLField(_("web page"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    # What it does
    functions = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="services_with_function",
        limit_choices_to=terms_of(Taxonomy.FUNCTIONS),
        verbose_name=_("infrastructure functions"),
    )
    needs = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="services_meeting_need",
        limit_choices_to=terms_of(Taxonomy.NEEDS),
        verbose_name=_("support needs met"),
    )
    # Who it is for
    segments = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="services_for_segment",
        limit_choices_to=terms_of(Taxonomy.SEGMENTS),
        verbose_name=_("specialist segments"),
    )
    communities = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="services_for_community",
        limit_choices_to=terms_of(Taxonomy.COMMUNITIES),
        verbose_name=_("communities served"),
    )
    serves_stage_1 = models.BooleanField(_("for stage 1 (emerging) groups"), default=True)
    serves_stage_2 = models.BooleanField(_("for stage 2 (improving) groups"), default=True)
    serves_stage_3 = models.BooleanField(_("for stage 3 (established) groups"), default=True)
    minimum_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True, validators=[MaxValueValidator(120)])
    maximum_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True, validators=[MaxValueValidator(120)])
    geographic_level = models.CharField(
        _("area served"), max_length=20, choices=Organisation.GeographicLevel.choices, default=Organisation.GeographicLevel.LOCAL
    )
    area_served = models.CharField(_("area served, in words"), max_length=200, blank=True)
    wards = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="services_in_ward",
        limit_choices_to=terms_of(Taxonomy.WARDS),
        verbose_name=_("wards served"),
        help_text=_("Leave empty if the service covers the whole borough."),
    )
    # Where
    locations = models.ManyToManyField(
        Location, through="ServiceAtLocation", blank=True, related_name="services", verbose_name=_("locations")
    )
    is_online = models.BooleanField(_("delivered online"), default=False)
    offers_outreach = models.BooleanField(_("outreach (we come to you)"), default=False)
    # When (regular times are Schedule rows)
    schedule_notes = models.CharField(
        _("term-time or seasonal notes"), max_length=500, blank=True, help_text=_("For example: term time only.")
    )
    # How to get it
    access_drop_in = models.BooleanField(_("drop in"), default=False)
    access_self_referral = models.BooleanField(_("self-referral"), default=True)
    access_portal_referral = models.BooleanField(_("referral through the portal"), default=True)
    access_booking = models.BooleanField(_("booking needed"), default=False)
    # Cost
    is_free = models.BooleanField(_("free"), default=True)
    fee_amount = models.DecimalField(_("fee (£)"), max_digits=8, decimal_places=2, null=True, blank=True)
    fee_description = models.CharField(_("about the fee"), max_length=300, blank=True)
    languages = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="services_in_language",
        limit_choices_to=terms_of(Taxonomy.LANGUAGES),
        verbose_name=_("languages"),
    )
    accessibility = models.TextField(_("accessibility"), max_length=2000, blank=True)

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    accepting_referrals = models.BooleanField(
        _("accepting new referrals"), default=True, help_text=_("Untick while the service is full.")
    )
    last_reviewed_on = models.DateField(_("last reviewed"), null=True, blank=True)
    last_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last reviewed by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    # Harvested from another directory (directory.harvest): read-only here, kept up to date by the
    # harvester. Our own services have no source.
    source = models.ForeignKey(
        "HarvestSource",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("listed by"),
    )
    remote_id = models.CharField(_("id at its source"), max_length=100, blank=True)
    source_checksum = models.CharField(_("checksum of the source's record"), max_length=64, blank=True, editable=False)
    is_hidden = models.BooleanField(
        _("hidden by an admin"), default=False, help_text=_("A harvested service the network does not want to list.")
    )
    is_withdrawn = models.BooleanField(_("withdrawn by its source"), default=False)

    history = HistoricalRecords(m2m_fields=[functions, needs, segments, communities, wards, languages])
    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["status", "last_reviewed_on"]),
            # Listing by name a page at a time uses directory_service_name_order (PostgreSQL, migration 0007).
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_age__isnull=True) | Q(maximum_age__isnull=True) | Q(minimum_age__lte=models.F("maximum_age")),
                name="service_age_range_in_order",
            ),
            models.UniqueConstraint(
                fields=["source", "remote_id"], condition=Q(source__isnull=False), name="one_service_per_source_id"
            ),
        ]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("directory:service_detail", kwargs={"slug": self.slug})

    @property
    def is_harvested(self) -> bool:
        return self.source_id is not None

    @property
    def needs_review(self) -> bool:
        if self.status == self.Status.CLOSED or self.is_harvested:
            return False
        cutoff = timezone.localdate() - timedelta(days=SERVICE_REVIEW_AFTER_DAYS)
        if self.last_reviewed_on:
            return self.last_reviewed_on < cutoff
        return bool(self.created_at) and timezone.localdate(self.created_at) < cutoff

    @property
    def stages_served(self) -> list[int]:
        return [stage for stage in (1, 2, 3) if getattr(self, f"serves_stage_{stage}")]


class ServiceAtLocation(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_at_locations")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="service_at_locations")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "location"], name="one_link_per_service_location")]
        verbose_name = _("service at a location")
        verbose_name_plural = _("services at locations")

    def __str__(self) -> str:
        return f"{self.service} at {self.location}"


class Schedule(models.Model):
    """A regular time a service runs, such as "Tuesdays 10:00 to 13:00"."""

    class Weekday(models.TextChoices):
        # iCalendar BYDAY codes, as Open Referral uses them.
        MO = "MO", _("Monday")
        TU = "TU", _("Tuesday")
        WE = "WE", _("Wednesday")
        TH = "TH", _("Thursday")
        FR = "FR", _("Friday")
        SA = "SA", _("Saturday")
        SU = "SU", _("Sunday")

    class AttendingType(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")
        PHONE = "phone", _("By phone")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="schedules")
    service_at_location = models.ForeignKey(
        ServiceAtLocation, on_delete=models.CASCADE, null=True, blank=True, related_name="schedules", verbose_name=_("at")
    )
    weekday = models.CharField(_("day"), max_length=2, choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    attending_type = models.CharField(
        _("how people attend"), max_length=10, choices=AttendingType.choices, default=AttendingType.IN_PERSON
    )
    valid_from = models.DateField(_("from"), null=True, blank=True)
    valid_to = models.DateField(_("until"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        ordering = ["service", "weekday", "opens_at"]
        indexes = [models.Index(fields=["weekday", "opens_at", "closes_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(opens_at__lt=models.F("closes_at")), name="schedule_opens_before_it_closes"),
        ]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")

    # "Tuesdays 10:00 to 13:00", as people write a regular time.
    WEEKDAY_PLURALS = {
        "MO": _("Mondays"),
        "TU": _("Tuesdays"),
        "WE": _("Wednesdays"),
        "TH": _("Thursdays"),
        "FR": _("Fridays"),
        "SA": _("Saturdays"),
        "SU": _("Sundays"),
    }

    def __str__(self) -> str:
        return self.describe(self.weekday, self.opens_at, self.closes_at)

    @classmethod
    def describe(cls, weekday: str, opens_at, closes_at, *, day_names: dict[str, str] | None = None) -> str:
        """A regular time as people write it, from plain values (result lists read no model objects).
        `day_names`: the days' names from day_names(), for many times in one language."""
        day = (day_names or cls.WEEKDAY_PLURALS).get(weekday, weekday)
        # isoformat("minutes") writes a time of day (a TimeField's: no zone) as %H:%M does, without the
        # cost of strftime: a page of results describes a few dozen times.
        return f"{day} {opens_at.isoformat('minutes')} to {closes_at.isoformat('minutes')}"

    @classmethod
    def day_names(cls) -> dict[str, str]:
        """WEEKDAY_PLURALS translated into the current language, once for a list of times."""
        return {code: str(name) for code, name in cls.WEEKDAY_PLURALS.items()}


class ServiceContact(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("job title"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service contact")
        verbose_name_plural = _("service contacts")

    def __str__(self) -> str:
        return self.name


# Harvesting other directories (directory/harvest.py) -----------------------------------------------


class HarvestSource(models.Model):
    """Another directory's Open Referral UK API (another borough's portal, a council's or a national
    directory) whose services this portal lists, read-only, "listed by" its name."""

    class Status(models.TextChoices):
        NEW = "new", _("Not harvested yet")
        OK = "ok", _("Harvested")
        ERROR = "error", _("Failed")

    name = models.CharField(_("name"), max_length=200, help_text=_("Shown beside its services: “listed by …”."))
    api_url = models.URLField(
        _("API address"),
        max_length=1000,
        unique=True,
        help_text=_("The Open Referral UK API's root, such as https://portal.example.org/api/oruk"),
    )
    is_active = models.BooleanField(_("harvest it"), default=True)
    supports_modified_after = models.BooleanField(
        _("asks only for changes"),
        default=False,
        help_text=_(
            "Tick if the API supports modified_after: between full harvests only changed services are asked "
            "for. A full harvest (which also notices withdrawn services) still runs every day."
        ),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    last_attempt_at = models.DateTimeField(_("last tried"), null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(_("last harvested"), null=True, blank=True, editable=False)
    # When the last complete full harvest started: services changed since then are what an incremental
    # harvest asks for (modified_after), and the next full one is due a day after it.
    last_full_at = models.DateTimeField(_("last full harvest"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("harvested directory")
        verbose_name_plural = _("harvested directories")

    def __str__(self) -> str:
        return self.name


class HarvestRun(RunLog):
    """One harvest of one source: what it did, or why it failed (and then changed nothing)."""

    class Kind(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Changes only")

    source = models.ForeignKey(HarvestSource, on_delete=models.CASCADE, related_name="runs", verbose_name=_("source"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.FULL)
    pages = models.PositiveIntegerField(_("pages read"), default=0)

    class Meta(RunLog.Meta):
        verbose_name = _("harvest run")
        verbose_name_plural = _("harvest runs")

    def __str__(self) -> str:
        return f"{self.source} at {self.started_at:%Y-%m-%d %H:%M}"


class HarvestedOrganisation(models.Model):
    """Which source an organisation was harvested from, under which id there. (Organisations sit below
    the directory, so the link lives here; Organisation.is_harvested marks the record read-only.)"""

    source = models.ForeignKey(
        HarvestSource, on_delete=models.CASCADE, related_name="organisations", verbose_name=_("listed by")
    )
    remote_id = models.CharField(_("id at its source"), max_length=100)
    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="harvest_record", verbose_name=_("organisation")
    )
    checksum = models.CharField(_("checksum of the source's record"), max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "remote_id"], name="one_organisation_per_source_id"),
        ]
        verbose_name = _("harvested organisation")
        verbose_name_plural = _("harvested organisations")

    def __str__(self) -> str:
        return f"{self.organisation} ({self.source})"
