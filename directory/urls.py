from django.urls import path

from . import views

app_name = "directory"

urlpatterns = [
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<slug:slug>/edit/", views.organisation_edit, name="organisation_edit"),
    path("organisations/<slug:slug>/history/", views.organisation_history, name="organisation_history"),
    # Linked from the yearly "are your details still correct?" email: keep this name and address.
    path("organisations/<slug:slug>/confirm/", views.organisation_confirm, name="organisation_confirm"),
    path("organisations/<slug:slug>/services/new/", views.service_create, name="service_create"),
    path("networks/", views.network_list, name="network_list"),
    path("networks/<slug:slug>/", views.network_detail, name="network_detail"),
    path("networks/<slug:slug>/apply/", views.network_apply, name="network_apply"),
    path("register/", views.register, name="register"),
    path("my/organisations/", views.my_organisations, name="my_organisations"),
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
