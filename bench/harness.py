"""What every benchmark here shares: a PostgreSQL database of its own, created next to the one
DATABASE_URL names and dropped afterwards; Django set up on it as a web worker would be; percentiles,
verdicts and peak memory.

    with bench_database("thin_bench_example", var_dir="/tmp/thin-bench-example-var") as fresh:
        if fresh:
            build()
        run()

BENCH_DB_SUFFIX (environment) is added to every benchmark database's name, so that two checkouts can run
benchmarks on one server at once. BENCH_CACHE_URL (environment, a redis:// address) puts the shared cache
in Redis, as a production with REDIS_URL has it, instead of the database table a laptop uses; it is
cleared when Django is set up, as entries kept per data version must not come from another database.
"""

import os
import resource
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _own_name(name: str) -> str:
    return name + os.environ.get("BENCH_DB_SUFFIX", "")


def database_urls(name: str) -> tuple[str, str]:
    """The server's maintenance database and the benchmark's own, on DATABASE_URL's server."""
    name = _own_name(name)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://... (the benchmark creates and drops its own database there).")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), urlunsplit(parts._replace(path=f"/{name}"))


def _maintenance(sql: str, params=None, *, name: str):
    import psycopg2

    admin_url, _bench_url = database_urls(name)
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if cursor.description else None
    finally:
        connection.close()


def database_exists(name: str) -> bool:
    return _maintenance("SELECT 1 FROM pg_database WHERE datname = %s", [_own_name(name)], name=name) is not None


def drop_database(name: str) -> None:
    _maintenance(f"DROP DATABASE IF EXISTS {_own_name(name)}", name=name)


def setup_django(name: str, *, var_dir: str, environment: dict[str, str] | None = None) -> None:
    """Django on the benchmark's database, without Redis for tasks (they run in process), serving the test
    client plain HTTP without a collected static manifest, as the tests do; then settled as a web
    worker is (thin_portal/workers.py)."""
    _admin_url, bench_url = database_urls(name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("PORTAL_VAR_DIR", var_dir)
    os.environ.pop("REDIS_URL", None)
    if os.environ.get("BENCH_CACHE_URL"):
        os.environ["PORTAL_CACHE_URL"] = os.environ["BENCH_CACHE_URL"]
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thin_portal.settings")
    os.environ.update(environment or {})
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()

    from core.files import replace_storages

    replace_storages(staticfiles={"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"})
    from thin_portal.workers import settle

    settle()
    if os.environ.get("BENCH_CACHE_URL"):
        from django.core.cache import cache

        cache.clear()


@contextmanager
def bench_database(
    name: str, *, var_dir: str, keep: bool = False, reuse: bool = False, environment: dict[str, str] | None = None
):
    """A migrated database of the benchmark's own, with Django set up on it. Yields True when it was
    created afresh (the data must be built), False when `reuse` found one kept by an earlier `keep`.
    Dropped at the end unless `keep`."""
    fresh = not (reuse and database_exists(name))
    if fresh:
        drop_database(name)
        _maintenance(f"CREATE DATABASE {_own_name(name)}", name=name)
    setup_django(name, var_dir=var_dir, environment=environment)
    from django.core.management import call_command
    from django.db import connections

    try:
        call_command("migrate", verbosity=0)
        yield fresh
    finally:
        connections.close_all()
        if not keep:
            drop_database(name)


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER TARGET"


def peak_memory_mb() -> float:
    """This process's own peak resident memory. VmHWM belongs to the process's memory map, which starts
    afresh at exec; ru_maxrss would also count the parent's size when it forked this process."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
