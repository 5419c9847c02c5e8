"""Pages for joint projects, sector dashboards, the printable report and evidence packs.

Views stay thin: forms check input, services write, selectors read, and every object-level decision
goes through accounts.permissions (can/require).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import can, require
from core.exports import CSV, XLSX, export_rows, tabular_response
from core.files import private_file_response
from core.forms import add_validation_errors
from core.parameters import text_param
from organisations.models import Organisation
from organisations.views import organisation_or_404

from . import selectors, services, tasks, three_sixty_giving
from .forms import CaseStudyForm, IndicatorForm, ProjectForm, ReportForm, ReturnForm, ScopeForm, TargetsForm
from .models import CaseStudy, EvidenceExport, Grant, Indicator, JointProject, MonitoringReturn

PROJECTS_PER_PAGE = 20
EXPORTS_PER_PAGE = 20


@login_required
def index(request):
    user = request.user
    return render(
        request,
        "evidence/index.html",
        {
            "can_see_dashboards": can(user, "evidence.view_dashboards"),
            "can_create_project": can(user, "evidence.create_project"),
            "projects": selectors.projects_for(user)[:10],
        },
    )


# Joint projects ------------------------------------------------------------------------------------


@login_required
def project_list(request):
    q = text_param(request.GET, "q", max_length=100)
    projects = selectors.projects_for(request.user, q=q)
    page = Paginator(projects, PROJECTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "evidence/project_list.html",
        {"page": page, "q": q, "can_create_project": can(request.user, "evidence.create_project")},
    )


def _project_or_404(request, slug: str) -> JointProject:
    project = selectors.project_page(slug)
    if project is None:
        raise Http404
    require(request.user, "evidence.view_project", project)
    return project


def _project_form_page(request, *, instance: JointProject, project: JointProject | None, saved: str):
    """The new-project and edit-project pages: the form, saved through the service with its lists."""
    form = ProjectForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.save_project(
                project=instance,
                data=form.project_data(),
                partners=list(form.cleaned_data["partners"]),
                funders=list(form.cleaned_data["funders"]),
                funder_accounts=list(form.cleaned_data["funder_accounts"]),
                by=request.user,
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, saved)
            return redirect(project)
    return render(request, "evidence/project_form.html", {"form": form, "project": project})


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request):
    require(request.user, "evidence.create_project")
    return _project_form_page(
        request, instance=JointProject(), project=None, saved=_("The project is saved. Now add its outputs and outcomes.")
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request, slug):
    project = _project_or_404(request, slug)
    require(request.user, "evidence.change_project", project)
    return _project_form_page(
        request,
        instance=JointProject.objects.get(pk=project.pk),
        project=project,
        saved=_("The changes to the project are saved."),
    )


@login_required
def project_detail(request, slug):
    project = _project_or_404(request, slug)
    user = request.user
    team = selectors.team_of(project)
    # Asked of the one permission rule, with an unsaved return standing for each team member's.
    can_submit_for = [
        organisation
        for organisation in team
        if can(user, "evidence.submit_return", MonitoringReturn(project=project, partner=organisation))
    ]
    return render(
        request,
        "evidence/project_detail.html",
        {
            "project": project,
            "team": team,
            "progress": selectors.indicator_progress(project),
            "grid": selectors.return_grid(project),
            "case_studies": selectors.shareable_case_studies(project=project),
            "can_change": can(user, "evidence.change_project", project),
            "can_submit_for": {organisation.pk for organisation in can_submit_for},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def indicator_form(request, slug, pk=None):
    project = _project_or_404(request, slug)
    require(request.user, "evidence.change_project", project)
    indicator = get_object_or_404(Indicator, pk=pk, project=project) if pk else Indicator(project=project)
    form = IndicatorForm(request.POST or None, instance=indicator)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in IndicatorForm.Meta.fields}
        try:
            services.save_indicator(
                indicator=indicator, data=data, target_per_period=form.cleaned_data.get("target_per_period")
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        except IntegrityError:
            form.add_error("name", _("This project already has an indicator with that name."))
        else:
            messages.success(request, _("The indicator \u201c%(name)s\u201d is saved.") % {"name": indicator.name})
            return redirect(project)
    return render(request, "evidence/indicator_form.html", {"form": form, "project": project, "indicator": indicator})


@login_required
@require_http_methods(["GET", "POST"])
def targets_edit(request, slug):
    project = _project_or_404(request, slug)
    require(request.user, "evidence.change_project", project)
    form = TargetsForm(request.POST or None, progress=selectors.indicator_progress(project))
    if request.method == "POST" and form.is_valid():
        try:
            services.set_targets(project=project, targets=form.targets())
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("The targets are saved."))
            return redirect(project)
    return render(request, "evidence/targets_form.html", {"form": form, "project": project})


def _return_or_404(request, slug, number, partner):
    project = _project_or_404(request, slug)
    period = get_object_or_404(project.periods, number=number)
    organisation = get_object_or_404(Organisation, slug=partner)
    if organisation.pk != project.lead_id and organisation not in project.partners.all():
        raise Http404
    return project, period, organisation


@login_required
@require_http_methods(["GET", "POST"])
def return_edit(request, slug, number, partner):
    project, period, organisation = _return_or_404(request, slug, number, partner)
    # Opening the form makes the draft, so the permission is checked on the return itself first.
    probe = project.returns.filter(period=period, partner=organisation).first()
    if probe is None:
        probe = MonitoringReturn(project=project, period=period, partner=organisation)
    require(request.user, "evidence.submit_return", probe)
    monitoring_return = probe if probe.pk else services.return_for(project=project, period=period, partner=organisation)
    indicators = list(project.indicators.order_by("kind", "order", "name"))
    form = ReturnForm(
        request.POST or None,
        indicators=indicators,
        figures=selectors.editable_return_figures(monitoring_return),
        initial={"narrative": monitoring_return.narrative},
    )
    if request.method == "POST":
        if "reopen" in request.POST:
            services.reopen_return(monitoring_return=monitoring_return)
            messages.info(request, _("The return is back to draft: correct it and submit it again."))
            return redirect(monitoring_return.get_absolute_url())
        if form.is_valid():
            submit = "submit" in request.POST
            try:
                services.save_return(
                    monitoring_return=monitoring_return,
                    figures=form.figures(),
                    narrative=form.cleaned_data["narrative"],
                    submit=submit,
                    by=request.user,
                )
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                if submit:
                    messages.success(request, _("The return is submitted. Thank you."))
                    return redirect(project)
                messages.success(request, _("The draft is saved. Submit it when it is complete."))
                return redirect(monitoring_return.get_absolute_url())
    return render(
        request,
        "evidence/return_form.html",
        {
            "form": form,
            "project": project,
            "period": period,
            "partner": organisation,
            "monitoring_return": monitoring_return,
            "case_studies": monitoring_return.case_studies.shareable(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_study_create(request, slug, number, partner):
    project, period, organisation = _return_or_404(request, slug, number, partner)
    monitoring_return = project.returns.filter(period=period, partner=organisation).first()
    if monitoring_return is None:
        raise Http404
    require(request.user, "evidence.submit_return", monitoring_return)
    form = CaseStudyForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.add_case_study(
                monitoring_return=monitoring_return,
                title=data["title"],
                subject_description=data["subject_description"],
                story=data["story"],
                consent_given=data["consent_given"],
                consent_how=data["consent_how"],
                outcome=data["outcome"],
                featured=data["featured"],
                by=request.user,
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("The case study is saved with its consent."))
            return redirect(monitoring_return.get_absolute_url())
    return render(
        request,
        "evidence/case_study_form.html",
        {"form": form, "project": project, "period": period, "partner": organisation, "monitoring_return": monitoring_return},
    )


@login_required
@require_POST
def case_study_withdraw(request, pk):
    case_study = get_object_or_404(CaseStudy.objects.select_related("monitoring_return__project"), pk=pk)
    require(request.user, "evidence.submit_return", case_study.monitoring_return)
    services.withdraw_consent(case_study=case_study)
    messages.success(request, _("Consent is withdrawn: \u201c%(title)s\u201d is no longer shown anywhere.") % {"title": case_study.title})
    return redirect(case_study.monitoring_return.get_absolute_url())


# Sector dashboards and the report ----------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request):
    require(request.user, "evidence.view_dashboards")
    form = ScopeForm(request.GET or None)
    if not form.is_valid():
        return render(request, "evidence/dashboard.html", {"form": form, "dashboard": None}, status=400 if request.GET else 200)
    scope = form.scope()
    if not selectors.period_has_data(scope):
        return render(request, "evidence/no_data.html", {"form": form, "scope": scope})
    board = selectors.sector_dashboard(scope)
    fmt = request.GET.get("format", "")
    if fmt in (CSV, XLSX):
        return _dashboard_download(board, fmt, chart_key=text_param(request.GET, "chart", max_length=100))
    return render(
        request,
        "evidence/dashboard.html",
        {
            "form": form,
            "dashboard": board,
            "key_figures": selectors.key_figures(board),
            "suppression_note": selectors.SUPPRESSION_NOTE,
            "query": request.GET.urlencode(),
        },
    )


def _dashboard_download(board: selectors.Dashboard, fmt: str, *, chart_key: str = ""):
    """Every figure of the dashboard, or with `chart_key` one chart's table, as published."""
    headers = [_("Topic"), _("Figure"), _("Category"), _("Breakdown"), _("Value"), _("As published"), _("Definition")]
    if chart_key and not any(chart.key == chart_key for section in board.sections for chart in section.charts):
        raise Http404

    def rows():
        for section in board.sections:
            for chart in section.charts:
                if chart_key and chart.key != chart_key:
                    continue
                for category, breakdown, value, shown in chart.long_rows():
                    yield [section.title, chart.title, category, breakdown, value, shown, chart.definition]
            if chart_key:
                continue
            for statistic in section.statistics:
                value = statistic.value
                yield [section.title, statistic.title, "", "", float(value.shown_value) if value.shown_value is not None else None, value.display, statistic.definition]

    area = board.scope.area.code if board.scope.area else "borough"
    return tabular_response(
        filename=f"sector-evidence-{chart_key + '-' if chart_key else ''}{area}-{board.scope.start.isoformat()}-to-{board.scope.end.isoformat()}",
        headers=[str(h) for h in headers],
        rows=rows(),
        fmt=fmt,
    )


@login_required
@require_GET
def report(request):
    """The printable "statistics plus stories" report: the dashboard's figures and chosen case studies."""
    require(request.user, "evidence.view_dashboards")
    form = ReportForm(request.GET or None)
    if not form.is_valid():
        return render(request, "evidence/report.html", {"form": form, "dashboard": None}, status=400 if request.GET else 200)
    scope = form.scope()
    studies = selectors.shareable_case_studies(scope=scope)
    form.set_stories(studies)
    chosen_ids = set(request.GET.getlist("stories"))
    chosen = [study for study in form.available_stories if str(study.pk) in chosen_ids] if chosen_ids else [
        study for study in form.available_stories if study.featured
    ]
    if not selectors.period_has_data(scope):
        return render(request, "evidence/no_data.html", {"form": form, "scope": scope})
    return render(
        request,
        "evidence/report.html",
        {
            "form": form,
            "dashboard": selectors.sector_dashboard(scope),
            "stories": chosen,
            "chosen_ids": {study.pk for study in chosen},
            "suppression_note": selectors.SUPPRESSION_NOTE,
            "generated": timezone.now(),
        },
    )


# The baseline of support ---------------------------------------------------------------------------


@login_required
@require_GET
def baseline_coverage(request):
    """Every area against the network's baseline of support: met by whom, or what is missing; and how
    it changed month by month (the monthly snapshots)."""
    require(request.user, "evidence.view_dashboards")
    coverage = selectors.baseline_coverage()
    return render(
        request,
        "evidence/baseline.html",
        {"coverage": coverage, "history": selectors.baseline_history(coverage), "definition": selectors.BASELINE_DEFINITION},
    )


# The baseline downloads: (file name, headers, rows).
BASELINE_DOWNLOADS = {
    "coverage": ("baseline-coverage", selectors.BASELINE_HEADERS, lambda: selectors.baseline_coverage().download_rows()),
    "history": ("baseline-coverage-history", selectors.BASELINE_HISTORY_HEADERS, selectors.baseline_history_rows),
}


@login_required
@require_GET
def baseline_download(request, table: str):
    """The coverage table (one row per area and item) or every monthly record, as CSV."""
    require(request.user, "evidence.view_dashboards")
    filename, headers, rows = BASELINE_DOWNLOADS[table]
    return tabular_response(
        filename=f"{filename}-{timezone.localdate().isoformat()}", headers=[str(header) for header in headers], rows=rows(), fmt=CSV
    )


# Evidence packs -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def export_list(request):
    require(request.user, "evidence.request_export")
    # A request for a pack must say what it is for: an empty form is an error, not the default period.
    form = ScopeForm(request.POST, use_defaults=False) if request.method == "POST" else ScopeForm(None)
    if request.method == "POST" and form.is_valid():
        scope = form.scope()
        try:
            with transaction.atomic():
                export = services.request_export(user=request.user, start=scope.start, end=scope.end, area=scope.area)
                tasks.enqueue_export(export.pk)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            return redirect(export)
    page = Paginator(selectors.exports_of(request.user), EXPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "evidence/export_list.html", {"form": form, "page": page}, status=400 if form.errors else 200)


def _export_or_404(request, uuid) -> EvidenceExport:
    export = selectors.export_by_uuid(uuid)
    if export is None:
        raise Http404
    require(request.user, "evidence.view_export", export)
    return export


@login_required
@never_cache
def export_detail(request, uuid):
    export = _export_or_404(request, uuid)
    return render(request, "evidence/export_detail.html", {"export": export})


@login_required
@never_cache
def export_status(request, uuid):
    """The small JSON the progress bar polls."""
    export = _export_or_404(request, uuid)
    return JsonResponse(
        {
            "status": export.status,
            "status_label": export.get_status_display(),
            "progress": export.progress,
            "step": export.step,
            "finished": export.is_finished,
            "download_url": reverse("evidence:export_download", kwargs={"uuid": export.uuid}) if export.status == EvidenceExport.Status.READY else "",
            "expires_at": export.expires_at.isoformat() if export.expires_at else "",
        }
    )


@login_required
def export_download(request, uuid):
    export = _export_or_404(request, uuid)
    if export.status != EvidenceExport.Status.READY or (export.expires_at and export.expires_at <= timezone.now()):
        messages.error(request, _("This evidence pack is no longer available. Ask for a new one."))
        return redirect("evidence:export_list")
    return private_file_response(export.file, filename=export.filename, file_type=XLSX)


# 360Giving: grants the network distributes (public) -----------------------------------------------


@require_GET
def grant_list(request):
    return render(
        request,
        "evidence/grant_list.html",
        {"grants": selectors.published_grants(), "network_name": settings.PORTAL_NETWORK_NAME, "site_url": settings.SITE_URL},
    )


GRANTS_PER_PAGE = 50


@require_GET
def organisation_grants(request, slug: str):
    """Every grant an organisation received (its page shows the latest few), a page at a time."""
    organisation = organisation_or_404(request, slug)
    page = Paginator(Grant.objects.received_by(organisation), GRANTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "evidence/organisation_grants.html", {"organisation": organisation, "page": page})


NOTHING_PUBLISHED = _lazy(
    "No grants are published yet, so there is no 360Giving data here: the standard needs at least one grant in a "
    "file. It will be at this address once the network records its first grant to an organisation with a register number."
)


@require_GET
def grants_json(request):
    grants = selectors.published_grants()
    try:
        response = JsonResponse(three_sixty_giving.package(grants), json_dumps_params={"indent": 1})
    except three_sixty_giving.NothingToPublish:
        # Not an empty package, which 360Giving's tools would reject as invalid: a clear "not yet".
        response = JsonResponse({"error": str(NOTHING_PUBLISHED), "grants": 0}, status=404)
    # Open data: other sites and the 360Giving tools may read it from the browser.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def grants_spreadsheet(request, fmt: str):
    if not selectors.published_grants().exists():
        # A sheet of column titles alone would read back as an empty, invalid package.
        return HttpResponse(str(NOTHING_PUBLISHED), status=404, content_type="text/plain; charset=utf-8")
    return tabular_response(
        filename="360giving-grants-distributed",
        headers=[column.header for column in three_sixty_giving.COLUMNS],
        rows=export_rows(three_sixty_giving.COLUMNS, selectors.published_grants()),
        fmt=fmt,
    )
