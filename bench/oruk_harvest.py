"""Benchmark of harvesting another directory (issue 18): services/s harvested from a second running
portal that lists 10,000 services.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DB_SUFFIX=_me .venv/bin/python bench/oruk_harvest.py [--services N]

Starts a second portal (tests/second_portal.py: its own database, gunicorn with two workers on its own
port) and loads it with N services (bench/directory_search.py's bulk loader, scaled down), then, in this
process on a database of its own (bench/harness.py), measures over real HTTP:

- the baseline: reading every page of its /services?full=true without storing anything (fetching, JSON,
  the schema check of every record and reading it: directory.harvest.read_source);
- a first full harvest, every service new;
- a second full harvest with nothing changed (every record's checksum matches: nothing written);
- an incremental harvest (modified_after) after 100 services changed there.

Each is printed as services/s and as a ratio to the baseline measured in the same run, with the load
average; then the harvesting process's peak memory. The second
portal and this process share the machine (and the machine is shared): figures are indicative.
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from harness import ROOT, bench_database, peak_memory_mb

BENCH_DB = "thin_bench_harvest"
SOURCE_DB = "thin_bench_harvest_source"
VAR_DIR = "/tmp/thin-bench-harvest-var"
CHANGED = 100


def load_source(services: int) -> None:
    """Run inside the second portal's environment (a subprocess): bulk-load its directory."""
    import django

    django.setup()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import directory_search

    directory_search.SERVICES = services
    directory_search.ORGANISATIONS = max(1, services // 3)
    directory_search.load()


def change_source(count: int) -> None:
    """Run inside the second portal's environment: rename `count` services, as their providers would."""
    import django

    django.setup()
    from directory.models import Service

    for service in Service.objects.order_by("pk")[:count]:
        service.name = f"{service.name} (changed)"
        service.save()


def _load() -> str:
    return " ".join(f"{figure:.1f}" for figure in os.getloadavg())


def _timed(label: str, work, services: int, baseline: float | None = None) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    rate = services / seconds if seconds else float("inf")
    ratio = f"  ({rate / baseline:.2f} x the baseline)" if baseline else ""
    ratio += f"  [load {_load()}]"
    print(f"{label:<52} {seconds:7.1f} s  {rate:8.0f} services/s{ratio}")
    return rate, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--load-source", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--change-source", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.load_source:
        return load_source(options.load_source)
    if options.change_source:
        return change_source(options.change_source)

    sys.path.insert(0, str(ROOT))
    from tests.second_portal import second_portal

    script = str(Path(__file__).resolve())
    suffix = os.environ.get("BENCH_DB_SUFFIX", "")

    def run_here(portal, *args: str) -> None:
        subprocess.run([sys.executable, script, *args], cwd=ROOT, env=portal.environment, check=True)

    started = time.perf_counter()
    with second_portal(
        SOURCE_DB + suffix, demo=False, workers=2, prepare=lambda portal: run_here(portal, "--load-source", str(options.services))
    ) as portal:
        print(f"Second portal at {portal.url} with {options.services:,} services, ready in {time.perf_counter() - started:.0f} s")
        with bench_database(BENCH_DB, var_dir=VAR_DIR):
            measure(portal, options.services, run_here)


def measure(portal, services: int, run_here) -> None:
    from core import outbound
    from directory import harvest
    from directory.models import HarvestRun, HarvestSource

    # The second portal is on 127.0.0.1, which the harvester refuses: allowed here, explicitly, only.
    outbound.ALLOWED_TEST_ADDRESSES = frozenset({"127.0.0.1"})
    source = HarvestSource.objects.create(name="Second portal", api_url=portal.api_url, supports_modified_after=True)
    baseline, read = _timed("Baseline: read every page, store nothing", lambda: harvest.read_source(source, kind="full"), services)
    assert len(read.records) == services and not read.skipped, (len(read.records), read.warnings[:3])
    _rate, run = _timed("First full harvest (all new)", lambda: harvest.harvest_source(source_id=source.pk, kind="full"), services, baseline)
    assert run.succeeded and run.created == services, run.error
    _rate, run = _timed("Full harvest again, nothing changed", lambda: harvest.harvest_source(source_id=source.pk, kind="full"), services, baseline)
    assert run.succeeded and run.unchanged == services, run.error
    # The services were loaded minutes ago, within the usual overlap of an incremental harvest (which
    # would then read them all again): a one-second overlap here, so it reads the changes only.
    harvest.OVERLAP = timedelta(seconds=1)
    time.sleep(2)
    run_here(portal, "--change-source", str(CHANGED))
    _rate, run = _timed(f"Incremental harvest, {CHANGED} changed there", lambda: harvest.harvest_source(source_id=source.pk), CHANGED, baseline)
    assert run.succeeded and run.kind == HarvestRun.Kind.INCREMENTAL and run.updated == CHANGED, (run.kind, run.updated, run.error)
    print(f"  ({run.pages} page(s) read)")
    print(f"Peak memory of the harvesting process: {peak_memory_mb():.0f} MB; load average {_load()}")


if __name__ == "__main__":
    main()
