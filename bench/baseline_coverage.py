"""Baseline coverage (issue 18, item 3), on PostgreSQL, in a database of its own that it creates and drops.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/baseline_coverage.py

Builds 2,000 providers with 10,000 services of their own (1 to 3 functions, 0 to 3 wards, some for a
segment, a third charging a fee) and 5 harvested directories with 2,000 services each (some hidden or
withdrawn), and a baseline of 6 items; then measures, p50/p95 over repeated runs:

1. `baseline_coverage()` (every area against every item) next to `coverage_matrix()` (the provider
   coverage the dashboards already read from the same services) in the same run, as a ratio, with the
   SQL queries each makes;
2. the baseline page as a funder sees it, against under 500 ms;
3. the monthly snapshot (`record_baseline_snapshot`), first and second run of the month.

The machine is shared and busy (the load average is printed), so figures are indicative.
"""

import os
import random
import statistics
import time

from harness import bench_database, percentile, verdict

BENCH_DB = "thin_bench_baseline"
VAR_DIR = "/tmp/thin-bench-baseline-var"
PROVIDERS = 2_000
OWN_SERVICES = 10_000
SOURCES = 5
HARVESTED_PER_SOURCE = 2_000
RUNS = 15


def main() -> None:
    keep = os.environ.get("BENCH_KEEP") == "1"
    with bench_database(BENCH_DB, var_dir=VAR_DIR, keep=keep, reuse=keep) as fresh:
        if fresh:
            build(random.Random(18))
        run()


def build(rng: random.Random) -> None:
    from directory.models import HarvestSource, Service
    from evidence.models import BaselineItem
    from organisations.models import Organisation
    from taxonomies.models import Taxonomy, TaxonomyTerm

    wards = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.WARDS))
    segments = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.SEGMENTS))
    functions = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.FUNCTIONS).filter(parent__isnull=False))
    general = TaxonomyTerm.objects.in_taxonomy(Taxonomy.ORGANISATION_KINDS).get(code=Organisation.KIND_GENERAL)
    sources = [HarvestSource.objects.create(name=f"Directory {n}", api_url=f"https://d{n}.example.org/api/oruk") for n in range(SOURCES)]
    organisations = [Organisation(name=f"Bench provider {n}", slug=f"bench-provider-{n}") for n in range(PROVIDERS)]
    organisations += [
        Organisation(name=f"Harvested provider {n}", slug=f"harvested-provider-{n}", is_harvested=True) for n in range(SOURCES * 200)
    ]
    Organisation.objects.bulk_create(organisations, batch_size=5000)
    own = list(Organisation.objects.filter(slug__startswith="bench-provider-").values_list("pk", flat=True))
    harvested = list(Organisation.objects.filter(slug__startswith="harvested-provider-").values_list("pk", flat=True))
    Organisation.kinds.through.objects.bulk_create(
        [Organisation.kinds.through(organisation_id=pk, taxonomyterm_id=general.pk) for pk in own + harvested], batch_size=10000
    )
    services = []
    for n in range(OWN_SERVICES):
        charges = rng.random() < 0.33
        services.append(
            Service(
                organisation_id=own[n % PROVIDERS], name=f"Service {n}", slug=f"service-{n}", description="Support.",
                status=rng.choice(["active", "active", "active", "paused", "closed"]), is_free=not charges, fee_amount=10 if charges else None,
            )
        )
    for s, source in enumerate(sources):
        for n in range(HARVESTED_PER_SOURCE):
            roll = rng.random()
            services.append(
                Service(
                    organisation_id=harvested[s * 200 + n % 200], name=f"Harvested {s}-{n}", slug=f"harvested-{s}-{n}",
                    description="Support.", source=source, remote_id=str(n), is_hidden=roll < 0.05, is_withdrawn=0.05 <= roll < 0.1,
                )
            )
    Service.objects.bulk_create(services, batch_size=5000)
    rows = {"functions": [], "wards": [], "segments": []}
    for pk, source_id in Service.objects.values_list("pk", "source_id"):
        rows["functions"] += [Service.functions.through(service_id=pk, taxonomyterm_id=t.pk) for t in rng.sample(functions, rng.randint(1, 3))]
        if source_id is None:
            rows["wards"] += [Service.wards.through(service_id=pk, taxonomyterm_id=t.pk) for t in rng.sample(wards, rng.choice([0, 0, 1, 2, 3]))]
        if rng.random() < 0.3:
            rows["segments"].append(Service.segments.through(service_id=pk, taxonomyterm_id=rng.choice(segments).pk))
    for relation, through_rows in rows.items():
        getattr(Service, relation).through.objects.bulk_create(through_rows, batch_size=10000)
    by_code = {t.code: t for t in functions}
    for order, (function, segment, minimum, free, reach) in enumerate(
        [
            ("information-and-advice", None, 1, True, "ward"),
            ("training", None, 2, True, "area"),
            ("information-and-advice", "bme-vcos", 1, False, "area"),
            ("brokerage-of-services", "vcos-managing-volunteers", 1, False, "ward"),
            ("incubation-facilities", None, 3, False, "ward"),
            ("fund-distribution", None, 2, False, "area"),
        ]
    ):
        BaselineItem.objects.create(
            description=f"Item {order}", function=by_code[function], minimum_providers=minimum, free_only=free, reach=reach, order=order,
            segment=next((t for t in segments if t.code == segment), None),
        )


def timed(function, runs: int = RUNS) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
    return times, len(queries)


def run() -> None:
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from directory.models import Service
    from evidence import selectors, services

    print(f"{Service.objects.own().count():,} own services, {Service.objects.exclude(source=None).count():,} harvested, load {os.getloadavg()[0]:.2f}")
    base, base_queries = timed(selectors.coverage_matrix)
    mine, mine_queries = timed(selectors.baseline_coverage)
    coverage = selectors.baseline_coverage()
    print(f"Areas {len(coverage.areas)}, items {len(coverage.items)}, cells {len(coverage.cells)}")
    p50, base_p50 = statistics.median(mine), statistics.median(base)
    print(
        f"baseline_coverage p50 {p50 * 1000:.0f} ms p95 {percentile(mine, 0.95) * 1000:.0f} ms ({mine_queries} queries) against "
        f"coverage_matrix p50 {base_p50 * 1000:.0f} ms ({base_queries} queries): ratio {p50 / base_p50:.2f}, load {os.getloadavg()[0]:.2f}"
    )
    funder = User.objects.create_user(username="bench-funder", password="x", role=User.Role.FUNDER)
    client = Client()
    client.force_login(funder)
    page, _queries = timed(lambda: client.get("/evidence/baseline/"))
    page_p50 = statistics.median(page)
    print(f"/evidence/baseline/ p50 {page_p50 * 1000:.0f} ms p95 {percentile(page, 0.95) * 1000:.0f} ms (target 500 ms): {verdict(page_p50 < 0.5)}")
    today = timezone.localdate()
    for attempt in ("first", "second"):
        started = time.perf_counter()
        rows = services.record_baseline_snapshot(today=today)
        print(f"Snapshot, {attempt} run of the month: {rows} rows in {(time.perf_counter() - started) * 1000:.0f} ms")
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
