"""/api/oruk/: the Open Referral UK API. Paths as in the profile's openapi.json, without trailing slashes."""

from django.urls import path, re_path

from . import views

app_name = "oruk"

urlpatterns = [
    path("", views.RootView.as_view(), name="root"),
    path("openapi.json", views.preflight_or(views.openapi_document), name="openapi"),
    path("services", views.ServiceListView.as_view(), name="services"),
    path("services/<str:id>", views.ServiceDetailView.as_view(), name="service"),
    path("service_at_locations", views.ServiceAtLocationListView.as_view(), name="service_at_locations"),
    path("service_at_locations/<str:id>", views.ServiceAtLocationDetailView.as_view(), name="service_at_location"),
    path("organizations", views.OrganizationListView.as_view(), name="organizations"),
    path("organizations/<str:id>", views.OrganizationDetailView.as_view(), name="organization"),
    path("taxonomies", views.TaxonomyListView.as_view(), name="taxonomies"),
    path("taxonomies/<str:id>", views.TaxonomyDetailView.as_view(), name="taxonomy"),
    path("taxonomy_terms", views.TaxonomyTermListView.as_view(), name="taxonomy_terms"),
    path("taxonomy_terms/<str:id>", views.TaxonomyTermDetailView.as_view(), name="taxonomy_term"),
    # Anything else under /api/oruk/ is a JSON 404 with the CORS header, not the site's HTML page.
    re_path(r"^(?P<rest>.*)$", views.preflight_or(views.not_found)),
]
