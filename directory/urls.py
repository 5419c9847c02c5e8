from django.urls import path

from . import views

app_name = "directory"

urlpatterns = [
    path("organisations/<slug:slug>/services/new/", views.service_create, name="service_create"),
    # The directory of services: search, downloads (whole or filtered, same query string), print.
    path("directory/", views.directory, name="directory"),
    path("directory/download.<str:fmt>", views.directory_download, name="directory_download"),
    path("directory/print/", views.directory_print, name="directory_print"),
    path("services/<slug:slug>/", views.service_detail, name="service_detail"),
    path("services/<slug:slug>/edit/", views.service_edit, name="service_edit"),
    path("services/<slug:slug>/history/", views.service_history, name="service_history"),
    path("services/<slug:slug>/reviewed/", views.service_mark_reviewed, name="service_mark_reviewed"),
    path("api/", views.api_guide, name="api_guide"),
]
