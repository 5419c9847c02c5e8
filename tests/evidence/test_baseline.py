"""Baseline coverage (issue 18, item 3): every area (the borough, its wards, other directories harvested)
against the baseline of support the network agreed; worked by hand on small fixtures. Also the page, its
CSVs and who may see them, the monthly snapshot task, the evidence pack's sheet and the admin."""

import csv
import io
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from directory.models import HarvestSource, Service
from evidence import selectors, services, tasks
from evidence.models import BaselineItem, BaselineSnapshot, EvidenceExport
from taxonomies.models import Taxonomy, TaxonomyTerm
from tests.factories import make_network_admin, make_organisation, make_provider, make_service, make_user, term

pytestmark = pytest.mark.django_db

WARDS = ("bow-east", "bow-west", "mile-end")


@pytest.fixture(autouse=True)
def three_wards(db):
    """A borough of three wards, so that "every ward" can be worked out by hand."""
    TaxonomyTerm.objects.filter(taxonomy__code=Taxonomy.WARDS).exclude(code__in=WARDS).update(is_active=False)


def item(function="information-and-advice", **overrides) -> BaselineItem:
    fields = {"description": f"Item {function}", "function": term("functions", function), **overrides}
    return BaselineItem.objects.create(**fields)


def cell(coverage, area_key: str, baseline_item: BaselineItem):
    return coverage.cells[(area_key, baseline_item.pk)]


def names(found) -> list[str]:
    return [provider.name for provider in found.providers]


def harvested(source, *, name, hidden=False, withdrawn=False, **overrides) -> Service:
    organisation = make_organisation(name=name, is_harvested=True)
    return make_service(
        organisation=organisation, source=source, remote_id=name, is_hidden=hidden, is_withdrawn=withdrawn, **overrides
    )


def test_each_ward_counts_its_own_providers_and_every_borough_wide_one():
    advice = term("functions", "information-and-advice")
    needed = item(minimum_providers=2)
    in_bow = make_provider(name="Bow Advice")
    everywhere = make_provider(name="Borough Advice")
    make_service(organisation=in_bow, functions=[advice], wards=[term("wards", "bow-east")])
    make_service(organisation=everywhere, functions=[advice])  # no wards: the whole borough
    coverage = selectors.baseline_coverage()
    assert [area.key for area in coverage.areas] == ["borough", "ward:bow-east", "ward:bow-west", "ward:mile-end"]
    bow_east = cell(coverage, "ward:bow-east", needed)
    assert bow_east.met and names(bow_east) == ["Borough Advice", "Bow Advice"]  # by name
    bow_west = cell(coverage, "ward:bow-west", needed)
    assert not bow_west.met and names(bow_west) == ["Borough Advice"]
    assert bow_west.missing == "needs 2 providers, has 1"
    # The borough has two providers, but an item to be met in each ward is met only where every ward meets it.
    borough = cell(coverage, "borough", needed)
    assert not borough.met and len(borough.providers) == 2
    assert borough.missing == "short in 2 of 3 wards: Bow West, Mile End"
    # With one needed, the borough-wide service meets it everywhere.
    needed.minimum_providers = 1
    needed.save()
    coverage = selectors.baseline_coverage()
    assert all(cell(coverage, area.key, needed).met for area in coverage.areas)


def test_an_item_for_the_whole_borough_is_not_measured_ward_by_ward():
    whole = item(function="training", reach=BaselineItem.Reach.AREA)
    make_service(organisation=make_provider(name="Trainers"), functions=[term("functions", "training")], wards=[term("wards", "mile-end")])
    coverage = selectors.baseline_coverage()
    assert cell(coverage, "borough", whole).met
    assert names(cell(coverage, "borough", whole)) == ["Trainers"]
    bow = cell(coverage, "ward:bow-east", whole)
    assert not bow.applies and bow.status == "not-applicable" and not bow.met
    rows = {area.key: (met, applies) for area, _cells, met, applies in coverage.rows()}
    assert rows == {"borough": (1, 1), "ward:bow-east": (0, 0), "ward:bow-west": (0, 0), "ward:mile-end": (0, 0)}


def test_free_only_counts_services_marked_free_with_no_fee():
    advice = term("functions", "information-and-advice")
    free = item(free_only=True, reach=BaselineItem.Reach.AREA)
    make_service(organisation=make_provider(name="Charges"), functions=[advice], is_free=False, fee_amount=30)
    make_service(organisation=make_provider(name="Fee unknown"), functions=[advice], is_free=False, fee_description="it depends")
    make_service(organisation=make_provider(name="Free but a fee given"), functions=[advice], is_free=True, fee_amount=5)
    coverage = selectors.baseline_coverage()
    borough = cell(coverage, "borough", free)
    assert not borough.met and borough.providers == [] and borough.missing == "needs 1 free provider, has 0"
    make_service(organisation=make_provider(name="Free"), functions=[advice], is_free=True)
    assert names(cell(selectors.baseline_coverage(), "borough", free)) == ["Free"]


def test_a_segment_item_counts_only_services_naming_the_segment():
    advice = term("functions", "information-and-advice")
    bme = item(segment=term("segments", "bme-vcos"), reach=BaselineItem.Reach.AREA)
    make_service(organisation=make_provider(name="General"), functions=[advice])
    make_service(organisation=make_provider(name="Volunteering"), functions=[advice], segments=[term("segments", "vcos-managing-volunteers")])
    make_service(organisation=make_provider(name="BME Support"), functions=[advice], segments=[term("segments", "bme-vcos")])
    # The segment but another function: not this item.
    make_service(organisation=make_provider(name="BME Training"), functions=[term("functions", "training")], segments=[term("segments", "bme-vcos")])
    assert names(cell(selectors.baseline_coverage(), "borough", bme)) == ["BME Support"]


def test_a_minimum_of_two_needs_two_organisations_and_a_heading_counts_its_functions():
    two = item(function="support-and-development", minimum_providers=2, reach=BaselineItem.Reach.AREA)
    first = make_provider(name="First")
    make_service(organisation=first, functions=[term("functions", "training")])
    make_service(organisation=first, functions=[term("functions", "consultancy")])
    coverage = selectors.baseline_coverage()
    assert not cell(coverage, "borough", two).met  # two services, one provider
    assert cell(coverage, "borough", two).missing == "needs 2 providers, has 1"
    make_service(organisation=make_provider(name="Second"), functions=[term("functions", "fund-distribution")])
    # Closed services and other functions do not count.
    make_service(organisation=make_provider(name="Closed"), functions=[term("functions", "training")], status=Service.Status.CLOSED)
    make_service(organisation=make_provider(name="Lobbyists"), functions=[term("functions", "lobbying")])
    found = cell(selectors.baseline_coverage(), "borough", two)
    assert found.met and names(found) == ["First", "Second"]


def test_each_active_harvested_directory_is_an_area_of_its_own():
    advice = term("functions", "information-and-advice")
    each_ward = item(minimum_providers=2)
    hackney = HarvestSource.objects.create(name="Hackney Connect", api_url="https://hackney.example.org/api/oruk")
    paused = HarvestSource.objects.create(name="Paused Directory", api_url="https://paused.example.org/api/oruk", is_active=False)
    harvested(hackney, name="Hackney CVS", functions=[advice])
    harvested(hackney, name="Hackney Hidden", functions=[advice], hidden=True)
    harvested(hackney, name="Hackney Withdrawn", functions=[advice], withdrawn=True)
    harvested(paused, name="Paused Advice", functions=[advice])
    coverage = selectors.baseline_coverage()
    keys = [area.key for area in coverage.areas]
    assert keys[-1] == f"directory:{hackney.pk}" and f"directory:{paused.pk}" not in keys
    area = coverage.areas[-1]
    assert area.label == "Hackney Connect" and area.kind == BaselineSnapshot.AreaKind.HARVESTED
    # Measured over the area as a whole (its wards are not ours), hidden and withdrawn services left out.
    hackney_cell = cell(coverage, area.key, each_ward)
    assert hackney_cell.applies and names(hackney_cell) == ["Hackney CVS"]
    assert hackney_cell.missing == "needs 2 providers, has 1"
    # Harvested services never count for our borough.
    assert cell(coverage, "borough", each_ward).providers == []
    harvested(hackney, name="Hackney Advice Line", functions=[advice])
    assert cell(selectors.baseline_coverage(), area.key, each_ward).met


def test_providers_link_to_their_organisation_pages_and_inactive_items_are_left_out():
    shown = item(reach=BaselineItem.Reach.AREA)
    item(function="training", is_active=False)
    provider = make_provider(name="Bow Advice", slug="bow-advice")
    make_service(organisation=provider, functions=[term("functions", "information-and-advice")])
    coverage = selectors.baseline_coverage()
    assert coverage.items == [shown]
    assert cell(coverage, "borough", shown).providers == [selectors.ProviderLink("Bow Advice", "/organisations/bow-advice/")]


def test_the_number_of_queries_does_not_grow_with_areas_items_or_services():
    advice = term("functions", "information-and-advice")
    item()
    item(segment=term("segments", "bme-vcos"), reach=BaselineItem.Reach.AREA)
    make_service(organisation=make_provider(), functions=[advice], wards=[term("wards", "bow-east")])
    with CaptureQueriesContext(connection) as small:
        selectors.baseline_coverage()
    TaxonomyTerm.objects.filter(taxonomy__code=Taxonomy.WARDS).update(is_active=True)
    item(function="training", free_only=True, minimum_providers=2)
    for n in range(4):
        source = HarvestSource.objects.create(name=f"Directory {n}", api_url=f"https://d{n}.example.org/api/oruk")
        harvested(source, name=f"Harvested {n}", functions=[advice])
        make_service(organisation=make_provider(), functions=[advice, term("functions", "training")], segments=[term("segments", "bme-vcos")])
    with CaptureQueriesContext(connection) as large:
        coverage = selectors.baseline_coverage()
    assert len(coverage.areas) > 20 and len(large) == len(small) <= 9


# The page, its downloads and who may see them --------------------------------------------------------------


@pytest.fixture
def covered():
    advice = term("functions", "information-and-advice")
    free_advice = item(description="Free advice in every ward", free_only=True)
    training = item(function="training", description="Training, borough-wide", reach=BaselineItem.Reach.AREA)
    make_service(organisation=make_provider(name="Bow Advice", slug="bow-advice"), functions=[advice], wards=[term("wards", "bow-east")])
    make_service(organisation=make_provider(name="=Trainers"), functions=[term("functions", "training")])
    return free_advice, training


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_funders_see_every_area_against_the_baseline(client, covered):
    client.force_login(make_user(User.Role.FUNDER))
    response = client.get(reverse("evidence:baseline"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Free advice in every ward" in page and "Training, borough-wide" in page
    assert "at least 1 free provider of Information and advice, in each ward" in page
    assert 'href="/organisations/bow-advice/"' in page
    assert "needs 1 free provider, has 0" in page  # Bow West and Mile End
    assert "short in 2 of 3 wards: Bow West, Mile End" in page
    assert 'role="region"' in page and 'tabindex="0"' in page  # the wide table scrolls in its own box
    assert reverse("evidence:baseline_csv") in page and reverse("evidence:baseline_history_csv") in page
    assert "Nothing recorded yet" in page
    # Linked from the evidence index.
    assert reverse("evidence:baseline") in client.get(reverse("evidence:index")).content.decode()


def test_the_csv_has_a_row_per_area_and_item(client, covered):
    free_advice, training = covered
    client.force_login(make_network_admin())
    response = client.get(reverse("evidence:baseline_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "baseline-coverage-" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["Area", "Kind of area", "Baseline item", "Met", "Providers", "Provider names", "Missing"]
    by_key = {(row[0], row[2]): row for row in rows[1:]}
    assert len(rows) == 1 + 4 * 2
    assert by_key[("Bow East", "Free advice in every ward")] == ["Bow East", "Ward", "Free advice in every ward", "yes", "1", "Bow Advice", ""]
    assert by_key[("Mile End", "Free advice in every ward")][3:] == ["no", "0", "", "needs 1 free provider, has 0"]
    assert by_key[("Mile End", "Training, borough-wide")][3:] == ["not applicable", "", "", ""]
    # A name a spreadsheet would run as a formula is neutralised.
    assert by_key[("The whole borough", "Training, borough-wide")][3:6] == ["yes", "1", "'=Trainers"]


@pytest.mark.parametrize("name", ["evidence:baseline", "evidence:baseline_csv", "evidence:baseline_history_csv"])
def test_who_may_see_the_baseline(client, covered, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for role, status in ((User.Role.VCO_STAFF, 403), (User.Role.FUNDER, 200), (User.Role.OFFICER, 200)):
        client.force_login(make_user(role))
        assert client.get(url).status_code == status, role
    client.force_login(make_network_admin())
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405


def test_with_no_baseline_set_the_page_says_so(client):
    client.force_login(make_network_admin())
    page = client.get(reverse("evidence:baseline")).content.decode()
    assert "has not set its baseline of support yet" in page
    assert reverse("admin:evidence_baselineitem_changelist") in page


# Monthly snapshots -----------------------------------------------------------------------------------------


def test_the_beat_task_records_this_month_once_and_is_safe_to_run_again(covered):
    free_advice, training = covered
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "evidence.tasks.record_baseline_coverage"]
    assert len(entries) == 1
    month = timezone.localdate().replace(day=1)
    assert tasks.record_baseline_coverage() == {"month": month.strftime("%Y-%m"), "rows": 1 + 3 + 1}  # not-applicable cells are not kept
    first = {(s.area_key, s.item_id): (s.met, s.provider_count, s.provider_names) for s in BaselineSnapshot.objects.all()}
    assert first[("ward:bow-east", free_advice.pk)] == (True, 1, "Bow Advice")
    assert first[("borough", free_advice.pk)] == (False, 1, "Bow Advice")
    assert first[("borough", training.pk)] == (True, 1, "=Trainers")
    tasks.record_baseline_coverage()
    assert BaselineSnapshot.objects.count() == 5 and set(BaselineSnapshot.objects.values_list("month", flat=True)) == {month}
    # A change in the month updates the month's rows; it adds none.
    make_service(organisation=make_provider(name="Everywhere"), functions=[term("functions", "information-and-advice")])
    tasks.record_baseline_coverage()
    assert BaselineSnapshot.objects.count() == 5
    assert BaselineSnapshot.objects.get(area_key="ward:mile-end", item=free_advice).met


def test_changes_over_time_compare_with_last_month(client, covered):
    free_advice, training = covered
    today = timezone.localdate()
    last_month = today.replace(day=1) - relativedelta(months=1)
    services.record_baseline_snapshot(today=last_month)
    # Since then: a free adviser for the whole borough, and the trainers closed.
    make_service(organisation=make_provider(name="Everywhere"), functions=[term("functions", "information-and-advice")])
    Service.objects.filter(organisation__name="=Trainers").update(status=Service.Status.CLOSED)
    coverage = selectors.baseline_coverage()
    history = selectors.baseline_history(coverage, today=today)
    changes = {change.area.key: ([i.pk for i in change.newly_met], [i.pk for i in change.newly_missing]) for change in history.changes}
    assert changes == {
        "borough": ([free_advice.pk], [training.pk]),
        "ward:bow-west": ([free_advice.pk], []),
        "ward:mile-end": ([free_advice.pk], []),
    }
    services.record_baseline_snapshot(today=today)
    history = selectors.baseline_history(selectors.baseline_coverage(), today=today)
    assert history.months[-1] == today.replace(day=1) and len(history.months) == 12
    rows = dict(history.rows)
    assert rows["The whole borough"][-2:] == [(1, 2), (1, 2)]  # one item gained, one lost
    assert rows["Bow East"][-2:] == [(1, 1), (1, 1)] and rows["Bow East"][0] is None
    client.force_login(make_user(User.Role.FUNDER))
    page = client.get(reverse("evidence:baseline")).content.decode()
    assert f"Since {last_month:%B %Y}" in page and "newly missing" in page and "1 of 2" in page
    response = client.get(reverse("evidence:baseline_history_csv"))
    rows = _csv(response)
    assert rows[0] == ["Month", "Area", "Kind of area", "Baseline item", "Met", "Providers", "Provider names"]
    assert len(rows) == 1 + 10 and rows[1][0] == today.strftime("%Y-%m") and rows[-1][0] == last_month.strftime("%Y-%m")


# The evidence pack and the admin -----------------------------------------------------------------------------


def test_the_evidence_pack_has_the_baseline_sheet(covered, settings, tmp_path):
    settings.EVIDENCE_EXPORT_DIR = tmp_path / "packs"
    funder = make_user(User.Role.FUNDER)
    export = services.request_export(user=funder, start=date(2026, 1, 1), end=date(2026, 12, 31), area=None)
    built = services.build_evidence_pack(export_id=export.pk)
    assert built.status == EvidenceExport.Status.READY
    workbook = load_workbook(built.file.path, read_only=True)
    rows = list(workbook["Baseline coverage"].iter_rows(values_only=True))
    assert rows[0] == ("Area", "Kind of area", "Baseline item", "Met", "Providers", "Provider names", "Missing")
    assert ("Bow East", "Ward", "Free advice in every ward", "yes", 1, "Bow Advice", None) in rows
    definitions = [row for row in workbook["Definitions"].iter_rows(values_only=True) if row[0] == "Baseline coverage"]
    assert definitions and "unknown" not in definitions[0][2] and "fee is not known" in definitions[0][2]


def test_network_admins_set_the_baseline_in_the_admin(client):
    client.force_login(make_network_admin())
    add = reverse("admin:evidence_baselineitem_add")
    page = client.get(add).content.decode()
    assert "at least this many providers" in page.lower() and "Where it must be reachable" in page
    data = {
        "description": "Free advice in every ward",
        "function": term("functions", "information-and-advice").pk,
        "segment": "",
        "minimum_providers": "0",
        "free_only": "on",
        "reach": "ward",
        "order": "1",
        "is_active": "on",
    }
    refused = client.post(add, data)
    assert refused.status_code == 200 and not BaselineItem.objects.exists()  # at least one provider
    data["segment"] = term("wards", "bow-east").pk  # not a segment
    data["minimum_providers"] = "1"
    assert client.post(add, data).status_code == 200 and not BaselineItem.objects.exists()
    data["segment"] = ""
    assert client.post(add, data).status_code == 302
    saved = BaselineItem.objects.get()
    assert saved.free_only and saved.reach == BaselineItem.Reach.EACH_WARD and saved.minimum_providers == 1
    # The monthly record is read-only.
    services.record_baseline_snapshot(today=timezone.localdate())
    assert client.get(reverse("admin:evidence_baselinesnapshot_add")).status_code == 403
    assert client.get(reverse("admin:evidence_baselinesnapshot_changelist")).status_code == 200


def test_a_long_list_of_providers_is_cut_short_on_the_page_and_whole_in_the_csv(client, monkeypatch):
    monkeypatch.setattr(selectors, "BASELINE_NAMES_SHOWN", 2)
    item(description="Advice anywhere", reach=BaselineItem.Reach.AREA)
    for name in ("Alpha", "Bravo", "Charlie", "Delta"):
        make_service(organisation=make_provider(name=name), functions=[term("functions", "information-and-advice")])
    client.force_login(make_user(User.Role.FUNDER))
    page = client.get(reverse("evidence:baseline")).content.decode()
    assert ">Alpha</a>, <a" in page and ">Bravo</a> and 2 more (named in the CSV)" in page and ">Charlie<" not in page
    rows = _csv(client.get(reverse("evidence:baseline_csv")))
    assert rows[1][:6] == ["The whole borough", "Borough", "Advice anywhere", "yes", "4", "Alpha; Bravo; Charlie; Delta"]
