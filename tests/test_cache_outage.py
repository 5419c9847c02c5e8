"""Redis going away does not break the pages that read the shared cache (core/cache.py): the API's
throttle and the month calendar answer as with an empty cache, /readyz reports the outage, and locks
(the "locks" cache) fail loudly instead of looking free or taken."""

import time

import pytest
import redis
from django.core.cache import cache, caches
from django.urls import reverse

from tests.celery_worker import RedisServer
from tests.factories import make_event

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture
def own_redis_cache(request, tmp_path, settings):
    """The portal's caches, as settings.py makes them with Redis, on a Redis server of this test's own."""
    server = RedisServer(request, tmp_path)
    server.start()
    shared = {"LOCATION": server.url, "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.TolerantRedisCache", **shared},
        "locks": {"BACKEND": "django.core.cache.backends.redis.RedisCache", **shared},
    }
    return server


def test_pages_that_read_the_cache_keep_working_while_redis_is_down(own_redis_cache, client):
    make_event(title="Outage workshop")
    month, services = reverse("calendar_events:event_month"), "/api/oruk/services?per_page=1"
    assert client.get(month).status_code == 200 and client.get(services).status_code == 200
    cache.set("kept", "yes")
    assert cache.get("kept") == "yes"

    own_redis_cache.stop()
    page = client.get(month)
    assert page.status_code == 200 and "Outage workshop" in page.content.decode()
    assert client.get(services).status_code == 200, "the throttle counts nothing, but the API answers"
    assert cache.get("kept", "missed") == "missed" and cache.add("new", 1) is False
    with pytest.raises(ValueError):
        cache.incr("kept")
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["cache"].startswith("error: ")
    with pytest.raises(redis.RedisError):
        caches["locks"].add("a-lock", "me", 30)  # a lock that cannot be asked is an error, not "taken"

    own_redis_cache.start()  # back, empty
    cache.set("kept", "again")
    assert cache.get("kept") == "again"
    assert client.get("/readyz").status_code == 200


def test_the_cache_keeps_one_redis_client_per_server(own_redis_cache):
    """Django builds a redis.Redis on every cache call; the portal's cache keeps one per connection pool
    (core.cache), and it still reads and writes."""
    shared = cache._cache
    assert shared.get_client("a") is shared.get_client("b") is shared.get_client(None, write=True)
    cache.set("kept", "once")
    assert cache.get("kept") == "once"


def test_a_tracked_value_is_kept_until_redis_reports_a_change(own_redis_cache, monkeypatch):
    """core.cache.get_tracked (the taxonomies' data version on every request): read from Redis once,
    then kept with no round trip until Redis reports a write to the key (another process's, here a
    write on the cache's other connection), or this process forgets it after its own write; while Redis
    is down it reads as missing."""
    from core.cache import forget_tracked, get_tracked

    cache.set("version", "first")
    assert get_tracked(cache, "version") == "first"
    round_trips = []
    real_get = redis.Redis.get
    monkeypatch.setattr(redis.Redis, "get", lambda self, key: round_trips.append(key) or real_get(self, key))
    assert [get_tracked(cache, "version") for _ in range(3)] == ["first"] * 3
    assert round_trips == [], "kept: no round trip while the key is unchanged"

    cache.set("version", "second")  # Redis tells the tracking connection: read afresh
    deadline = time.monotonic() + 2
    while get_tracked(cache, "version") == "first" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert get_tracked(cache, "version") == "second" and len(round_trips) == 1

    cache.set("version", "third")
    forget_tracked(cache, "version")  # as after this process's own write: seen at once
    assert get_tracked(cache, "version") == "third"
    assert get_tracked(cache, "missing", "default") == "default"

    own_redis_cache.stop()
    assert get_tracked(cache, "version", "unknown") == "unknown"
    own_redis_cache.start()  # back, empty
    cache.set("version", "fourth")
    assert get_tracked(cache, "version") == "fourth"
