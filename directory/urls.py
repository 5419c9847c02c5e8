from django.urls import path

from . import views

app_name = "directory"

urlpatterns = [
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<slug:slug>/confirm/", views.organisation_confirm, name="organisation_confirm"),
    path("networks/", views.network_list, name="network_list"),
    path("my/organisations/", views.my_organisations, name="my_organisations"),
]
