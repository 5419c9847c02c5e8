"""Pages for referrals: asking for support (describe, then review the suggestions and send), a group's
own referrals, the officers' inbox, a referral's page with its timeline and actions, feedback, and the
network admins' personal-data tools.

Views stay thin: forms check input, services decide and write, selectors read, and every object-level
decision goes through accounts.permissions (can/require).
"""

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.dateparse import parse_datetime
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from core.exports import CSV, dated_filename, tabular_response
from core.forms import add_validation_errors
from directory.models import Service
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import selectors, services
from .forms import (
    AskForm,
    BulkAssignForm,
    ChooseProviderForm,
    ContactDataForm,
    FeedbackForm,
    InboxFilterForm,
    ReferralActionForm,
    parse_uuid,
)
from .models import Referral

PER_PAGE = 25
DRAFT = "referrals:draft"
DRAFT_CONSENT_AT = "referrals:draft-consent-at"


def referral_page(view):
    """Every page and action here: the person signs in, then a funder is refused (403) before any
    referral is looked up."""

    @wraps(view)
    @login_required
    def checked(request, *args, **kwargs):
        require(request.user, "referrals.use")
        return view(request, *args, **kwargs)

    return checked


# Asking for support ------------------------------------------------------------------------------


def _prefill_provider(request, initial: dict) -> None:
    """Directory pages link here with ?provider=<uuid>&service=<uuid>: pre-fill them, or say why not."""
    raw_provider = request.GET.get("provider")
    if raw_provider is None:
        return
    provider_uuid = parse_uuid(raw_provider)
    provider = Organisation.objects.filter(uuid=provider_uuid).first() if provider_uuid else None
    if provider is None or not Organisation.objects.providers().filter(pk=provider.pk).exists():
        messages.error(
            request,
            _(
                "The provider in the link you followed is not in the directory, so it has not been filled in. Choose one below, or let us suggest some."
            ),
        )
        return
    if not provider.is_active:
        messages.error(
            request,
            _("%(name)s has closed and does not take referrals. Choose another provider below, or let us suggest some.")
            % {"name": provider.name},
        )
        return
    initial["existing_provider"] = provider
    raw_service = request.GET.get("service")
    if not raw_service:
        return
    service_uuid = parse_uuid(raw_service)
    service = Service.objects.filter(uuid=service_uuid, organisation=provider).first() if service_uuid else None
    if service is None:
        messages.error(
            request,
            _(
                "The service in the link you followed is not one of %(name)s's services; the provider has been filled in without it."
            )
            % {"name": provider.name},
        )
    elif not Service.objects.taking_referrals().filter(pk=service.pk).exists():
        messages.warning(
            request,
            _(
                "%(service)s is not taking referrals at the moment (it is paused, closed or full). You can still ask %(name)s."
            )
            % {"service": service.name, "name": provider.name},
        )
    else:
        initial["service"] = service
        # The needs the service meets are ticked (a ?needs= link, read next, says otherwise).
        initial["needs"] = list(service.needs.filter(is_active=True))


def _prefill_needs(request, initial: dict) -> None:
    """The health check links here with ?needs=<term uuid>&needs=...: tick those needs; ignore the rest."""
    raw_needs = request.GET.getlist("needs")
    if not raw_needs:
        return
    wanted = [uuid for uuid in (parse_uuid(raw) for raw in raw_needs) if uuid]
    needs = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.NEEDS).filter(uuid__in=wanted))
    if len(needs) < len(raw_needs):
        messages.warning(
            request, _("Some of the needs in the link you followed are not in the list, so they have not been ticked.")
        )
    if needs:
        initial["needs"] = needs


def _initial_for(user, organisations) -> dict:
    organisation = organisations.first()
    initial = {"contact_name": user.get_full_name(), "contact_email": user.email}
    if organisation is not None and not (user.is_network_admin or selectors.is_officer_somewhere(user)):
        initial.update(
            organisation=organisation,
            stage=organisation.development_stage,
            communities=list(organisation.communities_served.all()),
            language=organisation.languages.first(),
        )
    return initial


@referral_page
def ask(request):
    user = request.user
    if not can(user, "referrals.ask", None):
        return render(request, "referrals/ask_not_allowed.html", status=403)
    if request.method == "POST":
        form = AskForm(request.POST, user=user)
        if form.is_valid():
            request.session[DRAFT] = {name: request.POST.getlist(name) for name in form.fields}
            request.session[DRAFT_CONSENT_AT] = timezone.now().isoformat()
            return redirect("referrals:review")
    elif request.GET.get("edit") and request.session.get(DRAFT):
        form = AskForm(MultiValueDict(request.session[DRAFT]), user=user)
    else:
        form = AskForm(user=user)
        initial = _initial_for(user, form.fields["organisation"].queryset)
        _prefill_provider(request, initial)
        _prefill_needs(request, initial)
        form = AskForm(user=user, initial=initial)
    if not form.fields["organisation"].queryset.exists():
        return render(request, "referrals/ask_not_allowed.html", status=403)
    return render(request, "referrals/ask.html", {"form": form})


@referral_page
def review(request):
    draft = request.session.get(DRAFT)
    if not draft:
        messages.info(request, _("Start by telling us what you need."))
        return redirect("referrals:ask")
    form = AskForm(MultiValueDict(draft), user=request.user)
    if not form.is_valid():
        messages.error(request, _("Some of the details need checking before the request can be sent."))
        return redirect(reverse("referrals:ask") + "?edit=1")
    data = form.cleaned_data
    routing = selectors.routing_for_referral_data(data)
    choose = ChooseProviderForm(request.POST or None, suggestions=routing.suggestions)
    if request.method == "POST" and choose.is_valid():
        picked = choose.cleaned_data["provider"]
        chosen = (
            None
            if picked == ChooseProviderForm.NETWORK
            else Organisation.objects.filter(uuid=parse_uuid(picked)).first()
        )
        consent_at = parse_datetime(request.session.get(DRAFT_CONSENT_AT) or "") or timezone.now()
        try:
            referral = services.submit_referral(
                organisation=data["organisation"],
                needs=list(data["needs"]),
                description=data["description"],
                urgency=data["urgency"],
                stage=data["stage"],
                communities=list(data["communities"]),
                language=data["language"],
                existing_provider=data["existing_provider"],
                service=data["service"],
                contact_name=data["contact_name"],
                contact_email=data["contact_email"],
                contact_phone=data["contact_phone"],
                consent=data["consent"],
                consent_given_at=consent_at,
                chosen_provider=chosen,
                by=request.user,
            )
        except ValidationError as error:
            add_validation_errors(choose, error)
        else:
            request.session.pop(DRAFT, None)
            request.session.pop(DRAFT_CONSENT_AT, None)
            if referral.provider_id:
                messages.success(
                    request,
                    _("Your request has been sent to %(provider)s. They should reply within %(days)d working days.")
                    % {"provider": referral.provider.name, "days": services.response_days()},
                )
            else:
                messages.success(
                    request,
                    _("Your request has been sent to the network's co-ordinators, who will choose a provider for it."),
                )
            return redirect(referral)
    return render(
        request,
        "referrals/review.html",
        {"data": data, "routing": routing, "choose": choose, "urgency_label": Referral.Urgency(data["urgency"]).label},
    )


# Lists ---------------------------------------------------------------------------------------------


@referral_page
def my_referrals(request):
    referrals = selectors.referrals_of_user(request.user)
    status = request.GET.get("status", "")
    if status == "open":
        referrals = referrals.open()
    elif status in Referral.Status.values:
        referrals = referrals.filter(status=status)
    else:
        status = ""
    page = Paginator(referrals, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "referrals/my_referrals.html",
        {
            "page": page,
            "status": status,
            "statuses": Referral.Status.choices,
            "can_ask": can(request.user, "referrals.ask", None),
            "is_officer": selectors.is_officer_somewhere(request.user) or request.user.is_network_admin,
        },
    )


def _inbox_provider(request) -> tuple[Organisation | None, list[Organisation]]:
    """The provider whose inbox to show, and the ones this person may switch between."""
    user = request.user
    if user.is_network_admin:
        choices = list(selectors.referral_providers().only("pk", "name", "slug"))
    else:
        choices = list(selectors.providers_of_officer(request.user).order_by("name"))
        if not choices:
            raise PermissionDenied
    wanted = request.GET.get("provider") or request.POST.get("provider") or ""
    provider = next((p for p in choices if p.slug == wanted), None)
    if provider is None and not user.is_network_admin:
        provider = choices[0]
    if provider is not None:
        require(user, "referrals.view_inbox", provider)
    return provider, choices


@referral_page
def inbox(request):
    provider, choices = _inbox_provider(request)
    bulk = None
    if request.method == "POST":
        if provider is None:
            raise PermissionDenied
        bulk = BulkAssignForm(request.POST, provider=provider)
        if bulk.is_valid():
            try:
                changed = services.assign(
                    referrals=list(bulk.cleaned_data["referrals"]),
                    officer=bulk.cleaned_data["officer"],
                    by=request.user,
                )
            except services.StaleReferral:
                messages.error(request, services.StaleReferral.message)
            except ValidationError as error:
                add_validation_errors(bulk, error)
            else:
                officer = bulk.cleaned_data["officer"]
                messages.success(
                    request,
                    _("%(n)d referrals assigned to %(name)s.")
                    % {"n": changed, "name": officer.get_full_name() or officer.username},
                )
                return redirect(request.get_full_path())
    filter_form = InboxFilterForm(request.GET)  # bound even when empty, so it opens on open referrals
    filters = filter_form.filters(request.user)
    referrals = selectors.inbox(provider=provider, **filters)
    counts = selectors.inbox_counts(provider=provider)
    paginator = Paginator(referrals, PER_PAGE)
    if not any(filters.values()):
        # Unfiltered, the page count is the total the counts already hold: one COUNT(*) fewer.
        paginator.count = counts["total"]
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referrals/inbox.html",
        {
            "provider": provider,
            "choices": choices,
            "filter_form": filter_form,
            "page": page,
            "counts": counts,
            "bulk": bulk or (BulkAssignForm(provider=provider) if provider else None),
            "form": bulk,
            "query": query.urlencode(),
            # The counts link to their lists, in this provider's inbox.
            "provider_query": f"provider={provider.slug}&" if provider else "",
            "now": timezone.now(),
        },
    )


# One referral --------------------------------------------------------------------------------------


def _referral_or_404(request, uuid) -> Referral:
    """Every page and action on one referral looks it up here: others' referrals are not even admitted
    to exist (the same 404 as an unknown id); what the person may then do with it is asked next."""
    referral = selectors.referral_seen_by(request.user, uuid)
    if referral is None:
        raise Http404
    return referral


# Each move on the page: who may make it, from which statuses, and the service that makes it.
ACTIONS = {
    "accept": ("referrals.act", services.Kind.ACCEPTED),
    "decline": ("referrals.act", services.Kind.DECLINED),
    "pass-on": ("referrals.act", services.Kind.PASSED_ON),
    "start": ("referrals.act", services.Kind.STARTED),
    "close": ("referrals.act", services.Kind.CLOSED),
    "assign": ("referrals.act", None),
    "route": ("referrals.route", services.Kind.SENT),
    "withdraw": ("referrals.withdraw", services.Kind.WITHDRAWN),
}
MESSAGES = {
    "accept": lambda: _("Referral accepted."),
    "decline": lambda: _("Referral declined; the group has been told why."),
    "pass-on": lambda: _("Referral passed on; the new provider and the group have been told."),
    "start": lambda: _("Referral marked as in progress."),
    "close": lambda: _("Referral closed; the group has been asked for feedback."),
    "assign": lambda: _("Referral assigned."),
    "route": lambda: _("Referral sent to the provider."),
    "withdraw": lambda: _("Referral withdrawn."),
}


def _available_actions(user, referral: Referral, *, whatever_the_status: bool = False) -> list[str]:
    """The moves this person may make on the referral now, in the order the page offers them (or, with
    whatever_the_status, every move their role allows: what a page drawn earlier may have offered)."""
    available = []
    for action, (permission, kind) in ACTIONS.items():
        if not can(user, permission, referral):
            continue
        if whatever_the_status:
            allowed = True
        elif kind is None:  # assigning: any open referral a provider holds
            allowed = referral.is_open and referral.provider_id is not None
        else:
            allowed = referral.status in services.ALLOWED_FROM[kind]
        if allowed:
            available.append(action)
    return available


def _action_form(user, referral: Referral, data=None) -> ReferralActionForm | None:
    offered = _available_actions(user, referral)
    accepted = offered if data is None else _available_actions(user, referral, whatever_the_status=True)
    if not accepted:
        return None
    initial = {"version": referral.version, "assign-officer": referral.assigned_to_id}
    return ReferralActionForm(data, initial=initial, referral=referral, actions=accepted, offered=offered)


def _render_detail(request, referral: Referral, *, form: ReferralActionForm | None = None, status: int = 200):
    user = request.user
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "events": selectors.timeline(referral),
            "sees_contact": can(user, "referrals.view_contact", referral),
            "action_form": form or _action_form(user, referral),
            "feedback": selectors.feedback_of(referral),
            "can_give_feedback": referral.status == Referral.Status.CLOSED
            and can(user, "referrals.give_feedback", referral),
            "overdue": referral.is_overdue(),
            "bound": form is not None,
        },
        status=status,
    )


@referral_page
def detail(request, uuid):
    return _render_detail(request, _referral_or_404(request, uuid))


def _make_move(referral: Referral, action: str, values: dict, *, user, version: int) -> None:
    """Hand the chosen move to its service."""
    moved = {"referral": referral, "by": user, "expected_version": version}
    if action == "accept":
        services.accept(**moved, note=values["note"])
    elif action == "decline":
        services.decline(**moved, reason=values["reason"])
    elif action == "pass-on":
        services.pass_on(**moved, provider=values["provider"], note=values["note"])
    elif action == "start":
        services.start_work(**moved, note=values["note"])
    elif action == "close":
        services.close(**moved, outcome=values["outcome"], note=values["note"])
    elif action == "route":
        services.send_to_provider(**moved, provider=values["provider"], note=values["note"])
    elif action == "withdraw":
        services.withdraw(**moved, note=values["note"])
    elif action == "assign":
        services.assign(
            referrals=[referral], officer=values["officer"], by=user, expected_versions={referral.pk: version}
        )


@referral_page
@require_POST
def act(request, uuid):
    referral = _referral_or_404(request, uuid)
    posted = request.POST.get("action")
    # Someone who sees the referral (the group, say) but may not make this move is refused (403).
    if posted in ACTIONS:
        require(request.user, ACTIONS[posted][0], referral)
    form = _action_form(request.user, referral, request.POST)
    if form is None:
        raise PermissionDenied
    if not form.is_valid():
        return _render_detail(request, referral, form=form, status=400)
    action, values = form.move()
    try:
        _make_move(referral, action, values, user=request.user, version=form.cleaned_data["version"])
    except services.StaleReferral:
        messages.error(request, services.StaleReferral.message)
        return _render_detail(request, selectors.referral_detail(uuid), status=409)
    except services.TransitionRefused as error:
        messages.error(request, error.messages[0])
        return _render_detail(request, selectors.referral_detail(uuid), status=400)
    except ValidationError as error:
        add_validation_errors(form, error)
        return _render_detail(request, referral, form=form, status=400)
    messages.success(request, MESSAGES[action]())
    if not can(request.user, "referrals.view", selectors.referral_detail(uuid)):
        # Passed on to another provider: it has left this inbox.
        return redirect("referrals:inbox")
    return redirect("referrals:detail", uuid=uuid)


@referral_page
def feedback(request, uuid):
    referral = _referral_or_404(request, uuid)
    require(request.user, "referrals.give_feedback", referral)
    existing = selectors.feedback_of(referral)
    if existing is not None or referral.status != Referral.Status.CLOSED:
        return render(request, "referrals/feedback.html", {"referral": referral, "existing": existing, "form": None})
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.give_feedback(
                referral=referral,
                by=request.user,
                satisfaction=form.cleaned_data["satisfaction"],
                still_needed=form.cleaned_data["still_needed"],
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Thank you for your feedback."))
            return redirect(referral)
    return render(request, "referrals/feedback.html", {"referral": referral, "existing": None, "form": form})


# Personal data: network admins -----------------------------------------------------------------


@referral_page
def contact_data(request):
    require(request.user, "referrals.manage_personal_data")
    form = ContactDataForm(request.POST or request.GET or None)
    found = None
    if form.is_bound and form.is_valid():
        email = form.cleaned_data["email"]
        if request.method == "POST":
            if request.POST.get("confirm") != "erase":
                messages.error(request, _("Tick the box to confirm the erasure."))
            else:
                count = services.erase_contact(email=email, by=request.user)
                messages.success(
                    request, _("Erased the details of %(email)s from %(n)d referrals.") % {"email": email, "n": count}
                )
                return redirect(reverse("referrals:contact_data") + "?" + urlencode({"email": email}))
        found = selectors.contact_data(email)
    return render(request, "referrals/contact_data.html", {"form": form, "found": found})


@referral_page
def contact_data_export(request):
    require(request.user, "referrals.manage_personal_data")
    form = ContactDataForm(request.GET or None)
    if not form.is_valid():
        messages.error(request, _("Give a valid email address to export."))
        return redirect("referrals:contact_data")
    data = selectors.contact_data(form.cleaned_data["email"])
    filename = dated_filename("referrals-contact-data")
    if request.GET.get("format") == CSV:
        return tabular_response(
            filename=filename, headers=selectors.CONTACT_DATA_HEADERS, rows=selectors.contact_data_rows(data), fmt=CSV
        )
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=f"{filename}.json")
    return response


@referral_page
def figures(request):
    require(request.user, "referrals.view_figures")
    return render(
        request,
        "referrals/figures.html",
        {
            "figures": selectors.referral_figures(),
            # What groups say they still need is free text: network admins only.
            "still_needed": selectors.recent_still_needed()
            if can(request.user, "referrals.manage_personal_data")
            else None,
        },
    )
