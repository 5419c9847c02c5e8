"""Issue 18, item 2: one portal harvests another, both really running. A second copy of the portal (its
own database, its own demo borough, gunicorn on its own port: tests/second_portal.py) is harvested over
HTTP; its services appear in this portal's directory search with their source; a change made there
appears here after the next harvest, and a service deleted there is withdrawn here."""

import json
import os
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from core import outbound
from directory import harvest
from directory.models import HarvestSource, Service
from tests.second_portal import second_portal

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(scope="module")
def portal():
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")
    name = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/") + "_second_portal"
    with second_portal(name) as running:
        yield running


def _their_services(portal) -> list[dict]:
    """What the second portal's own API lists, read as any client would."""
    services, page = [], 1
    while True:
        with urllib.request.urlopen(f"{portal.api_url}/services?per_page=200&page={page}", timeout=30) as response:
            body = json.load(response)
        services += body["contents"]
        if body["last_page"]:
            return services
        page += 1


def _search(client, words: str) -> tuple[list[str], str]:
    """The names of the directory search's results, and the page's HTML."""
    response = client.get(reverse("directory:directory"), {"q": words})
    return [service.name for service in response.context["page"].object_list], response.content.decode()


def test_a_portal_harvests_another_and_follows_its_changes(portal, client, monkeypatch):
    monkeypatch.setattr(outbound, "ALLOWED_TEST_ADDRESSES", frozenset({"127.0.0.1"}))
    theirs = _their_services(portal)
    assert len(theirs) > 20
    source = HarvestSource.objects.create(name="Second borough portal", api_url=portal.api_url, supports_modified_after=True)

    run = harvest.harvest_source(source_id=source.pk)
    assert run.succeeded and run.error == "", run.error
    assert (run.created, run.skipped) == (len(theirs), 0), run.warnings
    assert set(Service.objects.filter(source=source).values_list("remote_id", flat=True)) == {item["id"] for item in theirs}

    # In this portal's directory search, with their source.
    active = next(item for item in theirs if item["status"] == "active")
    names, page = _search(client, active["name"])
    assert active["name"] in names and "listed by Second borough portal" in page
    # Not published again by our own API unless asked for.
    ours = client.get("/api/oruk/services", {"per_page": 200}).json()
    assert active["id"] not in {item["id"] for item in ours["contents"]}

    # A change made on the second portal appears after the next harvest, which asks only for changes
    # (modified_after: the demo borough was loaded within its overlap, so it may list more, unchanged).
    portal.manage(
        "shell",
        "-c",
        "from directory.models import Service; s = Service.objects.get(uuid=%r); "
        "s.name = 'Renamed on the second portal'; s.save()" % active["id"],
    )
    run = harvest.harvest_source(source_id=source.pk)
    assert run.succeeded and run.kind == "incremental", run.error
    assert (run.created, run.updated, run.withdrawn) == (0, 1, 0)
    names, page = _search(client, "Renamed on the second portal")
    assert names[0] == "Renamed on the second portal" and "listed by Second borough portal" in page
    assert active["name"] not in names

    # A service deleted there is withdrawn here after the next full harvest (an incremental one cannot
    # see deletions; the full one comes daily, or at once from the admin's "Harvest now"): out of the
    # search, its page gone for visitors.
    portal.manage("shell", "-c", "from directory.models import Service; Service.objects.get(uuid=%r).delete()" % active["id"])
    run = harvest.harvest_source(source_id=source.pk, kind="full")
    assert run.succeeded and run.withdrawn == 1, run.error
    withdrawn = Service.objects.get(source=source, remote_id=active["id"])
    assert withdrawn.is_withdrawn
    names, _page = _search(client, "Renamed on the second portal")
    assert "Renamed on the second portal" not in names
    assert client.get(withdrawn.get_absolute_url()).status_code == 404
