"""Scale-out benchmark (issue 13, item 6 "Load"): wrk against gunicorn on the 60,000-service directory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/scale_out.py [--reuse] [--seconds N]

Uses the database of bench/directory_search.py (thin_bench_directory: 20,000 organisations, 60,000
services), loading it the first time and keeping it for later runs; `--reuse` insists on a loaded one.
Static files are collected into a temporary folder (PORTAL_STATIC_ROOT) as the release step does, and
gunicorn serves the portal in production mode (DEBUG off, Redis db 9 as broker and db 10 as the shared
cache, or BENCH_REDIS_URL's database and the next) on plain HTTP. Three URLs: the home page,
a directory search with words and a need, and ORUK /services?per_page=50; each is warmed up for 2 s,
then measured for `--seconds` with `wrk --latency` and 8 connections in all:

  (a) one gunicorn process of 2 workers, one wrk (-t2 -c8);
  (b) two gunicorn processes of 2 workers each on two ports, on the same database and Redis, with two
      wrk at once (-t1 -c4 each): their req/s added, the worse of their p99s.

With --core-each, each gunicorn process is pinned to a core of its own (taskset): (a) on core 0, (b) on
cores 0 and 1, as if each process had a machine's core to itself; wrk and PostgreSQL are not pinned.

During each measured wrk run the CPU time of the gunicorn processes (master and workers), of the
PostgreSQL backends connected to the bench database and of wrk is read (/proc and getrusage) and printed
per request: unlike req/s, those milliseconds hardly depend on what else the shared machine runs, and
on a machine whose cores all serve the load, req/s relative to the home page is roughly the inverse of
CPU per request relative to the home page's.

Prints req/s and p99 of (a) and (b) side by side with the ratio (b)/(a) per URL, each URL's req/s in (a)
as a share of the home page's (issue 15: the directory search >= 0.2x; --one-process measures (a) only), the load average and
the core count. Any response other than 200 (wrk's "Non-2xx or 3xx responses") or socket error is an
error. The machine is shared: figures are indicative.
"""

import argparse
import http.client
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager

from directory_search import BENCH_DB, SERVICES, VAR_DIR, load
from harness import ROOT, bench_database, database_exists, database_urls, drop_database

# BENCH_REDIS_URL (environment) puts the servers on another Redis database (the cache uses the next one).
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
STATIC_ROOT = os.path.join(tempfile.gettempdir(), "thin-bench-static" + os.environ.get("BENCH_DB_SUFFIX", ""))
URLS = [
    ("home page", "/"),
    ("directory search", "/directory/?q=funding&need=funding-and-fundraising"),
    ("ORUK services, 50 a page", "/api/oruk/services?per_page=50"),
]
WORKERS = 2
CONNECTIONS = 8
WARM_UP_SECONDS = 2
SERVERS: dict[int, int] = {}  # port -> the pid of the gunicorn master serving it


def loaded_services() -> int:
    """How many services the kept database holds (0 when it has no tables yet)."""
    import psycopg2

    _admin_url, bench_url = database_urls(BENCH_DB)
    connection = psycopg2.connect(bench_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('directory_service') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute("SELECT count(*) FROM directory_service")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def prepare_database(reuse: bool) -> None:
    """thin_bench_directory migrated and loaded, kept for the next run."""
    if not (database_exists(BENCH_DB) and loaded_services() == SERVICES):
        if reuse:
            sys.exit(f"--reuse: {BENCH_DB} is not loaded; run without --reuse to load it.")
        drop_database(BENCH_DB)
    with bench_database(BENCH_DB, var_dir=VAR_DIR, keep=True, reuse=True) as fresh:
        if fresh:
            load()


def server_environment() -> dict[str, str]:
    """Production mode on plain HTTP, on the bench database and Redis db 9, with the ORUK throttle set
    high enough never to refuse the load."""
    _admin_url, bench_url = database_urls(BENCH_DB)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "thin_portal.settings",
        "DATABASE_URL": bench_url,
        "REDIS_URL": BENCH_REDIS,
        "PORTAL_STATIC_ROOT": STATIC_ROOT,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        # Per second, so the throttle's history of this one client is a second long, not a minute.
        "PORTAL_ORUK_THROTTLE_RATE": "100000000/second",
        "PORTAL_VAR_DIR": VAR_DIR,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str) -> int:
    """The status of one GET, redirects not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


@contextmanager
def gunicorn(port: int, environment: dict[str, str], log, *, core: int | None = None):
    """One gunicorn process of WORKERS workers on `port`, answering /readyz before this yields; its
    process group is ended afterwards, whatever happened."""
    # Without --no-control-socket, every gunicorn on the machine shares ~/.gunicorn/gunicorn.ctl.
    command = [
        "gunicorn",
        "thin_portal.wsgi",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",
    ]
    pin = ["taskset", "-c", str(core)] if core is not None else []
    process = subprocess.Popen(
        [*pin, sys.executable, "-m", *command],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    SERVERS[port] = process.pid  # taskset runs gunicorn in its own process
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn on port {port} exited with {process.returncode}: see {log.name}")
            try:
                if get(port, "/readyz") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn on port {port} did not answer /readyz within 60 s: see {log.name}")
            time.sleep(0.5)
        yield port
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
                process.wait(timeout=15)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


def parse_wrk(output: str) -> tuple[float, float]:
    """Requests/sec and the 99% latency in ms from `wrk --latency`; non-2xx/3xx responses and socket
    errors are errors."""
    problems = re.findall(r"^\s*(Non-2xx or 3xx responses: \d+|Socket errors: .*)$", output, re.MULTILINE)
    if problems:
        raise RuntimeError("wrk: " + "; ".join(problems) + "\n" + output)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if not (rate and p99):
        raise RuntimeError("wrk printed no Requests/sec or 99% line:\n" + output)
    return float(rate.group(1)), float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (0 if it has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def gunicorn_pids(ports: list[int]) -> list[int]:
    """The gunicorn masters serving `ports` and their workers."""
    masters = [SERVERS[port] for port in ports]
    workers = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            if parent in masters:
                workers.append(int(entry))
    return masters + workers


def backend_pids() -> list[int]:
    """The PostgreSQL backends connected to the bench database (the servers' persistent connections)."""
    import psycopg2

    _admin_url, bench_url = database_urls(BENCH_DB)
    connection = psycopg2.connect(bench_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            return [pid for (pid,) in cursor.fetchall()]
    finally:
        connection.close()


def wrk(ports: list[int], path: str, seconds: int) -> tuple[float, float, dict[str, float]]:
    """wrk on every port at once, CONNECTIONS in all split between them: summed req/s, worst p99, and the
    CPU seconds the gunicorn processes, their database backends and wrk used meanwhile."""
    per_port = CONNECTIONS // len(ports)
    threads = max(1, 2 // len(ports))
    servers, backends = gunicorn_pids(ports), backend_pids()
    before = {pid: cpu_seconds(pid) for pid in servers + backends}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    runs = [
        subprocess.Popen(
            ["wrk", f"-t{threads}", f"-c{per_port}", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}{path}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for port in ports
    ]
    outputs = [run.communicate()[0] for run in runs]
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = {pid: cpu_seconds(pid) - seconds_before for pid, seconds_before in before.items()}
    cpu = {
        "gunicorn": sum(used[pid] for pid in servers),
        "PostgreSQL": sum(used[pid] for pid in backends),
        "wrk": sum(getattr(children_after, f) - getattr(children_before, f) for f in ("ru_utime", "ru_stime")),
    }
    results = [parse_wrk(output) for output in outputs]
    return sum(rate for rate, _p99 in results), max(p99 for _rate, p99 in results), cpu


def measure(ports: list[int], seconds: int) -> dict[str, tuple[float, float, dict[str, float]]]:
    from django.core.cache import cache
    from django.db import connections

    figures = {}
    for _label, path in URLS:
        for port in ports:
            status = get(port, path)
            if status != 200:
                raise RuntimeError(f"GET {path} on port {port} answered {status}, not 200")
        # The ORUK throttle keeps its history in the shared cache: each run starts without another's.
        cache.clear()
        connections.close_all()
        wrk(ports, path, WARM_UP_SECONDS)
        rate, p99, cpu = wrk(ports, path, seconds)
        # CPU milliseconds per request (wrk counts its requests over exactly `seconds`).
        figures[path] = (rate, p99, {part: 1000 * used / (rate * seconds) for part, used in cpu.items()})
    return figures


def cpu_report(one: dict) -> None:
    """(a)'s CPU milliseconds per request, by process, and the total relative to the home page's."""
    home = sum(one[URLS[0][1]][2].values())
    print()
    print(f"{'(a) CPU ms per request':<28}{'gunicorn':>10}{'PostgreSQL':>12}{'wrk':>8}{'total':>8}{'vs home page':>14}")
    for label, path in URLS:
        cpu = one[path][2]
        total = sum(cpu.values())
        print(
            f"{label:<28}{cpu['gunicorn']:>10.2f}{cpu['PostgreSQL']:>12.2f}{cpu['wrk']:>8.2f}{total:>8.2f}"
            f"{total / home:>13.2f}x"
        )
    print("  (PostgreSQL: the backends connected to the bench database; req/s as a share of the home page's is")
    print("  about the inverse of 'vs home page' when the cores are all busy with this load)")


def report(one: dict, two: dict | None, load_before: tuple, load_after: tuple, *, core_each: bool) -> None:
    """Each URL's req/s and p99, and its req/s as a share of the home page's on the same server (issue
    15's baseline: the directory page >= 0.2x the home page)."""
    home = one[URLS[0][1]][0]
    print()
    if two is None:
        print(f"{'':<28}{'(a) 1 process x 2 workers':>28}{'vs home page':>16}")
        print(f"{'URL':<28}{'req/s':>14}{'p99 ms':>14}{'req/s':>16}")
        for label, path in URLS:
            rate_a, p99_a, _cpu = one[path]
            print(f"{label:<28}{rate_a:>14.1f}{p99_a:>14.1f}{rate_a / home:>15.2f}x")
    else:
        print(f"{'':<28}{'(a) 1 process x 2 workers':>28}{'vs home page':>16}{'(b) 2 processes x 2 workers':>30}{'(b)/(a)':>10}")
        print(f"{'URL':<28}{'req/s':>14}{'p99 ms':>14}{'req/s':>16}{'req/s':>16}{'p99 ms':>14}{'req/s':>10}")
        for label, path in URLS:
            (rate_a, p99_a, _cpu_a), (rate_b, p99_b, _cpu_b) = one[path], two[path]
            print(
                f"{label:<28}{rate_a:>14.1f}{p99_a:>14.1f}{rate_a / home:>15.2f}x"
                f"{rate_b:>16.1f}{p99_b:>14.1f}{rate_b / rate_a:>9.2f}x"
            )
    for label, path in URLS:
        print(f"  {label}: {path}")
    cpu_report(one)
    cores = os.cpu_count()
    before, after = (" ".join(f"{x:.2f}" for x in figures) for figures in (load_before, load_after))
    print(f"Load average (1, 5, 15 min): {before} before, {after} after")
    print(f"Cores: {cores}. Issue 13's target: >= 1.7x with twice the processes on a machine with the cores for them.")
    if core_each:
        print(
            "Each gunicorn process had a core of its own (--core-each): (b)/(a) is what a second process on a"
            " second core adds. wrk and PostgreSQL share those cores, so pages that lean on the database gain less."
        )
    elif cores <= 2 * WORKERS:  # (b)'s workers alone are as many as the cores
        print(
            f"On {cores} cores the ratio is bounded by the CPU, not by the design: (a)'s {WORKERS} workers, wrk and"
            " PostgreSQL already keep every core busy, so (b)'s second process has no idle core to serve with."
        )
    print("The machine is shared: figures are indicative.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help=f"use {BENCH_DB} as loaded by an earlier run")
    parser.add_argument("--seconds", type=int, default=10, help="how long each URL is measured (default 10)")
    parser.add_argument("--one-process", action="store_true", help="measure (a) only, e.g. for the ratio to the home page")
    parser.add_argument(
        "--core-each",
        action="store_true",
        help="pin each gunicorn process to a core of its own (taskset): (a) on core 0, (b) on cores 0 and 1",
    )
    args = parser.parse_args()
    # This process clears the cache the servers share (their REDIS_URL's next database, unless
    # BENCH_CACHE_URL names one for both).
    os.environ.setdefault("BENCH_CACHE_URL", re.sub(r"/(\d+)$", lambda m: f"/{(int(m.group(1)) + 1) % 16}", BENCH_REDIS))
    prepare_database(args.reuse)
    environment = server_environment()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=environment, check=True
    )
    load_before = os.getloadavg()
    with tempfile.NamedTemporaryFile("w", prefix="scale-out-gunicorn-", suffix=".log", delete=False) as log:
        print(f"gunicorn output: {log.name}")
        with gunicorn(free_port(), environment, log, core=0 if args.core_each else None) as port:
            print(f"(a) one gunicorn process, {WORKERS} workers, port {port}")
            one = measure([port], args.seconds)
        two = None
        if not args.one_process:
            with ExitStack() as stack:
                ports = [
                    stack.enter_context(gunicorn(free_port(), environment, log, core=n if args.core_each else None))
                    for n in range(2)
                ]
                print(f"(b) two gunicorn processes, {WORKERS} workers each, ports {ports[0]} and {ports[1]}")
                two = measure(ports, args.seconds)
    report(one, two, load_before, os.getloadavg(), core_each=args.core_each)


if __name__ == "__main__":
    main()
