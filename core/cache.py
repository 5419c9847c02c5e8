"""The shared cache when Redis goes away: a miss, not a server error.

Redis is usually both the Celery broker and the cache. The portal rides out a broker outage (what is due
lives in the database); the cache must not undo that by turning every page that reads it (the API's
throttle, the month calendar) into a 500. So the default cache treats an unreachable Redis as empty:
reads miss, writes are dropped, and a warning is logged (at most once a minute per process). /readyz still
reports the outage. Locks are another matter: a lock that cannot be asked must look neither free nor
taken, so they use the "locks" cache, which raises (see settings.CACHES).
"""

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

WARN_EVERY_SECONDS = 60
_last_warning = [0.0]


def _warn(error: RedisError) -> None:
    now = time.monotonic()
    if now - _last_warning[0] > WARN_EVERY_SECONDS:
        _last_warning[0] = now
        logger.warning("The cache (Redis) did not answer (%s): carrying on without it.", error.__class__.__name__)


def _missing(key, *args, **kwargs):
    raise ValueError(f"Key {key!r} not found (the cache did not answer).")


def _answering(name: str, answer):
    """RedisCache's method `name`, answering answer(*its arguments) when Redis cannot be reached."""
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            _warn(error)
            return answer(*args, **kwargs)

    return call


class _KeptClientsRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, keeping one redis.Redis per connection pool: Django builds a new
    one for every call, which cost more CPU than the read itself (about 0.1 ms, on every page that
    reads the cache). A redis.Redis is only a front for its pool and safe to share."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class TolerantRedisCache(RedisCache):
    """Django's Redis cache, with Redis unreachable read as a miss and writes dropped."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _KeptClientsRedisCacheClient

    get = _answering("get", lambda key, default=None, version=None: default)
    get_many = _answering("get_many", lambda *args, **kwargs: {})
    has_key = _answering("has_key", lambda *args, **kwargs: False)
    add = _answering("add", lambda *args, **kwargs: False)
    set = _answering("set", lambda *args, **kwargs: None)
    set_many = _answering("set_many", lambda data, *args, **kwargs: list(data))  # the keys not stored
    touch = _answering("touch", lambda *args, **kwargs: False)
    delete = _answering("delete", lambda *args, **kwargs: False)
    delete_many = _answering("delete_many", lambda *args, **kwargs: None)
    clear = _answering("clear", lambda *args, **kwargs: None)
    incr = _answering("incr", _missing)  # decr goes through incr
