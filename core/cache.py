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
import os
import time

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError, ResponseError

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


class _TrackedValue:
    """One key's value, read over a connection of its own with Redis's client-side caching on (CLIENT
    TRACKING, RESP3) and kept until Redis says the key changed. Redis then sends that connection a
    message; any data there (that message, or the connection closing) means: read it again. So asking
    whether the kept value still holds is a look at a socket, not a round trip. (Redis tracks key names
    across its databases: a write to the same name in another database only costs a read.)"""

    def __init__(self, url: str, key: str, loads, connection_options: dict):
        self.url, self.key, self.loads, self.connection_options = url, key, loads, connection_options
        self.client, self.pid, self.kept = None, None, None

    def value(self):
        """The key's value (None when missing: not kept, asked again next time); raises RedisError."""
        try:
            if self.client is None or self.pid != os.getpid() or self.client.connection.can_read(timeout=0):
                self.forget()
                client = redis.Redis.from_url(self.url, protocol=3, single_connection_client=True, **self.connection_options)
                client.execute_command("CLIENT", "TRACKING", "ON")
                self.client, self.pid = client, os.getpid()
            if self.kept is None:
                raw = self.client.get(self.key)
                self.kept = None if raw is None else self.loads(raw)
            return self.kept
        except RedisError:
            self.forget()
            raise

    def forget(self) -> None:
        """Read the value afresh next time (on a new connection: nothing is tracked on it yet)."""
        client, self.client, self.kept = self.client, None, None
        if client is not None and self.pid == os.getpid():
            client.close()


class TolerantRedisCache(RedisCache):
    """Django's Redis cache, with Redis unreachable read as a miss and writes dropped."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _KeptClientsRedisCacheClient
        self._tracked: dict[str, _TrackedValue] = {}
        self._untracked = False

    def get_tracked(self, key, default=None):
        """get() for a key read on most requests and seldom written (the taxonomies' data version): its
        value is kept in this process while Redis reports no change to it (_TrackedValue), instead of
        a round trip on every request. A write from this process is seen at once (forget_tracked);
        another process's as soon as Redis's message arrives, within the round trip the write itself
        took."""
        if self._untracked:
            return self.get(key, default)
        made = self.make_and_validate_key(key)
        tracked = self._tracked.get(made)
        if tracked is None:
            # Connected as the cache's other connections are (its OPTIONS: timeouts, parser).
            client = self._cache
            tracked = self._tracked[made] = _TrackedValue(self._servers[0], made, client._serializer.loads, client._pool_options)
        try:
            value = tracked.value()
        except ResponseError:  # a Redis without RESP3 and CLIENT TRACKING (before 6.0): asked every time
            self._untracked = True
            return self.get(key, default)
        except RedisError as error:
            _warn(error)
            return default
        return default if value is None else value

    def forget_tracked(self, key) -> None:
        """get_tracked(key) reads afresh: this process has just written it."""
        tracked = self._tracked.get(self.make_and_validate_key(key))
        if tracked is not None:
            tracked.forget()

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


def get_tracked(cache, key, default=None):
    """cache.get(key, default), from the value kept in this process while it is unchanged when the cache
    is Redis (TolerantRedisCache.get_tracked); other caches are asked each time."""
    get = getattr(cache, "get_tracked", None)  # through django.core.cache.cache's proxy too
    return get(key, default) if get is not None else cache.get(key, default)


def forget_tracked(cache, key) -> None:
    """After this process wrote `key`: its next get_tracked reads it afresh."""
    forget = getattr(cache, "forget_tracked", None)
    if forget is not None:
        forget(key)
