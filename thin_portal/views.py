import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import storages
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token

from accounts.permissions import can
from core.files import check_storage
from core.parameters import BadParameter
from organisations import selectors

from .celery import quick_broker_connection

# A load balancer's probe must get an answer well inside its own timeout, even when the broker
# hangs rather than refusing the connection.
READY_CHECK_BROKER_TIMEOUT = 1.0
READY_CHECK_TTL = 10


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


def _status(check) -> str:
    """"ok", or "error: <exception class>" (the endpoint is public: no messages, which may hold addresses)."""
    try:
        check()
    except Exception as error:  # any failure of a dependency is a failed check, reported, never raised
        return f"error: {error.__class__.__name__}"
    return "ok"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", READY_CHECK_TTL)
    if cache.get(key) != "ok":
        raise LookupError("the cache did not keep a value")
    cache.delete(key)


def _broker() -> None:
    with quick_broker_connection(timeout=READY_CHECK_BROKER_TIMEOUT) as broker:
        broker.ensure_connection(max_retries=0)


def _storage() -> None:
    # Every file storage but the static files, which ship with the code.
    for alias in settings.STORAGES:
        if alias != "staticfiles":
            check_storage(storages[alias])


READY_CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "storage": _storage}


@never_cache
def healthz(request):
    """Liveness: the process is up and answers. No dependency is asked, so a database or broker outage
    never makes a load balancer or supervisor restart healthy web processes."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Readiness: database, cache, broker and file storage, each reported; 200 when all answer, else 503,
    so a load balancer sends no traffic to a process that cannot serve it."""
    checks = {name: _status(check) for name, check in READY_CHECKS.items()}
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "error", **checks}, status=200 if ready else 503)


@requires_csrf_token
def server_error(request):
    """The 500 page (handler500). Drawn without the request's context processors: whatever failed (the
    database, the session, the cache) must not fail again while the page that says so is drawn."""
    page = loader.get_template("500.html").render({"SITE_NAME": settings.SITE_NAME})
    return HttpResponseServerError(page)


@requires_csrf_token
def bad_request(request, exception):
    """The 400 page (handler400). A bad parameter's message was written by the portal and says what to
    send instead; any other bad request (a forged host, too many fields) is not described."""
    if isinstance(exception, BadParameter):
        message = exception.message
    else:
        message = _("The portal cannot use what this address or form sent.")
    return render(request, "400.html", {"message": message}, status=400)
