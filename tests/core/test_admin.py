"""core/admin.py's accessibility helpers for every admin page (issue 16): fields in table rows (tabular
inlines, list_editable changelists) carry a name, and every admin page links the portal's admin style
sheet and script (templates/admin/base_site.html)."""

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils.text import capfirst

from core.admin import LabelledListEditable, PortalTabularInline
from directory.models import Schedule
from referrals.models import RoutingRule
from tests.factories import make_location, make_organisation, make_service, make_superuser, term

pytestmark = pytest.mark.django_db

CONTROLS = {"input", "select", "textarea"}
UNNAMED_INPUT_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Controls(HTMLParser):
    """The form controls of a page, each with whether it sits in an inline formset or a changelist
    row, and the ids that a <label for> names."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.labelled_ids: set[str] = set()
        self._open: list[tuple[str, bool]] = []  # (tag, starts a table-row form region)
        self.stylesheets: list[str] = []
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "label" and attributes.get("for"):
            self.labelled_ids.add(attributes["for"])
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes.get("href", ""))
        if tag == "script" and attributes.get("src"):
            self.scripts.append(attributes)
        if tag in CONTROLS and attributes.get("type", "text") not in UNNAMED_INPUT_TYPES:
            in_rows = any(region for _, region in self._open)
            self.controls.append({**attributes, "tag": tag, "in_rows": in_rows})
        if tag not in {"input", "link", "meta", "br", "img", "hr"}:
            region = "inline-group" in classes or attributes.get("id") == "result_list"
            self._open.append((tag, region))

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break


def _controls_of(response) -> _Controls:
    assert response.status_code == 200
    parser = _Controls()
    parser.feed(response.content.decode())
    return parser


def _unnamed(parser: _Controls) -> list[str]:
    return [
        control.get("id") or control.get("name")
        for control in parser.controls
        if control["in_rows"]
        and not control.get("aria-label")
        and not control.get("aria-labelledby")
        and control.get("id") not in parser.labelled_ids
    ]


def _label(model, field_name: str) -> str:
    """The field's label as a column heading shows it."""
    return str(capfirst(model._meta.get_field(field_name).verbose_name))


@pytest.fixture
def admin_client(client):
    client.force_login(make_superuser())
    return client


def test_every_tabular_inline_and_every_list_editable_admin_names_its_row_fields():
    for model_admin in admin.site._registry.values():
        for inline in model_admin.inlines:
            if issubclass(inline, admin.TabularInline):
                assert issubclass(inline, PortalTabularInline), f"{inline.__qualname__} is not a PortalTabularInline"
        if model_admin.list_editable:
            assert isinstance(model_admin, LabelledListEditable), f"{type(model_admin).__qualname__} has list_editable"


def test_a_change_form_names_every_field_in_its_inlines(admin_client):
    service = make_service(locations=[make_location()], schedules=[("TU", "10:00", "13:00")])

    parser = _controls_of(admin_client.get(reverse("admin:directory_service_change", args=[service.pk])))

    in_rows = {control.get("id"): control for control in parser.controls if control["in_rows"]}
    # Selects (one wrapped with Django's add/change links), times, text, the delete box and the blank
    # row the "Add another" button copies.
    assert in_rows["id_schedules-0-weekday"]["aria-label"] == _label(Schedule, "weekday")
    assert in_rows["id_schedules-0-service_at_location"]["tag"] == "select"
    assert in_rows["id_schedules-0-service_at_location"]["aria-label"]
    assert in_rows["id_schedules-0-opens_at"]["aria-label"] == _label(Schedule, "opens_at")
    assert in_rows["id_schedules-0-DELETE"]["aria-label"] == "Delete"
    assert in_rows["id_contacts-__prefix__-name"]["aria-label"]
    assert _unnamed(parser) == []


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:organisations_organisation_add"),
        reverse("admin:referrals_routingrule_add"),
        reverse("admin:taxonomies_taxonomy_add"),
        reverse("admin:evidence_jointproject_add"),
        reverse("admin:quality_healthcheckarea_add"),
    ],
)
def test_add_forms_name_every_field_in_their_inlines(admin_client, url):
    parser = _controls_of(admin_client.get(url))

    assert any(control["in_rows"] for control in parser.controls), "the page has no inline fields"
    assert _unnamed(parser) == []


def test_a_list_editable_changelist_names_the_fields_in_each_row(admin_client):
    RoutingRule.objects.create(name="Premises help", need=term("needs", "premises"))

    parser = _controls_of(admin_client.get(reverse("admin:referrals_routingrule_changelist")))

    in_rows = {control.get("id"): control for control in parser.controls if control["in_rows"]}
    assert in_rows["id_form-0-priority"]["aria-label"] == _label(RoutingRule, "priority")
    assert in_rows["id_form-0-is_active"]["aria-label"]
    assert _unnamed(parser) == []


@pytest.mark.parametrize(
    "name",
    ["admin:index", "admin:organisations_organisation_changelist", "admin:organisations_organisation_add"],
)
def test_admin_pages_link_the_portal_admin_style_sheet_and_script(admin_client, name):
    make_organisation()

    parser = _controls_of(admin_client.get(reverse(name)))

    assert "/static/css/admin-portal.css" in parser.stylesheets
    # After Django's responsive.css, so that its rules win at the same specificity.
    assert parser.stylesheets.index("/static/css/admin-portal.css") > parser.stylesheets.index(
        "/static/admin/css/responsive.css"
    )
    script = next(script for script in parser.scripts if script["src"] == "/static/js/admin-accessibility.js")
    assert "defer" in script
    assert finders.find("css/admin-portal.css") and finders.find("js/admin-accessibility.js")


def test_the_admin_login_page_links_them_too(client):
    parser = _controls_of(client.get(reverse("admin:login")))

    assert "/static/css/admin-portal.css" in parser.stylesheets
    assert any(script["src"] == "/static/js/admin-accessibility.js" for script in parser.scripts)
