from django.urls import path

from . import views

app_name = "organisations"

urlpatterns = [
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<slug:slug>/edit/", views.organisation_edit, name="organisation_edit"),
    path("organisations/<slug:slug>/history/", views.organisation_history, name="organisation_history"),
    # Linked from the yearly "are your details still correct?" email: keep this name and address.
    path("organisations/<slug:slug>/confirm/", views.organisation_confirm, name="organisation_confirm"),
    path("networks/", views.network_list, name="network_list"),
    path("networks/<slug:slug>/", views.network_detail, name="network_detail"),
    path("networks/<slug:slug>/apply/", views.network_apply, name="network_apply"),
    path("register/", views.register, name="register"),
    path("my/organisations/", views.my_organisations, name="my_organisations"),
]
