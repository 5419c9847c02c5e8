from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.static import serve

from . import views

admin.site.site_header = _("THIN Community Portal administration")
admin.site.site_title = _("THIN portal admin")
admin.site.index_title = _("Network administration")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("directory.urls")),
    # Uploaded public files (logos). Small volumes: the app serves them itself.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
