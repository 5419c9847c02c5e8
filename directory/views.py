"""Pages of the provider directory: search, downloads, print, service pages and the API guide.

Views stay thin: forms check input, services write, selectors read, and every object-level decision
goes through accounts.permissions (can/require).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.permissions import can, require
from core.forms import add_validation_errors
from core.links import fixed_url, place
from core.parameters import next_url, query_pieces
from organisations import hooks
from organisations.views import organisation_or_404, refuse_harvested

from . import exports, links, selectors, services
from .forms import ContactFormSet, DirectoryFilterForm, NewLocationForm, ScheduleFormSet, ServiceForm, formset_rows
from .models import Service
from .search import matches_statement

ORGANISATIONS_PER_PAGE = 25
MEMBERS_PER_PAGE = 25
HISTORY_PER_PAGE = 20


# The directory of services ------------------------------------------------------------------------

SERVICES_PER_PAGE = 20
# The print view is for a paper directory: beyond this it asks for a narrower search instead.
PRINT_LIMIT = 1000
DOWNLOAD_FORMATS = ("csv", "xlsx", "json")


def _directory_search(request):
    """The filter form and the matching services for a directory request (page, print or download)."""
    form = DirectoryFilterForm(request.GET or None)
    filters = form.search_filters()
    return form, filters, selectors.search_directory(filters)


MAX_PAGE_NUMBER = 1_000_000


def _results_page(results, number, *, filters) -> tuple[Page, selectors.ResultCount]:
    """A page of results as Paginator.get_page gives it (not a number: the first; past the end: the
    last), read with selectors.page_of as plain values, and how many results there are (far from the
    end, an estimate: see selectors.count_of)."""
    try:
        # Beyond the last page goes to the last page; a number past any directory's size is capped first,
        # as the database's OFFSET could not hold it.
        number = min(max(1, int(number)), MAX_PAGE_NUMBER)
    except (TypeError, ValueError):
        number = 1
    read = {
        "per_page": SERVICES_PER_PAGE,
        "search_text": filters.text if filters.ranked() else "",
        "estimate": True,
        "rows": selectors.directory_listing,
        "statement": matches_statement(results, filters),
    }
    rows, count = selectors.page_of(results, number=number, **read)
    paginator = Paginator(range(count.number), SERVICES_PER_PAGE)
    if not rows and count.number:
        number = paginator.num_pages
        rows, count = selectors.page_of(results, number=number, **read)
        paginator = Paginator(range(count.number), SERVICES_PER_PAGE)
    return Page(rows, number, paginator), count


def directory(request):
    form, filters, services = _directory_search(request)
    page, count = _results_page(services, request.GET.get("page"), filters=filters)
    # The same search, downloaded or printed: the addresses are fixed, the query string is this one.
    query = "&".join(query_pieces(request.GET, {"page": None}))
    search = f"?{query}" if query else ""
    at = place()
    return render(
        request,
        "directory/directory.html",
        {
            "form": form,
            "page": page,
            "result_count": count,
            "filtered": not filters.is_empty(),
            # Beside the whole directory only: a search has asked for something narrower.
            "regional": selectors.regional_and_national_providers() if page.number == 1 and filters.is_empty() else None,
            "downloads": [(fmt.upper(), fixed_url("directory:directory_download", fmt, at=at) + search) for fmt in DOWNLOAD_FORMATS],
            "print_url": fixed_url("directory:directory_print", at=at) + search,
        },
    )


def directory_download(request, fmt: str):
    if fmt not in DOWNLOAD_FORMATS:
        raise Http404
    _form, _filters, services = _directory_search(request)
    if fmt == "json":
        return exports.services_json_response(services)
    return exports.services_response(services, fmt=fmt)


def directory_print(request):
    form, filters, services = _directory_search(request)
    total = services.count()
    shown = list(services.select_related("organisation").prefetch_related(*selectors.service_prefetches())[:PRINT_LIMIT])
    return render(
        request,
        "directory/directory_print.html",
        {"form": form, "services": shown, "total": total, "limit": PRINT_LIMIT, "filtered": not filters.is_empty()},
    )


def _service_or_404(request, slug: str):
    service = selectors.service_page(slug)
    if service is None or not can(request.user, "directory.view_service", service):
        raise Http404
    return service


def service_detail(request, slug):
    service = _service_or_404(request, slug)
    can_edit = can(request.user, "directory.change_service", service) and not service.is_harvested
    accreditations = hooks.accreditations_for([service.organisation_id]).get(service.organisation_id, [])
    return render(
        request,
        "directory/service_detail.html",
        {
            "service": service,
            "organisation": service.organisation,
            "can_edit": can_edit,
            "ask_url": links.ask_for_support_url(service),
            "accreditations": accreditations,
        },
    )


def _service_form_page(request, *, organisation, service):
    """The add and edit pages: the service, a new place, its regular times and its contacts, saved together."""
    instance = service or Service(organisation=organisation)
    data = request.POST or None
    form = ServiceForm(data, instance=instance, organisation=organisation)
    location_form = NewLocationForm(data)
    schedules = ScheduleFormSet(data, instance=instance, prefix="schedules")
    contacts = ContactFormSet(data, instance=instance, prefix="contacts")
    if request.method == "POST":
        valid = all([form.is_valid(), location_form.is_valid(), schedules.is_valid(), contacts.is_valid()])
        if valid:
            try:
                saved = services.save_service(
                    service=instance,
                    organisation=organisation,
                    data=form.service_data(),
                    by=request.user,
                    locations=list(form.cleaned_data["locations"]),
                    new_location=location_form.cleaned_data if location_form.has_location() else None,
                    schedules=formset_rows(schedules),
                    contacts=formset_rows(contacts),
                )
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                messages.success(request, _("%(name)s is saved.") % {"name": saved.name})
                return redirect(saved)
    return render(
        request,
        "directory/service_form.html",
        {
            "organisation": organisation,
            "service": service,
            "form": form,
            "location_form": location_form,
            "schedules": schedules,
            "contacts": contacts,
        },
    )


@login_required
def service_create(request, slug):
    organisation = organisation_or_404(request, slug)
    require(request.user, "directory.change_service", organisation)
    refuse_harvested(organisation)
    return _service_form_page(request, organisation=organisation, service=None)


@login_required
def service_edit(request, slug):
    service = _service_or_404(request, slug)
    require(request.user, "directory.change_service", service)
    refuse_harvested(service)
    return _service_form_page(request, organisation=service.organisation, service=Service.objects.get(pk=service.pk))


@login_required
def service_history(request, slug):
    service = _service_or_404(request, slug)
    require(request.user, "directory.view_service_history", service)
    page = Paginator(selectors.service_change_log(service), HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "directory/service_history.html", {"service": service, "page": page})


@login_required
@require_http_methods(["POST"])
def service_mark_reviewed(request, slug):
    service = _service_or_404(request, slug)
    require(request.user, "directory.change_service", service)
    refuse_harvested(service)
    services.mark_service_reviewed(service=service, by=request.user)
    messages.success(request, _("Thank you: %(name)s is marked as reviewed today.") % {"name": service.name})
    return redirect(next_url(request, service))


def api_guide(request):
    """The human-readable page about the Open Referral UK API."""
    example = selectors.listed_services().select_related("organisation").order_by("pk").first()
    return render(
        request,
        "directory/api_guide.html",
        {"example": example, "api_root": request.build_absolute_uri(reverse("oruk:root"))},
    )
