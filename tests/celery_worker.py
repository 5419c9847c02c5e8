"""A real `celery worker` process for tests of background work: on the test database and the test
Redis, consuming only a queue of its own so that messages left over by other tests cannot interfere."""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import redis
from django.conf import settings
from django.db import connection


def test_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_<name> database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{credentials}@" if credentials else ""
    return f"postgres://{host}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


test_database_url.__test__ = False  # a helper, not a test


def start_worker(
    request, *, log_dir: Path, prefix: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = ()
) -> SimpleNamespace:
    """Start the worker with `env` added to (and `unset` taken from) this process's environment; it is
    stopped, and its queue's keys removed from Redis, when the test ends."""
    queue = f"{prefix}-{uuid.uuid4().hex}"
    worker_env = {
        **{key: value for key, value in os.environ.items() if key not in unset},
        "DJANGO_SETTINGS_MODULE": "thin_portal.settings",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        **(env or {}),
    }
    log_path = log_dir / "worker.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "thin_portal", "worker", "--pool=solo", "--loglevel=INFO"]
        + ["-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=settings.BASE_DIR,
        env=worker_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def stop() -> None:
        # Always, pass or fail: a worker left running would hold the test database open.
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.delete(*client.scan_iter(match=f"*{queue}*"), queue)

    request.addfinalizer(stop)
    return SimpleNamespace(queue=queue, process=process, log_path=log_path)
