"""Joint projects and their monitoring, case studies, and the funders' evidence downloads.

Outputs (what was done) and outcomes (what changed) are kept apart: every indicator is one or the
other, and every page, chart and download shows them in separate sections.
"""

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast, Round
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import org_id
from core.background_imports import BackgroundImport
from core.files import private_file_storage
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm, terms_of


class JointProject(models.Model):
    """A project the network's members run together: one lead, any number of partners and funders."""

    class PeriodLength(models.IntegerChoices):
        MONTHLY = 1, _("Monthly")
        QUARTERLY = 3, _("Quarterly")
        HALF_YEARLY = 6, _("Every six months")
        YEARLY = 12, _("Yearly")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("web address"), max_length=220, unique=True)
    lead = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="joint_projects_led", verbose_name=_("lead organisation")
    )
    partners = models.ManyToManyField(
        Organisation, blank=True, related_name="joint_projects_as_partner", verbose_name=_("partner organisations")
    )
    funders = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="joint_projects_funded",
        verbose_name=_("funding organisations"),
        help_text=_("Funders that are in the directory. People linked to them can read the project."),
    )
    other_funders = models.TextField(
        _("other funders"), max_length=2000, blank=True, help_text=_("Funders not in the directory, one per line.")
    )
    funder_accounts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="joint_projects_readable",
        verbose_name=_("funder accounts"),
        help_text=_("Funder or commissioner accounts that may read this project's monitoring."),
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    budget = models.DecimalField(
        _("budget (£)"), max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    aims = models.TextField(_("aims"), max_length=5000, help_text=_("What the project sets out to do. Markdown is allowed."))
    period_length = models.PositiveSmallIntegerField(
        _("monitoring periods"), choices=PeriodLength.choices, default=PeriodLength.QUARTERLY
    )
    return_due_days = models.PositiveSmallIntegerField(
        _("returns due (days after each period ends)"), default=30, validators=[MaxValueValidator(180)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-start_date", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(start_date__lte=models.F("end_date")), name="project_starts_before_it_ends"),
        ]
        verbose_name = _("joint project")
        verbose_name_plural = _("joint projects")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("evidence:project_detail", kwargs={"slug": self.slug})

    @property
    def other_funder_names(self) -> list[str]:
        return [line.strip() for line in self.other_funders.splitlines() if line.strip()]


class ReportingPeriod(models.Model):
    """One monitoring period of a project, generated from its dates (see services.generate_periods)."""

    project = models.ForeignKey(JointProject, on_delete=models.CASCADE, related_name="periods", verbose_name=_("project"))
    number = models.PositiveSmallIntegerField(_("number"))
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    due_date = models.DateField(_("return due"))

    class Meta:
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="one_period_number_per_project"),
            models.CheckConstraint(condition=Q(start__lte=models.F("end")), name="period_starts_before_it_ends"),
        ]
        indexes = [models.Index(fields=["due_date"])]
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")

    def __str__(self) -> str:
        return _("Period %(number)s (%(start)s to %(end)s)") % {
            "number": self.number,
            "start": self.start.strftime("%d %b %Y"),
            "end": self.end.strftime("%d %b %Y"),
        }

    @property
    def label(self) -> str:
        return _("P%(number)s: %(start)s") % {"number": self.number, "start": self.start.strftime("%b %Y")}


class Indicator(models.Model):
    """Something the project counts. An output is what was done; an outcome is what changed."""

    class Kind(models.TextChoices):
        OUTPUT = "output", _("Output (what was done)")
        OUTCOME = "outcome", _("Outcome (what changed)")

    class ValueType(models.TextChoices):
        WHOLE_NUMBER = "whole", _("Whole number (a count)")
        DECIMAL = "decimal", _("Number with decimals")
        PERCENTAGE = "percentage", _("Percentage (0 to 100)")

    project = models.ForeignKey(JointProject, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("project"))
    kind = models.CharField(_("output or outcome"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, help_text=_("For example: groups given one-to-one support."))
    definition = models.TextField(
        _("definition"), max_length=2000, blank=True, help_text=_("What counts, and how it is measured.")
    )
    unit = models.CharField(_("unit"), max_length=50, blank=True, help_text=_("For example: groups, people, sessions."))
    value_type = models.CharField(_("type of figure"), max_length=12, choices=ValueType.choices, default=ValueType.WHOLE_NUMBER)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["project", "kind", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="unique_indicator_name_per_project")]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return self.name

    @property
    def is_output(self) -> bool:
        return self.kind == self.Kind.OUTPUT


class IndicatorTarget(models.Model):
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets", verbose_name=_("indicator"))
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="targets", verbose_name=_("period"))
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["indicator", "period"], name="one_target_per_indicator_period")]
        verbose_name = _("target")
        verbose_name_plural = _("targets")

    def __str__(self) -> str:
        return f"{self.indicator}: {self.target}"


class MonitoringReturnQuerySet(models.QuerySet):
    def submitted(self) -> "MonitoringReturnQuerySet":
        return self.filter(status=MonitoringReturn.Status.SUBMITTED)


class MonitoringReturn(models.Model):
    """One partner's report for one period: a figure per indicator, a narrative and case studies."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    project = models.ForeignKey(JointProject, on_delete=models.CASCADE, related_name="returns", verbose_name=_("project"))
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="returns", verbose_name=_("period"))
    partner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="monitoring_returns", verbose_name=_("partner")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    narrative = models.TextField(
        _("narrative"), max_length=10000, blank=True, help_text=_("What happened this period, in your own words.")
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("submitted by")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = MonitoringReturnQuerySet.as_manager()

    class Meta:
        ordering = ["period__number", "partner__name"]
        constraints = [models.UniqueConstraint(fields=["period", "partner"], name="one_return_per_partner_period")]
        indexes = [models.Index(fields=["project", "status"])]
        verbose_name = _("monitoring return")
        verbose_name_plural = _("monitoring returns")

    def __str__(self) -> str:
        return _("%(partner)s, %(period)s") % {"partner": self.partner, "period": self.period}

    def get_absolute_url(self) -> str:
        return reverse(
            "evidence:return_edit",
            kwargs={"slug": self.project.slug, "number": self.period.number, "partner": self.partner.slug},
        )


class ReturnFigure(models.Model):
    monitoring_return = models.ForeignKey(
        MonitoringReturn, on_delete=models.CASCADE, related_name="figures", verbose_name=_("monitoring return")
    )
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="figures", verbose_name=_("indicator"))
    value = models.DecimalField(_("actual"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monitoring_return", "indicator"], name="one_figure_per_indicator")]
        verbose_name = _("figure")
        verbose_name_plural = _("figures")

    def __str__(self) -> str:
        return f"{self.indicator}: {self.value}"


class CaseStudyQuerySet(models.QuerySet):
    def shareable(self) -> "CaseStudyQuerySet":
        """The only case studies any page or download may show: consent recorded and not withdrawn."""
        return self.filter(consent_given=True, consent_recorded_on__isnull=False, consent_withdrawn_on__isnull=True)


class CaseStudy(models.Model):
    """A story behind the figures, told with its subject's consent. No names: the subject is described."""

    monitoring_return = models.ForeignKey(
        MonitoringReturn, on_delete=models.CASCADE, related_name="case_studies", verbose_name=_("monitoring return")
    )
    title = models.CharField(_("title"), max_length=200)
    subject_description = models.CharField(
        _("who it is about"),
        max_length=200,
        help_text=_("Describe, do not name: for example, \"a new residents' group in Bow\"."),
    )
    story = models.TextField(_("story"), max_length=10000, help_text=_("Markdown is allowed. Leave out names and contact details."))
    outcome = models.ForeignKey(
        Indicator,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="case_studies",
        verbose_name=_("outcome it illustrates"),
    )
    consent_given = models.BooleanField(_("the subject has consented to this story being shared"), default=False)
    consent_recorded_on = models.DateField(_("consent recorded on"), null=True, blank=True)
    consent_how = models.CharField(
        _("how consent was given"), max_length=300, blank=True, help_text=_("For example: signed consent form, 3 May.")
    )
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("recorded by")
    )
    consent_withdrawn_on = models.DateField(_("consent withdrawn on"), null=True, blank=True)
    featured = models.BooleanField(
        _("suggest for evidence reports"), default=False, help_text=_("Offered first when a report is put together.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CaseStudyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A story without recorded consent cannot be stored as shareable.
            models.CheckConstraint(
                condition=Q(consent_given=False) | Q(consent_recorded_on__isnull=False), name="case_study_consent_has_a_date"
            ),
        ]
        verbose_name = _("case study")
        verbose_name_plural = _("case studies")

    def __str__(self) -> str:
        return self.title

    @property
    def is_shareable(self) -> bool:
        return self.consent_given and self.consent_recorded_on is not None and self.consent_withdrawn_on is None


class EvidenceExport(models.Model):
    """A funder's evidence pack, built in the background by a Celery task and kept for a set time."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being built")
        READY = "ready", _("Ready to download")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="evidence_exports", verbose_name=_("requested by")
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    area = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ward"),
        help_text=_("Empty for the whole borough."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0, validators=[MaxValueValidator(100)])
    step = models.CharField(_("current step"), max_length=200, blank=True)
    # Built by a worker, kept in the private files storage (core/files.py) as evidence-packs/<uuid>.xlsx,
    # and sent by the web side's download view.
    file = models.FileField(
        _("file"), upload_to="evidence-packs", storage=private_file_storage, max_length=500, blank=True
    )
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("available until"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(period_start__lte=models.F("period_end")), name="export_period_in_order"),
        ]
        verbose_name = _("evidence pack")
        verbose_name_plural = _("evidence packs")

    def __str__(self) -> str:
        return _("Evidence pack %(start)s to %(end)s") % {"start": self.period_start, "end": self.period_end}

    def get_absolute_url(self) -> str:
        return reverse("evidence:export_detail", kwargs={"uuid": self.uuid})

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED, self.Status.EXPIRED)

    @property
    def filename(self) -> str:
        area = self.area.code if self.area_id else "borough"
        return f"evidence-pack-{area}-{self.period_start.isoformat()}-to-{self.period_end.isoformat()}.xlsx"


# 360Giving grants -----------------------------------------------------------------------------------

AMOUNT_MIN = Decimal("0.01")
# Far above any grant a borough network makes or receives; a larger figure is a typing slip.
AMOUNT_MAX = Decimal("999999999.99")
EARLIEST_AWARD_DATE = date(1900, 1, 1)


def _no_control_characters(value: str) -> None:
    # PostgreSQL cannot store a NUL byte, and no published title needs a control character.
    if any(ord(char) < 32 and char not in "\n\r\t" or ord(char) == 127 for char in value or ""):
        raise ValidationError(
            _("Remove the control characters (such as NUL bytes) from this text."), code="control_characters"
        )


def _award_date_in_range(value: date) -> None:
    if value < EARLIEST_AWARD_DATE:
        raise ValidationError(_("Give an award date in 1900 or later."), code="award_date_too_early")
    if value > timezone.localdate():
        raise ValidationError(
            _("The award date cannot be in the future: record the grant once it is awarded."),
            code="award_date_in_future",
        )


class GrantQuerySet(models.QuerySet):
    def distributed(self) -> "GrantQuerySet":
        return self.filter(direction=Grant.Direction.DISTRIBUTED)

    def received_by(self, organisation: Organisation) -> "GrantQuerySet":
        """The grants an organisation received, newest first: imported from funders' 360Giving files and
        distributed by the network alike (both are grants received, from its point of view)."""
        return self.filter(recipient=organisation).order_by("-award_date", "-pk")

    def with_recipient_org_id(self) -> "GrantQuerySet":
        """Grants whose recipient has an org-id now: a recipient in the database with a register number,
        or one outside it recorded with its org-id. Only these can be published."""
        in_register = Q()
        for field_name in Organisation.IDENTIFIER_FIELDS.values():
            in_register |= ~Q(**{f"recipient__{field_name}": ""})
        return self.filter(
            Q(recipient__isnull=False) & in_register | Q(recipient__isnull=True) & ~Q(recipient_org_id="")
        )


class Grant(models.Model):
    """A grant in 360Giving's terms: one award of money by a funder to a recipient organisation.

    The network records the grants it distributes itself (published as 360Giving data); grants the sector
    receives, imported from funders' 360Giving files, share the model with `direction` set to received.
    """

    class Direction(models.TextChoices):
        DISTRIBUTED = "distributed", _("Distributed by the network")
        RECEIVED = "received", _("Received from another funder (imported)")

    identifier = models.CharField(
        _("360Giving identifier"),
        max_length=200,
        unique=True,
        editable=False,
        help_text=_("The publisher's 360Giving prefix and the grant's reference, for example 360G-thin-2026-001."),
    )
    reference = models.SlugField(
        _("reference"),
        max_length=100,
        blank=True,
        help_text=_(
            "The network's own reference for the grant, for example 2026-001. It becomes part of the published identifier and cannot be changed later."
        ),
    )
    direction = models.CharField(
        _("direction"), max_length=12, choices=Direction.choices, default=Direction.DISTRIBUTED
    )
    title = models.CharField(_("title"), max_length=300, validators=[_no_control_characters])
    description = models.TextField(
        _("description"),
        max_length=5000,
        validators=[_no_control_characters],
        help_text=_("What the grant is for, in plain words."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="GBP", editable=False)
    amount_awarded = models.DecimalField(
        _("amount awarded (£)"),
        max_digits=11,
        decimal_places=2,
        validators=[
            MinValueValidator(AMOUNT_MIN, message=_("The amount awarded must be more than £0.")),
            MaxValueValidator(
                AMOUNT_MAX, message=_("The amount awarded must be less than £1,000,000,000: check the figure.")
            ),
        ],
    )
    award_date = models.DateField(_("award date"), validators=[_award_date_in_range])
    planned_start_date = models.DateField(_("planned start"), null=True, blank=True)
    planned_end_date = models.DateField(_("planned end"), null=True, blank=True)
    recipient = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grants_received",
        verbose_name=_("recipient organisation"),
        help_text=_(
            "It must have a charity, company or other register number, which is its identifier in the published data."
        ),
    )
    recipient_name = models.CharField(
        _("recipient name"),
        max_length=300,
        blank=True,
        validators=[_no_control_characters],
        help_text=_("Only for a recipient not in the portal's database."),
    )
    recipient_org_id = models.CharField(
        _("recipient org-id"),
        # Imported files may name a recipient by the funder's own identifier (360G-...), longer than an org-id.
        max_length=200,
        blank=True,
        help_text=_("Only for a recipient not in the portal's database: its org-id, for example GB-CHC-1164883."),
    )
    # The funder as published: the network itself for distributed grants (from the settings when the grant
    # is recorded), the funder named in the file for imported ones.
    funder_org_id = models.CharField(_("funder org-id"), max_length=200, editable=False)
    funder_name = models.CharField(_("funder name"), max_length=300, editable=False)
    grant_programme = models.CharField(
        _("grant programme"), max_length=300, blank=True, validators=[_no_control_characters]
    )
    beneficiary_ward = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=terms_of(Taxonomy.WARDS),
        verbose_name=_("beneficiary ward"),
    )
    # The award date of the recipient's grant before this one (grants in order of award date, then id):
    # any grant, the same funder's, the same beneficiary ward's, and the same funder's for the same
    # beneficiary ward; None for the first. Kept by database triggers on every write to the grants
    # (migration 0006), whatever is saved here. A grant is the first of its kind to its recipient in a
    # period when the one before it is older than the period's start: that is how the funding figures
    # count the organisations a breakdown's grants went to, without sorting them (selectors).
    previous_to_recipient = models.DateField(null=True, editable=False)
    previous_from_funder = models.DateField(null=True, editable=False)
    previous_for_ward = models.DateField(null=True, editable=False)
    previous_from_funder_for_ward = models.DateField(null=True, editable=False)
    # The recipient's ward and development stage, copied from its organisation by database triggers on
    # every write to the grants and to those two fields of an organisation (migration 0008), whatever is
    # saved here, so that the funding figures read the grants alone, without joining their recipients.
    recipient_ward = models.ForeignKey(
        TaxonomyTerm, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, null=True, editable=False, related_name="+"
    )
    recipient_stage = models.PositiveSmallIntegerField(null=True, editable=False)
    # The amount in whole pence, kept by the database from the amount (a stored generated column), so
    # that the funding figures add up integers rather than decimals (selectors).
    amount_in_pence = models.GeneratedField(
        expression=Cast(Round(F("amount_awarded") * 100), models.BigIntegerField()),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last modified"), auto_now=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["-award_date", "identifier"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_awarded__gt=0), name="grant_amount_positive"),
            models.UniqueConstraint(
                fields=["direction", "reference"],
                condition=~Q(reference=""),
                name="unique_grant_reference_per_direction",
            ),
        ]
        indexes = [models.Index(fields=["direction", "award_date"])]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")

    def __str__(self) -> str:
        return f"{self.identifier or self.reference}: {self.title}"

    @property
    def recipient_identifier(self) -> str:
        """The recipient's org-id as published: its primary one now if it is in the database."""
        return self.recipient.primary_org_id if self.recipient_id else self.recipient_org_id

    @property
    def recipient_display_name(self) -> str:
        return self.recipient.name if self.recipient_id else self.recipient_name

    def clean(self) -> None:
        errors = {}
        if self.direction == self.Direction.DISTRIBUTED and not self.reference and not self.identifier:
            errors["reference"] = _("Give the grant a reference, for example 2026-001.")
        if self.recipient_id:
            if not self.recipient.primary_org_id:
                errors["recipient"] = _(
                    "%(name)s has no charity, company or other register number, so the grant could not be published "
                    "in 360Giving: add the organisation's number first."
                ) % {"name": self.recipient.name}
            self.recipient_name = self.recipient_org_id = ""
        elif not (self.recipient_name and self.recipient_org_id):
            errors["recipient"] = _(
                "Choose the recipient organisation, or, for one not in the database, give its name and org-id."
            )
        else:
            try:
                self.recipient_org_id = "-".join(org_id.parse_org_id(self.recipient_org_id))
            except ValidationError as error:
                errors["recipient_org_id"] = error.messages
        if self.planned_start_date and self.planned_end_date and self.planned_end_date < self.planned_start_date:
            errors["planned_end_date"] = _("The planned end must be on or after the planned start.")
        if errors:
            raise ValidationError(errors)
        if self.direction == self.Direction.DISTRIBUTED:
            if not self.identifier:
                self.identifier = f"{settings.PORTAL_360G_PREFIX}-{self.reference}"
            self.funder_org_id = settings.PORTAL_NETWORK_ORG_ID
            self.funder_name = settings.PORTAL_NETWORK_NAME


class GrantImport(BackgroundImport):
    """One import of a funder's 360Giving file (evidence.grants_import): the grants it read become
    Grant rows received by the sector, or, if any is wrong, nothing does and ``problems`` lists them."""

    UPLOAD_FOLDER = "grants-import"

    # Every problem found, up to grants_import.MAX_PROBLEMS; counts["problems"] says how many in all.
    problems = models.JSONField(_("problems"), default=list, blank=True)

    class Meta(BackgroundImport.Meta):
        verbose_name = _("360Giving grants import")
        verbose_name_plural = _("360Giving grants imports")

    def __str__(self) -> str:
        return _("Grants import of %(date)s (%(files)s)") % {
            "date": timezone.localtime(self.created_at).strftime("%d %B %Y %H:%M"),
            "files": self.files or "–",
        }


# The network's baseline of support: the minimum every area should have --------------------------------


class BaselineItemQuerySet(models.QuerySet):
    def active(self) -> "BaselineItemQuerySet":
        return self.filter(is_active=True)


class BaselineItem(models.Model):
    """One item of the baseline the network agrees: at least so many providers of an infrastructure
    function (for a specialist segment, free of charge) reachable in each ward or in the area as a
    whole. evidence.selectors.baseline_coverage says, area by area, which items are met and by whom."""

    class Reach(models.TextChoices):
        EACH_WARD = "ward", _("In each ward")
        AREA = "area", _("In the borough (or other area) as a whole")

    function = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to=terms_of(Taxonomy.FUNCTIONS),
        verbose_name=_("infrastructure function"),
        help_text=_("The support the item asks for. A heading (such as “Support and development”) counts any function under it."),
    )
    segment = models.ForeignKey(
        TaxonomyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=terms_of(Taxonomy.SEGMENTS),
        verbose_name=_("for the specialist segment"),
        help_text=_("Leave empty for support open to the whole sector. If chosen, only services naming this segment count."),
    )
    minimum_providers = models.PositiveSmallIntegerField(
        _("at least this many providers"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("Different organisations: two services of one provider count once."),
    )
    free_only = models.BooleanField(
        _("free of charge only"),
        default=False,
        help_text=_("Only services marked free, with no fee given, count. A service that charges, or whose fee is not known, does not."),
    )
    reach = models.CharField(
        _("where it must be reachable"),
        max_length=10,
        choices=Reach.choices,
        default=Reach.EACH_WARD,
        help_text=_(
            "In each ward: every ward needs the providers (a service naming no wards serves them all). As a whole: "
            "the providers may be anywhere in the borough. Other directories' areas are always looked at as a whole."
        ),
    )
    description = models.CharField(
        _("short description"),
        max_length=200,
        help_text=_("How funders see the item, for example “Free information and advice in every ward”."),
    )
    order = models.PositiveIntegerField(_("order"), default=0, help_text=_("Items are shown from the lowest number."))
    is_active = models.BooleanField(_("in the baseline"), default=True, help_text=_("Untick to set the item aside without losing its history."))

    objects = BaselineItemQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("baseline item")
        verbose_name_plural = _("baseline items")

    def __str__(self) -> str:
        return self.description

    @property
    def requirement(self) -> str:
        """The item in words: "at least 2 free providers of Training, for BME VCOs, in each ward"."""
        words = {"count": self.minimum_providers, "function": self.function.name}
        if self.free_only:
            text = ngettext(
                "at least %(count)s free provider of %(function)s", "at least %(count)s free providers of %(function)s", self.minimum_providers
            ) % words
        else:
            text = ngettext(
                "at least %(count)s provider of %(function)s", "at least %(count)s providers of %(function)s", self.minimum_providers
            ) % words
        if self.segment_id:
            text += ", " + _("for %(segment)s") % {"segment": self.segment.name}
        where = _("in each ward") if self.reach == self.Reach.EACH_WARD else _("in the area as a whole")
        return f"{text}, {where}"


class BaselineSnapshot(models.Model):
    """An area's standing against one baseline item in one month, as the monthly task recorded it
    (evidence.tasks.record_baseline_coverage): what "changes over time" on the baseline page reads.
    The area is kept by key and name, so a ward renamed or a directory removed keeps its history."""

    class AreaKind(models.TextChoices):
        BOROUGH = "borough", _("Borough")
        WARD = "ward", _("Ward")
        HARVESTED = "harvested", _("Other directory")

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    area_key = models.CharField(_("area"), max_length=120)
    area_label = models.CharField(_("area name"), max_length=200)
    area_kind = models.CharField(_("kind of area"), max_length=10, choices=AreaKind.choices)
    item = models.ForeignKey(BaselineItem, on_delete=models.CASCADE, related_name="snapshots", verbose_name=_("baseline item"))
    met = models.BooleanField(_("met"))
    provider_count = models.PositiveIntegerField(_("providers"))
    provider_names = models.TextField(_("provider names"), blank=True)
    recorded_at = models.DateTimeField(_("recorded"), auto_now=True)

    class Meta:
        ordering = ["-month", "area_key", "item"]
        constraints = [models.UniqueConstraint(fields=["month", "area_key", "item"], name="one_baseline_snapshot_per_month")]
        verbose_name = _("baseline snapshot")
        verbose_name_plural = _("baseline snapshots")

    def __str__(self) -> str:
        return f"{self.month:%B %Y}: {self.area_label}, {self.item}"
