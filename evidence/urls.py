from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("", views.index, name="index"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<slug:slug>/", views.project_detail, name="project_detail"),
    path("projects/<slug:slug>/edit/", views.project_edit, name="project_edit"),
    path("projects/<slug:slug>/indicators/new/", views.indicator_form, name="indicator_create"),
    path("projects/<slug:slug>/indicators/<int:pk>/", views.indicator_form, name="indicator_edit"),
    path("projects/<slug:slug>/targets/", views.targets_edit, name="targets_edit"),
    # Linked from the return reminder emails: keep this name and address.
    path("projects/<slug:slug>/returns/<int:number>/<slug:partner>/", views.return_edit, name="return_edit"),
    path(
        "projects/<slug:slug>/returns/<int:number>/<slug:partner>/case-studies/new/",
        views.case_study_create,
        name="case_study_create",
    ),
    path("case-studies/<int:pk>/withdraw/", views.case_study_withdraw, name="case_study_withdraw"),
    path("dashboards/", views.dashboard, name="dashboard"),
    path("report/", views.report, name="report"),
    path("baseline/", views.baseline_coverage, name="baseline"),
    path("baseline/coverage.csv", views.baseline_download, {"table": "coverage"}, name="baseline_csv"),
    path("baseline/history.csv", views.baseline_download, {"table": "history"}, name="baseline_history_csv"),
    # Stable addresses: 360Giving's registry and other publishers' tools link to them.
    path("grants/", views.grant_list, name="grant_list"),
    path("grants/360giving.json", views.grants_json, name="grants_json"),
    path("grants/360giving.csv", views.grants_spreadsheet, {"fmt": "csv"}, name="grants_csv"),
    path("grants/360giving.xlsx", views.grants_spreadsheet, {"fmt": "xlsx"}, name="grants_xlsx"),
    path("grants/received/<slug:slug>/", views.organisation_grants, name="organisation_grants"),
    path("packs/", views.export_list, name="export_list"),
    path("packs/<uuid:uuid>/", views.export_detail, name="export_detail"),
    path("packs/<uuid:uuid>/status.json", views.export_status, name="export_status"),
    path("packs/<uuid:uuid>/download/", views.export_download, name="export_download"),
]
