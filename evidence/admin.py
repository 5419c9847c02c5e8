"""The admin for joint projects, returns, case studies and evidence packs: network admins' view of
everything. Saving a project through the admin regenerates its periods through the same service."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.admin import NetworkAdminAccess
from core.admin import (
    BackgroundImportAdmin,
    BackgroundUploadForm,
    BoundedDateHierarchy,
    LabelledListEditable,
    MultipleFileField,
    MultipleFileInput,
    PortalTabularInline,
)
from organisations.models import Organisation

from . import grants_import, services, tasks
from .models import (
    BaselineItem,
    BaselineSnapshot,
    CaseStudy,
    EvidenceExport,
    Grant,
    GrantImport,
    Indicator,
    JointProject,
    MonitoringReturn,
    ReportingPeriod,
    ReturnFigure,
)


class IndicatorInline(NetworkAdminAccess, PortalTabularInline):
    model = Indicator
    extra = 0
    fields = ("kind", "name", "unit", "value_type", "order")


class PeriodInline(NetworkAdminAccess, PortalTabularInline):
    model = ReportingPeriod
    extra = 0
    fields = ("number", "start", "end", "due_date")
    readonly_fields = ("number", "start", "end")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # periods come from the project's dates


@admin.register(JointProject)
class JointProjectAdmin(BoundedDateHierarchy, NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("title", "lead", "start_date", "end_date", "period_length")
    list_filter = ("period_length", "start_date")
    search_fields = ("title", "lead__name", "partners__name", "other_funders")
    autocomplete_fields = ("lead", "partners", "funders")
    filter_horizontal = ("funder_accounts",)
    prepopulated_fields = {"slug": ("title",)}
    date_hierarchy = "start_date"
    inlines = [IndicatorInline, PeriodInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        try:
            services.generate_periods(project=form.instance)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))


class ReturnFigureInline(NetworkAdminAccess, PortalTabularInline):
    model = ReturnFigure
    extra = 0
    fields = ("indicator", "value")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only the return's own project's indicators: a figure for another project's indicator is refused.
        if db_field.name == "indicator":
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            project_id = MonitoringReturn.objects.filter(pk=object_id).values_list("project_id", flat=True).first()
            kwargs["queryset"] = Indicator.objects.filter(project_id=project_id) if project_id else Indicator.objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(MonitoringReturn)
class MonitoringReturnAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("project", "period", "partner", "status", "submitted_at")
    list_filter = ("status", "project")
    search_fields = ("project__title", "partner__name")
    list_select_related = ("project", "period", "partner")
    readonly_fields = ("project", "period", "partner", "submitted_at", "submitted_by")
    inlines = [ReturnFigureInline]
    actions = ["reopen"]

    def has_add_permission(self, request):
        return False  # a return is opened from the project page, for a partner and a period

    @admin.action(description=_("Reopen the selected returns (back to draft)"))
    def reopen(self, request, queryset):
        for monitoring_return in queryset:
            services.reopen_return(monitoring_return=monitoring_return)
        count = queryset.count()
        self.message_user(request, ngettext("%(count)d return reopened.", "%(count)d returns reopened.", count) % {"count": count})


@admin.register(CaseStudy)
class CaseStudyAdmin(NetworkAdminAccess, LabelledListEditable, admin.ModelAdmin):
    list_display = ("title", "project_title", "consent_given", "consent_recorded_on", "consent_withdrawn_on", "featured")
    list_filter = ("consent_given", "featured", ("consent_withdrawn_on", admin.EmptyFieldListFilter))
    search_fields = ("title", "subject_description", "monitoring_return__project__title")
    list_select_related = ("monitoring_return__project",)
    readonly_fields = ("monitoring_return", "consent_given", "consent_recorded_on", "consent_how", "consent_recorded_by", "created_at")
    list_editable = ("featured",)
    actions = ["withdraw"]

    def has_add_permission(self, request):
        return False  # recorded on a return's page, where consent is asked for

    @admin.display(description=_("project"), ordering="monitoring_return__project__title")
    def project_title(self, obj):
        return obj.monitoring_return.project.title

    @admin.action(description=_("Consent withdrawn: hide the selected case studies everywhere"))
    def withdraw(self, request, queryset):
        for case_study in queryset:
            services.withdraw_consent(case_study=case_study)
        self.message_user(request, _("Consent recorded as withdrawn."))


@admin.register(EvidenceExport)
class EvidenceExportAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("__str__", "requested_by", "area", "status", "progress", "created_at", "expires_at")
    list_filter = ("status",)
    search_fields = ("requested_by__username", "requested_by__email")
    list_select_related = ("requested_by", "area")
    # The pack's file is shown by its stored name: as a FileField it would be a link to a public address,
    # which a private file does not have (the person who asked downloads it from the evidence pages).
    exclude = ["file"]
    readonly_fields = [field.name if field.name != "file" else "stored_file" for field in EvidenceExport._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("file"))
    def stored_file(self, export):
        return export.file.name or "–"


@admin.register(BaselineItem)
class BaselineItemAdmin(NetworkAdminAccess, LabelledListEditable, admin.ModelAdmin):
    """The baseline of support the network agreed. Funders see every area against it on the baseline
    coverage page (evidence:baseline); the daily task records each month's standing."""

    list_display = ("description", "function", "segment", "minimum_providers", "free_only", "reach", "order", "is_active")
    list_editable = ("order", "is_active")
    list_filter = ("is_active", "reach", "free_only")
    list_select_related = ("function", "segment")
    search_fields = ("description", "function__name", "segment__name")
    fieldsets = (
        (None, {"fields": ("description", "function", "segment")}),
        (_("How much, and where"), {"fields": ("minimum_providers", "free_only", "reach")}),
        (_("On the page"), {"fields": ("order", "is_active")}),
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only terms in use: a retired function or segment cannot be chosen for a new item.
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in ("function", "segment"):
            field.queryset = field.queryset.filter(is_active=True).order_by("parent__order", "order", "name")
        return field


@admin.register(BaselineSnapshot)
class BaselineSnapshotAdmin(NetworkAdminAccess, admin.ModelAdmin):
    """The monthly record, read-only: written by evidence.tasks.record_baseline_coverage."""

    list_display = ("month", "area_label", "area_kind", "item", "met", "provider_count")
    list_filter = ("month", "area_kind", "met", "item")
    list_select_related = ("item",)
    search_fields = ("area_label", "provider_names", "item__description")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NetworkAdminsOnly(NetworkAdminAccess):
    """Grants are the network's own money: only network admins record them, whatever other staff's
    model permissions say."""

    def has_module_permission(self, request):
        return self._is_network_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._is_network_admin(request)

    def has_add_permission(self, request, *args):
        return self._is_network_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_network_admin(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_network_admin(request)


@admin.register(Grant)
class GrantAdmin(BoundedDateHierarchy, NetworkAdminsOnly, admin.ModelAdmin):
    list_display = ("identifier", "title", "recipient_shown", "funder_name", "amount_awarded", "award_date", "direction")
    list_filter = ("direction", "award_date", "grant_programme", "beneficiary_ward")
    search_fields = (
        "identifier",
        "reference",
        "title",
        "recipient__name",
        "recipient__charity_number",
        "recipient__company_number",
        "recipient_name",
        "recipient_org_id",
        "grant_programme",
        "funder_name",
        "funder_org_id",
    )
    list_select_related = ("recipient",)
    autocomplete_fields = ("recipient",)
    date_hierarchy = "award_date"
    readonly_fields = ("identifier", "currency", "funder_org_id", "funder_name", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("reference", "identifier", "title", "description", "grant_programme")}),
        (
            _("Money and dates"),
            {"fields": ("currency", "amount_awarded", "award_date", "planned_start_date", "planned_end_date")},
        ),
        (
            _("Recipient"),
            {
                "fields": ("recipient", "recipient_name", "recipient_org_id", "beneficiary_ward"),
                "description": _(
                    "Choose an organisation in the database, or give the name and org-id of one that is not."
                ),
            },
        ),
        (_("Funder and record"), {"fields": ("direction", "funder_org_id", "funder_name", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # The reference is part of the published identifier, which must never change once published;
        # only distributed grants are recorded here (received ones come from imports).
        fields = list(super().get_readonly_fields(request, obj))
        fields.append("direction")
        if obj is not None:
            fields.append("reference")
        return fields

    def get_search_results(self, request, queryset, search_term):
        # A recipient's org-id ("GB-CHC-1098765") finds its grants, wherever the number is kept.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            recipients = Organisation.objects.with_org_id(search_term)
        except ValidationError:
            return results, may_have_duplicates
        return results | queryset.filter(recipient__in=recipients), may_have_duplicates

    @admin.display(description=_("recipient"), ordering="recipient__name")
    def recipient_shown(self, grant):
        return f"{grant.recipient_display_name} ({grant.recipient_identifier or _('no org-id')})"


# 360Giving grants in ------------------------------------------------------------------------------


class GrantsUploadForm(BackgroundUploadForm):
    max_bytes_setting = "PORTAL_GRANTS_MAX_BYTES"
    files = MultipleFileField(
        label=_("360Giving file"),
        help_text=_(
            "A funder's 360Giving data: its JSON data package (.json), or the standard's spreadsheet as .xlsx or "
            "“CSV UTF-8” (.csv) with the standard's column titles (Identifier, Title, Amount Awarded...)."
        ),
        widget=MultipleFileInput(attrs={"accept": ".json,.csv,.xlsx"}),
    )


@admin.register(GrantImport)
class GrantImportAdmin(NetworkAdminsOnly, BackgroundImportAdmin):
    list_display = ("__str__", "status", "progress", "step", "grants_link")
    list_filter = ("status",)
    readonly_fields = (
        "status", "progress", "step", "error", "problems", "files", "counts", "started_by", "created_at",
        "started_at", "finished_at",
    )  # fmt: skip
    fields = readonly_fields
    progress_template = "admin/evidence/grantimport/progress.html"

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("grants"))
    def grants_link(self, grant_import):
        if grant_import.status != GrantImport.Status.READY:
            return "–"
        return format_html('<a href="{}">{}</a>', self._grants_url(), gettext("See the grants received"))

    def _grants_url(self) -> str:
        return reverse("admin:evidence_grant_changelist") + f"?direction__exact={Grant.Direction.RECEIVED}"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="%s_%s_upload" % info),
            path("<int:pk>/progress/", self.admin_site.admin_view(self.progress_view), name="%s_%s_progress" % info),
        ] + super().get_urls()

    def upload_view(self, request):
        return self.upload_page(
            request,
            form_class=GrantsUploadForm,
            start=grants_import.start_import,
            enqueue=tasks.enqueue_grant_import,
            title=gettext("Import a funder's 360Giving grants"),
            intro=[
                gettext(
                    "Funders publish the grants they make as 360Giving data (on GrantNav or their own site). Upload "
                    "a funder's file below: the JSON data package, or the standard's spreadsheet. The import checks "
                    "every grant against the 360Giving standard first: a file with problems is refused with each "
                    "row and column named, and nothing changes. Then it records the grants as received by the "
                    "sector, matching each recipient to an organisation by its org-id (GB-CHC-..., GB-COH-...)."
                ),
                gettext(
                    "Importing the same file again updates its grants rather than adding them twice. The grants "
                    "appear on each recipient organisation's page."
                ),
            ],
        )

    def progress_context(self, run) -> dict:
        return {
            "upload_again": self._url("upload"),
            "grants_url": self._grants_url(),
            "more_problems": max(0, run.counts.get("problems", 0) - len(run.problems)),
        }
