"""How many results a search has and which page holds which (directory.selectors.count_of, page_of and
directory.search.ranked_ids): exact up to COUNT_EXACTLY_UP_TO, "about" beyond it, a search ranking a
bounded number of its matches, and every result on exactly one page whatever the counts say."""

import json
from datetime import time

import pytest
from django.db import connection
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext

from directory import search, selectors, views
from directory.models import Service
from directory.search import ServiceFilters, filter_services, ranked_ids
from tests.factories import make_service, term

pytestmark = pytest.mark.django_db
URL = "/directory/"
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="estimates come from PostgreSQL's planner; SQLite counts exactly"
)


def payroll_services(count: int) -> list[Service]:
    return [
        make_service(name=f"Payroll service {n:02d}", description="Payroll help.", needs=[term("needs", "payroll")])
        for n in range(count)
    ]


def every_page(client, params: dict) -> tuple[list[str], list[str]]:
    """The names on every page, following "next" from the first page, and each page's result line."""
    names, lines, number = [], [], 1
    while True:
        response = client.get(URL, {**params, "page": number})
        page = response.context["page"]
        names += [service.name for service in page]
        content = response.content.decode()
        lines.append(content[content.index('class="result-count') :].split("</p>")[0])
        if not page.has_next():
            return names, lines
        number += 1


def test_exact_below_the_threshold(client, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_EXACTLY_UP_TO", 10)
    payroll_services(7)
    count = selectors.count_of(Service.objects.listed().filter(needs=term("needs", "payroll")), estimate=True)
    assert count == selectors.ResultCount(7, estimated=False)
    assert "7 services found." in client.get(URL, {"need": "payroll"}).content.decode()


@postgresql_only
def test_about_above_the_threshold_and_every_result_on_one_page(client, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_EXACTLY_UP_TO", 5)
    monkeypatch.setattr(views, "SERVICES_PER_PAGE", 2)
    services = payroll_services(13)
    count = selectors.count_of(Service.objects.listed().filter(needs=term("needs", "payroll")), estimate=True)
    assert count.estimated and count.number >= 5

    names, lines = every_page(client, {"need": "payroll", "sort": "name"})
    # Every result once, in order, though the first pages only had an estimate of the total.
    assert names == sorted(service.name for service in services)
    assert lines[0].count("About ") == 1 and "services found, page 1 of about" in lines[0]
    # From the page that reaches the threshold on, the count is exact: the last pages are right.
    assert "13 services found, page 7 of 7" in lines[-1]
    # Past the end: the real last page.
    assert client.get(URL, {"need": "payroll", "page": "999"}).context["page"].number == 7
    # A page number past what the database's OFFSET can hold (found by tests/test_hostile_parameters.py).
    assert client.get(URL, {"need": "payroll", "page": "99999999999999999999"}).context["page"].number == 7


def test_estimates_keep_two_figures():
    assert selectors._two_figures(12_345) == 12_000
    assert selectors._two_figures(987) == 990
    assert selectors._two_figures(1_001) == 1_000


@postgresql_only
def test_a_search_beyond_the_rank_limit_ranks_a_bounded_set_and_pages_through_every_match(client, monkeypatch):
    monkeypatch.setattr(search, "RANK_LIMIT", 3)
    monkeypatch.setattr(selectors, "COUNT_EXACTLY_UP_TO", 4)
    monkeypatch.setattr(views, "SERVICES_PER_PAGE", 2)
    matching = [make_service(name=f"Service {n}", description="Help with payroll.") for n in range(8)]
    exact = make_service(name="Payroll", description="Everything about payroll.")  # added last
    make_service(name="Other", description="Nothing to do with it.")

    results = filter_services(Service.objects.listed(), ServiceFilters(text="payroll"))
    ids = [pk for start in range(0, 12, 2) for pk in ranked_ids(results, "payroll", start, start + 2)]
    assert sorted(ids) == sorted(service.pk for service in [*matching, exact]), "each match exactly once"
    assert ids[0] == exact.pk, "an exact name match is ranked, and first, however late it was added"

    names, _lines = every_page(client, {"q": "payroll"})
    assert names[0] == "Payroll"
    assert sorted(names) == sorted(service.name for service in [*matching, exact])


def test_an_exact_name_match_beyond_the_first_matches_is_ranked_first_on_either_database(monkeypatch):
    """search.first_matches reads the exact name matches when there are more than RANK_LIMIT matches:
    one added after RANK_LIMIT others still comes first."""
    monkeypatch.setattr(search, "RANK_LIMIT", 3)
    for n in range(6):
        make_service(name=f"Service {n}", description="Help with payroll.")
    exact = make_service(name="Payroll", description="Everything about payroll.")  # added last
    results = filter_services(Service.objects.listed(), ServiceFilters(text="payroll"))
    first = search.first_matches(results, "payroll")
    assert len(first.found) == 4 and exact.pk not in dict(first.found)
    assert [pk for pk, _rank in first.exact_names] == [exact.pk]
    assert ranked_ids(results, "payroll", 0, 2, first=first)[0] == exact.pk


@postgresql_only
@pytest.mark.parametrize("expected", [0, 1_000], ids=["estimate-below-half-the-limit", "estimate-beyond-it"])
def test_exact_name_matches_are_read_with_the_first_matches_only_when_the_estimate_says_they_may_count(
    monkeypatch, expected
):
    """An estimate beyond half RANK_LIMIT reads the exact name matches in the same statement as the first
    matches; a lower one leaves them out, and reads them in a second statement only if there were more
    than RANK_LIMIT matches after all: the same lists either way."""
    monkeypatch.setattr(search, "RANK_LIMIT", 3)
    payroll, training = term("needs", "payroll"), term("needs", "training")
    for n in range(6):
        make_service(name=f"Service {n}", description="Help with payroll.", needs=[payroll])
    make_service(name="payroll", description="Payroll, but for another need.", needs=[training])
    exact = make_service(name="Payroll", description="Everything about payroll.", needs=[payroll])  # added last
    filters = ServiceFilters(text="payroll", needs=[payroll])
    results = filter_services(Service.objects.listed(), filters)
    search.table_rows()  # read now (scans_table keeps it): the statements counted are the search's own
    with CaptureQueriesContext(connection) as captured:
        first = search.first_matches(results, "payroll", expected=expected)
    # Which four the database finds first follows the rows' places in the table (a rolled-back test's
    # freed space may come first): the exact name match is read either way.
    assert len(first.found) == 4 and set(dict(first.found)) <= set(results.values_list("pk", flat=True))
    assert [pk for pk, _rank in first.exact_names] == [exact.pk]
    assert first.exact_names[0][1] == max(rank for _pk, rank in results.values_list("pk", "rank"))
    assert len(captured) == (1 if search.likely_beyond_rank_limit(expected) else 2)
    assert search.likely_beyond_rank_limit(expected) == (expected == 1_000)


@postgresql_only
def test_a_search_within_the_rank_limit_and_expected_so_reads_its_matches_in_one_statement(monkeypatch):
    monkeypatch.setattr(search, "RANK_LIMIT", 10)
    exact = make_service(name="Payroll", description="Everything about payroll.")
    others = [make_service(name=f"Service {n}", description="Help with payroll.") for n in range(3)]
    results = filter_services(Service.objects.listed(), ServiceFilters(text="payroll"))
    with CaptureQueriesContext(connection) as captured:
        first = search.first_matches(results, "payroll", expected=4)
    assert len(captured) == 1 and "UNION" not in captured[0]["sql"]
    assert sorted(pk for pk, _rank in first.found) == sorted(service.pk for service in [exact, *others])
    assert first.exact_names == [] and first.expected == 4
    assert ranked_ids(results, "payroll", 0, 10, first=first)[0] == exact.pk


@postgresql_only
def test_scans_start_at_the_table_start_so_a_search_ranks_the_same_matches_every_time():
    """ranked_ids ranks the first RANK_LIMIT matches a scan finds: a synchronised scan (PostgreSQL's
    default for large tables) starts where the last one stopped, and the same page of a search would
    show other results on every request."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronize_seqscans")
        assert cursor.fetchone()[0] == "off"


def test_within_the_rank_limit_the_order_is_exactly_by_rank(monkeypatch):
    make_service(name="Volunteer brokerage", description="Volunteers.")
    best = make_service(name="Payroll bureau", description="Payroll, payroll and payroll.")
    plain = make_service(name="Bookkeeping", description="Some payroll.")
    results = filter_services(Service.objects.listed(), ServiceFilters(text="payroll"))
    assert ranked_ids(results, "payroll", 0, 10) == [best.pk, plain.pk] == list(results.values_list("pk", flat=True))


@postgresql_only
@pytest.mark.usefixtures("fresh_cache")
def test_oruk_pages_reach_every_service_when_the_total_is_an_estimate(client, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_EXACTLY_UP_TO", 5)
    services = payroll_services(11)
    found, number = [], 1
    while True:
        body = client.get("/api/oruk/services", {"per_page": 2, "page": number}).json()
        found += [item["id"] for item in body["contents"]]
        if body["last_page"]:
            break
        number += 1
    assert sorted(found) == sorted(str(service.uuid) for service in services)
    assert body["total_items"] == 11 and body["total_pages"] == 6 and number == 6


@postgresql_only
def test_a_search_matching_much_of_the_directory_scans_the_table_for_the_same_first_matches(monkeypatch):
    """search.first_matches reads the first matches of a search expected to match much of the directory
    by scanning the table (search.scans_table), and finds the very matches the index would; page_of
    reuses the one estimate for the count."""
    monkeypatch.setattr(search, "RANK_LIMIT", 3)
    monkeypatch.setattr(selectors, "COUNT_EXACTLY_UP_TO", 4)
    for n in range(8):
        make_service(name=f"Service {n}", description="Help with payroll.")
    make_service(name="Other", description="Nothing to do with it.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE directory_service")
    results = filter_services(Service.objects.listed(), ServiceFilters(text="payroll"))
    expected = selectors._planner_estimate(results.order_by().values("pk"))
    assert search.scans_table(expected)
    assert not search.scans_table(search.RANK_LIMIT)

    with CaptureQueriesContext(connection) as captured:
        scanned = search.first_matches(results, expected=expected).found
    sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        # The statement's first part reads the first matches (its second, the exact name matches).
        first_part = json.dumps(cursor.fetchone()[0][0]["Plan"]["Plans"][0])
        assert '"Seq Scan"' in first_part and "Index" not in first_part
        cursor.execute("SET LOCAL enable_seqscan = off")  # the same read through the GIN index
        through_index = search.first_matches(results, expected=search.RANK_LIMIT).found
        cursor.execute("SET LOCAL enable_seqscan = on")
    assert len(scanned) == search.RANK_LIMIT + 1 and scanned == through_index

    with CaptureQueriesContext(connection) as captured:
        _rows, count = selectors.page_of(results, number=1, per_page=2, search_text="payroll", estimate=True)
    assert count.estimated and count.number >= 4
    assert [query["sql"].startswith("EXPLAIN") for query in captured.captured_queries].count(True) == 1


@postgresql_only
def test_the_table_is_scanned_when_that_reads_fewer_rows_than_the_index_gathers_matches(monkeypatch):
    """A scan reads some (RANK_LIMIT + 1) * rows / matches rows to find RANK_LIMIT + 1 matches; the index
    gathers every match first: the cheaper of the two is chosen (at 60,000 services, from about 5,500
    matches on)."""
    monkeypatch.setattr(search, "table_rows", lambda: 60_000)
    assert search.RANK_LIMIT == 500
    assert not search.scans_table(5_482)  # 5,482 matches gathered < 501 * 60,000 / 5,482 = 5,483 rows read
    assert search.scans_table(5_483)
    assert not search.scans_table(None)
    monkeypatch.setattr(search, "table_rows", lambda: -1)  # never analysed: no estimate to go by
    assert not search.scans_table(1_000_000)


@postgresql_only
def test_a_search_matching_a_small_share_reads_its_first_matches_through_the_index(monkeypatch):
    """With more matches than RANK_LIMIT but few for the directory's size, the index is read: the same
    first matches as a scan finds."""
    monkeypatch.setattr(search, "RANK_LIMIT", 3)
    for n in range(8):
        make_service(name=f"Service {n}", description="Help with payroll.")
    for n in range(32):
        make_service(name=f"Other {n}", description="Nothing to do with it.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE directory_service")
    results = filter_services(Service.objects.listed(), ServiceFilters(text="payroll"))
    expected = selectors._planner_estimate(results.order_by().values("pk"))
    assert search.RANK_LIMIT < expected < 16  # 4 * 40 rows / 8 matches = 20 rows scanned > 8 gathered
    assert not search.scans_table(expected)
    with CaptureQueriesContext(connection) as captured:
        through_index = search.first_matches(results, expected=expected).found
    assert ") IS TRUE" not in captured.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        scanned = search.first_matches(results, expected=1_000_000).found
    assert len(through_index) == search.RANK_LIMIT + 1 and through_index == scanned


@postgresql_only
def test_the_table_scan_keeps_every_filter(monkeypatch):
    """The scan's conditions are the search's own, filters and their subqueries included."""
    monkeypatch.setattr(search, "RANK_LIMIT", 2)
    for n in range(8):
        make_service(
            name=f"Service {n}",
            description="Help with payroll.",
            is_free=n != 2,
            schedules=[("TU", "10:00", "13:00")] if n % 2 == 0 else [("WE", "10:00", "13:00")],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE directory_service")
    filters = ServiceFilters(text="payroll", free_only=True, day="TU", opens_from=time(9, 0))
    results = filter_services(Service.objects.listed(), filters)
    with CaptureQueriesContext(connection) as captured:
        scanned = search.first_matches(results, expected=1_000_000).found
    assert ") IS TRUE" in captured.captured_queries[-1]["sql"]
    wanted = list(Service.objects.filter(name__in=["Service 0", "Service 4", "Service 6"]).values_list("pk", flat=True))
    assert sorted(pk for pk, _rank in scanned) == sorted(wanted)
    # All three matches either way, with the same ranks (the order of a read without ORDER BY is the
    # plan's: the day's subquery may be joined from the times' side).
    assert sorted(scanned) == sorted(search.first_matches(results, expected=search.RANK_LIMIT).found)


@postgresql_only
def test_the_table_size_is_read_once_in_a_while_not_per_search(monkeypatch):
    """search.table_rows reads the statistics at most every TABLE_ROWS_KEPT_SECONDS in a process: two
    searches in a row make one read of pg_class, and a read after that long sees the new size."""
    make_service(name="Payroll help", description="Help with payroll.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE directory_service")
    with CaptureQueriesContext(connection) as captured:
        first = search.table_rows()
        assert search.table_rows() == first == 1
    assert ["pg_class" in query["sql"] for query in captured.captured_queries].count(True) == 1
    make_service(name="Payroll advice", description="Advice on payroll.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE directory_service")
    assert search.table_rows() == 1  # kept
    later = search.monotonic() + search.TABLE_ROWS_KEPT_SECONDS
    monkeypatch.setattr(search, "monotonic", lambda: later)
    assert search.table_rows() == 2


@postgresql_only
def test_a_page_in_name_order_equals_counting_and_slicing_separately(monkeypatch):
    """page_of without words reads the page's ids and the count from its first result in one ordered
    read: the same page and count as counting from there, then slicing, on every page and past the end."""
    monkeypatch.setattr(selectors, "COUNT_EXACTLY_UP_TO", 5)
    payroll_services(13)
    results = Service.objects.listed().order_by(Lower("name"), "pk")
    every_id = list(results.values_list("pk", flat=True))
    for per_page in (1, 2, 4, 13, 20):
        for number in range(1, 13 // per_page + 4):
            start = (number - 1) * per_page
            rows, count = selectors.page_of(results, number=number, per_page=per_page, estimate=True)
            assert count == selectors.count_of(results, estimate=True, start=start), (per_page, number)
            expected = every_id[start : start + per_page] if start < count.number else []
            assert [row.pk for row in rows] == expected, (per_page, number)
