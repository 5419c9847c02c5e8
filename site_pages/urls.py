from django.urls import path

from . import views
from .models import SitePage

app_name = "site_pages"

# /accessibility/, /privacy/, /cookies/, /contact/: one address per kind of page, nothing caught besides.
urlpatterns = [path(f"{kind}/", views.page, {"kind": kind}, name=kind) for kind in SitePage.Kind.values]
