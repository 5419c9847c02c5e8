"""Exactly one beat sends the schedule (thin_portal/beat.py): the lock in the shared cache, and two real
`celery beat` processes against Redis, one sending and one waiting until the first dies."""

import os
import signal
import time

import pytest

from tests.celery_worker import start_beat
from thin_portal.beat import BeatLock


@pytest.fixture
def lock_key(settings):
    from django.core.cache import cache

    key = f"test-beat-lock-{os.getpid()}-{time.monotonic_ns()}"
    yield key
    cache.delete(key)


@pytest.mark.django_db
def test_the_first_owner_holds_the_lock_and_renews_it_others_wait(lock_key):
    first, second = BeatLock(key=lock_key, seconds=30), BeatLock(key=lock_key, seconds=30)
    assert first.hold() is True
    assert second.hold() is False
    assert first.hold() is True, "the holder renews its own lock"
    assert second.hold() is False
    first.release()
    assert second.hold() is True, "a released lock is free for the next beat"
    assert first.hold() is False


@pytest.mark.django_db
def test_an_expired_lock_goes_to_the_next_beat(lock_key):
    first, second = BeatLock(key=lock_key, seconds=1), BeatLock(key=lock_key, seconds=1)
    assert first.hold() and not second.hold()
    time.sleep(2.1)  # the first beat died: it renews no more (the database cache keeps expiry to the second)
    assert second.hold() is True


def _log_says(path, text: str) -> bool:
    return path.exists() and text in path.read_text()


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.mark.redis
def test_of_two_real_beats_one_sends_and_the_other_takes_over_when_it_dies(request, tmp_path, settings):
    # Both beats share the test Redis, and so the cache the lock lives in (REDIS_URL's next database).
    env = {"PORTAL_BEAT_LOCK_SECONDS": "3", "PORTAL_BEAT_WAKE_SECONDS": "1", "PORTAL_CACHE_URL": ""}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_beat(request, log_dir=tmp_path / "a", redis_url=settings.REDIS_URL, env=env)
    assert _wait_for(lambda: _log_says(first.log_path, "this beat sends the schedule"), 30), first.log_path.read_text()
    second = start_beat(request, log_dir=tmp_path / "b", redis_url=settings.REDIS_URL, env=env)
    assert _wait_for(lambda: _log_says(second.log_path, "this beat waits"), 30), second.log_path.read_text()
    time.sleep(3)
    assert not _log_says(second.log_path, "this beat sends the schedule"), "two beats sent the schedule at once"

    first.process.send_signal(signal.SIGKILL)  # a crash: no release
    first.process.wait(timeout=10)
    assert _wait_for(lambda: _log_says(second.log_path, "this beat sends the schedule"), 15), second.log_path.read_text()



class _CacheDown:
    def hold(self):
        raise ConnectionError("Redis went away")

    def release(self):
        raise ConnectionError("Redis went away")


@pytest.mark.django_db
def test_while_the_cache_is_down_each_beat_keeps_its_role(lock_key, tmp_path):
    from thin_portal.beat import SingleBeatScheduler
    from thin_portal.celery import app

    sender = SingleBeatScheduler(app=app, schedule_filename=str(tmp_path / "a"), lazy=True)
    waiter = SingleBeatScheduler(app=app, schedule_filename=str(tmp_path / "b"), lazy=True)
    sender.lock, waiter.lock = BeatLock(key=lock_key, seconds=30), BeatLock(key=lock_key, seconds=30)
    assert sender._hold_lock() is True and waiter._hold_lock() is False
    sender._was_holding, waiter._was_holding = True, False

    sender.lock = waiter.lock = _CacheDown()  # the outage (the broker's too, in production)
    assert sender._hold_lock() is True, "the sender goes on trying to send (and logs what it could not)"
    assert waiter._hold_lock() is False, "the waiter goes on waiting: never two senders"
