"""Redis going away does not break the pages that read the shared cache (core/cache.py): the API's
throttle and the month calendar answer as with an empty cache, /readyz reports the outage, and locks
(the "locks" cache) fail loudly instead of looking free or taken."""

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
