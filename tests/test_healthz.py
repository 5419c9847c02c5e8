"""/healthz (liveness: the process answers, nothing else is asked) and /readyz (database, cache, broker and
file storage reported separately, quickly, even when the broker is down or hangs)."""

import socket
import threading
import time
from contextlib import ExitStack

import pytest
from django.db import OperationalError

from tests.celery_worker import broker_at as celery_broker_at
from thin_portal import views

pytestmark = pytest.mark.django_db

# A load balancer typically gives a probe a few seconds; the page must answer well within that.
QUICK = 2.5


@pytest.fixture
def broker_at():
    with ExitStack() as stack:
        yield lambda url: stack.enter_context(celery_broker_at(url))


@pytest.fixture
def hanging_server():
    """A TCP server that accepts connections and never answers, like a wedged Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for connection in accepted:
        connection.close()
    server.close()


def timed_get(client, path="/readyz"):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


READY = {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"}


def test_readyz_is_200_when_every_dependency_answers(client):
    response, _ = timed_get(client)
    assert response.status_code == 200
    assert response.json() == READY
    assert "no-cache" in response["Cache-Control"]


def test_healthz_asks_no_dependency_and_answers_while_they_are_down(client, broker_at, monkeypatch):
    broker_at("redis://127.0.0.1:1/0")

    class Unreachable:
        def cursor(self):
            raise OperationalError("could not connect to server")

    monkeypatch.setattr(views, "connection", Unreachable())
    response, elapsed = timed_get(client, "/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert elapsed < 0.5
    assert timed_get(client)[0].status_code == 503, "while readiness reports the outage"


def test_readyz_is_503_when_the_cache_fails(client, monkeypatch):
    class Forgetful:
        def set(self, *args, **kwargs):
            pass

        def get(self, *args, **kwargs):
            return None

        def delete(self, *args, **kwargs):
            pass

    monkeypatch.setattr(views, "cache", Forgetful())
    response, _ = timed_get(client)
    assert response.status_code == 503
    assert response.json() == {**READY, "status": "error", "cache": "error: LookupError"}


def test_readyz_is_503_when_file_storage_cannot_be_read(client, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the uploads folder should be")
    settings.MEDIA_ROOT = blocked / "media"  # stat() under a file: NotADirectoryError
    response, _ = timed_get(client)
    assert response.status_code == 503
    assert response.json()["storage"].startswith("error: ")
    assert str(tmp_path) not in response.json()["storage"], "a public endpoint does not give out paths"


def test_readyz_is_503_and_quick_when_the_broker_is_down(client, broker_at):
    broker_at("redis://127.0.0.1:1/0")
    response, elapsed = timed_get(client)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["broker"].startswith("error: ")
    assert "127.0.0.1" not in body["broker"], "a public endpoint does not give out addresses"
    assert elapsed < QUICK


def test_readyz_gives_up_on_a_broker_that_never_answers(client, broker_at, hanging_server):
    broker_at(f"redis://127.0.0.1:{hanging_server}/0")
    response, elapsed = timed_get(client)
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error: ")
    assert elapsed < QUICK


def test_readyz_is_503_when_the_database_is_down(client, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise OperationalError("could not connect to server")

    monkeypatch.setattr(views, "connection", Unreachable())
    response, _ = timed_get(client)
    assert response.status_code == 503
    assert response.json() == {**READY, "status": "error", "database": "error: OperationalError"}
