"""What the environment switches for running many processes: the shared cache (Redis on its own database
when REDIS_URL is set, else the database table), sessions in the database, JSON logs."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.logging import JsonFormatter
from thin_portal.settings import redis_url_with_next_database


def _settings_in_a_fresh_process(env: dict[str, str], expression: str, *, then: str = "") -> subprocess.CompletedProcess:
    """Print `expression` on django.conf.settings (then run `then`) in a new process with this environment."""
    environment = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    code = f"import django; django.setup(); from django.conf import settings; print({expression}); {then or 'pass'}"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**environment, "DJANGO_SETTINGS_MODULE": "thin_portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("redis_url", "cache_url"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/1"),
        ("redis://:secret@cache.internal:6380/3", "redis://:secret@cache.internal:6380/4"),
        ("rediss://cache.internal:6379/15?ssl_cert_reqs=required", "rediss://cache.internal:6379/0?ssl_cert_reqs=required"),
    ],
)
def test_the_cache_takes_the_next_redis_database(redis_url, cache_url):
    assert redis_url_with_next_database(redis_url) == cache_url


def test_a_redis_url_that_is_not_one_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not a redis"):
        redis_url_with_next_database("http://127.0.0.1:6379/0")


def test_with_redis_the_cache_is_redis_and_sessions_stay_in_the_database():
    result = _settings_in_a_fresh_process(
        {"REDIS_URL": "redis://127.0.0.1:6379/5"},
        "settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'], settings.SESSION_ENGINE,"
        " settings.CACHES['locks']['BACKEND'], settings.CACHES['locks']['LOCATION']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "core.cache.TolerantRedisCache",  # an outage reads as a miss
        "redis://127.0.0.1:6379/6",
        "django.contrib.sessions.backends.db",
        "django.core.cache.backends.redis.RedisCache",  # locks fail loudly
        "redis://127.0.0.1:6379/6",
    ]


def test_portal_cache_url_chooses_the_cache_itself():
    result = _settings_in_a_fresh_process(
        {"REDIS_URL": "redis://127.0.0.1:6379/5", "PORTAL_CACHE_URL": "redis://cache.internal:6379/9"},
        "settings.CACHES['default']['LOCATION']",
    )
    assert result.stdout.strip() == "redis://cache.internal:6379/9", result.stderr


def test_without_redis_the_cache_is_the_database_table():
    result = _settings_in_a_fresh_process(
        {}, "settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'], settings.CACHES['locks']['LOCATION']"
    )
    assert result.stdout.split() == ["django.core.cache.backends.db.DatabaseCache", "portal_cache", "portal_cache"], result.stderr


def test_json_logs_are_one_object_per_line_with_extra_fields_and_the_traceback():
    try:
        raise ValueError("a bad feed")
    except ValueError:
        record = logging.getLogger("calendar_events.feeds_in").makeRecord(
            "calendar_events.feeds_in", logging.ERROR, __file__, 1, "Feed %s failed: \u201c%s\u201d", (7, "caf\u00e9\nline"),
            sys.exc_info(), extra={"feed": 7, "when": object()},
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line, "one line per record, whatever the message holds"
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "calendar_events.feeds_in"
    assert entry["message"] == "Feed 7 failed: \u201ccaf\u00e9\nline\u201d"
    assert entry["feed"] == 7 and entry["when"].startswith("<object object")
    assert "ValueError: a bad feed" in entry["exception"]
    assert entry["time"].endswith("+00:00")


def test_portal_log_format_json_switches_the_console_to_json():
    logs = "import logging; logging.getLogger('thin.test').warning('hello %s', 'there', extra={'feed': 3})"
    result = _settings_in_a_fresh_process({"PORTAL_LOG_FORMAT": "json"}, "1", then=logs)
    lines = [line for line in result.stderr.splitlines() if line.startswith("{")]
    assert lines, result.stderr
    entry = json.loads(lines[-1])
    assert entry["message"] == "hello there" and entry["feed"] == 3 and entry["level"] == "WARNING"


def test_an_unknown_log_format_is_refused():
    result = _settings_in_a_fresh_process({"PORTAL_LOG_FORMAT": "xml"}, "1")
    assert result.returncode != 0 and "PORTAL_LOG_FORMAT='xml'" in result.stderr
