"""The Django admin for the controlled vocabularies."""


from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy

from accounts.admin import NetworkAdminAccess
from core.admin import HTTPS_URLS, PortalTabularInline

from .models import Taxonomy, TaxonomyTerm

# Taxonomies ----------------------------------------------------------------------------------------


class TaxonomyTermInline(NetworkAdminAccess, PortalTabularInline):
    model = TaxonomyTerm
    extra = 0
    fields = ("name", "code", "parent", "order", "is_active")
    autocomplete_fields = ("parent",)
    show_change_link = True


@admin.register(Taxonomy)
class TaxonomyAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("name", "code", "term_count", "version")
    search_fields = ("name", "code")
    readonly_fields = ("uuid",)
    inlines = (TaxonomyTermInline,)
    formfield_overrides = HTTPS_URLS

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(term_count=Count("terms"))

    @admin.display(description=gettext_lazy("terms"), ordering="term_count")
    def term_count(self, taxonomy):
        return taxonomy.term_count


@admin.register(TaxonomyTerm)
class TaxonomyTermAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("name", "code", "taxonomy", "parent", "order", "is_active")
    list_filter = ("taxonomy", "is_active")
    list_select_related = ("taxonomy", "parent")
    search_fields = ("name", "code")
    autocomplete_fields = ("parent",)
    readonly_fields = ("uuid",)
    ordering = ("taxonomy__name", "order", "name")
