"""Benchmark of the directory at scale (issue 3): 20,000 organisations and 60,000 services in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/directory_search.py [--keep | --reuse]

Creates a dedicated database (thin_bench_directory, dropped at the end unless --keep), loads it with
fast bulk inserts, then measures in-process server time (Django test client, no network):

- the directory page searching with words and two filters: target p95 < 50 ms;
- ORUK /services?per_page=50: target p95 < 100 ms;
- ORUK /services/{id}, fully nested: target p95 < 30 ms;
- the full CSV download of every service, streamed, in a separate process: peak RSS < 150 MB;

and prints the figures with query counts. The machine is shared: figures are indicative.
"""

import random
import statistics
import subprocess
import sys
import time

from harness import bench_database, peak_memory_mb, percentile, setup_django

BENCH_DB = "thin_bench_directory"
VAR_DIR = "/tmp/thin-bench-var"
ORGANISATIONS = 20_000
SERVICES = 60_000
SEED = 3

WORDS = (
    "advice funding grants training trustees governance volunteers volunteering premises payroll accountancy "
    "finance bookkeeping digital computers website safeguarding youth older women refugees language english "
    "bengali somali health safety quality standards policy research evidence consortium partnership bids "
    "contracts commissioning social enterprise trading business planning leadership management supervision "
    "recruitment employment law contracts leases buildings community centre hall outreach drop-in surgery "
    "workshop course mentoring coaching network forum briefing events newsletter campaign lobbying consultation"
).split()
NAMES = [
    "Funding advice surgery", "Trustee training", "Volunteer brokerage", "Payroll bureau", "IT helpdesk",
    "HR advice line", "Premises advice", "Social enterprise programme", "Quality mentoring", "Bidding support",
    "Small grants", "Policy forum", "Research support", "Health and safety check", "Youth network",
]


def load() -> None:
    from django.db import connection
    from django.utils import timezone

    from directory.models import Location, Schedule, Service, ServiceAtLocation
    from organisations.models import Organisation
    from taxonomies.models import TaxonomyTerm

    rng = random.Random(SEED)
    terms = {code: list(TaxonomyTerm.objects.filter(taxonomy__code=code)) for code in ("functions", "needs", "communities", "languages", "wards", "organisation-kinds", "segments")}
    kinds = {term.code: term for term in terms["organisation-kinds"]}
    started = time.perf_counter()
    organisations = [
        Organisation(
            name=f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} Organisation {n}",
            slug=f"org-{n}",
            activities=" ".join(rng.choices(WORDS, k=12)),
            geographic_level=rng.choice(["local"] * 8 + ["neighbourhood", "regional"]),
            ward=rng.choice(terms["wards"]),
            postcode="E1 6AN",
            details_confirmed_on=timezone.localdate(),
        )
        for n in range(ORGANISATIONS)
    ]
    with connection.cursor() as cursor:
        # A bulk load without the facet triggers (migration 0007), which then refresh every service once.
        cursor.execute("SET session_replication_role = replica")
    Organisation.objects.bulk_create(organisations, batch_size=5000)
    organisations = list(Organisation.objects.order_by("pk"))
    through = Organisation.kinds.through
    through.objects.bulk_create(
        [through(organisation_id=o.pk, taxonomyterm_id=kinds["general" if i % 4 == 0 else "vco"].pk) for i, o in enumerate(organisations)],
        batch_size=10000,
    )
    locations = [
        Location(organisation=o, name=f"Office {o.pk}", address_line_1="1 High Street", postcode="E1 6AN", ward=o.ward,
                 latitude=51.5 + rng.random() / 50, longitude=-0.05 + rng.random() / 30)
        for o in organisations
    ]
    Location.objects.bulk_create(locations, batch_size=5000)
    location_of = dict(Location.objects.values_list("organisation_id", "pk"))
    services = []
    for n in range(SERVICES):
        organisation = organisations[n % ORGANISATIONS]
        services.append(
            Service(
                organisation=organisation,
                name=f"{rng.choice(NAMES)} {n}",
                slug=f"service-{n}",
                description=" ".join(rng.choices(WORDS, k=40)),
                is_free=rng.random() < 0.7,
                fee_amount=None,
                serves_stage_1=rng.random() < 0.7,
                minimum_age=rng.choice([None, None, 16, 18]),
                maximum_age=rng.choice([None, None, 25, 99]),
                last_reviewed_on=timezone.localdate(),
                status=rng.choice(["active"] * 9 + ["paused"]),
            )
        )
    Service.objects.bulk_create(services, batch_size=5000)
    service_rows = list(Service.objects.values_list("pk", "organisation_id"))
    for relation, pool, count in (("functions", "functions", 2), ("needs", "needs", 2), ("communities", "communities", 1), ("languages", "languages", 1)):
        model = getattr(Service, relation).through
        rows = []
        for pk, _org in service_rows:
            for term in rng.sample(terms[pool], count):
                rows.append(model(service_id=pk, taxonomyterm_id=term.pk))
        model.objects.bulk_create(rows, batch_size=20000)
    links = [ServiceAtLocation(service_id=pk, location_id=location_of[org]) for pk, org in service_rows]
    ServiceAtLocation.objects.bulk_create(links, batch_size=20000)
    from datetime import time as clock

    days = ["MO", "TU", "WE", "TH", "FR"]
    Schedule.objects.bulk_create(
        [
            Schedule(service_id=pk, weekday=rng.choice(days), opens_at=clock(rng.choice([9, 10, 13])), closes_at=clock(rng.choice([15, 16, 17])))
            for pk, _org in service_rows
        ],
        batch_size=20000,
    )
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("UPDATE directory_service SET facets = NULL")
        # Compact the table the refresh rewrote, as a restore would leave it; VACUUM FULL leaves the
        # visibility map empty, so a plain VACUUM follows for index-only scans.
        cursor.execute("VACUUM FULL")
        cursor.execute("VACUUM ANALYZE")
    print(f"Loaded {ORGANISATIONS:,} organisations and {SERVICES:,} services in {time.perf_counter() - started:.1f} s")


def measure(client, urls: list[str], label: str, target_ms: float) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls[:3]:  # warm up
        client.get(url)
    times, queries = [], []
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        queries.append(len(captured))
    p50, p95 = statistics.median(times), percentile(times, 0.95)
    verdict = "OK" if p95 < target_ms else "OVER TARGET"
    print(f"{label:<48} n={len(times):>3}  p50={p50:6.1f} ms  p95={p95:6.1f} ms  (target p95 < {target_ms:.0f} ms: {verdict})  queries/request={min(queries)}-{max(queries)}")


def run_measurements() -> None:
    from django.test import Client

    from directory.models import Service

    rng = random.Random(SEED + 1)
    client = Client()
    words = ["funding", "trustees", "payroll", "volunteers", "premises", "safeguarding", "youth", "research", "bengali", "consortium"]
    needs = ["funding-and-fundraising", "payroll", "training", "premises", "ict-support", "governance-and-trustees"]
    languages = ["en", "bn", "syl", "so"]
    search_urls = [
        f"/directory/?q={rng.choice(words)}&need={rng.choice(needs)}&language={rng.choice(languages)}" for _ in range(60)
    ] + [f"/directory/?q={rng.choice(words)}&day={rng.choice(['MO', 'TU', 'WE'])}&free=on" for _ in range(40)]
    measure(client, search_urls, "directory search, words + two filters", 50)
    api_urls = [f"/api/oruk/services?per_page=50&page={page}" for page in range(1, 61)] + [
        f"/api/oruk/services?per_page=50&search={rng.choice(words)}" for _ in range(40)
    ]
    measure(client, api_urls, "ORUK /services?per_page=50 (pages 1-60, searches)", 100)
    deep = [f"/api/oruk/services?per_page=50&page={rng.randint(500, 1200)}" for _ in range(40)]
    measure(client, deep, "ORUK /services?per_page=50, deep pages 500-1200", 100)
    ids = list(Service.objects.order_by("?").values_list("uuid", flat=True)[:100])
    measure(client, [f"/api/oruk/services/{value}" for value in ids], "ORUK /services/{id} fully nested", 30)


def csv_child() -> None:
    """Run in a subprocess: download the whole directory as CSV, report rows, bytes and peak RSS."""
    from django.test import Client

    client = Client()
    client.get("/api/oruk/")  # load the code paths first, so the baseline is a warmed-up process
    baseline_mb = peak_memory_mb()
    print(f"CSV download: process memory before it starts {baseline_mb:.0f} MB")
    started = time.perf_counter()
    response = client.get("/directory/download.csv")
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    peak_mb = peak_memory_mb()
    print(f"CSV download: {rows - 1:,} rows, {size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s; peak process memory {peak_mb:.0f} MB (target < 150 MB: {'OK' if peak_mb < 150 else 'OVER TARGET'})")


def _unthrottled() -> None:
    from django.conf import settings

    settings.PORTAL_ORUK_THROTTLE_RATE = "100000000/minute"


def main() -> None:
    if "--csv-child" in sys.argv:
        setup_django(BENCH_DB, var_dir=VAR_DIR)
        csv_child()
        return
    reuse = "--reuse" in sys.argv  # measure a database kept by an earlier --keep run
    with bench_database(BENCH_DB, var_dir=VAR_DIR, keep=reuse or "--keep" in sys.argv, reuse=reuse) as fresh:
        _unthrottled()
        if fresh:
            load()
        run_measurements()
        subprocess.run([sys.executable, __file__, "--csv-child"], check=True)
        print("Figures are indicative: the machine is shared with other work.")


if __name__ == "__main__":
    main()
