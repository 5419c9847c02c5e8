"""The Django admin for the provider directory: services and locations, and the other directories
harvested (directory/harvest.py), whose services are shown read-only and may be hidden."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import get_deleted_objects
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import NetworkAdminAccess
from core.admin import HTTPS_URLS, HarvestedReadOnly, PortalTabularInline, RunLogInline, names_in_message
from core.exports import CSV, XLSX
from thin_portal.celery import quick_broker_connection

from . import exports, harvest, services
from .models import (
    SERVICE_REVIEW_AFTER_DAYS,
    HarvestRun,
    HarvestSource,
    Location,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceContact,
)

# Services and locations ----------------------------------------------------------------------------


class ServiceReviewFilter(admin.SimpleListFilter):
    title = gettext_lazy("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("due", _("Needs review: not reviewed for over a year")),
            ("never", _("Never reviewed")),
            ("recent", _("Reviewed in the last year")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "due":
            return queryset.needs_review()
        if value == "never":
            return queryset.filter(last_reviewed_on__isnull=True)
        if value == "recent":
            return queryset.filter(
                last_reviewed_on__gte=timezone.localdate() - timedelta(days=SERVICE_REVIEW_AFTER_DAYS)
            )
        return queryset


class ScheduleInline(HarvestedReadOnly, NetworkAdminAccess, PortalTabularInline):
    model = Schedule
    extra = 0
    fields = ("weekday", "opens_at", "closes_at", "attending_type", "service_at_location", "valid_from", "valid_to", "notes")
    verbose_name = gettext_lazy("regular time")
    verbose_name_plural = gettext_lazy("regular times")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "service_at_location":
            kwargs["queryset"] = ServiceAtLocation.objects.select_related("service", "location")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceContactInline(HarvestedReadOnly, NetworkAdminAccess, PortalTabularInline):
    model = ServiceContact
    extra = 0
    fields = ("name", "title", "email", "phone")


class ServiceAtLocationInline(HarvestedReadOnly, NetworkAdminAccess, PortalTabularInline):
    model = ServiceAtLocation
    extra = 0
    fields = ("location",)
    autocomplete_fields = ("location",)
    verbose_name = gettext_lazy("place where it runs")
    verbose_name_plural = gettext_lazy("places where it runs")


@admin.register(Service)
class ServiceAdmin(HarvestedReadOnly, NetworkAdminAccess, SimpleHistoryAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ("name", "organisation", "status", "is_free", "accepting_referrals", "last_reviewed_on", "review_flag", "source")
    list_select_related = ("organisation", "source")
    list_filter = (
        ServiceReviewFilter,
        "status",
        "is_free",
        "accepting_referrals",
        "geographic_level",
        "functions",
        "needs",
        "source",
        "is_hidden",
        "is_withdrawn",
    )
    search_fields = ("name", "description", "organisation__name")
    search_help_text = gettext_lazy("Search by service name, description or provider.")
    autocomplete_fields = ("organisation", "functions", "needs", "segments", "communities", "wards", "languages")
    readonly_fields = ("uuid", "created_at", "updated_at", "last_reviewed_by", "source", "remote_id", "is_hidden", "is_withdrawn")
    inlines = (ServiceAtLocationInline, ScheduleInline, ServiceContactInline)
    actions = ("mark_reviewed", "hide_harvested", "show_harvested", "export_csv", "export_xlsx")
    fieldsets = (
        (None, {"fields": ("name", "slug", "organisation", "description", "status", "accepting_referrals")}),
        (gettext_lazy("What it does"), {"fields": ("functions", "needs")}),
        (
            gettext_lazy("Who it is for"),
            {"fields": ("segments", "communities", ("serves_stage_1", "serves_stage_2", "serves_stage_3"), ("minimum_age", "maximum_age"))},
        ),
        (gettext_lazy("Where and when"), {"fields": ("geographic_level", "area_served", "wards", "is_online", "offers_outreach", "schedule_notes")}),
        (
            gettext_lazy("How to get it and cost"),
            {"fields": (("access_drop_in", "access_self_referral", "access_portal_referral", "access_booking"), "is_free", "fee_amount", "fee_description")},
        ),
        (gettext_lazy("Languages, access and contact"), {"fields": ("languages", "accessibility", "url", "email", "phone")}),
        (gettext_lazy("Record"), {"fields": ("last_reviewed_on", "last_reviewed_by", "uuid", "created_at", "updated_at")}),
        (
            gettext_lazy("Harvested from another directory"),
            {
                "fields": ("source", "remote_id", "is_hidden", "is_withdrawn"),
                "description": gettext_lazy(
                    "A harvested service is kept by the directory that lists it: hide it with the action on the list of services."
                ),
            },
        ),
    )
    prepopulated_fields = {"slug": ("name",)}

    @admin.display(description=gettext_lazy("needs review"))
    def review_flag(self, service):
        if not service.needs_review:
            return ""
        return format_html('<img src="{}" alt=""> {}', static("admin/img/icon-alert.svg"), _("Needs review"))

    @admin.action(description=gettext_lazy("Mark selected services as reviewed today"), permissions=["change"])
    def mark_reviewed(self, request, queryset):
        for service in queryset:
            services.mark_service_reviewed(service=service, by=request.user)
        messages.success(request, _("Marked as reviewed: %(names)s.") % {"names": names_in_message(queryset)})

    @admin.action(description=gettext_lazy("Hide selected harvested services from the directory and the API"), permissions=["change"])
    def hide_harvested(self, request, queryset):
        self._set_hidden(request, queryset, hidden=True)

    @admin.action(description=gettext_lazy("Show selected harvested services again"), permissions=["change"])
    def show_harvested(self, request, queryset):
        self._set_hidden(request, queryset, hidden=False)

    def _set_hidden(self, request, queryset, *, hidden: bool) -> None:
        own = queryset.filter(source__isnull=True).count()
        changed = harvest.set_hidden(services=queryset, hidden=hidden)
        message = _("Hidden: %(n)s harvested services.") if hidden else _("Shown again: %(n)s harvested services.")
        messages.success(request, message % {"n": changed})
        if own:
            messages.warning(
                request,
                _("%(n)s of the selected services are the portal's own, not harvested: close them instead.") % {"n": own},
            )

    @admin.action(description=gettext_lazy("Export selected services as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return exports.services_response(queryset.order_by("name", "pk"), fmt=CSV)

    @admin.action(description=gettext_lazy("Export selected services as XLSX (Excel)"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return exports.services_response(queryset.order_by("name", "pk"), fmt=XLSX)


@admin.register(Location)
class LocationAdmin(HarvestedReadOnly, NetworkAdminAccess, SimpleHistoryAdmin):
    list_display = ("name", "organisation", "address_line_1", "postcode", "ward")
    list_select_related = ("organisation", "ward")
    list_filter = ("ward",)
    search_fields = ("name", "address_line_1", "postcode", "organisation__name")
    search_help_text = gettext_lazy("Search by place name, street, postcode or organisation.")
    autocomplete_fields = ("organisation", "ward")
    readonly_fields = ("uuid", "created_at", "updated_at")
    fields = (
        "organisation",
        "name",
        "description",
        "address_line_1",
        "address_line_2",
        "town",
        "postcode",
        "ward",
        ("latitude", "longitude"),
        "accessibility",
        "uuid",
        "created_at",
        "updated_at",
    )


# Other directories harvested ---------------------------------------------------------------------


class HarvestRunInline(RunLogInline, NetworkAdminAccess, PortalTabularInline):
    """The source's recent harvests: the log, read-only."""

    model = HarvestRun
    fields = ("started_at", "kind", "pages", *RunLogInline.RUN_FIELDS[1:])
    verbose_name = gettext_lazy("harvest")
    verbose_name_plural = gettext_lazy("recent harvests")


@admin.register(HarvestSource)
class HarvestSourceAdmin(NetworkAdminAccess, admin.ModelAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ("name", "api_url", "is_active", "status", "last_success_at", "last_full_at", "last_error")
    list_filter = ("is_active", "status")
    search_fields = ("name", "api_url")
    fields = (
        "name",
        "api_url",
        "is_active",
        "supports_modified_after",
        "status",
        "last_error",
        "last_attempt_at",
        "last_success_at",
        "last_full_at",
    )
    readonly_fields = ("status", "last_error", "last_attempt_at", "last_success_at", "last_full_at")
    inlines = (HarvestRunInline,)
    actions = ("harvest_now",)

    def get_inlines(self, request, obj):
        # A source being added has no harvests yet.
        return self.inlines if obj is not None else ()

    @admin.action(description=gettext_lazy("Harvest the selected directories now (in full)"), permissions=["change"])
    def harvest_now(self, request, queryset):
        from .tasks import harvest_source

        try:
            with quick_broker_connection(timeout=5) as connection:
                for source in queryset:
                    harvest_source.apply_async(
                        args=[source.pk, HarvestRun.Kind.FULL],
                        connection=connection,
                        retry=False,
                        queue=settings.PORTAL_LONG_TASK_QUEUE,
                    )
        except Exception:
            messages.error(request, _("The task queue is not answering: the harvests will run at their next turn."))
            return
        messages.success(
            request, _("Harvesting %(names)s: the results appear below each directory shortly.") % {"names": names_in_message(queryset)}
        )

    def get_deleted_objects(self, objs, request):
        # Deleting a source deletes everything harvested from it, which is read-only one by one.
        to_delete, model_count, _perms_needed, protected = get_deleted_objects(objs, request, self.admin_site)
        return to_delete, model_count, set(), protected

    def delete_model(self, request, obj):
        harvest.delete_source(source=obj)

    def delete_queryset(self, request, queryset):
        for source in queryset:
            harvest.delete_source(source=source)
