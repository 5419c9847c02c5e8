"""Quality standards, self-assessments, peer review and badges; the support-materials library; the
organisational health check.

The standards framework is versioned: admins edit a draft version; publishing it freezes it. An
assessment points at the version it was made against, so changing the standards later never changes
what a provider was assessed on.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.files import private_file_storage
from organisations.models import Organisation
from taxonomies.models import TaxonomyTerm


class Level(models.IntegerChoices):
    """The baseline every provider must meet, then two levels above it. 0 is a verified "not met"."""

    NOT_MET = 0, _("Baseline not met")
    BASELINE = 1, _("Baseline")
    LEVEL_2 = 2, _("Level 2")
    LEVEL_3 = 3, _("Level 3")


CRITERION_LEVELS = [(Level.BASELINE, _("Baseline")), (Level.LEVEL_2, _("Level 2")), (Level.LEVEL_3, _("Level 3"))]


class FrameworkVersionQuerySet(models.QuerySet):
    def published(self) -> "FrameworkVersionQuerySet":
        return self.filter(status=FrameworkVersion.Status.PUBLISHED)


class FrameworkVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft (being edited)")
        PUBLISHED = "published", _("Published (current)")
        RETIRED = "retired", _("Retired (kept for old assessments)")

    number = models.PositiveIntegerField(_("version"), unique=True)
    title = models.CharField(_("title"), max_length=200, default="THIN Quality Standard")
    notes = models.TextField(_("what changed"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("published by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = FrameworkVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            # At most one current version and one draft at any time.
            models.UniqueConstraint(fields=["status"], condition=Q(status="published"), name="one_published_framework"),
            models.UniqueConstraint(fields=["status"], condition=Q(status="draft"), name="one_draft_framework"),
        ]
        verbose_name = _("framework version")
        verbose_name_plural = _("framework versions")

    def __str__(self) -> str:
        return f"{self.title}, version {self.number} ({self.get_status_display()})"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class StandardArea(models.Model):
    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="areas", verbose_name=_("framework version"))
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("what the area covers"), blank=True)
    diversity = models.TextField(
        _("diversity in this area"), blank=True, help_text=_("How equality and diversity run through this area.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["version", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="one_area_code_per_version")]
        verbose_name = _("standard area")
        verbose_name_plural = _("standard areas")

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    area = models.ForeignKey(StandardArea, on_delete=models.CASCADE, related_name="criteria", verbose_name=_("area"))
    level = models.PositiveSmallIntegerField(_("level"), choices=CRITERION_LEVELS, default=Level.BASELINE)
    code = models.CharField(_("code"), max_length=20, help_text=_("Short reference, such as GOV-B1."))
    statement = models.TextField(_("statement"), help_text=_("What a provider must do or have."))
    guidance = models.TextField(_("guidance"), blank=True)
    evidence_expected = models.TextField(_("evidence expected"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["area__order", "level", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["area", "code"], name="one_criterion_code_per_area")]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")

    def __str__(self) -> str:
        return f"{self.code}: {self.statement[:80]}"


class SelfAssessment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for verification")
        IN_REVIEW = "in_review", _("Being reviewed")
        RETURNED = "returned", _("Returned for changes")
        VERIFIED = "verified", _("Verified")

    OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.RETURNED)
    EDITABLE_STATUSES = (Status.DRAFT, Status.RETURNED)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="quality_assessments", verbose_name=_("provider")
    )
    version = models.ForeignKey(
        FrameworkVersion, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("framework version")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("started by")
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("submitted by")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="quality_reviews", verbose_name=_("reviewer")
    )
    review_started_at = models.DateTimeField(_("review started"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("review finished"), null=True, blank=True)
    review_summary = models.TextField(_("reviewer's summary"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status__in=["draft", "submitted", "in_review", "returned"]),
                name="one_open_assessment_per_provider",
            )
        ]
        indexes = [models.Index(fields=["status", "submitted_at"])]
        verbose_name = _("self-assessment")
        verbose_name_plural = _("self-assessments")

    def __str__(self) -> str:
        return _("%(organisation)s against version %(version)s (%(status)s)") % {
            "organisation": self.organisation,
            "version": self.version.number,
            "status": self.get_status_display(),
        }

    def get_absolute_url(self) -> str:
        return reverse("quality:assessment_detail", kwargs={"pk": self.pk})

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES


class CriterionResponse(models.Model):
    class Rating(models.TextChoices):
        MET = "met", _("Met")
        PARTLY_MET = "partly", _("Partly met")
        NOT_MET = "not_met", _("Not met")

    class ReviewStatus(models.TextChoices):
        PENDING = "pending", _("Not reviewed yet")
        VERIFIED = "verified", _("Verified")
        RETURNED = "returned", _("Returned with comments")

    assessment = models.ForeignKey(SelfAssessment, on_delete=models.CASCADE, related_name="responses")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="responses")
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices, blank=True)
    evidence_text = models.TextField(_("evidence"), max_length=10000, blank=True)
    evidence_links = models.TextField(
        _("links to evidence"), max_length=4000, blank=True, help_text=_("One web address per line.")
    )
    review_status = models.CharField(_("review"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    review_comment = models.TextField(_("reviewer's comment"), max_length=4000, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["criterion__area__order", "criterion__level", "criterion__order", "criterion__code"]
        constraints = [models.UniqueConstraint(fields=["assessment", "criterion"], name="one_response_per_criterion")]
        verbose_name = _("criterion response")
        verbose_name_plural = _("criterion responses")

    def __str__(self) -> str:
        return f"{self.criterion.code}: {self.get_rating_display() or _('not answered')}"

    @property
    def links(self) -> list[str]:
        return [line.strip() for line in self.evidence_links.splitlines() if line.strip()]


def _evidence_path(instance, filename: str) -> str:
    return f"evidence/{instance.response.assessment.uuid}/{uuid.uuid4().hex}.{instance.file_type or 'bin'}"


class EvidenceFile(models.Model):
    response = models.ForeignKey(CriterionResponse, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(_("file"), upload_to=_evidence_path, storage=private_file_storage, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    file_type = models.CharField(_("type"), max_length=10)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return self.original_name


class BadgeQuerySet(models.QuerySet):
    def current(self, today) -> "BadgeQuerySet":
        """Badges shown today. The date decides, so a badge past its expiry is hidden even before the
        scheduled job marks it expired."""
        return self.filter(status=Badge.Status.ACTIVE, expires_on__gt=today, organisation__is_active=True)


class Badge(models.Model):
    """The outcome of a verified assessment: a verified level per area, shown until it expires."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUPERSEDED = "superseded", _("Replaced by a newer badge")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn by a network admin")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="quality_badges", verbose_name=_("provider"))
    assessment = models.OneToOneField(SelfAssessment, on_delete=models.PROTECT, related_name="badge", verbose_name=_("assessment"))
    version = models.ForeignKey(FrameworkVersion, on_delete=models.PROTECT, related_name="badges", verbose_name=_("framework version"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    verified_on = models.DateField(_("verified on"))
    expires_on = models.DateField(_("expires on"))
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("verified by"))

    objects = BadgeQuerySet.as_manager()

    class Meta:
        ordering = ["-verified_on"]
        indexes = [models.Index(fields=["status", "expires_on"])]
        constraints = [
            models.UniqueConstraint(fields=["organisation"], condition=Q(status="active"), name="one_active_badge_per_provider")
        ]
        verbose_name = _("quality badge")
        verbose_name_plural = _("quality badges")

    def __str__(self) -> str:
        return _("%(organisation)s, verified until %(date)s") % {"organisation": self.organisation, "date": self.expires_on}


class BadgeArea(models.Model):
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="areas")
    area = models.ForeignKey(StandardArea, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("verified level"), choices=Level.choices)

    class Meta:
        ordering = ["area__order"]
        constraints = [models.UniqueConstraint(fields=["badge", "area"], name="one_level_per_badge_area")]
        verbose_name = _("verified level in an area")
        verbose_name_plural = _("verified levels by area")

    def __str__(self) -> str:
        return f"{self.area}: {self.get_level_display()}"


# Support materials -------------------------------------------------------------------------------


class MaterialQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MaterialQuerySet":
        materials = self.filter(is_published=True)
        if not (user and user.is_authenticated):
            materials = materials.filter(is_public=True)
        return materials


class Material(models.Model):
    class Kind(models.TextChoices):
        FACT_SHEET = "fact_sheet", _("Fact sheet")
        TOOL_KIT = "tool_kit", _("Tool kit")
        HEALTH_CHECK = "health_check", _("Health check")
        POLICY = "policy", _("Policy")
        QA_TEMPLATE = "qa_template", _("Quality assurance template")
        LINK = "link", _("Regional or national resource (link)")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("web address"), max_length=220, unique=True)
    summary = models.TextField(_("summary"), max_length=2000, help_text=_("What it is and who it helps, in a few sentences."))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    external_url = models.URLField(_("link"), blank=True, help_text=_("For a resource held elsewhere: its web address."))
    geographic_level = models.CharField(
        _("provision at"), max_length=20, choices=Organisation.GeographicLevel.choices, default=Organisation.GeographicLevel.LOCAL
    )
    functions = models.ManyToManyField(
        TaxonomyTerm, blank=True, related_name="materials_for_function", limit_choices_to={"taxonomy__code": "functions"}, verbose_name=_("infrastructure functions")
    )
    needs = models.ManyToManyField(
        TaxonomyTerm, blank=True, related_name="materials_for_need", limit_choices_to={"taxonomy__code": "needs"}, verbose_name=_("support needs")
    )
    for_stage_1 = models.BooleanField(_("for stage 1 (emerging) groups"), default=True)
    for_stage_2 = models.BooleanField(_("for stage 2 (improving) groups"), default=True)
    for_stage_3 = models.BooleanField(_("for stage 3 (established) groups"), default=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="materials", verbose_name=_("shared by")
    )
    is_public = models.BooleanField(_("public"), default=True, help_text=_("Untick to show it only to people who log in."))
    is_published = models.BooleanField(_("published"), default=True, help_text=_("Untick to take it out of the library."))
    download_count = models.PositiveIntegerField(_("downloads"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = MaterialQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["kind", "is_published"])]
        verbose_name = _("support material")
        verbose_name_plural = _("support materials")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("quality:material_detail", kwargs={"slug": self.slug})

    @property
    def is_link(self) -> bool:
        return bool(self.external_url)

    def stages(self) -> list[int]:
        return [n for n in (1, 2, 3) if getattr(self, f"for_stage_{n}")]


def _material_path(instance, filename: str) -> str:
    return f"materials/{instance.material.uuid}/v{instance.number}-{uuid.uuid4().hex[:8]}.{instance.file_type}"


class MaterialVersion(models.Model):
    """One uploaded file of a material. A new upload is a new version; old versions are kept."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    file = models.FileField(_("file"), upload_to=_material_path, storage=private_file_storage, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    file_type = models.CharField(_("type"), max_length=10)
    size = models.PositiveIntegerField(_("size in bytes"))
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    download_count = models.PositiveIntegerField(_("downloads"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["material", "-number"]
        constraints = [models.UniqueConstraint(fields=["material", "number"], name="one_material_version_number")]
        verbose_name = _("material version")
        verbose_name_plural = _("material versions")

    def __str__(self) -> str:
        return f"{self.material}, version {self.number}"


class MaterialDownloadDay(models.Model):
    """Downloads of a material per day, so evidence can count them over any period. No personal data."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="download_days")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["material", "day"], name="one_download_count_per_day")]


# The organisational health check ------------------------------------------------------------------


class HealthCheckArea(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    needs = models.ManyToManyField(
        TaxonomyTerm,
        blank=True,
        related_name="health_check_areas",
        limit_choices_to={"taxonomy__code": "needs"},
        verbose_name=_("support needs behind this area"),
        help_text=_("Suggested in the referral when the area scores low."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("health check area")
        verbose_name_plural = _("health check areas")

    def __str__(self) -> str:
        return self.name


class HealthCheckQuestion(models.Model):
    area = models.ForeignKey(HealthCheckArea, on_delete=models.CASCADE, related_name="questions", verbose_name=_("area"))
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("help"), max_length=500, blank=True)
    for_stage_1 = models.BooleanField(_("ask stage 1 (emerging) groups"), default=True)
    for_stage_2 = models.BooleanField(_("ask stage 2 (improving) groups"), default=True)
    for_stage_3 = models.BooleanField(_("ask stage 3 (established) groups"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("asked"), default=True)

    class Meta:
        ordering = ["area__order", "order", "pk"]
        verbose_name = _("health check question")
        verbose_name_plural = _("health check questions")

    def __str__(self) -> str:
        return self.text


class Answer(models.IntegerChoices):
    NOT_YET = 0, _("Not in place")
    STARTED = 1, _("Started")
    MOSTLY = 2, _("Mostly in place")
    FULLY = 3, _("Fully in place")


class HealthCheck(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="health_checks", verbose_name=_("organisation"))
    stage = models.PositiveSmallIntegerField(_("development stage"), choices=Organisation.Stage.choices)
    overall_score = models.PositiveSmallIntegerField(_("overall score (%)"))
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    completed_at = models.DateTimeField(_("completed"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-completed_at"]
        verbose_name = _("health check")
        verbose_name_plural = _("health checks")

    def __str__(self) -> str:
        return _("%(organisation)s on %(date)s") % {"organisation": self.organisation, "date": self.completed_at.date()}

    def get_absolute_url(self) -> str:
        return reverse("quality:health_check_result", kwargs={"pk": self.pk})


class HealthCheckAnswer(models.Model):
    health_check = models.ForeignKey(HealthCheck, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(HealthCheckQuestion, on_delete=models.PROTECT, related_name="answers")
    value = models.PositiveSmallIntegerField(choices=Answer.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["health_check", "question"], name="one_answer_per_question"),
            models.CheckConstraint(condition=Q(value__lte=3), name="health_check_answer_in_range"),
        ]


class HealthCheckAreaScore(models.Model):
    health_check = models.ForeignKey(HealthCheck, on_delete=models.CASCADE, related_name="scores")
    area = models.ForeignKey(HealthCheckArea, on_delete=models.PROTECT, related_name="scores")
    score = models.PositiveSmallIntegerField(_("score (%)"))

    class Meta:
        ordering = ["area__order"]
        constraints = [
            models.UniqueConstraint(fields=["health_check", "area"], name="one_score_per_area"),
            models.CheckConstraint(condition=Q(score__lte=100), name="health_check_score_in_range"),
        ]
