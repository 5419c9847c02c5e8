from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    # The standards, self-assessment, peer review and the network's matrix
    path("quality/", views.standards, name="standards"),
    path("quality/versions/<int:number>/", views.standards, name="standards_version"),
    path("quality/assessments/", views.assessment_list, name="assessment_list"),
    path("quality/assessments/start/", views.assessment_start, name="assessment_start"),
    path("quality/assessments/<int:pk>/", views.assessment_detail, name="assessment_detail"),
    path("quality/assessments/<int:pk>/criteria/<int:response_pk>/", views.response_edit, name="response_edit"),
    path("quality/assessments/<int:pk>/files/<int:file_pk>/", views.evidence_download, name="evidence_download"),
    path("quality/assessments/<int:pk>/files/<int:file_pk>/remove/", views.evidence_remove, name="evidence_remove"),
    path("quality/assessments/<int:pk>/submit/", views.assessment_submit, name="assessment_submit"),
    path("quality/reviews/", views.review_list, name="review_list"),
    path("quality/reviews/<int:pk>/start/", views.review_start, name="review_start"),
    path("quality/reviews/<int:pk>/", views.review, name="review"),
    path("quality/matrix/", views.matrix, name="matrix"),
    # The support materials library
    path("materials/", views.material_list, name="material_list"),
    path("materials/new/", views.material_create, name="material_create"),
    path("materials/<slug:slug>/", views.material_detail, name="material_detail"),
    path("materials/<slug:slug>/edit/", views.material_edit, name="material_edit"),
    path("materials/<slug:slug>/upload/", views.material_upload, name="material_upload"),
    path("materials/<slug:slug>/download/", views.material_download, name="material_download"),
    path("materials/<slug:slug>/versions/<int:number>/download/", views.material_download, name="material_version_download"),
    # The organisational health check
    path("health-check/", views.health_check_home, name="health_check_home"),
    path("health-check/results/<int:pk>/", views.health_check_result, name="health_check_result"),
    path("health-check/<slug:slug>/", views.health_check_history, name="health_check_history"),
    path("health-check/<slug:slug>/take/", views.health_check_take, name="health_check_take"),
]
