"""Pages of the VCO database: organisations, member networks, registration and people's own
organisations.

Views stay thin: forms check input, services write, selectors read, and every object-level decision
goes through accounts.permissions (can/require).
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.permissions import can, require
from core.forms import add_validation_errors
from core.parameters import text_param

from . import hooks, selectors, services
from .forms import MembershipApplicationForm, OrganisationFilterForm, OrganisationForm, RegistrationForm
from .models import Network, Organisation

ORGANISATIONS_PER_PAGE = 25
MEMBERS_PER_PAGE = 25
HISTORY_PER_PAGE = 20


def organisation_or_404(request, slug: str) -> Organisation:
    """The organisation at `slug`, or 404 when it does not exist or its existence is private to this user."""
    organisation = selectors.public_organisation_page(slug)
    if organisation is None or not can(request.user, "organisations.view_organisation", organisation):
        raise Http404
    return organisation


def refuse_harvested(record) -> None:
    """An organisation (or a service) harvested from another directory is kept by that directory:
    nobody, network admins included, edits it here. (An admin may hide a harvested service instead.)"""
    if record.is_harvested:
        raise PermissionDenied


_NUMBER_TAKEN = gettext_lazy(
    "Another organisation was saved with the same charity or company number a moment ago. Please check the numbers."
)


# Organisations ------------------------------------------------------------------------------------


def organisation_list(request):
    form = OrganisationFilterForm(request.GET or None)
    filters = form.filters()
    organisations = selectors.search_organisations(**filters)
    page = Paginator(organisations, ORGANISATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "organisations/organisation_list.html", {"form": form, "page": page, "filtered": bool(filters)})


def organisation_detail(request, slug):
    organisation = organisation_or_404(request, slug)
    user = request.user
    sees_private = can(user, "organisations.view_private_details", organisation)
    shown = {name: sees_private or organisation.shows(name) for name, _label in Organisation.OPTIONAL_PUBLIC_FIELDS}
    return render(
        request,
        "organisations/organisation_detail.html",
        {
            "organisation": organisation,
            "memberships": selectors.active_memberships_of(organisation),
            "sees_private": sees_private,
            "shown": shown,
            "public_fields": set(organisation.public_fields or []),
            "can_edit": can(user, "organisations.change_organisation", organisation) and not organisation.is_harvested,
            "can_view_history": can(user, "organisations.view_history", organisation),
            "can_apply": can(user, "organisations.apply_for_membership", organisation),
            "sections": hooks.organisation_sections(),
        },
    )


@login_required
def organisation_edit(request, slug):
    organisation = organisation_or_404(request, slug)
    require(request.user, "organisations.change_organisation", organisation)
    refuse_harvested(organisation)
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
    return render(request, "organisations/organisation_form.html", {"organisation": organisation, "form": form})


@login_required
def organisation_history(request, slug):
    organisation = organisation_or_404(request, slug)
    require(request.user, "organisations.view_history", organisation)
    page = Paginator(selectors.ChangeLog(organisation), HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "organisations/organisation_history.html", {"organisation": organisation, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def organisation_confirm(request, slug):
    """The page the yearly "are your details still correct?" email links to."""
    organisation = organisation_or_404(request, slug)
    require(request.user, "organisations.change_organisation", organisation)
    refuse_harvested(organisation)
    if request.method == "POST":
        services.confirm_details(organisation=organisation, by=request.user)
        messages.success(
            request, _("Thank you: %(name)s's details are confirmed as correct.") % {"name": organisation.name}
        )
        return redirect(organisation)
    return render(
        request,
        "organisations/organisation_confirm.html",
        {
            "organisation": organisation,
            "public_labels": [label for name, label in Organisation.OPTIONAL_PUBLIC_FIELDS if organisation.shows(name)],
        },
    )


# Member networks ----------------------------------------------------------------------------------


def network_list(request):
    return render(request, "organisations/network_list.html", {"networks": selectors.networks_with_member_counts()})


def network_detail(request, slug):
    network = get_object_or_404(selectors.networks_with_member_counts().select_related("run_by"), slug=slug)
    page = Paginator(selectors.active_members(network), MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    applicable = _organisations_that_may_apply(request.user)
    return render(
        request,
        "organisations/network_detail.html",
        {"network": network, "page": page, "may_apply": network.accepts_applications and applicable.exists()},
    )


def _organisations_that_may_apply(user):
    if not user.is_authenticated:
        return Organisation.objects.none()
    candidates = selectors.organisations_edited_by(user).active()
    allowed = [
        organisation.pk for organisation in candidates if can(user, "organisations.apply_for_membership", organisation)
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
        return redirect("organisations:network_detail", slug=network.slug)
    organisations = _organisations_that_may_apply(request.user)
    if not organisations.exists():
        return render(request, "organisations/network_apply.html", {"network": network, "form": None}, status=403)
    initial = {}
    if slug := text_param(request.GET, "organisation", max_length=220):
        initial["organisation"] = organisations.filter(slug=slug).first()
    form = MembershipApplicationForm(request.POST or None, organisations=organisations, initial=initial)
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data["organisation"]
        require(request.user, "organisations.apply_for_membership", organisation)
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
            return redirect("organisations:network_detail", slug=network.slug)
    return render(request, "organisations/network_apply.html", {"network": network, "form": form})


# People and their organisations -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request):
    """A new group with no account signs up and gets its page, in one step."""
    if request.user.is_authenticated:
        messages.info(request, _("You are logged in already. To add another organisation, ask a network admin."))
        return redirect("organisations:my_organisations")
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
    return render(request, "organisations/register.html", {"form": form})


@login_required
def my_organisations(request):
    affiliations = [
        (affiliation, can(request.user, "organisations.change_organisation", affiliation.organisation))
        for affiliation in selectors.affiliations_of(request.user)
    ]
    return render(request, "organisations/my_organisations.html", {"affiliations": affiliations})
