from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token

from accounts.permissions import can
from core.parameters import BadParameter
from organisations import selectors

from .celery import quick_broker_connection

# A load balancer's probe must get an answer well inside its own timeout, even when the broker
# hangs rather than refusing the connection.
HEALTH_CHECK_BROKER_TIMEOUT = 1.0


def _admin_changelist(model_name: str, query: str = "") -> str:
    """A link into a filtered admin list, or the admin's front page if that list is not registered."""
    try:
        return reverse(f"admin:organisations_{model_name}_changelist") + (f"?{query}" if query else "")
    except NoReverseMatch:
        return reverse("admin:index")


def home(request):
    """The front page: what each kind of user came to do, one step away."""
    user = request.user
    context = {"audience": "visitor"}
    if not user.is_authenticated:
        return render(request, "home.html", context)
    if user.is_network_admin:
        context.update(
            audience="admin",
            pending_applications=selectors.pending_applications_count(),
            stale_records=selectors.stale_organisations_count(),
            pending_applications_url=_admin_changelist("membership", "status__exact=applied"),
            stale_records_url=_admin_changelist("organisation", "confirmed=stale&is_active__exact=1"),
            organisations_admin_url=_admin_changelist("organisation"),
            memberships_admin_url=_admin_changelist("membership"),
        )
    elif user.is_funder:
        context.update(audience="funder", figures=selectors.sector_figures())
    else:
        context.update(
            audience="officer" if user.role == user.Role.OFFICER else "vco_staff",
            affiliations=[
                (affiliation, can(user, "organisations.change_organisation", affiliation.organisation))
                for affiliation in selectors.affiliations_of(user)
            ],
            networks=selectors.networks_open_for_applications(),
        )
    return render(request, "home.html", context)


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure to reach the database is a failed check
        return f"error: {error.__class__.__name__}"
    return "ok"


def _broker_status() -> str:
    try:
        with quick_broker_connection(timeout=HEALTH_CHECK_BROKER_TIMEOUT) as broker:
            broker.ensure_connection(max_retries=0)
    except Exception as error:  # likewise for the broker
        return f"error: {error.__class__.__name__}"
    return "ok"


@never_cache
def healthz(request):
    """Database and broker status for load balancers and monitoring: 200 when both answer, else 503.

    The error names the exception class only: the endpoint is public and must not leak addresses.
    """
    checks = {"database": _database_status(), "broker": _broker_status()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


@requires_csrf_token
def bad_request(request, exception):
    """The 400 page (handler400). A bad parameter's message was written by the portal and says what to
    send instead; any other bad request (a forged host, too many fields) is not described."""
    if isinstance(exception, BadParameter):
        message = exception.message
    else:
        message = _("The portal cannot use what this address or form sent.")
    return render(request, "400.html", {"message": message}, status=400)
