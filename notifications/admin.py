"""The Django admin for reminders: what was planned, sent or failed, and sending again."""


from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.admin import NetworkAdminAccess
from core.admin import BoundedDateHierarchy, names_in_message
from notifications import services as notification_services
from notifications.models import Reminder

# Reminders -----------------------------------------------------------------------------------------


@admin.register(Reminder)
class ReminderAdmin(BoundedDateHierarchy, NetworkAdminAccess, admin.ModelAdmin):
    """Read-only: reminders are written by the code that plans them and by the sweep that sends them."""

    list_display = ("subject", "kind", "about_record", "status", "due_at", "sent_at", "attempts")
    list_filter = ("status", "kind")
    search_fields = ("key", "subject")
    date_hierarchy = "due_at"
    actions = ("send_now",)

    def get_queryset(self, request):
        # The records the listed reminders are about, fetched per kind of record, not one query per row.
        return super().get_queryset(request).prefetch_related("about")

    @admin.display(description=gettext_lazy("about"))
    def about_record(self, reminder: Reminder) -> str:
        return str(reminder.about) if reminder.about else "–"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_send_permission(self, request):
        return self._is_network_admin(request) or request.user.has_perm("notifications.change_reminder")

    @admin.action(description=gettext_lazy("Send selected reminders now"), permissions=["send"])
    def send_now(self, request, queryset):
        sent, skipped = [], {}
        now = timezone.now()
        for reminder in queryset:
            if reminder.status != Reminder.Status.PENDING:
                reason = _("already %(status)s") % {"status": reminder.get_status_display().lower()}
                skipped.setdefault(reason, []).append(reminder)
                continue
            if notification_services.send_reminder_now(reminder_id=reminder.pk, now=now):
                sent.append(reminder)
            else:
                reminder.refresh_from_db()
                reason = reminder.last_error or _("another worker is sending it")
                skipped.setdefault(_("not sent (%(reason)s)") % {"reason": reason}, []).append(reminder)
        if sent:
            self.message_user(
                request,
                ngettext("Sent %(count)d reminder.", "Sent %(count)d reminders.", len(sent)) % {"count": len(sent)},
                messages.SUCCESS,
            )
        for reason, reminders in skipped.items():
            self.message_user(
                request,
                ngettext(
                    "Skipped %(count)d: %(reason)s: %(names)s.",
                    "Skipped %(count)d: %(reason)s: %(names)s.",
                    len(reminders),
                )
                % {"count": len(reminders), "reason": reason, "names": names_in_message(r.subject for r in reminders)},
                messages.WARNING,
            )
