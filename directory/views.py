from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from . import selectors
from .models import Network, Organisation
from .permissions import can


def organisation_list(request):
    page = Paginator(Organisation.objects.active(), 50).get_page(request.GET.get("page"))
    return render(request, "directory/organisation_list.html", {"page": page})


def organisation_detail(request, slug):
    organisation = selectors.public_organisation_page(slug)
    if organisation is None or not can(request.user, "directory.view_organisation", organisation):
        raise Http404
    return render(request, "directory/organisation_detail.html", {"organisation": organisation})


def network_list(request):
    return render(request, "directory/network_list.html", {"networks": Network.objects.all()})


@login_required
def my_organisations(request):
    return render(request, "directory/my_organisations.html", {"organisations": selectors.organisations_of(request.user)})


@login_required
def organisation_confirm(request, slug):
    from django.shortcuts import get_object_or_404, redirect
    from django.contrib import messages
    from .permissions import require
    from . import services

    organisation = get_object_or_404(Organisation, slug=slug)
    require(request.user, "directory.change_organisation", organisation)
    if request.method == "POST":
        services.confirm_details(organisation=organisation, by=request.user)
        messages.success(request, "Thank you: the details are confirmed.")
        return redirect(organisation)
    return render(request, "directory/organisation_confirm.html", {"organisation": organisation})
