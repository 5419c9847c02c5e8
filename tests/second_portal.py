"""A second copy of the portal, really running: its own PostgreSQL database (next to the one DATABASE_URL
names), migrated, with its own demo borough, served by gunicorn on a free local port. For the test that
harvests one portal from another (tests/directory/test_harvest_between_portals.py) and the harvest
benchmark (bench/oruk_harvest.py).

    with second_portal("thin_second") as portal:
        portal.api_url             # http://127.0.0.1:<port>/api/oruk
        portal.manage("shell", "-c", "...")   # a management command on its database
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _maintenance(url: str, sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


@dataclass
class Portal:
    url: str
    database_url: str
    environment: dict[str, str]

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/oruk"

    def manage(self, *args: str, timeout: float = 900) -> str:
        """A management command run on the second portal's database; its output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout


@contextmanager
def second_portal(
    name: str, *, demo: bool = True, prepare: Callable[[Portal], None] | None = None, workers: int = 1
) -> Iterator[Portal]:
    """The second portal on database `name` (created afresh, dropped afterwards): migrated, with the demo
    borough when `demo`, then `prepare(portal)` (to load other data), served until the block ends."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        raise RuntimeError("A second portal needs PostgreSQL: set DATABASE_URL=postgres://...")
    database_url = urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
    port = _free_port()
    var_dir = tempfile.mkdtemp(prefix=f"{name}-var-")
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_", "PORTAL_"))}
    environment.pop("REDIS_URL", None)  # its cache and throttle in its own database, tasks in process
    environment.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "thin_portal.settings",
            "DJANGO_DEBUG": "1",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PORTAL_SITE_URL": f"http://127.0.0.1:{port}",
            "PORTAL_VAR_DIR": var_dir,
            "PORTAL_ORUK_THROTTLE_RATE": "1000000/minute",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
    )
    portal = Portal(url=f"http://127.0.0.1:{port}", database_url=database_url, environment=environment)
    _maintenance(base, f"DROP DATABASE IF EXISTS {name}")
    _maintenance(base, f"CREATE DATABASE {name}")
    server = None
    try:
        portal.manage("migrate", "--noinput")
        if demo:
            portal.manage("load_demo_data")
        if prepare is not None:
            prepare(portal)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "thin_portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_until_up(f"{portal.api_url}/", server)
        yield portal
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        _maintenance(base, f"DROP DATABASE IF EXISTS {name}")


def _wait_until_up(url: str, server: subprocess.Popen, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"The second portal's server stopped (exit {server.returncode}).")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"The second portal did not answer at {url} within {seconds:g} s.")
