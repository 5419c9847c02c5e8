"""The admin for quality standards, badges, support materials and the health check.

Network admins edit the standard here: a DRAFT version's areas and criteria are editable; published
and retired versions are read-only (start a new draft, which copies the current version, to change
anything). Actions call quality.services.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.admin import NetworkAdminAccess
from core.admin import BoundedDateHierarchy, PortalTabularInline

from . import services
from .models import (
    Badge,
    BadgeArea,
    Criterion,
    CriterionResponse,
    FrameworkVersion,
    HealthCheck,
    HealthCheckArea,
    HealthCheckAreaScore,
    HealthCheckQuestion,
    Material,
    MaterialVersion,
    SelfAssessment,
    StandardArea,
)


class FrozenUnlessDraft:
    """Rows of a published or retired framework version are read-only; only a draft is edited."""

    def _version_of(self, obj):
        raise NotImplementedError

    def _frozen(self, obj) -> bool:
        version = self._version_of(obj) if obj is not None else None
        return version is not None and not version.is_editable

    def has_change_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


class StandardAreaInline(NetworkAdminAccess, PortalTabularInline):
    model = StandardArea
    fields = ("order", "code", "name", "edit_link")
    readonly_fields = ("edit_link",)
    extra = 0
    show_change_link = True

    @admin.display(description=gettext_lazy("criteria"))
    def edit_link(self, obj):
        if not obj.pk:
            return ""
        return format_html('<a href="{}">{}</a>', reverse("admin:quality_standardarea_change", args=[obj.pk]), _("Criteria of %(area)s") % {"area": obj.name})

    def has_add_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_delete_permission(request, obj)


@admin.register(FrameworkVersion)
class FrameworkVersionAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("number", "title", "status", "published_at", "assessment_count")
    list_filter = ("status",)
    fields = ("number", "title", "status", "notes", "published_at", "published_by")
    readonly_fields = ("number", "status", "published_at", "published_by")
    inlines = [StandardAreaInline]
    actions = ("start_new_draft", "publish")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(assessments_n=models.Count("assessments"))

    @admin.display(description=gettext_lazy("assessments"), ordering="assessments_n")
    def assessment_count(self, obj):
        return obj.assessments_n

    def has_add_permission(self, request):
        # New versions come from "Start a new draft", which copies the current version.
        return False

    def has_delete_permission(self, request, obj=None):
        return bool(obj and obj.is_editable) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return (*self.readonly_fields, "title", "notes")
        return self.readonly_fields

    @admin.action(description=gettext_lazy("Start a new draft version (copies the current one)"))
    def start_new_draft(self, request, queryset):
        try:
            draft = services.start_draft_version(by=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, _("Version %(number)s is a new draft: edit its areas and criteria, then publish it.") % {"number": draft.number}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Publish the selected draft (it becomes current and is frozen)"))
    def publish(self, request, queryset):
        for version in queryset:
            try:
                services.publish_version(version=version, by=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, _("Version %(number)s is published.") % {"number": version.number}, messages.SUCCESS)


class CriterionInline(NetworkAdminAccess, admin.StackedInline):
    model = Criterion
    fields = (("code", "level", "order"), "statement", "guidance", "evidence_expected")
    extra = 0
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 80})}}

    def _editable(self, obj) -> bool:
        return obj is None or obj.version.is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(StandardArea)
class StandardAreaAdmin(FrozenUnlessDraft, NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("name", "version", "order", "criteria_count")
    list_filter = ("version",)
    search_fields = ("name", "code")
    inlines = [CriterionInline]

    def _version_of(self, obj):
        return obj.version

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("version").annotate(criteria_n=models.Count("criteria"))

    @admin.display(description=gettext_lazy("criteria"), ordering="criteria_n")
    def criteria_count(self, obj):
        return obj.criteria_n

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "version":
            kwargs["queryset"] = FrameworkVersion.objects.filter(status=FrameworkVersion.Status.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Criterion)
class CriterionAdmin(FrozenUnlessDraft, NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("code", "area", "level", "short_statement")
    list_filter = ("area__version", "level", "area__name")
    search_fields = ("code", "statement")
    list_select_related = ("area", "area__version")

    def _version_of(self, obj):
        return obj.area.version

    @admin.display(description=gettext_lazy("statement"))
    def short_statement(self, obj):
        return obj.statement[:100]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "area":
            kwargs["queryset"] = StandardArea.objects.filter(version__status=FrameworkVersion.Status.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ResponseInline(NetworkAdminAccess, PortalTabularInline):
    model = CriterionResponse
    fields = ("criterion", "rating", "evidence_text", "review_status", "review_comment")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SelfAssessment)
class SelfAssessmentAdmin(NetworkAdminAccess, admin.ModelAdmin):
    """Read-only here: providers fill assessments in on the site, reviewers verify them there."""

    list_display = ("organisation", "version", "status", "submitted_at", "reviewer", "reviewed_at")
    list_filter = ("status", "version")
    search_fields = ("organisation__name",)
    list_select_related = ("organisation", "version", "reviewer")
    inlines = [ResponseInline]
    readonly_fields = ("organisation", "version", "status", "started_by", "submitted_at", "submitted_by", "reviewer", "review_started_at", "reviewed_at", "review_summary", "site_link")
    fields = readonly_fields

    @admin.display(description=gettext_lazy("on the site"))
    def site_link(self, obj):
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("Open the assessment"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BadgeAreaInline(NetworkAdminAccess, PortalTabularInline):
    model = BadgeArea
    fields = ("area", "level")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Badge)
class BadgeAdmin(BoundedDateHierarchy, NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("organisation", "status", "verified_on", "expires_on", "version")
    list_filter = ("status", "version")
    search_fields = ("organisation__name",)
    list_select_related = ("organisation", "version")
    date_hierarchy = "expires_on"
    readonly_fields = ("organisation", "assessment", "version", "status", "verified_on", "verified_by")
    fields = ("organisation", "assessment", "version", "status", "verified_on", "verified_by", "expires_on")
    inlines = [BadgeAreaInline]
    actions = ("withdraw",)

    def has_add_permission(self, request):
        return False

    @admin.action(description=gettext_lazy("Withdraw the selected badges"))
    def withdraw(self, request, queryset):
        for badge in queryset:
            services.withdraw_badge(badge=badge, by=request.user)
        self.message_user(request, _("The selected badges are withdrawn."), messages.SUCCESS)


class MaterialVersionInline(NetworkAdminAccess, PortalTabularInline):
    model = MaterialVersion
    fields = ("number", "original_name", "file_type", "size", "note", "download_count", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        # New files go through the site's upload page, which checks them by content.
        return False


@admin.register(Material)
class MaterialAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("title", "kind", "organisation", "is_public", "is_published", "download_count", "updated_at")
    list_filter = ("kind", "is_public", "is_published", "needs", "geographic_level")
    search_fields = ("title", "summary")
    list_select_related = ("organisation",)
    filter_horizontal = ("functions", "needs")
    readonly_fields = ("slug", "download_count", "created_by", "created_at", "updated_at", "site_link")
    fields = (
        "title", "slug", "summary", "kind", "external_url", "geographic_level", "functions", "needs",
        ("for_stage_1", "for_stage_2", "for_stage_3"), "organisation", "is_public", "is_published",
        "download_count", "created_by", "created_at", "updated_at", "site_link",
    )
    inlines = [MaterialVersionInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description=gettext_lazy("on the site"))
    def site_link(self, obj):
        if not obj.pk:
            return _("Add materials on the site (Support materials, Share a material), where files are checked.")
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("Open it, or upload a new version"))

    def has_add_permission(self, request):
        return False


class HealthCheckQuestionInline(NetworkAdminAccess, PortalTabularInline):
    model = HealthCheckQuestion
    fields = ("order", "text", "help_text", "for_stage_1", "for_stage_2", "for_stage_3", "is_active")
    extra = 0
    # Answered questions are kept for the health checks that used them: untick "asked" to retire one.
    can_delete = False


@admin.register(HealthCheckArea)
class HealthCheckAreaAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("name", "order")
    filter_horizontal = ("needs",)
    inlines = [HealthCheckQuestionInline]


class HealthCheckScoreInline(NetworkAdminAccess, PortalTabularInline):
    model = HealthCheckAreaScore
    fields = ("area", "score")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(HealthCheck)
class HealthCheckAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("organisation", "stage", "overall_score", "completed_at")
    list_filter = ("stage",)
    search_fields = ("organisation__name",)
    list_select_related = ("organisation",)
    readonly_fields = ("organisation", "stage", "overall_score", "completed_by", "completed_at")
    fields = readonly_fields
    inlines = [HealthCheckScoreInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
