"""The admin for referrals: network admins keep the routing rules here, and can look up any referral.

Referrals change only through the workflow (the referral's page), so that every move is checked and
kept in the timeline: their status and version are read-only here.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin import NetworkAdminAccess
from core.admin import BoundedDateHierarchy, LabelledListEditable, PortalTabularInline
from organisations.models import Organisation

from .models import Feedback, Referral, ReferralEvent, RoutingRule, RoutingRuleProvider


class RoutingRuleProviderForm(forms.ModelForm):
    class Meta:
        model = RoutingRuleProvider
        fields = ("position", "provider", "service")

    def clean(self):
        data = super().clean()
        provider, service = data.get("provider"), data.get("service")
        if provider is not None and not Organisation.objects.providers().filter(pk=provider.pk).exists():
            self.add_error("provider", _("%(name)s is not an infrastructure provider.") % {"name": provider.name})
        if provider is not None and service is not None and service.organisation_id != provider.pk:
            self.add_error("service", _("That service belongs to another provider."))
        return data


class RoutingRuleProviderInline(NetworkAdminAccess, PortalTabularInline):
    model = RoutingRuleProvider
    form = RoutingRuleProviderForm
    extra = 3
    autocomplete_fields = ("provider",)
    raw_id_fields = ("service",)
    ordering = ("position", "pk")
    verbose_name = _("provider")
    verbose_name_plural = _("providers to suggest, in order (1 is suggested first)")


@admin.register(RoutingRule)
class RoutingRuleAdmin(NetworkAdminAccess, LabelledListEditable, admin.ModelAdmin):
    list_display = ("name", "need", "narrowed_to", "providers_in_order", "priority", "is_active")
    list_filter = ("is_active", "need", "stage", "segment", "community", "language")
    list_editable = ("priority", "is_active")
    search_fields = ("name", "need__name", "entries__provider__name")
    autocomplete_fields = ("need", "segment", "community", "ward", "language")
    inlines = (RoutingRuleProviderInline,)
    fieldsets = (
        (None, {"fields": ("name", "need", "priority", "is_active")}),
        (
            _("Only for some groups (leave empty to apply to every group)"),
            {"fields": ("segment", "community", "ward", "stage", "language")},
        ),
        (None, {"fields": ("notes",)}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("need", "segment", "community", "ward", "language")
            .prefetch_related("entries__provider")
            .distinct()
        )

    @admin.display(description=_("narrowed to"))
    def narrowed_to(self, rule: RoutingRule) -> str:
        parts = [
            str(value)
            for value in (
                rule.segment,
                rule.community,
                rule.ward,
                rule.get_stage_display() if rule.stage else None,
                rule.language,
            )
            if value
        ]
        return "; ".join(parts) or _("every group")

    @admin.display(description=_("providers, in order"))
    def providers_in_order(self, rule: RoutingRule) -> str:
        return format_html_join(", ", "{}. {}", ((entry.position, entry.provider.name) for entry in rule.entries.all()))


class ReferralEventInline(PortalTabularInline):
    model = ReferralEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "from_status", "to_status", "provider", "by", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return NetworkAdminAccess()._is_network_admin(request) or super().has_view_permission(request, obj)


@admin.register(Referral)
class ReferralAdmin(BoundedDateHierarchy, NetworkAdminAccess, admin.ModelAdmin):
    list_display = (
        "reference",
        "organisation",
        "provider",
        "status",
        "urgency",
        "submitted_at",
        "response_due_at",
        "open_page",
    )
    list_filter = ("status", "urgency", "outcome", "needs", "on_behalf")
    search_fields = ("organisation__name", "provider__name", "contact_email", "contact_name")
    date_hierarchy = "submitted_at"
    list_select_related = ("organisation", "provider")
    readonly_fields = (
        "uuid",
        "status",
        "outcome",
        "version",
        "provider",
        "service",
        "submitted_at",
        "sent_at",
        "first_response_at",
        "first_response_after",
        "response_due_at",
        "remind_at",
        "escalate_at",
        "closed_at",
        "anonymised_at",
        "consent_purpose",
        "consent_given_at",
        "requested_by",
        "on_behalf",
        "suggestions",
        "organisation",
        "existing_provider",
    )
    fields = (
        "uuid",
        "organisation",
        "needs",
        "description",
        "urgency",
        "stage",
        "communities",
        "language",
        "existing_provider",
        "contact_name",
        "contact_email",
        "contact_phone",
        "consent_purpose",
        "consent_given_at",
        "requested_by",
        "on_behalf",
        "status",
        "outcome",
        "provider",
        "service",
        "assigned_to",
        "version",
        "submitted_at",
        "sent_at",
        "first_response_at",
        "first_response_after",
        "response_due_at",
        "remind_at",
        "escalate_at",
        "closed_at",
        "anonymised_at",
        "suggestions",
    )
    autocomplete_fields = ("needs", "communities", "language", "assigned_to")
    inlines = (ReferralEventInline,)

    def has_add_permission(self, request):
        # Referrals are made through the "Ask for support" page, which checks consent and routes them.
        return False

    @admin.display(description=_("reference"), ordering="pk")
    def reference(self, referral: Referral) -> str:
        return referral.reference

    @admin.display(description=_("page"))
    def open_page(self, referral: Referral) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("referrals:detail", kwargs={"uuid": referral.uuid}),
            _("timeline and actions"),
        )


@admin.register(Feedback)
class FeedbackAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("referral", "satisfaction", "still_needed", "given_at")
    list_filter = ("satisfaction",)
    search_fields = ("referral__organisation__name", "still_needed")
    readonly_fields = ("referral", "satisfaction", "still_needed", "given_by", "given_at")
    list_select_related = ("referral__organisation",)

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        figures = Feedback.objects.aggregate(count=Count("pk"))
        return super().changelist_view(request, {**(extra_context or {}), "feedback_count": figures["count"]})
