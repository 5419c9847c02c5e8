"""The Django admin for people: users and their portal-wide role, and the access rule every admin
page of the portal uses (NetworkAdminAccess)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from .models import User
from .permissions import can


class NetworkAdminAccess:
    """Network admins (the role) manage every admin page of the portal; the one permission helper decides that.

    Other staff still need Django's model permissions, as usual.
    """

    def _is_network_admin(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_staff and can(user, "accounts.manage_portal")

    def has_module_permission(self, request):
        return self._is_network_admin(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._is_network_admin(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self._is_network_admin(request) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._is_network_admin(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._is_network_admin(request) or super().has_delete_permission(request, obj)


@admin.register(User)
class PortalUserAdmin(NetworkAdminAccess, UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets[:2],
        (gettext_lazy("Role in the portal"), {"fields": ("role",)}),
        *UserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "first_name",
                    "last_name",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    list_display = ("username", "email", "first_name", "last_name", "role", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_superuser", "is_active")

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser may hand out superuser status or raw permissions.
        readonly = super().get_readonly_fields(request, obj)
        if not request.user.is_superuser:
            readonly = (*readonly, "is_superuser", "user_permissions", "groups")
        return readonly

    def get_inlines(self, request, obj):
        # Apps add inlines for a user's links to their records (organisations.admin: affiliations),
        # shown once the user exists.
        return self.inlines if obj else ()
