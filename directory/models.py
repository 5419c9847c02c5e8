import uuid
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.fields import CharityNumberField, CompanyNumberField, PostcodeField, validate_year_not_in_future
from core.files import random_name

from . import facets


class User(AbstractUser):
    """A person who logs in. Their rights come from `role` plus their affiliations to organisations."""

    class Role(models.TextChoices):
        VCO_STAFF = "vco_staff", _("VCO staff")
        OFFICER = "officer", _("Infrastructure officer")
        NETWORK_ADMIN = "network_admin", _("Network admin")
        FUNDER = "funder", _("Funder or commissioner")

    email = models.EmailField(_("email address"), unique=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VCO_STAFF)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_network_admin(self) -> bool:
        return self.is_active and (self.is_superuser or self.role == self.Role.NETWORK_ADMIN)

    @property
    def is_funder(self) -> bool:
        return self.is_active and self.role == self.Role.FUNDER


class Taxonomy(models.Model):
    """A controlled vocabulary (functions, needs, segments, communities, wards, languages, kinds)."""

    FUNCTIONS = "functions"
    NEEDS = "needs"
    SEGMENTS = "segments"
    COMMUNITIES = "communities"
    WARDS = "wards"
    LANGUAGES = "languages"
    ORGANISATION_KINDS = "organisation-kinds"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    uri = models.URLField(_("URI"), blank=True)
    version = models.CharField(_("version"), max_length=20, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("taxonomy")
        verbose_name_plural = _("taxonomies")

    def __str__(self) -> str:
        return self.name


class TaxonomyTermQuerySet(models.QuerySet):
    def in_taxonomy(self, code: str) -> "TaxonomyTermQuerySet":
        return self.filter(taxonomy__code=code, is_active=True)


class TaxonomyTerm(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="terms", verbose_name=_("taxonomy"))
    code = models.SlugField(_("code"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = TaxonomyTermQuerySet.as_manager()

    class Meta:
        ordering = ["taxonomy__code", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["taxonomy", "code"], name="unique_term_code_per_taxonomy")]
        verbose_name = _("taxonomy term")
        verbose_name_plural = _("taxonomy terms")

    def __str__(self) -> str:
        return self.name


def _terms_of(code: str) -> dict:
    return {"taxonomy__code": code}


class OrganisationQuerySet(models.QuerySet):
    def active(self) -> "OrganisationQuerySet":
        return self.filter(is_active=True)

    def vcos(self) -> "OrganisationQuerySet":
        return self.filter(kinds__code=Organisation.KIND_VCO).distinct()

    def providers(self) -> "OrganisationQuerySet":
        return self.filter(kinds__code__in=Organisation.PROVIDER_KINDS).distinct()

    def stale(self, today: date | None = None) -> "OrganisationQuerySet":
        """Records whose details were last confirmed over a year ago, or never."""
        cutoff = (today or timezone.localdate()) - timedelta(days=settings.PORTAL_CONFIRM_DETAILS_AFTER_DAYS)
        return self.filter(Q(details_confirmed_on__isnull=True) | Q(details_confirmed_on__lt=cutoff))


def _logo_path(instance, filename: str) -> str:
    # Logos are public, but a closed organisation's page is not: a random name keeps its logo from
    # being found by guessing its slug.
    return random_name("logos", filename)


class Organisation(models.Model):
    """A VCO or an infrastructure provider: one model for both, told apart by `kinds`."""

    KIND_VCO = "vco"
    KIND_GENERAL = "general"
    KIND_SPECIALIST = "specialist"
    KIND_NETWORK = "network"
    KIND_SECONDARY = "secondary"
    PROVIDER_KINDS = (KIND_GENERAL, KIND_SPECIALIST, KIND_NETWORK, KIND_SECONDARY)

    class LegalForm(models.TextChoices):
        UNINCORPORATED = "unincorporated", _("Unincorporated group or association")
        CHARITY = "charity", _("Registered charity (trust or association)")
        CIO = "cio", _("Charitable incorporated organisation (CIO)")
        CHARITABLE_COMPANY = "charitable_company", _("Charitable company")
        CIC = "cic", _("Community interest company (CIC)")
        OTHER = "other", _("Other")

    class Stage(models.IntegerChoices):
        EMERGING = 1, _("Stage 1: emerging")
        IMPROVING = 2, _("Stage 2: improving")
        ESTABLISHED = 3, _("Stage 3: established")

    class IncomeBand(models.TextChoices):
        UNDER_10K = "under_10k", _("Under £10,000")
        FROM_10K = "10k_100k", _("£10,000 to £100,000")
        FROM_100K = "100k_250k", _("£100,000 to £250,000")
        FROM_250K = "250k_1m", _("£250,000 to £1 million")
        FROM_1M = "1m_5m", _("£1 million to £5 million")
        OVER_5M = "over_5m", _("Over £5 million")

    class GeographicLevel(models.TextChoices):
        NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood (ward)")
        LOCAL = "local", _("Local (borough)")
        SUB_REGIONAL = "sub_regional", _("Sub-regional")
        REGIONAL = "regional", _("Regional")
        NATIONAL = "national", _("National")

    # Fields an organisation may choose to show on its public page; everything else on the page is
    # always public. Contact details are private unless ticked.
    OPTIONAL_PUBLIC_FIELDS = [
        ("contact_name", _("Contact name")),
        ("email", _("Email")),
        ("phone", _("Phone")),
        ("address", _("Street address")),
        ("premises_accessibility", _("Premises accessibility")),
        ("development_stage", _("Development stage")),
        ("income_band", _("Income band")),
        ("workforce", _("Paid staff and volunteer numbers")),
    ]
    DEFAULT_PUBLIC_FIELDS = ["email", "phone", "premises_accessibility"]

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("web address"), max_length=220, unique=True)
    kinds = models.ManyToManyField(
        TaxonomyTerm,
        related_name="organisations_of_kind",
        limit_choices_to=_terms_of(Taxonomy.ORGANISATION_KINDS),
        verbose_name=_("kind"),
        help_text=_("A provider can be both general and specialist."),
    )
    legal_form = models.CharField(_("legal form"), max_length=30, choices=LegalForm.choices, blank=True)
    charity_number = CharityNumberField(_("charity number"), blank=True)
    company_number = CompanyNumberField(_("company number"), blank=True)

    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    address_line_1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    address_line_2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    town = models.CharField(_("town or city"), max_length=100, blank=True, default="London")
    postcode = PostcodeField(_("postcode"), blank=True)
    ward = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations_in_ward",
        limit_choices_to=_terms_of(Taxonomy.WARDS),
        verbose_name=_("ward or neighbourhood"),
    )
    geographic_level = models.CharField(
        _("geographic level"), max_length=20, choices=GeographicLevel.choices, default=GeographicLevel.LOCAL
    )
    area_of_benefit = models.CharField(_("area of benefit"), max_length=200, blank=True)

    activities = models.TextField(_("activities"), max_length=2000, blank=True, help_text=_("What the organisation does, in a few sentences."))
    about = models.TextField(
        _("about"), max_length=20000, blank=True, help_text=_("The organisation's own words for its page. Markdown is allowed.")
    )
    development_stage = models.PositiveSmallIntegerField(_("development stage"), choices=Stage.choices, null=True, blank=True)
    income_band = models.CharField(_("income band"), max_length=20, choices=IncomeBand.choices, blank=True)
    paid_staff = models.PositiveIntegerField(_("paid staff"), null=True, blank=True)
    volunteers = models.PositiveIntegerField(_("volunteers"), null=True, blank=True)
    communities_served = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="organisations_serving",
        limit_choices_to=_terms_of(Taxonomy.COMMUNITIES),
        verbose_name=_("communities served"),
    )
    segments = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="organisations_in_segment",
        limit_choices_to=_terms_of(Taxonomy.SEGMENTS),
        verbose_name=_("specialist segments"),
    )
    functions = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="organisations_with_function",
        limit_choices_to=_terms_of(Taxonomy.FUNCTIONS),
        verbose_name=_("infrastructure functions"),
        help_text=_("For providers: the support they offer."),
    )
    languages = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="organisations_speaking",
        limit_choices_to=_terms_of(Taxonomy.LANGUAGES),
        verbose_name=_("languages spoken"),
    )
    premises_accessibility = models.TextField(_("premises accessibility"), max_length=2000, blank=True)
    website = models.URLField(_("website"), blank=True)
    facebook_url = models.URLField(_("Facebook"), blank=True)
    x_url = models.URLField(_("X (Twitter)"), blank=True)
    instagram_url = models.URLField(_("Instagram"), blank=True)
    linkedin_url = models.URLField(_("LinkedIn"), blank=True)
    year_founded = models.PositiveSmallIntegerField(
        _("year founded"), null=True, blank=True, validators=[MinValueValidator(1800), validate_year_not_in_future]
    )
    logo = models.ImageField(_("logo"), upload_to=_logo_path, blank=True)
    public_fields = models.JSONField(_("shown on the public page"), default=list, blank=True)
    details_confirmed_on = models.DateField(_("details last confirmed"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Untick when the organisation closes."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(m2m_fields=[kinds, communities_served, segments, functions, languages])
    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["charity_number"], condition=~Q(charity_number=""), name="unique_charity_number"
            ),
            models.UniqueConstraint(
                fields=["company_number"], condition=~Q(company_number=""), name="unique_company_number"
            ),
        ]
        indexes = [models.Index(fields=["details_confirmed_on"]), models.Index(fields=["development_stage"])]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("directory:organisation_detail", kwargs={"slug": self.slug})

    def shows(self, field: str) -> bool:
        """Whether an optional field is on the organisation's public page."""
        return field in (self.public_fields or [])


class Affiliation(models.Model):
    """A person's link to an organisation, with their role there."""

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        EDITOR = "editor", _("Editor")
        OFFICER = "officer", _("Officer")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="affiliations")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="affiliations")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_affiliation_per_user_and_org")]
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")

    def __str__(self) -> str:
        return f"{self.user} – {self.organisation} ({self.get_role_display()})"


class Network(models.Model):
    """A member network: the main network, a BME network, a themed forum."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("web address"), max_length=220, unique=True)
    description = models.TextField(_("description"), blank=True)
    run_by = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="networks_run", verbose_name=_("run by")
    )
    accepts_applications = models.BooleanField(_("accepts applications online"), default=True)
    renewal_period_months = models.PositiveSmallIntegerField(_("membership lasts (months)"), default=12)

    class Meta:
        ordering = ["name"]
        verbose_name = _("member network")
        verbose_name_plural = _("member networks")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        ACTIVE = "active", _("Active")
        LAPSED = "lapsed", _("Lapsed")
        LEFT = "left", _("Left")

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("network"))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organisation")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.APPLIED)
    applied_on = models.DateField(_("applied on"), default=timezone.localdate)
    application_note = models.TextField(_("why the organisation wants to join"), max_length=2000, blank=True)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    renewal_due = models.DateField(_("renewal due"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("approved by")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["network__name", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["network", "organisation"], name="one_membership_per_network")]
        indexes = [models.Index(fields=["status", "renewal_due"])]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.organisation} in {self.network}"


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
        limit_choices_to=_terms_of(Taxonomy.WARDS),
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


class ServiceQuerySet(models.QuerySet):
    def listed(self) -> "ServiceQuerySet":
        """Services the public directory shows: not closed, from an active organisation."""
        if facets.available():
            return self.filter(facets.has_all([facets.LISTED]))
        return self.exclude(status=Service.Status.CLOSED).filter(organisation__is_active=True)

    def of_open_providers(self) -> "ServiceQuerySet":
        """Every service, closed ones too, of an active organisation."""
        if facets.available():
            return self.filter(facets.has_all([facets.PROVIDER_OPEN]))
        return self.filter(organisation__is_active=True)

    def taking_referrals(self) -> "ServiceQuerySet":
        return self.filter(status=Service.Status.ACTIVE, accepting_referrals=True, organisation__is_active=True)

    def needs_review(self, today: date | None = None) -> "ServiceQuerySet":
        """Open services nobody has reviewed for SERVICE_REVIEW_AFTER_DAYS (never reviewed counts from creation)."""
        cutoff = (today or timezone.localdate()) - timedelta(days=SERVICE_REVIEW_AFTER_DAYS)
        start_of_cutoff = timezone.make_aware(datetime.combine(cutoff, time.min))
        return self.exclude(status=Service.Status.CLOSED).filter(
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
        limit_choices_to=_terms_of(Taxonomy.FUNCTIONS),
        verbose_name=_("infrastructure functions"),
    )
    needs = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="services_meeting_need",
        limit_choices_to=_terms_of(Taxonomy.NEEDS),
        verbose_name=_("support needs met"),
    )
    # Who it is for
    segments = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="services_for_segment",
        limit_choices_to=_terms_of(Taxonomy.SEGMENTS),
        verbose_name=_("specialist segments"),
    )
    communities = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="services_for_community",
        limit_choices_to=_terms_of(Taxonomy.COMMUNITIES),
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
        limit_choices_to=_terms_of(Taxonomy.WARDS),
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
        limit_choices_to=_terms_of(Taxonomy.LANGUAGES),
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
        ]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("directory:service_detail", kwargs={"slug": self.slug})

    @property
    def needs_review(self) -> bool:
        if self.status == self.Status.CLOSED:
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
        day = self.WEEKDAY_PLURALS.get(self.weekday, self.weekday)
        return f"{day} {self.opens_at:%H:%M} to {self.closes_at:%H:%M}"


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
