"""Pages of the directory: organisations, member networks, registration and accounts.

Views stay thin: forms check input, services write, selectors read, and every object-level decision
goes through directory.permissions (can/require).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.forms import add_validation_errors
from core.parameters import next_url, text_param

from . import exports, hooks, selectors, services
from .forms import (
    ContactFormSet,
    DirectoryFilterForm,
    LoginForm,
    MembershipApplicationForm,
    NewLocationForm,
    OrganisationFilterForm,
    OrganisationForm,
    RegistrationForm,
    ScheduleFormSet,
    ServiceForm,
    formset_rows,
)
from .models import Network, Organisation, Service
from .permissions import can, require

ORGANISATIONS_PER_PAGE = 25
MEMBERS_PER_PAGE = 25
HISTORY_PER_PAGE = 20


def _organisation_or_404(request, slug: str) -> Organisation:
    """The organisation at `slug`, or 404 when it does not exist or its existence is private to this user."""
    organisation = selectors.public_organisation_page(slug)
    if organisation is None or not can(request.user, "directory.view_organisation", organisation):
        raise Http404
    return organisation


_NUMBER_TAKEN = gettext_lazy(
    "Another organisation was saved with the same charity or company number a moment ago. Please check the numbers."
)


# Organisations ------------------------------------------------------------------------------------


def organisation_list(request):
    form = OrganisationFilterForm(request.GET or None)
    filters = form.filters()
    organisations = selectors.search_organisations(**filters)
    page = Paginator(organisations, ORGANISATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "directory/organisation_list.html", {"form": form, "page": page, "filtered": bool(filters)})


def organisation_detail(request, slug):
    organisation = _organisation_or_404(request, slug)
    user = request.user
    sees_private = can(user, "directory.view_private_details", organisation)
    shown = {name: sees_private or organisation.shows(name) for name, _label in Organisation.OPTIONAL_PUBLIC_FIELDS}
    can_edit_services = can(user, "directory.change_service", organisation)
    return render(
        request,
        "directory/organisation_detail.html",
        {
            "organisation": organisation,
            "memberships": selectors.active_memberships_of(organisation),
            "sees_private": sees_private,
            "shown": shown,
            "public_fields": set(organisation.public_fields or []),
            "can_edit": can(user, "directory.change_organisation", organisation),
            "can_view_history": can(user, "directory.view_history", organisation),
            "can_apply": can(user, "directory.apply_for_membership", organisation),
            "sections": hooks.organisation_sections(),
            "services": selectors.services_of(organisation, include_closed=can_edit_services),
            "can_edit_services": can_edit_services,
            "ask_url": _ask_for_support_url_for(organisation),
        },
    )


@login_required
def organisation_edit(request, slug):
    organisation = _organisation_or_404(request, slug)
    require(request.user, "directory.change_organisation", organisation)
    # The form works on its own copy: a failed save must not show half-changed values elsewhere on the page.
    instance = Organisation.objects.get(pk=organisation.pk)
    form = OrganisationForm(request.POST or None, request.FILES or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_organisation(organisation=instance, data=form.organisation_data(), by=request.user)
        except ValidationError as error:
            add_validation_errors(form, error)
        except IntegrityError:
            form.add_error(None, _NUMBER_TAKEN)
        else:
            messages.success(request, _("The changes to %(name)s are saved.") % {"name": saved.name})
            return redirect(saved)
    return render(request, "directory/organisation_form.html", {"organisation": organisation, "form": form})


@login_required
def organisation_history(request, slug):
    organisation = _organisation_or_404(request, slug)
    require(request.user, "directory.view_history", organisation)
    page = Paginator(selectors.ChangeLog(organisation), HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "directory/organisation_history.html", {"organisation": organisation, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def organisation_confirm(request, slug):
    """The page the yearly "are your details still correct?" email links to."""
    organisation = _organisation_or_404(request, slug)
    require(request.user, "directory.change_organisation", organisation)
    if request.method == "POST":
        services.confirm_details(organisation=organisation, by=request.user)
        messages.success(
            request, _("Thank you: %(name)s's details are confirmed as correct.") % {"name": organisation.name}
        )
        return redirect(organisation)
    return render(
        request,
        "directory/organisation_confirm.html",
        {
            "organisation": organisation,
            "public_labels": [label for name, label in Organisation.OPTIONAL_PUBLIC_FIELDS if organisation.shows(name)],
        },
    )


# Member networks ----------------------------------------------------------------------------------


def network_list(request):
    return render(request, "directory/network_list.html", {"networks": selectors.networks_with_member_counts()})


def network_detail(request, slug):
    network = get_object_or_404(selectors.networks_with_member_counts().select_related("run_by"), slug=slug)
    page = Paginator(selectors.active_members(network), MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    applicable = _organisations_that_may_apply(request.user)
    return render(
        request,
        "directory/network_detail.html",
        {"network": network, "page": page, "may_apply": network.accepts_applications and applicable.exists()},
    )


def _organisations_that_may_apply(user):
    if not user.is_authenticated:
        return Organisation.objects.none()
    candidates = selectors.organisations_edited_by(user).active()
    allowed = [
        organisation.pk for organisation in candidates if can(user, "directory.apply_for_membership", organisation)
    ]
    return Organisation.objects.filter(pk__in=allowed).order_by("name")


@login_required
def network_apply(request, slug):
    network = get_object_or_404(Network, slug=slug)
    if not network.accepts_applications:
        messages.info(
            request,
            _("%(network)s does not take applications online: contact the network admin.") % {"network": network},
        )
        return redirect("directory:network_detail", slug=network.slug)
    organisations = _organisations_that_may_apply(request.user)
    if not organisations.exists():
        return render(request, "directory/network_apply.html", {"network": network, "form": None}, status=403)
    initial = {}
    if slug := text_param(request.GET, "organisation", max_length=220):
        initial["organisation"] = organisations.filter(slug=slug).first()
    form = MembershipApplicationForm(request.POST or None, organisations=organisations, initial=initial)
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data["organisation"]
        require(request.user, "directory.apply_for_membership", organisation)
        try:
            services.apply_for_membership(
                organisation=organisation, network=network, note=form.cleaned_data["note"], by=request.user
            )
        except ValidationError as error:
            form.add_error("organisation", error)
        else:
            messages.success(
                request,
                _(
                    "%(organisation)s has applied to join %(network)s. A network admin will review the application and you will hear by email."
                )
                % {"organisation": organisation, "network": network},
            )
            return redirect("directory:network_detail", slug=network.slug)
    return render(request, "directory/network_apply.html", {"network": network, "form": form})


# People and their organisations -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request):
    """A new group with no account signs up and gets its page, in one step."""
    if request.user.is_authenticated:
        messages.info(request, _("You are logged in already. To add another organisation, ask a network admin."))
        return redirect("directory:my_organisations")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            registration = services.register_organisation(
                email=data["account_email"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                organisation_data=form.organisation_data(),
                network=data.get("network"),
                note=data.get("note", ""),
            )
        except ValidationError as error:
            add_validation_errors(form, error, field_map={"email": "account_email", "username": "account_email"})
        except IntegrityError:
            form.add_error(None, _NUMBER_TAKEN)
        else:
            login(request, registration.user, backend="django.contrib.auth.backends.ModelBackend")
            text = _("Welcome. %(organisation)s now has its page in the directory, and you are its editor.") % {
                "organisation": registration.organisation.name
            }
            if registration.membership:
                text += " " + _(
                    "A network admin will approve its application to join %(network)s; you will hear by email."
                ) % {"network": registration.membership.network.name}
            messages.success(request, text)
            return redirect(registration.organisation)
    return render(request, "directory/register.html", {"form": form})


@login_required
def my_organisations(request):
    affiliations = [
        (affiliation, can(request.user, "directory.change_organisation", affiliation.organisation))
        for affiliation in selectors.affiliations_of(request.user)
    ]
    return render(request, "directory/my_organisations.html", {"affiliations": affiliations})


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset flow, with an email in text and HTML whose link uses the portal's public address."""

    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"

    @property
    def extra_email_context(self) -> dict:
        # The configured address, not the request's Host header, so a forged Host cannot redirect the link.
        return {"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME}


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


def _results_page(results, number, *, ranked: bool) -> Page:
    """A page of results as Paginator.get_page gives it (not a number: the first; past the end: the
    last), read with selectors.page_of."""
    try:
        number = max(1, int(number))
    except (TypeError, ValueError):
        number = 1
    rows, total = selectors.page_of(results, number=number, per_page=SERVICES_PER_PAGE, ranked=ranked)
    paginator = Paginator(range(total), SERVICES_PER_PAGE)
    if not rows and total:
        number = paginator.num_pages
        rows, total = selectors.page_of(results, number=number, per_page=SERVICES_PER_PAGE, ranked=ranked)
    return Page(rows, number, paginator)


def directory(request):
    form, filters, services = _directory_search(request)
    page = _results_page(services, request.GET.get("page"), ranked=filters.ranked())
    selectors.with_listing_details(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "directory/directory.html",
        {
            "form": form,
            "page": page,
            "filtered": not filters.is_empty(),
            "query": query.urlencode(),
            # Beside the whole directory only: a search has asked for something narrower.
            "regional": selectors.regional_and_national_providers() if page.number == 1 and filters.is_empty() else None,
            "formats": DOWNLOAD_FORMATS,
        },
    )


def directory_download(request, fmt: str):
    if fmt not in DOWNLOAD_FORMATS:
        raise Http404
    _form, _filters, services = _directory_search(request)
    prefetches = selectors.service_prefetches(as_lists=True)
    if fmt == "json":
        return exports.services_json_response(services, prefetches=prefetches)
    return exports.services_response(services, fmt=fmt, prefetches=prefetches)


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


def _ask_base() -> str:
    # The referrals app builds the page; until its URL is installed, its agreed address.
    try:
        return reverse("referrals:ask")
    except NoReverseMatch:
        return "/referrals/ask/"


def _ask_for_support_url(service) -> str:
    return f"{_ask_base()}?{urlencode({'provider': service.organisation.uuid, 'service': service.uuid})}"


def _ask_for_support_url_for(organisation) -> str:
    return f"{_ask_base()}?{urlencode({'provider': organisation.uuid})}"


def service_detail(request, slug):
    service = _service_or_404(request, slug)
    can_edit = can(request.user, "directory.change_service", service)
    accreditations = hooks.accreditations_for([service.organisation_id]).get(service.organisation_id, [])
    return render(
        request,
        "directory/service_detail.html",
        {
            "service": service,
            "organisation": service.organisation,
            "can_edit": can_edit,
            "ask_url": _ask_for_support_url(service),
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
    organisation = _organisation_or_404(request, slug)
    require(request.user, "directory.change_service", organisation)
    return _service_form_page(request, organisation=organisation, service=None)


@login_required
def service_edit(request, slug):
    service = _service_or_404(request, slug)
    require(request.user, "directory.change_service", service)
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
