"""A real `celery worker` process for tests of background work: on the test database and the test
Redis, consuming only a queue of its own so that messages left over by other tests cannot interfere.
Also a Redis server of the test's own, to stop and start under the worker, and `celery beat`."""

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import redis
from django.conf import settings
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.db import connection
from kombu import pools as kombu_pools

from thin_portal.celery import app as celery_app


def _drop_broker_pools() -> None:
    kombu_pools.reset()  # kombu's registries of connection and producer pools, one per broker URL
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str):
    """Point this process's Celery app at another broker for the block (a dead or hanging one, say).

    Celery 5.6 publishes through broker_write_url (copied from broker_url at start) and keeps the
    connection and producer pools it first made: both URLs change, and the pools are dropped on the
    way in and out, so the block really uses `url` and later tests the real broker again."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_write_url
    _drop_broker_pools()
    conf.broker_url = conf.broker_write_url = url
    try:
        yield
    finally:
        conf.broker_url, conf.broker_write_url = saved
        _drop_broker_pools()

def test_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_<name> database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{credentials}@" if credentials else ""
    return f"postgres://{host}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


test_database_url.__test__ = False  # a helper, not a test


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _celery_env(redis_url: str, env: dict[str, str] | None, unset: tuple[str, ...]) -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if key not in unset},
        "DJANGO_SETTINGS_MODULE": "thin_portal.settings",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_url,
        **(env or {}),
    }


def start_process(request, command: list[str], *, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop() -> None:
        # Always, pass or fail: a worker left running would hold the test database open.
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()

    request.addfinalizer(stop)
    return process


def start_worker(
    request,
    *,
    log_dir: Path,
    prefix: str,
    env: dict[str, str] | None = None,
    unset: tuple[str, ...] = (),
    redis_url: str | None = None,
    queue: str | None = None,
) -> SimpleNamespace:
    """Start the worker with `env` added to (and `unset` taken from) this process's environment; it is
    stopped, and its queue's keys removed from Redis, when the test ends. `redis_url` and `queue`
    default to the test Redis and a queue of the worker's own."""
    redis_url = redis_url or settings.REDIS_URL
    queue = queue or f"{prefix}-{uuid.uuid4().hex}"

    def forget_queue() -> None:
        try:
            client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
            client.delete(*client.scan_iter(match=f"*{queue}*"), queue)
        except redis.RedisError:
            pass  # a Redis of the test's own, already stopped

    request.addfinalizer(forget_queue)  # finalizers run last first: after the worker has stopped
    log_path = log_dir / "worker.log"
    process = start_process(
        request,
        [sys.executable, "-m", "celery", "-A", "thin_portal", "worker", "--pool=solo", "--loglevel=INFO"]
        + ["-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=_celery_env(redis_url, env, unset),
        log_path=log_path,
    )
    return SimpleNamespace(queue=queue, process=process, log_path=log_path)


def start_beat(request, *, log_dir: Path, redis_url: str, env: dict[str, str] | None = None) -> SimpleNamespace:
    """Start `celery beat` on CELERY_BEAT_SCHEDULE, keeping its schedule file in `log_dir`."""
    log_path = log_dir / "beat.log"
    process = start_process(
        request,
        [sys.executable, "-m", "celery", "-A", "thin_portal", "beat", "--loglevel=INFO"]
        + ["--schedule", str(log_dir / "beat-schedule")],
        env=_celery_env(redis_url, env, ()),
        log_path=log_path,
    )
    return SimpleNamespace(process=process, log_path=log_path)


class RedisServer:
    """A `redis-server` of the test's own on a free port, without persistence, that the test can stop
    (as a crash would: SIGKILL) and start again on the same port, empty."""

    def __init__(self, request, log_dir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = (log_dir / "redis.log").open("a")
        self.process: subprocess.Popen | None = None
        request.addfinalizer(self._finish)

    def start(self, *, timeout: float = 10) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()

    def _finish(self) -> None:
        if self.process and self.process.poll() is None:
            self.stop()
        self.log.close()


class SlowFileEmailBackend(FileEmailBackend):
    """Django's file backend, taking PORTAL_TEST_MAIL_DELAY seconds per message like a slow mail
    server, so that a test can stop the broker while a sweep is still sending."""

    def send_messages(self, email_messages):
        time.sleep(float(os.environ.get("PORTAL_TEST_MAIL_DELAY", "0")) * len(email_messages))
        return super().send_messages(email_messages)
