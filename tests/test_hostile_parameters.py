"""Every URL of the portal, as a visitor and as each kind of user, with hostile values in every parameter
its view reads: never a 500, a 400 where a date or number parameter gets something that is not one,
and no ?next= that leads off the site.

The parameters are found in the source, not listed by hand: every `request.GET/POST` read, every
core.parameters call, every form bound to the query string and the API's `params` calls. A view
that reads the request in a way the walk does not understand fails test_the_walk_understands_every_read,
so a new parameter cannot escape it. A new URL with path parameters fails until PATH_KWARGS fills it.
"""

import ast
import functools
import inspect
import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import User
from calendar_events.models import Booking, CalendarFeed, Notice
from calendar_events.services import book, save_notice
from core import parameters
from evidence.models import BaselineItem
from evidence.services import record_baseline_snapshot, request_export
from organisations.models import Affiliation
from quality.services import start_assessment
from tests.factories import (
    make_affiliation,
    make_event,
    make_joint_project,
    make_material,
    make_membership,
    make_network,
    make_organisation,
    make_provider,
    make_service,
    make_superuser,
    make_user,
    term,
)
from tests.form_data import date_parts
from tests.referrals.factories import ask

pytestmark = pytest.mark.django_db

LONG = "x" * 10_000
# What a hostile or careless client sends. A list is the parameter given twice.
HOSTILE = [
    "9999-12-31",
    "0001-01-01",
    "-1",
    "99999999999999999999",
    "abc",
    "\x00",
    LONG,
    "%",
    "ünïcødé ✓ 日本 \u202e",
    "",
    ["2025-01-01", "9999-12-31"],
]
EVIL_NEXT = ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "///evil.example"]

# How views read the request. Anything else touching request.GET/POST fails the coverage test.
RAW_READ = re.compile(r"""request\.(GET|POST)(?:\.get|\.getlist|\.pop)?(?:\(|\[)\s*["'](\w+)["']""")
HELPER_READ = re.compile(r"""(date|month|integer|text)_param\(request\.(GET|POST), ["'](\w+)["']""")
FORM_READ = re.compile(r"""(\w+Form)\((?:request\.POST or )?request\.GET\b""")
API_READ = re.compile(r"""params\.(\w+)\((?:query|request\.query_params)(?:, ["'](\w+)["'])?""")
# Reads that take no named parameter, or that the patterns above already count.
OTHER_READ = re.compile(
    r"""request\.GET or None|request\.POST or None|request\.POST if request\.method|request\.FILES or None"""
    r"""|request\.GET\.copy\(\)|request\.GET\.urlencode\(\)|query_pieces\(request\.GET\b|request\.GET if chosen|in request\.(GET|POST)\b"""
    r"""|request\.POST\.getlist\(name\)|request\.POST, |request\.POST\)|request\.query_params$"""
    r"""|request\.GET\.get\(\w+\.parameter_name\)|if request\.GET else|request\.POST or request\.GET or None"""
)
ANY_READ = re.compile(r"request\.(GET|POST|query_params)\b.*")
API_DEFAULT_NAMES = {"day": "day", "search_text": "search", "postcode": "postcode", "proximity": "proximity"}
STRICT_KINDS = {"date", "month", "integer"}  # core.parameters readers: a bad value is a 400
PROJECT_APPS = ("directory", "referrals", "calendar_events", "quality", "evidence", "thin_portal")


# Finding the URLs and what their views read ------------------------------------------------------------


def _patterns(resolver=None, prefix="", namespace=""):
    """(route, full name, callback) for every URL pattern, admin included."""
    resolver = resolver or get_resolver()
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            name_space = f"{namespace}{item.namespace}:" if item.namespace else namespace
            yield from _patterns(item, prefix + str(item.pattern), name_space)
        elif isinstance(item, URLPattern):
            yield prefix + str(item.pattern), f"{namespace}{item.name}" if item.name else None, item.callback


@functools.cache
def _module_source(module) -> str:
    return inspect.getsource(module)


@functools.cache
def _view_source(callback) -> tuple[str, object]:
    """The view's source with the source of the module functions it calls (so helpers count)."""
    view = getattr(callback, "view_class", None) or inspect.unwrap(callback)
    module = inspect.getmodule(view)
    if module is None or not module.__name__.startswith(PROJECT_APPS):
        return "", module
    tree = ast.parse(_module_source(module))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    seen, pending, parts = set(), [view.__name__], []
    while pending:
        name = pending.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        node = functions[name]
        parts.append(ast.get_source_segment(_module_source(module), node))
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and child.id in functions:
                pending.append(child.id)
        if isinstance(node, ast.ClassDef):  # a view class: its bases in the same module too
            pending.extend(base.id for base in node.bases if isinstance(base, ast.Name))
    return "\n".join(parts), module


def _form_fields(form_name: str, module) -> list[str]:
    form_class = getattr(module, form_name)
    return list(form_class.base_fields)


@functools.cache
def parameters_of(callback) -> dict[str, dict[str, str]]:
    """{"GET": {name: kind}, "POST": {name: kind}} where kind is date/month/integer/text (the
    core.parameters readers), form, raw or api."""
    source, module = _view_source(callback)
    found = {"GET": {}, "POST": {}}
    for kind, method, name in HELPER_READ.findall(source):
        found[method][name] = kind
    for method, name in RAW_READ.findall(source):
        found[method].setdefault(name, "raw")
    for form_name in FORM_READ.findall(source):
        for name in _form_fields(form_name, module):
            found["GET"].setdefault(name, "form")
    if "next_url(request" in source:  # core.parameters.next_url reads ?next= from either
        found["GET"]["next"] = found["POST"]["next"] = "next"
    for function, name in API_READ.findall(source):
        if function == "BadParameter":
            continue
        found["GET"].setdefault(name or API_DEFAULT_NAMES[function], "api")
    return found


def unexplained_reads() -> list[str]:
    """Lines reading the request that none of the patterns above account for."""
    problems, modules = [], set()
    for _route, _name, callback in _patterns():
        _source, module = _view_source(callback)
        if module is not None and module.__name__.startswith(PROJECT_APPS):
            modules.add(module)
    for module in modules:
        for number, line in enumerate(inspect.getsource(module).splitlines(), start=1):
            rest = line
            for pattern in (FORM_READ, HELPER_READ, RAW_READ, API_READ, OTHER_READ):
                rest = pattern.sub("", rest)
            if ANY_READ.search(rest):
                problems.append(f"{module.__name__}:{number}: {line.strip()}")
    return problems


# A small world with one object of each kind ---------------------------------------------------------


def build_world():
    provider = make_provider(name="Tower Hamlets CVS", slug="tower-hamlets-cvs", email="cvs@example.org")
    vco = make_organisation(name="Bow Gardeners", slug="bow-gardeners", ward=term("wards", "bow-east"))
    officer = make_user(User.Role.OFFICER, username="officer")
    editor = make_user(username="editor")
    funder = make_user(User.Role.FUNDER, username="funder")
    admin_user = make_superuser(username="netadmin", role=User.Role.NETWORK_ADMIN)
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    make_affiliation(user=editor, organisation=vco, role=Affiliation.Role.EDITOR)
    network = make_network()
    make_membership(organisation=vco, network=network)
    funding = term("needs", "funding-and-fundraising")
    service = make_service(organisation=provider, needs=[funding])
    event = make_event(organiser=provider, booking_required=True, capacity=10)
    booking = book(event=event, occurrence_start=event.start, user=editor)
    feed = CalendarFeed.objects.create(
        organisation=provider, url="https://calendar.example.org/a.ics", category="training"
    )
    notice = save_notice(
        notice=Notice(organisation=provider),
        data={
            "title": "Volunteers wanted",
            "text": "Help.",
            "category": "volunteering",
            "expires_on": timezone.localdate() + timedelta(days=14),
        },
        attachment=None,
    )
    referral = ask(organisation=vco, by=editor, needs=[funding], chosen_provider=provider)
    assessment = start_assessment(organisation=provider, by=officer)
    material = make_material()
    project = make_joint_project(lead=provider, partners=[vco], indicators=[("output", "Groups", "whole", 10)])
    export = request_export(user=admin_user, start=project.start_date, end=project.end_date, area=None)
    # The baseline of support, met by the provider's service, with this month's snapshot.
    BaselineItem.objects.create(description="Funding advice", function=term("functions", "fund-distribution"))
    service.functions.add(term("functions", "fund-distribution"))
    record_baseline_snapshot(today=timezone.localdate())
    return SimpleNamespace(
        provider=provider,
        vco=vco,
        network=network,
        service=service,
        event=event,
        booking=booking,
        feed=feed,
        notice=notice,
        referral=referral,
        assessment=assessment,
        response=assessment.responses.first(),
        material=material,
        project=project,
        indicator=project.indicators.first(),
        export=export,
        users={"officer": officer, "editor": editor, "funder": funder, "admin": admin_user},
    )


# Path parameters for every project URL that has them. A new URL fails test_every_url_is_walked until
# it is added here.
PATH_KWARGS = {
    "organisations:organisation_detail": lambda w: {"slug": w.vco.slug},
    "organisations:organisation_edit": lambda w: {"slug": w.vco.slug},
    "organisations:organisation_history": lambda w: {"slug": w.vco.slug},
    "organisations:organisation_confirm": lambda w: {"slug": w.vco.slug},
    "evidence:organisation_grants": lambda w: {"slug": w.vco.slug},
    "directory:service_create": lambda w: {"slug": w.provider.slug},
    "organisations:network_detail": lambda w: {"slug": w.network.slug},
    "organisations:network_apply": lambda w: {"slug": w.network.slug},
    "directory:directory_download": lambda w: {"fmt": "csv"},
    "directory:service_detail": lambda w: {"slug": w.service.slug},
    "directory:service_edit": lambda w: {"slug": w.service.slug},
    "directory:service_history": lambda w: {"slug": w.service.slug},
    "directory:service_mark_reviewed": lambda w: {"slug": w.service.slug},
    "password_reset_confirm": lambda w: {"uidb64": "MQ", "token": "not-a-token"},
    "referrals:detail": lambda w: {"uuid": w.referral.uuid},
    "referrals:feedback": lambda w: {"uuid": w.referral.uuid},
    "referrals:act": lambda w: {"uuid": w.referral.uuid},
    "calendar_events:feed_organiser": lambda w: {"slug": w.provider.slug},
    "calendar_events:feed_category": lambda w: {"category": "training"},
    "calendar_events:event_detail": lambda w: {"event_uuid": w.event.uuid},
    "calendar_events:event_edit": lambda w: {"event_uuid": w.event.uuid},
    "calendar_events:event_ics": lambda w: {"event_uuid": w.event.uuid},
    "calendar_events:book": lambda w: {"event_uuid": w.event.uuid},
    "calendar_events:attendees": lambda w: {"event_uuid": w.event.uuid},
    "calendar_events:cancel_booking": lambda w: {"booking_id": w.booking.pk},
    "calendar_events:feed_detail": lambda w: {"feed_id": w.feed.pk},
    "calendar_events:notice_detail": lambda w: {"notice_uuid": w.notice.uuid},
    "calendar_events:notice_report": lambda w: {"notice_uuid": w.notice.uuid},
    "calendar_events:notice_attachment": lambda w: {"notice_uuid": w.notice.uuid},
    "quality:standards_version": lambda w: {"number": 1},
    "quality:assessment_detail": lambda w: {"pk": w.assessment.pk},
    "quality:response_edit": lambda w: {"pk": w.assessment.pk, "response_pk": w.response.pk},
    "quality:evidence_download": lambda w: {"pk": w.assessment.pk, "file_pk": 1},
    "quality:evidence_remove": lambda w: {"pk": w.assessment.pk, "file_pk": 1},
    "quality:assessment_submit": lambda w: {"pk": w.assessment.pk},
    "quality:review_start": lambda w: {"pk": w.assessment.pk},
    "quality:review": lambda w: {"pk": w.assessment.pk},
    "quality:material_detail": lambda w: {"slug": w.material.slug},
    "quality:material_edit": lambda w: {"slug": w.material.slug},
    "quality:material_upload": lambda w: {"slug": w.material.slug},
    "quality:material_download": lambda w: {"slug": w.material.slug},
    "quality:material_version_download": lambda w: {"slug": w.material.slug, "number": 1},
    "quality:health_check_result": lambda w: {"pk": 1},
    "quality:health_check_history": lambda w: {"slug": w.vco.slug},
    "quality:health_check_take": lambda w: {"slug": w.vco.slug},
    "evidence:project_detail": lambda w: {"slug": w.project.slug},
    "evidence:project_edit": lambda w: {"slug": w.project.slug},
    "evidence:indicator_create": lambda w: {"slug": w.project.slug},
    "evidence:indicator_edit": lambda w: {"slug": w.project.slug, "pk": w.indicator.pk},
    "evidence:targets_edit": lambda w: {"slug": w.project.slug},
    "evidence:return_edit": lambda w: {"slug": w.project.slug, "number": 1, "partner": w.vco.slug},
    "evidence:case_study_create": lambda w: {"slug": w.project.slug, "number": 1, "partner": w.vco.slug},
    "evidence:case_study_withdraw": lambda w: {"pk": 1},
    "evidence:export_detail": lambda w: {"uuid": w.export.uuid},
    "evidence:export_status": lambda w: {"uuid": w.export.uuid},
    "evidence:export_download": lambda w: {"uuid": w.export.uuid},
    "oruk:service": lambda w: {"id": w.service.uuid},
    "oruk:service_at_location": lambda w: {"id": "00000000-0000-0000-0000-000000000000"},
    "oruk:organization": lambda w: {"id": w.provider.uuid},
    "oruk:taxonomy": lambda w: {"id": "00000000-0000-0000-0000-000000000000"},
    "oruk:taxonomy_term": lambda w: {"id": "00000000-0000-0000-0000-000000000000"},
}
# Unnamed patterns, by route: a path to fill them with.
UNNAMED = {"api/oruk/^(?P<rest>.*)$": "/api/oruk/no-such-thing", "^media/(?P<path>.*)$": "/media/no-such-file.png"}


def _admin_path(route: str, name: str, w) -> str | None:
    """The admin's own URLs: each model's list and add page, one object's change, history and delete
    pages, and the portal's admin pages. None: nothing to walk (POST only, or a redirect elsewhere)."""
    if name in ("admin:view_on_site", "admin:logout"):
        return None
    if name == "admin:auth_user_password_change":
        return reverse(name, args=[w.users["admin"].pk])
    if name == "admin:app_list":
        return reverse(name, kwargs={"app_label": "directory"})
    if name == "admin:organisations_organisation_import_template":
        return reverse(name, kwargs={"fmt": "csv"})
    if name == "admin:organisations_organisation_import_preview":
        return reverse(name, kwargs={"token": "no-such-import"})
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if not name.startswith(prefix):
            continue
        suffix = name[len(prefix) :]
        if suffix in ("changelist", "add", "import"):
            return reverse(name)
        instance = model._default_manager.order_by("pk").first()
        if instance is None:
            return None
        if suffix == "simple_history":
            record = instance.history.order_by("history_id").first()
            return reverse(name, args=[instance.pk, record.history_id]) if record else None
        return reverse(name, args=[instance.pk])  # change, history, delete, password
    return reverse(name)  # index, login, password_change, jsi18n, autocomplete...


def walk_targets(w):
    """(path, route name, callback) for every URL, filled."""
    targets, missing = [], []
    for route, name, callback in _patterns():
        if name and name.startswith("admin:"):
            try:
                path = _admin_path(route, name, w)
            except Exception:
                missing.append(name)
                continue
            if path:
                targets.append((path, name, callback))
            continue
        if name is None and route.startswith("admin/"):
            continue  # the admin's redirects from old-style object addresses
        if name is None:
            if route not in UNNAMED:
                missing.append(route)
                continue
            targets.append((UNNAMED[route], route, callback))
            continue
        try:
            path = reverse(name, kwargs=PATH_KWARGS[name](w)) if name in PATH_KWARGS else reverse(name)
        except Exception:
            missing.append(name)
            continue
        targets.append((path, name, callback))
    return targets, missing


def _clients(w) -> dict[str, Client]:
    """One client per role, the network admin first (it sees nearly every page: it gets every value)."""
    # A view's exception is a 500 response to count, not an error that stops the walk.
    clients = {}
    for role in ("admin", "officer", "editor", "funder"):
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(w.users[role])
    clients["anonymous"] = Client(raise_request_exception=False)
    return clients


MONTH_EXTREMES = ["9999-12", "0001-01"]
FULL = HOSTILE + MONTH_EXTREMES
# The API (directory/api/, whose parameters have their own tests) and Django's own admin parameters get a sample.
SAMPLE = ["9999-12-31", "0001-01-01", "\x00", "99999999999999999999", "abc", LONG]


def _values_for(first: bool, turn: int) -> list:
    """Every hostile value for the first role that may see the page; after that the date extremes and
    one value in turn (so each value still meets every page)."""
    if first:
        return FULL
    return ["9999-12-31", "0001-01-01", *MONTH_EXTREMES[turn % 2 : turn % 2 + 1], HOSTILE[turn % len(HOSTILE)]]


def _strict_invalid(kind: str, value) -> bool:
    """Whether a core.parameters reader must refuse this value."""
    value = value[-1] if isinstance(value, list) else value
    if value.strip() == "":
        return False
    if kind == "date":
        return True  # none of the hostile values is a date inside the window
    if kind == "month":
        return True
    if kind == "integer":
        return not (value.isdigit() and 1 <= int(value) <= 2**31 - 1)
    return False


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."


# The tests ---------------------------------------------------------------------------------------------


def test_the_walk_understands_every_read():
    """A view that reads the request some new way must teach this walk about it first."""
    assert unexplained_reads() == []


def test_every_url_is_walked():
    w = build_world()
    targets, missing = walk_targets(w)
    assert missing == [], f"add these URLs to PATH_KWARGS (or UNNAMED): {missing}"
    assert len(targets) > 100


def test_the_named_cases_answer_400_with_a_clear_message():
    w = build_world()
    client = Client()
    client.force_login(w.users["admin"])
    for url, words in [
        ("/calendar/?from=9999-12-31", "“from” must be a date between 1 January 1900 and 31 December 2200"),
        ("/calendar/?from=0001-01-01", "“from” must be a date between"),
        ("/calendar/?from=soon", "“from” must be a date written YYYY-MM-DD"),
        ("/calendar/week/?date=9999-12-31", "“date” must be a date between"),
        ("/calendar/week/?date=0001-01-01", "“date” must be a date between"),
        ("/calendar/month/?month=9999-12", "“month” must be a month between 1900-01 and 2200-12"),
        ("/calendar/month/?month=0001-01", "“month” must be a month between"),
        ("/calendar/month/?month=2027-13", "“month” must be a month written YYYY-MM"),
        ("/evidence/dashboards/?start=9999-12-30&end=9999-12-31", "between 1 January 1900 and 31 December 2200"),
        ("/evidence/report/?start=0001-01-01&end=0001-01-02", "between 1 January 1900 and 31 December 2200"),
    ]:
        response = client.get(url)
        assert response.status_code == 400, url
        assert words in response.content.decode(), url
    client.force_login(w.users["officer"])
    for value in ("abc", "99999999999999999999", "-1", "\x00"):
        response = client.post(reverse("quality:assessment_start"), {"organisation": value})
        assert response.status_code == 400, value
        assert "“organisation” must be a whole number" in response.content.decode() or value == "\x00"
    # Within the window, the far years still work.
    assert client.get("/calendar/month/?month=2200-12").status_code == 200
    assert client.get("/calendar/week/?date=1900-01-01").status_code == 200


def _admin_parameters(changelist) -> tuple[list[str], list[str]]:
    """A changelist's parameters: the project's own list filters, and Django's (search, order, page,
    field filters), which get a sample only."""
    own, django = [], ["q", "o", "p", "_changelist_filters"]
    for spec in changelist.filter_specs:
        names = list(spec.expected_parameters())
        (own if type(spec).__module__.startswith(PROJECT_APPS) else django).extend(names)
    return own, django


def test_every_get_url_with_hostile_parameters():
    w = build_world()
    targets, _missing = walk_targets(w)
    clients = _clients(w)
    failures, requests, started, seen = [], 0, time.monotonic(), set()

    def get(client, role, path, query, *, kind="raw"):
        nonlocal requests
        requests += 1
        response = client.get(path, query)
        values = list(query.values())
        value = values[0] if values else None
        shown = f"{path} {_describe(query) if len(query) != 1 else f'{next(iter(query))}={_describe(value)}'}"
        if response.status_code >= 500:
            failures.append(f"{role} GET {shown}: {response.status_code}")
        elif kind in STRICT_KINDS and _strict_invalid(kind, value) and response.status_code != 400:
            failures.append(f"{role} GET {shown}: {response.status_code}, not 400")
        return response

    for turn, (role, client) in enumerate(clients.items()):
        for path, name, callback in targets:
            is_api, is_admin = name.startswith(("oruk:", "api/oruk/")), name.startswith("admin:")
            if (is_api and role != "anonymous") or (is_admin and role not in ("admin", "anonymous")):
                continue  # the API has no accounts; only staff reach the admin
            baseline = get(client, role, path, {})
            if baseline.status_code in (403, 404) or (
                baseline.status_code == 302 and "login" in baseline.get("Location", "")
            ):
                continue  # turned away before any parameter is read
            first = path not in seen
            seen.add(path)
            values = _values_for(first, turn)
            found = parameters_of(callback)["GET"]
            form_fields = [parameter for parameter, kind in found.items() if kind == "form"]
            for parameter, kind in found.items():
                if kind == "form":
                    continue
                for value in SAMPLE if kind == "api" else values:
                    get(client, role, path, {parameter: value}, kind=kind)
            if form_fields:  # a form reads all its fields at once: one request per value
                for value in values:
                    get(client, role, path, {parameter: value for parameter in form_fields})
            if is_admin and name.endswith("_changelist") and baseline.status_code == 200:
                changelist = baseline.context["cl"]
                own, django = _admin_parameters(changelist)
                for parameter in own:
                    for value in values:
                        get(client, role, path, {parameter: value})
                for value in ("\x00", "99999999999999999999", "9999-12-31"):
                    get(client, role, path, {parameter: value for parameter in django})
                if changelist.date_hierarchy:
                    field = changelist.date_hierarchy
                    for year, month, day in (
                        ("9999", "12", "31"),
                        ("9999", "12", None),
                        ("9999", None, None),
                        ("1", "1", "1"),
                        ("99999999999999999999", None, None),
                    ):
                        query = {f"{field}__year": year}
                        query.update({f"{field}__month": month} if month else {})
                        query.update({f"{field}__day": day} if day else {})
                        get(client, role, path, query)
    elapsed = time.monotonic() - started
    print(f"\nhostile walk: {requests} GET requests over {len(targets)} URLs in {elapsed:.1f} s")
    assert failures == [], "\n".join(failures)


def test_posted_parameters_read_outside_forms():
    """POST parameters views read themselves (not through a form): hostile values, never a 500."""
    w = build_world()
    targets, _missing = walk_targets(w)
    clients = _clients(w)
    failures, requests = [], 0
    for role in ("officer", "editor", "admin"):
        client = clients[role]
        for path, name, callback in targets:
            if name.startswith(("admin:", "oruk:", "api/oruk/")):
                continue
            posted = parameters_of(callback)["POST"]
            for parameter, kind in posted.items():
                if parameter == "next":
                    continue  # test_next_never_leaves_the_site
                for value in HOSTILE:
                    response = client.post(path, {parameter: value})
                    requests += 1
                    if response.status_code >= 500:
                        failures.append(f"{role} POST {path} {parameter}={_describe(value)}: {response.status_code}")
                    elif kind in STRICT_KINDS and _strict_invalid(kind, value) and response.status_code != 400:
                        failures.append(
                            f"{role} POST {path} {parameter}={_describe(value)}: {response.status_code}, not 400"
                        )
    print(f"\nposted walk: {requests} requests")
    assert failures == [], "\n".join(failures)


def test_next_never_leaves_the_site():
    w = build_world()
    targets, _missing = walk_targets(w)
    clients = _clients(w)
    takes_next = [
        (path, name)
        for path, name, callback in targets
        if "next" in parameters_of(callback)["GET"] or "next" in parameters_of(callback)["POST"]
    ]
    assert {name for _path, name in takes_next} >= {"calendar_events:cancel_booking", "directory:service_mark_reviewed"}
    failures = []
    for evil in EVIL_NEXT:
        for path, name in takes_next:
            client = clients["admin"]
            if name == "calendar_events:cancel_booking":
                Booking.objects.filter(pk=w.booking.pk).update(status=Booking.Status.BOOKED)
                client = clients["editor"]
            response = client.post(path, {"next": evil})
            location = response.get("Location", "")
            if response.status_code >= 500 or not location.startswith("/") or location.startswith(("//", "/\\")):
                failures.append(f"POST {path} next={evil!r}: {response.status_code} -> {location!r}")
        # Django's own login and logout pages check ?next= themselves; make sure they still do.
        anonymous = Client()
        response = anonymous.post(
            f"{reverse('login')}?next={evil}", {"username": "netadmin", "password": "correct horse battery staple"}
        )
        location = response.get("Location", "")
        if response.status_code != 302 or location.startswith(("//", "/\\")) or not location.startswith("/"):
            failures.append(f"login next={evil!r}: {response.status_code} -> {location!r}")
        response = clients["officer"].post(f"{reverse('logout')}?next={evil}")
        location = response.get("Location", "")
        if "evil.example" in location or location.startswith("javascript"):
            failures.append(f"logout next={evil!r}: {response.status_code} -> {location!r}")
        clients["officer"].force_login(w.users["officer"])
    # A local next is followed.
    Booking.objects.filter(pk=w.booking.pk).update(status=Booking.Status.BOOKED)
    response = clients["editor"].post(
        reverse("calendar_events:cancel_booking", args=[w.booking.pk]), {"next": "/calendar/my/bookings/"}
    )
    assert response["Location"] == "/calendar/my/bookings/"
    assert failures == [], "\n".join(failures)


def test_next_url_helper():
    from django.test import RequestFactory

    factory = RequestFactory()
    for evil in EVIL_NEXT:
        request = factory.post("/", {"next": evil})
        assert parameters.next_url(request, "/home/") == "/home/"
    assert parameters.next_url(factory.post("/", {"next": "/calendar/"}), "/home/") == "/calendar/"
    assert parameters.next_url(factory.post("/", {"next": "http://testserver/x/"}), "/home/") == "http://testserver/x/"
    # https only from a secure request
    assert parameters.next_url(factory.post("/", {"next": "http://testserver/x/"}, secure=True), "/h/") == "/h/"


def test_forms_that_compute_with_dates_keep_them_in_the_window():
    """A project's reporting periods and a scope's figures are worked out from their dates: 9999 would
    overflow (a 500), so the forms refuse it with the window's message."""
    from evidence.forms import ProjectForm, ScopeForm

    w = build_world()
    form = ProjectForm(
        data={"title": "Far future", "lead": w.provider.pk, **date_parts("start_date", "9999-01-01"), **date_parts("end_date", "9999-12-31"),
              "period_length": 3, "return_due_days": 14, "aims": "To test."},
        user=w.users["admin"],
    )
    assert not form.is_valid()
    assert "Give a date between 1 January 1900 and 31 December 2200" in form.errors["end_date"][0]
    scope = ScopeForm({"start": "0001-01-01", "end": "0001-12-31"})
    assert not scope.is_valid() and "Give a date between" in scope.errors["start"][0]
