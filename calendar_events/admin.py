"""The calendar in the Django admin: the moderation queues for events and notices, reports, feeds."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import BoundedDateHierarchy, LabelledListEditable, PortalTabularInline, RunLogInline, with_a_reason

from . import services
from .models import Booking, CalendarFeed, DigestSubscription, Event, FeedImportLog, Notice, NoticeReport


class BookingInline(PortalTabularInline):
    model = Booking
    extra = 0
    fields = ["occurrence_start", "user", "status", "attended", "created_at"]
    readonly_fields = ["occurrence_start", "user", "status", "created_at"]
    can_delete = False
    show_change_link = True


@admin.register(Event)
class EventAdmin(BoundedDateHierarchy, admin.ModelAdmin):
    list_display = ["title", "organiser", "category", "start", "frequency", "status", "moderation", "is_withdrawn"]
    list_filter = ["moderation", "status", "category", "frequency", "is_withdrawn"]
    search_fields = ["title", "organiser__name"]
    date_hierarchy = "start"
    autocomplete_fields = ["organiser"]
    raw_id_fields = ["venue", "feed", "created_by"]
    readonly_fields = ["uid", "sequence", "series_end", "remote_uid", "created_at", "updated_at"]
    filter_horizontal = ["segments", "communities", "languages"]
    actions = ["approve", "reject"]
    inlines = [BookingInline]

    @admin.action(description=_("Publish the selected events"))
    def approve(self, request, queryset):
        for event in queryset:
            services.moderate_event(event=event, approve=True, by=request.user)
        self.message_user(
            request,
            ngettext("%d event published.", "%d events published.", queryset.count()) % queryset.count(),
            messages.SUCCESS,
        )

    @admin.action(description=_("Reject the selected events, with a reason"))
    def reject(self, request, queryset):
        def reject_one(event, reason):
            services.moderate_event(event=event, approve=False, by=request.user, note=reason)

        count = queryset.count()
        page = with_a_reason(self, request, queryset, title=_("Reject with a reason"), apply=reject_one)
        if page is None:
            self.message_user(
                request,
                ngettext("%d event rejected.", "%d events rejected.", count) % count,
                messages.SUCCESS,
            )
        return page

    def has_add_permission(self, request):
        # Events are added on the site, where times are checked against the clock changes.
        return False


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["event", "occurrence_start", "user", "status", "attended"]
    list_filter = ["status", "attended"]
    search_fields = ["event__title", "user__email", "user__username"]
    raw_id_fields = ["event", "user", "organisation"]
    readonly_fields = ["created_at", "promoted_at", "cancelled_at"]


class FeedImportLogInline(RunLogInline):
    model = FeedImportLog
    fields = RunLogInline.RUN_FIELDS


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["organisation", "url", "is_active", "status", "last_attempt_at", "last_success_at"]
    list_filter = ["status", "is_active"]
    search_fields = ["organisation__name", "url"]
    autocomplete_fields = ["organisation"]
    readonly_fields = ["status", "last_error", "last_attempt_at", "last_success_at", "created_by", "created_at"]
    inlines = [FeedImportLogInline]


class NoticeReportInline(PortalTabularInline):
    model = NoticeReport
    extra = 0
    fields = ["reason", "details", "reported_by", "created_at", "is_resolved"]
    readonly_fields = ["reason", "details", "reported_by", "created_at"]


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["title", "organisation", "category", "status", "expires_on", "open_reports"]
    list_filter = ["status", "category"]
    search_fields = ["title", "text", "organisation__name"]
    autocomplete_fields = ["organisation"]
    # The file is shown as a link to the checked view (it has no public address); new files come
    # through the site's notice form, which checks them by content.
    exclude = ["attachment"]
    readonly_fields = ["attachment_file", "attachment_kind", "posted_by", "created_at", "published_at"]
    actions = ["publish", "hide"]
    inlines = [NoticeReportInline]

    @admin.display(description=_("attachment"))
    def attachment_file(self, notice):
        if not notice.attachment:
            return "–"
        return format_html('<a href="{}">{}</a>', notice.get_attachment_url(), _("Open the attachment"))

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(_open_reports=Count("reports", filter=Q(reports__is_resolved=False)))
        )

    @admin.display(description=_("open reports"), ordering="_open_reports")
    def open_reports(self, notice):
        return notice._open_reports

    @admin.action(description=_("Publish the selected notices"))
    def publish(self, request, queryset):
        for notice in queryset:
            services.moderate_notice(notice=notice, publish=True, by=request.user)
        self.message_user(request, _("Published."), messages.SUCCESS)

    @admin.action(description=_("Hide the selected notices, with a reason (and close their reports)"))
    def hide(self, request, queryset):
        def hide_one(notice, reason):
            services.moderate_notice(notice=notice, publish=False, by=request.user, note=reason)

        page = with_a_reason(self, request, queryset, title=_("Hide with a reason"), apply=hide_one)
        if page is None:
            self.message_user(request, _("Hidden."), messages.SUCCESS)
        return page


@admin.register(NoticeReport)
class NoticeReportAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = ["notice", "reason", "created_at", "is_resolved"]
    list_filter = ["is_resolved", "reason"]
    search_fields = ["notice__title", "details"]
    raw_id_fields = ["notice", "reported_by"]
    readonly_fields = ["notice", "reason", "details", "reported_by", "created_at"]
    list_editable = ["is_resolved"]


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["user__email", "user__username"]
    raw_id_fields = ["user"]
