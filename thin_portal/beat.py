"""The beat scheduler that sends the schedule from one process only, however many beats run.

Each beat tries to hold a lock in the shared cache (Redis in production): the first takes it, renews
it on every wake-up, and sends what is due; the others find it taken and wait. If the active beat
dies, its lock expires (PORTAL_BEAT_LOCK_SECONDS) and a waiting beat takes over. Running one beat
process is still the plan (Procfile); the lock makes a second one, started by mistake or by a
redeploy's overlap, harmless. The sweeps are idempotent besides: what is due lives in the database.
"""

import logging
import uuid

from celery.beat import PersistentScheduler
from django.core.cache import caches

logger = logging.getLogger(__name__)

LOCK_KEY = "celery-beat-lock"


class BeatLock:
    """A lock in Django's "locks" cache (the shared cache, which raises when it cannot be asked), held by
    one owner at a time until it expires or is released."""

    def __init__(self, *, key: str = LOCK_KEY, seconds: int | None = None):
        from django.conf import settings

        self.key = key
        self.seconds = seconds or settings.PORTAL_BEAT_LOCK_SECONDS
        self.owner = uuid.uuid4().hex

    def hold(self) -> bool:
        """Take the lock if it is free, or renew it if this owner has it. True while held."""
        cache = caches["locks"]
        if cache.add(self.key, self.owner, self.seconds):
            return True
        if cache.get(self.key) == self.owner:
            return cache.touch(self.key, self.seconds)
        return False

    def release(self) -> None:
        cache = caches["locks"]
        if cache.get(self.key) == self.owner:
            cache.delete(self.key)


class SingleBeatScheduler(PersistentScheduler):
    """celery beat's own scheduler, sending only while it holds the beat lock."""

    def __init__(self, *args, **kwargs):
        from django.apps import apps

        apps.check_apps_ready()  # Celery's Django fixup has set Django up (the lock lives in its cache)
        self.lock = BeatLock()
        self._was_holding = None
        self._cache_down = False
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        holding = self._hold_lock()
        if holding != self._was_holding:
            logger.info("Beat lock %s: this beat %s.", self.lock.key, "sends the schedule" if holding else "waits")
            self._was_holding = holding
        if not holding:
            return self.max_interval
        return super().tick(*args, **kwargs)

    def _hold_lock(self) -> bool:
        """Whether this beat sends now. While the cache cannot be asked (a Redis outage, which is the
        broker's too), each beat keeps the role it had: the sender goes on trying to send, and logs each
        sweep it could not publish, the others go on waiting; never two senders."""
        try:
            holding = self.lock.hold()
        except Exception as error:  # the cache's client raises its own errors: any is an outage here
            if not self._cache_down:
                logger.warning("Beat lock: the cache did not answer (%s); this beat keeps its role.", error.__class__.__name__)
            self._cache_down = True
            return bool(self._was_holding)
        self._cache_down = False
        return holding

    def close(self):
        self.lock.release()
        super().close()
