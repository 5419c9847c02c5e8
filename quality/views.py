"""Pages for quality standards, self-assessment and peer review, the providers' matrix, the support
materials library and the organisational health check.

Thin: forms check input, services write, selectors read, and every object-level decision goes through
accounts.permissions (can/require).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from core.exports import FORMATS, dated_filename, tabular_response
from core.files import private_file_response
from core.forms import add_validation_errors
from core.parameters import integer_param, text_param
from organisations.models import Organisation

from . import selectors, services
from .forms import (
    HealthCheckForm,
    HealthCheckStageForm,
    MaterialFilterForm,
    MaterialForm,
    MaterialVersionForm,
    ResponseForm,
    ReviewForm,
)
from .models import EvidenceFile, HealthCheck, Material, SelfAssessment

MATERIALS_PER_PAGE = 20
ASSESSMENTS_PER_PAGE = 20
MATRIX_ROWS_PER_PAGE = 50


# The standards ----------------------------------------------------------------------------------


def standards(request, number: int | None = None):
    """The framework: every area with its criteria by level. Older versions stay readable."""
    if number is None:
        version = selectors.current_version()
        if version is None:
            raise Http404
    else:
        version = get_object_or_404(selectors.framework_versions(), number=number)
    providers = selectors.providers_assessed_by(request.user)
    return render(
        request,
        "quality/standards.html",
        {
            "version": version,
            "areas": selectors.areas_with_criteria(version),
            "versions": selectors.framework_versions(),
            "providers": providers,
            "may_review": request.user.is_authenticated and can(request.user, "quality.review", None),
            "may_view_matrix": request.user.is_authenticated and can(request.user, "quality.view_matrix"),
        },
    )


# Self-assessment --------------------------------------------------------------------------------


@login_required
def assessment_list(request):
    providers = selectors.providers_assessed_by(request.user)
    assessments = selectors.assessments_of(providers)
    page = Paginator(assessments, ASSESSMENTS_PER_PAGE).get_page(request.GET.get("page"))
    open_for = {a.organisation_id for a in assessments if a.status in SelfAssessment.OPEN_STATUSES}
    return render(
        request,
        "quality/assessment_list.html",
        {"page": page, "providers": providers, "may_start": [p for p in providers if p.pk not in open_for]},
    )


@login_required
@require_POST
def assessment_start(request):
    organisation = get_object_or_404(Organisation, pk=integer_param(request.POST, "organisation") or 0)
    require(request.user, "quality.assess", organisation)
    try:
        assessment = services.start_assessment(organisation=organisation, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("quality:assessment_list")
    messages.success(request, _("A new self-assessment for %(name)s is started.") % {"name": organisation.name})
    return redirect(assessment)


def _assessment_or_404(request, pk: int) -> SelfAssessment:
    assessment = selectors.assessment_with_responses(pk)
    if assessment is None or not can(request.user, "quality.view_assessment", assessment):
        raise Http404
    return assessment


@login_required
def assessment_detail(request, pk: int):
    assessment = _assessment_or_404(request, pk)
    may_edit = assessment.is_editable and can(request.user, "quality.assess", assessment.organisation)
    return render(
        request,
        "quality/assessment_detail.html",
        {
            "assessment": assessment,
            "progress": selectors.assessment_progress(assessment),
            "may_edit": may_edit,
            "missing": selectors.missing_items(assessment) if may_edit else [],
        },
    )


@login_required
def response_edit(request, pk: int, response_pk: int):
    assessment = _assessment_or_404(request, pk)
    require(request.user, "quality.assess", assessment.organisation)
    response = next((r for r in assessment.responses.all() if r.pk == response_pk), None)
    if response is None:
        raise Http404
    if not assessment.is_editable:
        messages.error(request, _("This assessment is %(status)s and can no longer be changed.") % {"status": assessment.get_status_display().lower()})
        return redirect(assessment)
    initial = {"rating": response.rating, "evidence_text": response.evidence_text, "evidence_links": response.evidence_links}
    form = ResponseForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_response(
                response=response,
                by=request.user,
                rating=data["rating"],
                evidence_text=data["evidence_text"],
                evidence_links=data["evidence_links"],
                uploads=data["files"],
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Your answer to %(code)s is saved.") % {"code": response.criterion.code})
            return redirect(f"{assessment.get_absolute_url()}#area-{response.criterion.area.code}")
    return render(request, "quality/response_form.html", {"assessment": assessment, "response": response, "form": form})


@login_required
@require_POST
def evidence_remove(request, pk: int, file_pk: int):
    assessment = _assessment_or_404(request, pk)
    require(request.user, "quality.assess", assessment.organisation)
    evidence = get_object_or_404(EvidenceFile, pk=file_pk, response__assessment=assessment)
    try:
        services.remove_evidence_file(evidence=evidence, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s is removed.") % {"name": evidence.original_name})
    return redirect("quality:response_edit", pk=assessment.pk, response_pk=evidence.response_id)


@login_required
def evidence_download(request, pk: int, file_pk: int):
    assessment = _assessment_or_404(request, pk)
    evidence = get_object_or_404(EvidenceFile, pk=file_pk, response__assessment=assessment)
    return private_file_response(evidence.file, filename=evidence.original_name, file_type=evidence.file_type)


@login_required
@require_POST
def assessment_submit(request, pk: int):
    assessment = _assessment_or_404(request, pk)
    require(request.user, "quality.assess", assessment.organisation)
    try:
        services.submit_assessment(assessment=assessment, by=request.user)
    except ValidationError as error:
        if getattr(error, "error_list", None) and error.error_list[0].code == "incomplete":
            # The page lists what is missing under "Submit for verification": one message points to it.
            missing = len(error.messages) - 1
            messages.error(
                request,
                ngettext(
                    "Not complete yet: %(count)d thing is missing. It is listed under “Submit for verification”.",
                    "Not complete yet: %(count)d things are missing. They are listed under “Submit for verification”.",
                    missing,
                ) % {"count": missing},
            )
        else:
            messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The assessment is submitted. A reviewer from another provider or a network admin will verify it."))
    return redirect(assessment)


# Peer review ------------------------------------------------------------------------------------


@login_required
def review_list(request):
    require(request.user, "quality.review", None)
    return render(request, "quality/review_list.html", {"assessments": selectors.review_queue(request.user)})


def _reviewable_or_403(request, pk: int) -> SelfAssessment:
    assessment = selectors.assessment_with_responses(pk)
    if assessment is None:
        raise Http404
    require(request.user, "quality.review", assessment)
    return assessment


@login_required
@require_POST
def review_start(request, pk: int):
    assessment = _reviewable_or_403(request, pk)
    try:
        services.start_review(assessment=assessment, reviewer=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("quality:review_list")
    return redirect("quality:review", pk=assessment.pk)


@login_required
def review(request, pk: int):
    assessment = _reviewable_or_403(request, pk)
    if assessment.status != SelfAssessment.Status.IN_REVIEW:
        messages.info(request, _("This assessment is %(status)s.") % {"status": assessment.get_status_display().lower()})
        return redirect("quality:review_list")
    form = ReviewForm(request.POST or None, responses=assessment.responses.all(), initial={"summary": assessment.review_summary})
    if request.method == "POST" and form.is_valid():
        finishing = "finish" in request.POST
        try:
            decisions = form.decisions(verify_the_rest="verify_rest" in request.POST)
            services.save_review_decisions(assessment=assessment, reviewer=request.user, decisions=decisions)
            if finishing:
                services.finish_review(assessment=assessment, reviewer=request.user, summary=form.cleaned_data["summary"])
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            if finishing:
                assessment.refresh_from_db()
                if assessment.status == SelfAssessment.Status.VERIFIED:
                    messages.success(request, _("The assessment is verified and %(name)s's badge is issued.") % {"name": assessment.organisation.name})
                else:
                    messages.success(request, _("The assessment is returned to %(name)s with your comments.") % {"name": assessment.organisation.name})
                return redirect("quality:review_list")
            messages.success(request, _("Your decisions are saved."))
            return redirect("quality:review", pk=assessment.pk)
    return render(request, "quality/review_form.html", {"assessment": assessment, "form": form})


# The network's matrix --------------------------------------------------------------------------


@login_required
def matrix(request):
    require(request.user, "quality.view_matrix")
    q = text_param(request.GET, "q", max_length=200)
    data = selectors.provider_matrix(q=q)
    fmt = request.GET.get("format", "")
    if fmt:
        if fmt not in FORMATS:
            messages.error(request, _("Unknown format “%(format)s”: choose CSV or XLSX.") % {"format": fmt[:20]})
            return redirect("quality:matrix")
        headers, rows = selectors.matrix_table(data)
        return tabular_response(filename=dated_filename("quality-matrix"), headers=headers, rows=rows, fmt=fmt)
    # Totals and gaps are over every provider; the rows are shown a page at a time.
    page = Paginator(data.rows, MATRIX_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "quality/matrix.html", {"matrix": data, "page": page, "q": q})


# Support materials -----------------------------------------------------------------------------


def material_list(request):
    form = MaterialFilterForm(request.GET or None)
    filters = form.filters()
    materials = selectors.search_materials(user=request.user, **filters)
    page = Paginator(materials, MATERIALS_PER_PAGE).get_page(request.GET.get("page"))
    may_add = request.user.is_authenticated and can(request.user, "quality.add_material", None)
    return render(request, "quality/material_list.html", {"form": form, "page": page, "filtered": bool(filters), "may_add": may_add})


def _material_or_404(request, slug: str) -> Material:
    material = selectors.material_by_slug(slug)
    if material is None or not can(request.user, "quality.view_material", material):
        raise Http404
    return material


def material_detail(request, slug: str):
    material = _material_or_404(request, slug)
    may_change = request.user.is_authenticated and can(request.user, "quality.change_material", material)
    return render(request, "quality/material_detail.html", {"material": material, "versions": list(material.versions.all()), "may_change": may_change})


def _material_organisations(user):
    if user.is_network_admin:
        return Organisation.objects.active().providers().order_by("name")
    return selectors.providers_assessed_by(user)


@login_required
def material_create(request):
    require(request.user, "quality.add_material", None)
    organisations = _material_organisations(request.user)
    form = MaterialForm(request.POST or None, request.FILES or None, organisations=organisations, allow_none=request.user.is_network_admin)
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data.get("organisation")
        if organisation is not None:
            require(request.user, "quality.add_material", organisation)
        try:
            material = services.create_material(data=form.material_data(), upload=form.cleaned_data.get("file"), organisation=organisation, by=request.user)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("“%(title)s” is in the library.") % {"title": material.title})
            return redirect(material)
    return render(request, "quality/material_form.html", {"form": form, "material": None})


@login_required
def material_edit(request, slug: str):
    material = _material_or_404(request, slug)
    require(request.user, "quality.change_material", material)
    instance = Material.objects.get(pk=material.pk)
    form = MaterialForm(request.POST or None, instance=instance, organisations=None, allow_none=True, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.update_material(material=material, data=form.material_data(), by=request.user)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("The changes are saved."))
            return redirect(saved)
    return render(request, "quality/material_form.html", {"form": form, "material": material})


@login_required
def material_upload(request, slug: str):
    material = _material_or_404(request, slug)
    require(request.user, "quality.change_material", material)
    form = MaterialVersionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.add_material_version(material=material, upload=form.cleaned_data["file"], note=form.cleaned_data["note"], by=request.user)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Version %(number)s is uploaded; earlier versions are kept.") % {"number": version.number})
            return redirect(material)
    return render(request, "quality/material_upload.html", {"form": form, "material": material})


def material_download(request, slug: str, number: int | None = None):
    """Send a material's file (the latest version, or the one asked for) and count the download.
    Links to resources held elsewhere are counted and redirected."""
    material = _material_or_404(request, slug)
    if material.is_link:
        services.record_download(material=material)
        return HttpResponseRedirect(material.external_url)
    versions = material.versions.all()
    version = next((v for v in versions if v.number == number), None) if number else next(iter(versions), None)
    if version is None:
        raise Http404
    response = private_file_response(version.file, filename=version.original_name, file_type=version.file_type)
    services.record_download(material=material, version=version)
    return response


# The organisational health check ------------------------------------------------------------------


@login_required
def health_check_home(request):
    organisations = selectors.organisations_checked_by(request.user)
    if len(organisations) == 1:
        return redirect("quality:health_check_history", slug=organisations[0].slug)
    return render(request, "quality/health_check_home.html", {"organisations": organisations})


def _organisation_or_404(slug: str) -> Organisation:
    return get_object_or_404(Organisation.objects.active(), slug=slug)


@login_required
def health_check_history(request, slug: str):
    organisation = _organisation_or_404(slug)
    require(request.user, "quality.view_health_checks", organisation)
    checks = list(selectors.health_checks_of(organisation))
    areas = []
    for check in reversed(checks):
        for score in check.scores.all():
            if score.area not in areas:
                areas.append(score.area)
    return render(
        request,
        "quality/health_check_history.html",
        {
            "organisation": organisation,
            "checks": checks,
            "areas": areas,
            "may_take": can(request.user, "quality.take_health_check", organisation),
        },
    )


@login_required
def health_check_take(request, slug: str):
    organisation = _organisation_or_404(slug)
    require(request.user, "quality.take_health_check", organisation)
    # The questions depend on the stage: the organisation's recorded stage, or the one chosen here
    # (kept in the address so the questionnaire posts back to the same stage).
    # "?stage=" with no value (the "choose a different stage" link) asks again without an error.
    chosen = request.GET.get("stage", "")
    stage_form = HealthCheckStageForm(request.GET if chosen else None, initial={"stage": organisation.development_stage})
    if chosen and stage_form.is_valid():
        stage = stage_form.cleaned_data["stage"]
    elif "stage" not in request.GET and organisation.development_stage:
        stage = organisation.development_stage
    else:
        return render(request, "quality/health_check_stage.html", {"organisation": organisation, "form": stage_form})
    form = HealthCheckForm(request.POST or None, questions=selectors.health_check_questions(stage))
    if request.method == "POST" and form.is_valid():
        try:
            health_check = services.record_health_check(organisation=organisation, stage=stage, answers=form.answers(), by=request.user)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            return redirect(health_check)
    return render(
        request,
        "quality/health_check_form.html",
        {"organisation": organisation, "form": form, "stage": stage, "stage_label": Organisation.Stage(stage).label},
    )


@login_required
def health_check_result(request, pk: int):
    health_check = get_object_or_404(HealthCheck.objects.select_related("organisation"), pk=pk)
    if not can(request.user, "quality.view_health_check", health_check):
        raise Http404
    result = selectors.health_check_result(health_check, user=request.user)
    weak_below = settings.QUALITY_HEALTH_CHECK_WEAK_BELOW
    return render(
        request,
        "quality/health_check_result.html",
        {
            "result": result,
            "organisation": health_check.organisation,
            "weak_below": weak_below,
            # The SVG chart's geometry (see quality/includes/score_chart.html): 36px a row, bars from x=190, 4px a point.
            "chart_height": max(36 * len(result.areas), 36),
            "threshold_x": 190 + 4 * weak_below,
        },
    )

