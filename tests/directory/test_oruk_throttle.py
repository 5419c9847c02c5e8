"""The Open Referral UK API's throttle: one count per client, shared by every process through the
database cache; X-Forwarded-For read only behind PORTAL_TRUSTED_PROXIES proxies; the rate from
PORTAL_ORUK_THROTTLE_RATE, checked at start-up."""

import importlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection

from tests.celery_worker import free_port
from tests.test_deploy_settings import BASE_DIR, SETTINGS_NAMES, SETTINGS_PREFIXES, run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
SERVICES = "/api/oruk/services"


def _rest_framework(**values) -> dict:
    return {**django_settings.REST_FRAMEWORK, **values}


def test_a_forged_forwarded_for_gets_no_fresh_allowance(client, settings):
    settings.PORTAL_ORUK_THROTTLE_RATE = "3/minute"
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0  # the default: no proxy is trusted
    for n in range(3):
        assert client.get(SERVICES, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code == 200
    response = client.get(SERVICES, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429
    assert response.json()["error"] == "throttled"


def test_behind_one_trusted_proxy_clients_are_told_apart_by_the_right_most_address(client, settings):
    settings.PORTAL_ORUK_THROTTLE_RATE = "2/minute"
    settings.REST_FRAMEWORK = _rest_framework(NUM_PROXIES=1)
    # The proxy appends the address it sees; whatever the client wrote itself is further left.
    for forged in ("10.0.0.1", "10.0.0.2"):
        assert client.get(SERVICES, HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.7").status_code == 200
    assert client.get(SERVICES, HTTP_X_FORWARDED_FOR="10.0.0.3, 203.0.113.7").status_code == 429
    assert client.get(SERVICES, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200



def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_server_processes_share_one_count(client, settings):
    """A second process (gunicorn, on the test database, its rate from the environment) sees the
    requests this process answered, and this one sees its."""
    settings.PORTAL_ORUK_THROTTLE_RATE = "3/minute"
    database = connection.settings_dict
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(SETTINGS_PREFIXES) and key not in SETTINGS_NAMES}
    env.update(
        DJANGO_SETTINGS_MODULE="thin_portal.settings",
        DATABASE_URL=f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        PORTAL_ORUK_THROTTLE_RATE="3/minute",
    )
    if settings.REDIS_URL:  # the same cache as this process: Redis, or else the database's table
        env["REDIS_URL"] = settings.REDIS_URL
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "thin_portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not start within 30 seconds"
                time.sleep(0.2)
        # Both see the client as 127.0.0.1.
        assert client.get(SERVICES).status_code == 200
        assert client.get(SERVICES).status_code == 200
        assert _get(f"http://127.0.0.1:{port}{SERVICES}") == 200
        assert _get(f"http://127.0.0.1:{port}{SERVICES}") == 429
        assert client.get(SERVICES).status_code == 429
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.django_db(transaction=True)  # SQLite changes its schema only outside a transaction
def test_migrate_makes_the_cache_table(settings):
    # The embedded default's cache (without Redis): a table that `migrate` makes.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "portal_cache"}}
    migration = importlib.import_module("thin_portal.migrations.0001_cache_table")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS portal_cache")
    assert "portal_cache" not in connection.introspection.table_names()
    with connection.schema_editor() as editor:
        migration.create_cache_table(None, editor)
    assert "portal_cache" in connection.introspection.table_names()
    cache.set("made", True)
    assert cache.get("made") is True


PRINT = "from django.conf import settings; import json; print(json.dumps([settings.PORTAL_ORUK_THROTTLE_RATE, settings.REST_FRAMEWORK['NUM_PROXIES'], settings.CACHES['default']['BACKEND']]))"


def test_the_rate_and_trusted_proxies_come_from_the_environment(tmp_path):
    result = run(["-c", PRINT], tmp_path)
    assert json.loads(result.stdout.splitlines()[-1]) == ["600/minute", 0, "django.core.cache.backends.db.DatabaseCache"]
    result = run(["-c", PRINT], tmp_path, PORTAL_ORUK_THROTTLE_RATE="20/second", PORTAL_TRUSTED_PROXIES="2")
    assert json.loads(result.stdout.splitlines()[-1])[:2] == ["20/second", 2]


@pytest.mark.parametrize(
    "env, message",
    [
        ({"PORTAL_ORUK_THROTTLE_RATE": "lots"}, "PORTAL_ORUK_THROTTLE_RATE='lots' is not a rate"),
        ({"PORTAL_ORUK_THROTTLE_RATE": "600/fortnight"}, "is not a rate"),
        ({"PORTAL_ORUK_THROTTLE_RATE": "0/minute"}, "is not a rate"),
        ({"PORTAL_TRUSTED_PROXIES": "yes"}, "PORTAL_TRUSTED_PROXIES='yes' must be the number of reverse proxies"),
        ({"PORTAL_TRUSTED_PROXIES": "-1"}, "must be the number of reverse proxies"),
    ],
)
def test_a_bad_rate_or_proxy_count_stops_start_up_with_a_clear_error(tmp_path, env, message):
    result = run(["-c", PRINT], tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
