from django.urls import path

from . import views

app_name = "referrals"

urlpatterns = [
    path("", views.my_referrals, name="list"),
    path("ask/", views.ask, name="ask"),
    path("ask/review/", views.review, name="review"),
    path("inbox/", views.inbox, name="inbox"),
    path("figures/", views.figures, name="figures"),
    path("personal-data/", views.contact_data, name="contact_data"),
    path("personal-data/export/", views.contact_data_export, name="contact_data_export"),
    path("<uuid:uuid>/", views.detail, name="detail"),
    path("<uuid:uuid>/feedback/", views.feedback, name="feedback"),
    path("<uuid:uuid>/act/", views.act, name="act"),
]
