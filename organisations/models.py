"""The VCO database: organisations (VCOs and infrastructure providers), the people linked to them,
member networks and their memberships."""

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core import org_id
from core.background_imports import BackgroundImport
from core.fields import (
    CharityNumberField,
    CompanyNumberField,
    MutualsNumberField,
    NICharityNumberField,
    PostcodeField,
    ScottishCharityNumberField,
    validate_year_not_in_future,
)
from core.files import random_name
from taxonomies.models import Taxonomy, TaxonomyTerm, terms_of


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

    def with_org_id(self, text: str) -> "OrganisationQuerySet":
        """The organisation (if any) with this org-id ("GB-CHC-1164883"); ValidationError if it is not one."""
        scheme, number = org_id.parse_org_id(text)
        return self.filter(**{Organisation.IDENTIFIER_FIELDS[scheme]: number})


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

    class RegistrationStatus(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        REMOVED = "removed", _("Removed")

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

    # Each register number and its org-id list, the primary first: charity registers, then company,
    # then the others. Every one is unique (see Meta.constraints) and indexed, so an org-id finds its
    # organisation directly.
    IDENTIFIER_FIELDS = {
        "GB-CHC": "charity_number",
        "GB-SC": "scottish_charity_number",
        "GB-NIC": "ni_charity_number",
        "GB-COH": "company_number",
        "GB-MPR": "mutuals_number",
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("web address"), max_length=220, unique=True)
    kinds = models.ManyToManyField(
        TaxonomyTerm,
        related_name="organisations_of_kind",
        limit_choices_to=terms_of(Taxonomy.ORGANISATION_KINDS),
        verbose_name=_("kind"),
        help_text=_("A provider can be both general and specialist."),
    )
    legal_form = models.CharField(_("legal form"), max_length=30, choices=LegalForm.choices, blank=True)
    charity_number = CharityNumberField(_("charity number"), blank=True)
    scottish_charity_number = ScottishCharityNumberField(_("Scottish charity number"), blank=True)
    ni_charity_number = NICharityNumberField(_("Northern Ireland charity number"), blank=True)
    company_number = CompanyNumberField(_("company number"), blank=True)
    mutuals_number = MutualsNumberField(_("mutuals register number"), blank=True)

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
        limit_choices_to=terms_of(Taxonomy.WARDS),
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
    # From the Charity Commission register (organisations.charity_register), refreshed by each import.
    latest_income = models.PositiveBigIntegerField(
        _("latest income (£)"), null=True, blank=True, help_text=_("From the charity register's latest accounts.")
    )
    registration_status = models.CharField(
        _("charity registration status"), max_length=20, choices=RegistrationStatus.choices, blank=True
    )
    register_checked_on = models.DateField(_("checked against the charity register"), null=True, blank=True)
    # From the Companies House bulk file (organisations.companies_house), refreshed by each import.
    company_status = models.CharField(_("company status"), max_length=60, blank=True)
    incorporated_on = models.DateField(_("incorporated on"), null=True, blank=True)
    paid_staff = models.PositiveIntegerField(_("paid staff"), null=True, blank=True)
    volunteers = models.PositiveIntegerField(_("volunteers"), null=True, blank=True)
    communities_served = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="organisations_serving",
        limit_choices_to=terms_of(Taxonomy.COMMUNITIES),
        verbose_name=_("communities served"),
    )
    segments = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="organisations_in_segment",
        limit_choices_to=terms_of(Taxonomy.SEGMENTS),
        verbose_name=_("specialist segments"),
    )
    functions = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="organisations_with_function",
        limit_choices_to=terms_of(Taxonomy.FUNCTIONS),
        verbose_name=_("infrastructure functions"),
        help_text=_("For providers: the support they offer."),
    )
    languages = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="organisations_speaking",
        limit_choices_to=terms_of(Taxonomy.LANGUAGES),
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
    # Copied from another directory by the harvester (directory.harvest), which keeps it up to date:
    # read-only here, never asked to confirm its details, and not one of the network's VCOs or providers.
    is_harvested = models.BooleanField(_("listed by another directory"), default=False, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Reminders about this organisation (notifications.Reminder.about), deleted with it.
    reminders = GenericRelation(
        "notifications.Reminder", content_type_field="about_type", object_id_field="about_id"
    )
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
            models.UniqueConstraint(
                fields=["scottish_charity_number"],
                condition=~Q(scottish_charity_number=""),
                name="unique_scottish_charity_number",
            ),
            models.UniqueConstraint(
                fields=["ni_charity_number"], condition=~Q(ni_charity_number=""), name="unique_ni_charity_number"
            ),
            models.UniqueConstraint(
                fields=["mutuals_number"], condition=~Q(mutuals_number=""), name="unique_mutuals_number"
            ),
        ]
        indexes = [
            models.Index(fields=["details_confirmed_on"]),
            models.Index(fields=["development_stage"]),
            # What the funding figures read of a grant's recipient (evidence.selectors._funding_breakdowns):
            # for a short period's few grants, looked up one by one from the index alone, rather than
            # every organisation's row read into a hash table.
            models.Index(fields=["id", "ward", "development_stage"], name="organisation_ward_stage"),
        ]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organisations:organisation_detail", kwargs={"slug": self.slug})

    @property
    def identifiers(self) -> list[org_id.Identifier]:
        """Each register the organisation is on, with its number there, the primary first."""
        return [
            org_id.Identifier(org_id.LISTS[scheme], getattr(self, field_name))
            for scheme, field_name in self.IDENTIFIER_FIELDS.items()
            if getattr(self, field_name)
        ]

    @property
    def org_ids(self) -> list[str]:
        """Every identifier as an org-id ("GB-CHC-1164883"), the primary first."""
        return [identifier.org_id for identifier in self.identifiers]

    @property
    def primary_org_id(self) -> str:
        """The org-id other data is keyed on: a charity number, else the company number, else any other."""
        return next(iter(self.org_ids), "")

    def shows(self, field: str) -> bool:
        """Whether an optional field is on the organisation's public page."""
        return field in (self.public_fields or [])


class OrganisationDay(models.Model):
    """Open organisations of one kind created on one local day, with one development stage and ward:
    how many, their volunteers and paid staff, and how many gave a number of volunteers. The evidence
    figures read these instead of every organisation; every period starts and ends at local midnight,
    so they count exactly. Kept by database triggers (migration 0006) on the organisations and their
    kinds, segments and communities served, so no write path can leave them behind; a day with no
    open organisation has no row."""

    day = models.DateField(editable=False)
    kind = models.ForeignKey(TaxonomyTerm, on_delete=models.CASCADE, related_name="+", editable=False)
    development_stage = models.PositiveSmallIntegerField(null=True, editable=False)
    ward = models.ForeignKey(TaxonomyTerm, on_delete=models.CASCADE, null=True, related_name="+", editable=False)
    organisations = models.PositiveIntegerField(editable=False)
    volunteers = models.PositiveIntegerField(editable=False)
    paid_staff = models.PositiveIntegerField(editable=False)
    giving_volunteers = models.PositiveIntegerField(editable=False)

    class Meta:
        indexes = [models.Index(fields=["day"])]


class OrganisationTermDay(models.Model):
    """Open organisations of one kind created on one local day in one ward with one term of a list
    (segments, communities served): how many. Kept with OrganisationDay by the same triggers."""

    day = models.DateField(editable=False)
    kind = models.ForeignKey(TaxonomyTerm, on_delete=models.CASCADE, related_name="+", editable=False)
    relation = models.CharField(max_length=30, editable=False)
    term = models.ForeignKey(TaxonomyTerm, on_delete=models.CASCADE, related_name="+", editable=False)
    ward = models.ForeignKey(TaxonomyTerm, on_delete=models.CASCADE, null=True, related_name="+", editable=False)
    organisations = models.PositiveIntegerField(editable=False)

    class Meta:
        indexes = [models.Index(fields=["day"])]


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


class CharityRegisterImport(BackgroundImport):
    """One run of a register import (organisations.charity_register, organisations.companies_house): its
    files, progress and counts. Its findings are shown to network admins only once it is ready."""

    class Register(models.TextChoices):
        CHARITIES = "charities", _("Charity Commission register")
        COMPANIES = "companies", _("Companies House bulk file")

    UPLOAD_FOLDER = "charity-register"

    register = models.CharField(_("register"), max_length=10, choices=Register.choices, default=Register.CHARITIES)
    extract_date = models.DateField(_("date of extract"), null=True, blank=True)

    class Meta(BackgroundImport.Meta):
        verbose_name = _("register import")
        verbose_name_plural = _("register imports")

    def __str__(self) -> str:
        return _("%(register)s import of %(date)s") % {
            "register": self.get_register_display(),
            "date": timezone.localtime(self.created_at).strftime("%d %B %Y %H:%M"),
        }

    def discard_partial(self) -> None:
        # Findings are written in batches, outside one transaction: a failed import's are deleted.
        self.findings.all().delete()


class RegisterFindingQuerySet(models.QuerySet):
    def shown(self) -> "RegisterFindingQuerySet":
        """Findings of imports that finished: a failed or running import's are never acted on."""
        return self.filter(register_import__status=CharityRegisterImport.Status.READY)

    def pending(self) -> "RegisterFindingQuerySet":
        return self.filter(decision=RegisterFinding.Decision.PENDING)


class RegisterFinding(models.Model):
    """Something a register import found for a network admin to act on (or that it did: refreshed)."""

    class Kind(models.TextChoices):
        PROPOSAL = "proposal", _("In the borough, not in the directory")
        NAME_MATCH = "name_match", _("Same or similar name")
        REFRESHED = "refreshed", _("Details refreshed")
        REMOVED = "removed", _("Member removed from the register or being struck off")
        INSOLVENT = "insolvent", _("Member insolvent or in administration")
        STAGE = "stage", _("Development stage suggested")

    class Decision(models.TextChoices):
        PENDING = "pending", _("To check")
        ACCEPTED = "accepted", _("Done")
        DISMISSED = "dismissed", _("Dismissed")

    register_import = models.ForeignKey(
        CharityRegisterImport, on_delete=models.CASCADE, related_name="findings", verbose_name=_("import")
    )
    kind = models.CharField(_("finding"), max_length=12, choices=Kind.choices)
    charity_number = models.CharField(_("charity number"), max_length=8, blank=True)
    company_number = models.CharField(_("company number"), max_length=8, blank=True)
    name = models.CharField(_("name on the register"), max_length=300)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="register_findings", verbose_name=_("organisation")
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    objects = RegisterFindingQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["register_import", "kind", "decision"])]
        verbose_name = _("register finding")
        verbose_name_plural = _("register findings")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name} ({self.charity_number or self.company_number})"
