"""The full directory CSV against PostgreSQL's own COPY of the same rows (issue 15), on the data of
bench/directory_search.py (20,000 organisations, 60,000 services).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/directory_export.py [--keep | --reuse]

In a child process (so its peak memory is the download's own), in one run:

1. COPY (the export's rows, as one SQL query) TO STDOUT WITH CSV into a null sink: the services the
   download lists, in its order, each with the same 30 columns, its related rows (terms, locations,
   regular times, contacts) aggregated by the database with string_agg, labels and yes/no as CASEs.
   This is the database's own speed for the same rows: the baseline.
2. GET /directory/download.csv, streamed and counted, as a visitor downloads it.

Prints rows/s for both, the ratio (target >= 0.5x COPY) and the child's peak memory (target < 150 MB).
The machine is shared: compare the ratio, measured in the same run, rather than the raw figures.
Its database (thin_bench_directory_export) is its own: it does not share one with directory_search.py.
"""

import os
import subprocess
import sys
import time

from directory_search import load
from harness import bench_database, peak_memory_mb, setup_django, verdict

BENCH_DB = "thin_bench_directory_export"
VAR_DIR = "/tmp/thin-bench-directory-export-var"
RUNS = 3


class _NullSink:
    """Where COPY writes: counts what it was given and keeps nothing."""

    def __init__(self):
        self.size = self.rows = 0

    def write(self, data) -> int:
        self.size += len(data)
        self.rows += data.count(b"\n" if isinstance(data, bytes) else "\n")
        return len(data)


def copy_query() -> str:
    """The download's rows as one SQL statement, with every value worked out by PostgreSQL."""
    from django.contrib.postgres.aggregates import StringAgg
    from django.db import connection
    from django.db.models import Case, CharField, F, Func, IntegerField, OuterRef, Q, Subquery, Value, When
    from django.db.models.functions import Concat, NullIf
    from django.urls import reverse

    from directory.forms import DirectoryFilterForm
    from directory.models import Schedule, Service, ServiceAtLocation, ServiceContact
    from directory.selectors import search_directory
    from organisations.models import Organisation

    def text(*parts):
        return Func(Value(", "), *(NullIf(part, Value("")) for part in parts), function="CONCAT_WS", output_field=CharField())

    def aggregated(queryset, value, ordering):
        rows = queryset.filter(service_id=OuterRef("pk")).order_by().values("service_id")
        return Subquery(rows.annotate(v=StringAgg(value, "; ", ordering=ordering)).values("v"), output_field=CharField())

    def terms(relation):
        return aggregated(getattr(Service, relation).through.objects, "taxonomyterm__name", ("taxonomyterm__order", "taxonomyterm__name"))

    def label(field, choices):
        return Case(*(When(**{field: value}, then=Value(str(name))) for value, name in choices), default=F(field), output_field=CharField())

    def yes_no(field):
        return Case(When(**{field: True}, then=Value("yes")), default=Value("no"), output_field=CharField())

    def age(field):
        return Func(F(field), template="COALESCE(%(expressions)s::text, '')", output_field=CharField())

    def hhmm(field):
        return Func(F(field), Value("HH24:MI"), function="to_char", output_field=CharField())

    org_id = Case(
        *(
            When(~Q(**{f"organisation__{field}": ""}), then=Concat(Value(f"{scheme}-"), F(f"organisation__{field}")))
            for scheme, field in Organisation.IDENTIFIER_FIELDS.items()
        ),
        default=Value(""),
        output_field=CharField(),
    )
    weekdays = Case(*(When(weekday=code, then=Value(str(name))) for code, name in Schedule.WEEKDAY_PLURALS.items()), output_field=CharField())
    day_order = Case(*(When(weekday=code, then=Value(n)) for n, code in enumerate(Schedule.Weekday.values)), output_field=IntegerField())
    schedules = aggregated(
        Schedule.objects.annotate(day_order=day_order),
        Concat(weekdays, Value(" "), hhmm("opens_at"), Value(" to "), hhmm("closes_at"), output_field=CharField()),
        ("day_order", "opens_at", "pk"),
    )
    locations = aggregated(
        ServiceAtLocation.objects,
        text("location__name", "location__address_line_1", "location__address_line_2", "location__town", "location__postcode"),
        ("location__name", "pk"),
    )
    contacts = aggregated(ServiceContact.objects, text("name", "title", "email", "phone"), ("name", "pk"))

    page_before, page_after = reverse("directory:service_detail", kwargs={"slug": "-"}).split("-")

    def listing(parts, separator="; "):
        return Func(Value(separator), *parts, function="CONCAT_WS", output_field=CharField())

    columns = {
        "c_provider_org_id": org_id,
        "c_status": label("status", Service.Status.choices),
        "c_functions": terms("functions"),
        "c_needs": terms("needs"),
        "c_segments": terms("segments"),
        "c_communities": terms("communities"),
        "c_stages": listing([Case(When(**{f"serves_stage_{n}": True}, then=Value(str(n)))) for n in (1, 2, 3)]),
        "c_ages": Case(
            When(minimum_age__isnull=True, maximum_age__isnull=True, then=Value("")),
            default=Concat(age("minimum_age"), Value("-"), age("maximum_age")),
            output_field=CharField(),
        ),
        "c_area": label("geographic_level", Organisation.GeographicLevel.choices),
        "c_wards": terms("wards"),
        "c_locations": locations,
        "c_online": yes_no("is_online"),
        "c_outreach": yes_no("offers_outreach"),
        "c_times": schedules,
        "c_access": listing([
            Case(When(access_drop_in=True, then=Value("drop in"))),
            Case(When(access_self_referral=True, then=Value("self-referral"))),
            Case(When(access_portal_referral=True, then=Value("referral through the portal"))),
            Case(When(access_booking=True, then=Value("booking needed"))),
        ]),
        "c_cost": Case(
            When(is_free=True, then=Value("Free")),
            default=Func(
                Value(" "),
                Concat(Value("£"), Func(F("fee_amount"), Value("FM999999990.00"), function="to_char", output_field=CharField())),
                NullIf("fee_description", Value("")),
                function="CONCAT_WS",
            ),
            output_field=CharField(),
        ),
        "c_languages": terms("languages"),
        "c_contacts": contacts,
        "c_accepting": yes_no("accepting_referrals"),
        "c_page": Concat(Value(page_before), F("slug"), Value(page_after), output_field=CharField()),
    }
    rows = search_directory(DirectoryFilterForm(None).search_filters()).annotate(**columns).values_list(
        "name", "organisation__name", "c_provider_org_id", "description", "c_status", "c_functions", "c_needs",
        "c_segments", "c_communities", "c_stages", "c_ages", "c_area", "area_served", "c_wards", "c_locations",
        "c_online", "c_outreach", "c_times", "schedule_notes", "c_access", "c_cost", "c_languages", "accessibility",
        "c_contacts", "email", "phone", "url", "c_accepting", "last_reviewed_on", "c_page",
    )
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        return cursor.mogrify(sql, params).decode()


def copy_run(sql: str) -> tuple[int, int, float]:
    from django.db import connection

    sink = _NullSink()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY ({sql}) TO STDOUT WITH CSV HEADER", sink)
    return sink.rows - 1, sink.size, time.perf_counter() - started


def download_run(client) -> tuple[int, int, float]:
    started = time.perf_counter()
    response = client.get("/directory/download.csv")
    assert response.status_code == 200, response.status_code
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    return rows - 1, size, time.perf_counter() - started


def child() -> None:
    from django.test import Client

    client = Client()
    client.get("/api/oruk/")  # load the code paths first, so the baseline is a warmed-up process
    sql = copy_query()
    before_mb = peak_memory_mb()
    copy_run(sql)  # warm the database's cache for both
    print(f"{'run':>4} {'COPY rows':>10} {'COPY rows/s':>12} {'CSV rows':>10} {'CSV rows/s':>12} {'CSV/COPY':>9}")
    ratios = []
    for run in range(1, RUNS + 1):
        copy_rows, copy_size, copy_time = copy_run(sql)
        rows, size, elapsed = download_run(client)
        ratio = (rows / elapsed) / (copy_rows / copy_time)
        ratios.append(ratio)
        print(f"{run:>4} {copy_rows:>10,} {copy_rows / copy_time:>12,.0f} {rows:>10,} {rows / elapsed:>12,.0f} {ratio:>8.2f}x"
              f"   (COPY {copy_size / 1e6:.1f} MB in {copy_time:.2f} s; CSV {size / 1e6:.1f} MB in {elapsed:.2f} s)")
        assert rows == copy_rows, (rows, copy_rows)
    peak_mb = peak_memory_mb()
    best = max(ratios)
    print(f"CSV vs COPY of the same rows: median {sorted(ratios)[len(ratios) // 2]:.2f}x, best {best:.2f}x "
          f"(target >= 0.5x: {verdict(sorted(ratios)[len(ratios) // 2] >= 0.5)})")
    print(f"peak process memory {peak_mb:.0f} MB, {before_mb:.0f} MB before the first download (target < 150 MB: {verdict(peak_mb < 150)})")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; figures are indicative, the machine is shared.")


def main() -> None:
    if "--child" in sys.argv:
        setup_django(BENCH_DB, var_dir=VAR_DIR)
        child()
        return
    reuse = "--reuse" in sys.argv  # measure a database kept by an earlier --keep run
    with bench_database(BENCH_DB, var_dir=VAR_DIR, keep=reuse or "--keep" in sys.argv, reuse=reuse) as fresh:
        if fresh:
            load()
        subprocess.run([sys.executable, __file__, "--child"], check=True)


if __name__ == "__main__":
    main()
