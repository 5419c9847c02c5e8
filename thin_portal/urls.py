from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from core import files

from . import views
from .moderation import with_moderation_queues

admin.site.site_header = _("THIN Community Portal administration")
admin.site.site_title = _("THIN portal admin")
admin.site.index_title = _("Network administration")
# The admin's front page opens on what waits for moderation (before admin.site.urls is read below).
admin.site.index = with_moderation_queues(admin.site.index)

# A bad parameter (core.parameters.BadParameter) gets a page that says what was wrong.
handler400 = "thin_portal.views.bad_request"
handler500 = "thin_portal.views.server_error"
# 403 (403.html), 404 (404.html) and a failed CSRF check (403_csrf.html) use Django's views with the
# portal's templates.

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # Django's account views with the portal's forms and emails; names as in django.contrib.auth.urls.
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/password_reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("admin/", admin.site.urls),
    path("api/oruk/", include("directory.api.urls")),
    path("referrals/", include("referrals.urls")),
    path("evidence/", include("evidence.urls")),
    path("", include("site_pages.urls")),  # /accessibility/, /privacy/, /cookies/, /contact/
    path("", include("organisations.urls")),
    path("", include("directory.urls")),
    path("", include("calendar_events.urls")),  # /calendar/ (events, feeds) and /notices/ (notice board)
    path("", include("quality.urls")),  # /quality/, /materials/, /health-check/
    # Uploaded public files (logos). Small volumes: the app serves them itself.
    re_path(r"^media/(?P<path>.*)$", files.serve_media),
]
