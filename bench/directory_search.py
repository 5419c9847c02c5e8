"""Benchmark of the directory at scale (issues 3 and 15): 20,000 organisations and 60,000 services in
PostgreSQL, or with --scale 3 three times that (60,000 organisations, 180,000 services).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/directory_search.py \
        [--keep | --reuse] [--scale 3] [--growth] [--no-csv] [--explain N]

Creates a dedicated database (thin_bench_directory, or thin_bench_directory_x3 with --scale 3; dropped
at the end unless --keep), loads it with fast bulk inserts (the facets refreshed once, set-wise, with the
table's secondary indexes built afterwards), then measures in-process server time (Django test client,
no network; after one unmeasured pass over the same pages), each figure next to its baseline measured
in the same run:

- the directory page searching with words and two filters, against the SQL that very page ran (its
  reads, the listing's prepared statement included, taken by an execute wrapper rather than a debug
  cursor, which a served page does not have), re-run directly on a cursor (the database's own
  time): target page/SQL <= 2x at p50, page p95 < 40 ms. Beside it, the CPU time per page of this
  process and the database's backend, against that of the re-run: the ratio a busy machine moves least;
- ORUK /services?per_page=50 (pages 1-60, and searches), likewise against its SQL: target p95 < 60 ms;
- ORUK /services?per_page=50 deep pages, and /services/{id} fully nested, against their SQL;
- the full CSV download of every service, streamed, in a separate process: peak RSS < 150 MB (--no-csv
  leaves it out).

--growth measures the kept 1x and 3x databases one after the other (loading whichever is missing, and
keeping both) and prints each figure's p95 at 3x over its p95 at 1x, then measures the pages of the
figures issue 15 bounds (directory search, ORUK services, ORUK searches) at both scales turn about, URL
by URL, three rounds, each scale in a process of its own: p95 at 3x over 1x, target <= 1.3x, with both
scales under the same load.
--explain N prints EXPLAIN (ANALYZE, BUFFERS) of every read N measured directory searches of each kind
run, on the kept database of --scale (loading it if missing); --dump-sql FILE writes every read of every
measured directory search as JSON, and --replay-growth ONE.json THREE.json replays two such files
(written at 1x and 3x) on the kept databases alternately, search by search, so that both scales run
under the same load: wall p50/p95 and the database's CPU time per search, 3x over 1x.
The machine is shared: figures are indicative; compare the ratios.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

from harness import bench_database, database_urls, peak_memory_mb, percentile, setup_django

BENCH_DB = "thin_bench_directory"
VAR_DIR = "/tmp/thin-bench-var"
ORGANISATIONS = 20_000
SERVICES = 60_000
SEED = 3


def bench_db(scale: int) -> str:
    return BENCH_DB if scale == 1 else f"{BENCH_DB}_x{scale}"

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


def load(scale: int = 1) -> None:
    """`scale` times ORGANISATIONS organisations and SERVICES services, with their places, terms and times."""
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
        for n in range(ORGANISATIONS * scale)
    ]
    with connection.cursor() as cursor:
        # A bulk load without the facet triggers (migration 0004), which then refresh every service once.
        cursor.execute("SET session_replication_role = replica")
    secondary = drop_secondary_indexes("directory_service") + drop_secondary_indexes("directory_service_search")
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
    for n in range(SERVICES * scale):
        organisation = organisations[n % len(organisations)]
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
    loaded = time.perf_counter()
    refresh_facets(secondary)
    print(
        f"Loaded {ORGANISATIONS * scale:,} organisations and {SERVICES * scale:,} services in "
        f"{time.perf_counter() - started:.1f} s (rows {loaded - started:.1f} s, facets, indexes and vacuum "
        f"{time.perf_counter() - loaded:.1f} s; target for --scale 3: under 600 s)"
    )


def drop_secondary_indexes(table: str) -> list[str]:
    """Drop a table's indexes other than its keys and unique constraints, for a bulk load: building them
    afterwards is far quicker than updating them row by row (the search GIN index above all). Returns
    their definitions, for refresh_facets to build them again."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT index.relname, pg_get_indexdef(index.oid) FROM pg_index
               JOIN pg_class index ON index.oid = pg_index.indexrelid
               WHERE pg_index.indrelid = %s::regclass AND NOT pg_index.indisunique""",
            [table],
        )
        secondary = cursor.fetchall()
        for name, _definition in secondary:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in secondary]


def refresh_facets(index_definitions: list[str]) -> None:
    """After a bulk load with the facet triggers off (migration 0004): every service's facets worked out
    once by the migration's own function, then the service table compacted and its secondary indexes
    built, as a restore would leave it.

    ANALYZE first, so that the function's lookups into the freshly filled term, time and place tables
    are planned as index scans (planned on tables last seen empty, they read whole tables: some 13 ms a
    service instead of 0.2 ms)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute("ANALYZE")
        # The row trigger sets them; the statement triggers of directory migration 0010 fill the search rows.
        cursor.execute("UPDATE directory_service SET facets = NULL")
        wait_for_other_snapshots(cursor)
        cursor.execute("VACUUM FULL directory_service")
        for definition in index_definitions:
            cursor.execute(definition)
        # VACUUM FULL leaves the visibility map empty: a plain VACUUM follows, for index-only scans.
        cursor.execute("VACUUM ANALYZE")


def wait_for_other_snapshots(cursor, *, timeout_s: float = 120) -> None:
    """Until no other session in this database holds a snapshot (autovacuum analysing the freshly loaded
    tables): VACUUM FULL copies the old row versions too while one could still see them, and the table
    would stay twice its size, half of every page empty, for the measured scans to read."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL"
        )
        if not cursor.fetchone()[0]:
            return
        time.sleep(1)


# The statements of a page that are re-run as its own SQL: reads only (a cache's write would be a second
# write). EXPLAIN, which estimates a count, is a read; so is EXECUTE of the directory listing's prepared
# query (directory.selectors._listing_statement), sent with its PREPARE the first time in a session.
READS = ("SELECT", "WITH", "EXPLAIN", "EXECUTE", "DEALLOCATE ALL; PREPARE")


@contextmanager
def statements_run():
    """The statements the default connection runs inside the block, as (sql, params), taken by an
    execute wrapper: a function call per statement, where CaptureQueriesContext's debug cursor times,
    formats and logs each one (0.2-0.5 ms of a directory page, measured turn about), which a served page
    never does."""
    from django.db import connection

    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield statements


def reads_of(statements) -> list[str]:
    """The reads among statements_run's statements, in the order they ran, each as the database received
    it (its parameters in place)."""
    from django.db import connection

    with connection.cursor() as cursor:
        sent = [sql if params is None else cursor.mogrify(sql, params).decode() for sql, params in statements]
    return [sql for sql in sent if sql.lstrip().upper().startswith(READS)]


def sql_time_ms(statements: list[str]) -> float:
    """The time the database takes to answer these statements (reads_of a page) again, sent as they were
    on a plain cursor, on the page's own database session, and their rows fetched: the page's own SQL
    without Django around it."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            cursor.fetchall()
    return (time.perf_counter() - started) * 1000


def backend_cpu_ms(pid: int) -> float | None:
    """The CPU time a PostgreSQL backend has used so far (None unless it runs on this machine): work
    done, not time spent waiting for a core, so it hardly depends on what else the machine runs."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms() -> float | None:
    """The CPU time used so far by this process and its database session's backend together."""
    from django.db import connection

    backend = backend_cpu_ms(connection.connection.info.backend_pid) if connection.connection else None
    return None if backend is None else time.process_time() * 1000 + backend


def measure(client, urls: list[str], label: str, *, target_p95_ms: float, target_ratio: float | None = None) -> dict:
    """Each URL's server time, then the SQL it ran timed directly: p50 and p95 of both, and page/SQL;
    and the CPU time of both (this process and the database's, per page: the figure a busy machine
    moves least)."""
    # Warm up on every URL first: the SQL's re-run finds the rows a page has just read in the database's
    # buffers, so a page measured on a cold cache (after another bench, say) would look slower against
    # it than it is.
    for url in urls:
        client.get(url)
    times, sql_times, queries, cpu, sql_cpu = [], [], [], [], []
    for url in urls:
        with statements_run() as captured:
            before, started = cpu_ms(), time.perf_counter()
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - started) * 1000)
            after = cpu_ms()
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        queries.append(len(captured))
        sql_before = cpu_ms()
        sql_times.append(sql_time_ms(reads_of(captured)))
        sql_after = cpu_ms()
        if None not in (before, after, sql_before, sql_after):
            cpu.append(after - before)
            sql_cpu.append(sql_after - sql_before)
    figures = {
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "sql_p50": statistics.median(sql_times),
        "sql_p95": percentile(sql_times, 0.95),
        # Means: the backend's CPU time moves in steps of a clock tick (10 ms), so only sums are precise.
        "cpu": statistics.mean(cpu) if cpu else None,
        "sql_cpu": statistics.mean(sql_cpu) if sql_cpu else None,
    }
    ratio = figures["p50"] / figures["sql_p50"]
    verdicts = [f"p95 < {target_p95_ms:.0f} ms: {'OK' if figures['p95'] < target_p95_ms else 'OVER'}"]
    if target_ratio is not None:
        verdicts.append(f"page/SQL <= {target_ratio:g}x: {'OK' if ratio <= target_ratio else 'OVER'}")
    cpu_figures = (
        f"CPU per page {figures['cpu']:4.1f} against its SQL's {figures['sql_cpu']:4.1f} ms: {figures['cpu'] / figures['sql_cpu']:4.1f}x | "
        if figures["cpu"] and figures["sql_cpu"]
        else ""
    )
    print(
        f"{label:<46} n={len(times):>3}  page p50={figures['p50']:6.1f} p95={figures['p95']:6.1f} ms | "
        f"its SQL p50={figures['sql_p50']:6.1f} p95={figures['sql_p95']:6.1f} ms | page/SQL p50 {ratio:4.1f}x "
        f"p95 {figures['p95'] / figures['sql_p95']:4.1f}x | {cpu_figures}queries {min(queries)}-{max(queries)} | {'; '.join(verdicts)}"
    )
    return figures


SEARCH_WORDS = ["funding", "trustees", "payroll", "volunteers", "premises", "safeguarding", "youth", "research", "bengali", "consortium"]


def directory_search_urls(rng: random.Random) -> list[str]:
    """The directory page's measured searches: words with a need and a language, or with a day and free."""
    needs = ["funding-and-fundraising", "payroll", "training", "premises", "ict-support", "governance-and-trustees"]
    languages = ["en", "bn", "syl", "so"]
    return [
        f"/directory/?q={rng.choice(SEARCH_WORDS)}&need={rng.choice(needs)}&language={rng.choice(languages)}" for _ in range(60)
    ] + [f"/directory/?q={rng.choice(SEARCH_WORDS)}&day={rng.choice(['MO', 'TU', 'WE'])}&free=on" for _ in range(40)]


def explain_searches(count: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every read the first `count` measured directory searches run (and as
    many of each kind: words with a need and a language, words with a day and free)."""
    from django.db import connection
    from django.test import Client

    client = Client()
    urls = directory_search_urls(random.Random(SEED + 1))
    client.get(urls[0])  # warm up
    for url in urls[:count] + urls[60 : 60 + count]:
        with statements_run() as captured:
            client.get(url)
        print(f"=== {url}: {len(captured)} queries")
        for sql in reads_of(captured):
            if not sql.lstrip().upper().startswith(("SELECT", "WITH", "EXECUTE")):
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = [row[0] for row in cursor.fetchall()]
            print(f"--- {sql}")
            print("\n".join(plan))


def dump_search_sql(path: str) -> None:
    """Every read each measured directory search runs, as JSON [[statement, ...], ...] in the order of
    the searches: to replay them against both scales side by side (their SQL's growth measured under
    the same load)."""
    from django.test import Client

    client = Client()
    statements = []
    for url in directory_search_urls(random.Random(SEED + 1)):
        with statements_run() as captured:
            client.get(url)
        statements.append(reads_of(captured))
    with open(path, "w") as file:
        json.dump(statements, file)
    print(f"{len(statements)} searches' SQL written to {path}")


def replay_growth(one_path: str, three_path: str, rounds: int = 3) -> None:
    """Replay --dump-sql files on the kept 1x and 3x databases alternately, search by search, so that
    both scales run under the same load: each scale's wall time p50/p95 per search and, when PostgreSQL
    runs on this machine, its backend's CPU time per search (/proc: work done, not time spent waiting
    for a core), each the median over `rounds` rounds, and 3x over 1x."""
    import psycopg2

    scales = {}
    for scale, path in ((1, one_path), (3, three_path)):
        connection = psycopg2.connect(database_urls(bench_db(scale))[1], options="-c synchronize_seqscans=off")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with open(path) as file:
            scales[scale] = {"connection": connection, "pid": pid, "searches": json.load(file), "rounds": []}
    for number in range(rounds):
        times, cpu = {1: [], 3: []}, {1: 0.0, 3: 0.0}
        for index in range(len(scales[1]["searches"])):
            for scale in (1, 3) if number % 2 == 0 else (3, 1):
                found = scales[scale]
                before = backend_cpu_ms(found["pid"])
                started = time.perf_counter()
                with found["connection"].cursor() as cursor:
                    for sql in found["searches"][index]:
                        cursor.execute(sql)
                        cursor.fetchall()
                times[scale].append((time.perf_counter() - started) * 1000)
                if before is not None:
                    cpu[scale] += backend_cpu_ms(found["pid"]) - before
        for scale in (1, 3):
            count = len(times[scale])
            scales[scale]["rounds"].append((statistics.median(times[scale]), percentile(times[scale], 0.95), cpu[scale] / count))
    figures = {scale: [statistics.median(values[i] for values in scales[scale]["rounds"]) for i in range(3)] for scale in (1, 3)}
    for i, label in enumerate(("wall p50", "wall p95", "server CPU per search")):
        one, three = figures[1][i], figures[3][i]
        print(f"{label:<22} 1x {one:6.2f} ms -> 3x {three:6.2f} ms: {three / one if one else float('nan'):4.2f}x")
    print(f"Load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def growth_urls(rng: random.Random) -> dict[str, list[str]]:
    """The URLs of the figures whose growth from 1x to 3x issue 15 bounds, drawn as run_measurements
    draws them (the same `rng` gives the same URLs at either scale)."""
    search_urls = directory_search_urls(rng)
    pages = [f"/api/oruk/services?per_page=50&page={page}" for page in range(1, 61)]
    searches = [f"/api/oruk/services?per_page=50&search={rng.choice(SEARCH_WORDS)}" for _ in range(40)]
    return {"directory search": search_urls, "ORUK services": pages + searches, "ORUK searches": searches}


def run_measurements() -> dict:
    from django.test import Client

    from directory.models import Service

    rng = random.Random(SEED + 1)
    client = Client()
    urls = growth_urls(rng)
    results = {}
    results["directory search"] = measure(client, urls["directory search"], "directory search, words + two filters", target_p95_ms=40, target_ratio=2)
    results["ORUK services"] = measure(client, urls["ORUK services"], "ORUK /services?per_page=50 (pages 1-60, searches)", target_p95_ms=60)
    results["ORUK searches"] = measure(client, urls["ORUK searches"], "ORUK /services?per_page=50&search= alone", target_p95_ms=60)
    deep = [f"/api/oruk/services?per_page=50&page={rng.randint(500, 1200)}" for _ in range(40)]
    results["ORUK deep pages"] = measure(client, deep, "ORUK /services?per_page=50, deep pages 500-1200", target_p95_ms=100)
    ids = list(Service.objects.order_by("?").values_list("uuid", flat=True)[:100])
    results["ORUK service"] = measure(client, [f"/api/oruk/services/{value}" for value in ids], "ORUK /services/{id} fully nested", target_p95_ms=30)
    print(f"Load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return results


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the database for a later --reuse")
    parser.add_argument("--reuse", action="store_true", help="measure a database kept by an earlier --keep run")
    parser.add_argument("--scale", type=int, default=1, help="times 20,000 organisations and 60,000 services (3 for issue 15)")
    parser.add_argument("--growth", action="store_true", help="measure the kept 1x and 3x databases and print p95 at 3x / 1x")
    parser.add_argument("--no-csv", action="store_true", help="leave out the full CSV download")
    parser.add_argument("--explain", type=int, metavar="N", help="with --reuse: EXPLAIN (ANALYZE, BUFFERS) the SQL of N searches of each kind")
    parser.add_argument("--dump-sql", metavar="FILE", help="with --reuse: write the measured directory searches' SQL as JSON")
    parser.add_argument("--replay-growth", nargs=2, metavar=("ONE_JSON", "THREE_JSON"), help="replay --dump-sql files on the kept 1x and 3x databases alternately")
    parser.add_argument("--csv-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-pages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    name = bench_db(args.scale)
    if args.csv_child or args.serve_pages:
        setup_django(name, var_dir=VAR_DIR)
        if args.csv_child:
            csv_child()
        else:
            serve_pages()
        return
    if args.replay_growth:
        replay_growth(*args.replay_growth)
        return
    if args.explain or args.dump_sql:
        with bench_database(name, var_dir=VAR_DIR, keep=True, reuse=True) as fresh:
            if fresh:
                load(args.scale)
            if args.explain:
                explain_searches(args.explain)
            if args.dump_sql:
                dump_search_sql(args.dump_sql)
        return
    if args.growth:
        growth(no_csv=args.no_csv)
        return
    with bench_database(name, var_dir=VAR_DIR, keep=args.reuse or args.keep, reuse=args.reuse) as fresh:
        _unthrottled()
        if fresh:
            load(args.scale)
        results = run_measurements()
        if not args.no_csv:
            subprocess.run([sys.executable, __file__, "--csv-child", "--scale", str(args.scale)], check=True)
        print("Figures are indicative: the machine is shared with other work.")
    if args.json:
        print("RESULTS " + json.dumps(results))


# --growth's pages taken turn about: each measured URL this many times at each scale.
GROWTH_ROUNDS = 3


def serve_pages() -> None:
    """Run in a subprocess (--serve-pages): answer each URL read from stdin in process, as measure does,
    and write a line of its wall and CPU milliseconds (this process and its database backend)."""
    from django.test import Client

    _unthrottled()
    client = Client()
    for line in sys.stdin:
        url = line.strip()
        before, started = cpu_ms(), time.perf_counter()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        wall, after = (time.perf_counter() - started) * 1000, cpu_ms()
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        cpu = after - before if None not in (before, after) else None
        print("PAGE " + json.dumps({"ms": wall, "cpu": cpu}), flush=True)


def pages_turn_about() -> dict[str, dict[int, dict]]:
    """{figure: {scale: {"p50", "p95", "cpu"}}} of growth_urls' pages at 1x and 3x, each scale served by
    a process of its own on its kept database and asked turn about, URL by URL (which scale goes first
    alternating), GROWTH_ROUNDS times: both scales under the same load, which one scale after the other
    on a shared machine cannot promise, and a p95 of three times as many pages."""
    children = {
        scale: subprocess.Popen(
            [sys.executable, __file__, "--serve-pages", "--scale", str(scale)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for scale in (1, 3)
    }

    def ask(scale: int, url: str) -> dict:
        child = children[scale]
        child.stdin.write(url + "\n")
        child.stdin.flush()
        while line := child.stdout.readline():
            if line.startswith("PAGE "):
                return json.loads(line[5:])
        raise SystemExit(f"the {scale}x process stopped at {url}")

    urls = growth_urls(random.Random(SEED + 1))
    times: dict[str, dict[int, list[dict]]] = {label: {1: [], 3: []} for label in urls}
    try:
        for label_urls in urls.values():
            for url in label_urls[:3]:  # warm up
                for scale in children:
                    ask(scale, url)
        for round_number in range(GROWTH_ROUNDS):
            for label, label_urls in urls.items():
                for index, url in enumerate(label_urls):
                    for scale in (1, 3) if (index + round_number) % 2 == 0 else (3, 1):
                        times[label][scale].append(ask(scale, url))
    finally:
        for child in children.values():
            child.stdin.close()
            child.wait()
    figures = {}
    for label, by_scale in times.items():
        figures[label] = {}
        for scale, pages in by_scale.items():
            walls, cpus = [page["ms"] for page in pages], [page["cpu"] for page in pages if page["cpu"] is not None]
            figures[label][scale] = {
                "p50": statistics.median(walls),
                "p95": percentile(walls, 0.95),
                "cpu": statistics.mean(cpus) if cpus else None,
                "n": len(walls),
            }
    return figures


def growth(*, no_csv: bool) -> None:
    """Both scales measured in one run, their databases kept: each scale's figures in a process of its
    own, one after the other (with the SQL's growth), then the pages at both scales turn about
    (pages_turn_about): p95 at 3x over 1x, the figure issue 15 bounds."""
    found = {}
    for scale in (1, 3):
        print(f"--- {scale}x: {ORGANISATIONS * scale:,} organisations, {SERVICES * scale:,} services")
        command = [sys.executable, __file__, "--reuse", "--keep", "--scale", str(scale), "--json", "--no-csv"]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        print("\n".join(line for line in output.splitlines() if not line.startswith("RESULTS ")))
        found[scale] = json.loads(next(line for line in output.splitlines() if line.startswith("RESULTS "))[8:])
    print("--- growth from 1x to 3x in the runs above, one scale after the other: p95, the SQL's own and CPU time per page")
    for label, one in found[1].items():
        three = found[3][label]
        cpu = (
            f" | CPU per page {one['cpu']:5.1f} -> {three['cpu']:5.1f} ms: {three['cpu'] / one['cpu']:4.2f}x"
            if one.get("cpu") and three.get("cpu")
            else ""
        )
        print(
            f"{label:<20} page p95 {one['p95']:6.1f} -> {three['p95']:6.1f} ms: {three['p95'] / one['p95']:4.2f}x"
            f" | its SQL p95 {one['sql_p95']:6.1f} -> {three['sql_p95']:6.1f} ms: {three['sql_p95'] / one['sql_p95']:4.2f}x{cpu}"
        )
    print(f"--- growth from 1x to 3x, the pages at both scales turn about, {GROWTH_ROUNDS} rounds (target: p95 <= 1.3x)")
    for label, scales in pages_turn_about().items():
        one, three = scales[1], scales[3]
        ratio = three["p95"] / one["p95"]
        cpu = (
            f" | CPU per page {one['cpu']:5.1f} -> {three['cpu']:5.1f} ms: {three['cpu'] / one['cpu']:4.2f}x"
            if one["cpu"] and three["cpu"]
            else ""
        )
        print(
            f"{label:<20} n={one['n']:>3} each  page p95 {one['p95']:6.1f} -> {three['p95']:6.1f} ms: {ratio:4.2f}x"
            f" ({'OK' if ratio <= 1.3 else 'OVER'}) | p50 {one['p50']:6.1f} -> {three['p50']:6.1f} ms: {three['p50'] / one['p50']:4.2f}x{cpu}"
        )
    print(f"Load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
