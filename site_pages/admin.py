"""The statement pages in the admin: network admins edit the four pages; they cannot add or remove one."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import NetworkAdminAccess

from .models import SitePage


@admin.register(SitePage)
class SitePageAdmin(NetworkAdminAccess, SimpleHistoryAdmin):
    list_display = ("title", "kind", "updated_at")
    fields = ("kind", "title", "body", "updated_at")
    readonly_fields = ("kind", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def view_on_site(self, obj):
        return obj.get_absolute_url()
