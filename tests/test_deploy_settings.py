"""Settings come from the environment: production settings pass `check --deploy`, WSGI refuses an insecure
key, and DATABASE_URL / REDIS_URL switch the database and broker.

Each case runs in a fresh Python process, because settings are read once at import time.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
# Variables the settings read; none may leak in from the shell running the tests.
SETTINGS_PREFIXES = ("DJANGO_", "PORTAL_", "EMAIL_", "CELERY_")
SETTINGS_NAMES = {"DATABASE_URL", "REDIS_URL", "DEFAULT_FROM_EMAIL"}

PRINT_SETTINGS = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""), "port": db.get("PORT", ""),
    "user": db.get("USER", ""), "is_postgres": settings.IS_POSTGRES,
    "broker": settings.CELERY_BROKER_URL, "results": settings.CELERY_RESULT_BACKEND,
    "debug": settings.DEBUG, "allowed_hosts": settings.ALLOWED_HOSTS,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE, "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS, "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "email_backend": settings.EMAIL_BACKEND, "email_host": settings.EMAIL_HOST,
}))
"""


def production_env() -> dict[str, str]:
    return {"DJANGO_SECRET_KEY": secrets.token_urlsafe(48), "DJANGO_ALLOWED_HOSTS": "portal.example.org"}


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(SETTINGS_PREFIXES) and key not in SETTINGS_NAMES
    }
    clean.update(DJANGO_SETTINGS_MODULE="thin_portal.settings", PORTAL_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=120)


def settings_in(tmp_path: Path, **env: str) -> dict:
    result = run(["-c", PRINT_SETTINGS], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_key_is_64_characters():
    assert len(production_env()["DJANGO_SECRET_KEY"]) == 64


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output.upper() and "ERROR" not in output.upper(), output
    assert "System check identified no issues" in output


def test_check_deploy_fails_with_debug_on(tmp_path):
    # The check above would catch a warning: with DEBUG on, Django warns (security.W018).
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, DJANGO_DEBUG="1", **production_env()
    )
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_production_settings_are_secure_by_default(tmp_path):
    values = settings_in(tmp_path, EMAIL_HOST="smtp.example.org", **production_env())
    assert values["debug"] is False
    assert values["allowed_hosts"] == ["portal.example.org"]
    assert values["session_cookie_secure"] and values["csrf_cookie_secure"] and values["ssl_redirect"]
    assert values["hsts"] >= 60 * 60 * 24 * 365
    assert values["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["email_host"] == "smtp.example.org"


@pytest.mark.parametrize(
    ("env", "starts"),
    [
        ({"DJANGO_ALLOWED_HOSTS": "portal.example.org"}, False),  # DEBUG off, development key: refused
        (production_env(), True),
        ({"DJANGO_DEBUG": "1"}, True),  # a laptop may use the development key
    ],
    ids=["production-with-development-key", "production-with-own-key", "local-debug"],
)
def test_wsgi_refuses_the_development_key_in_production(tmp_path, env, starts):
    result = run(["-c", "import thin_portal.wsgi"], tmp_path, **env)
    if starts:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY" in result.stderr


def test_database_and_broker_come_from_database_url_and_redis_url(tmp_path):
    values = settings_in(
        tmp_path,
        DATABASE_URL="postgres://thin:secret@db.internal:5433/thin_portal",
        REDIS_URL="redis://cache.internal:6379/2",
    )
    assert values["engine"] == "core.postgresql" and values["is_postgres"]
    assert (values["host"], values["port"], values["name"], values["user"]) == (
        "db.internal",
        5433,
        "thin_portal",
        "thin",
    )
    assert values["broker"] == values["results"] == "redis://cache.internal:6379/2"


def test_without_urls_sqlite_and_a_filesystem_broker_in_the_var_folder(tmp_path):
    values = settings_in(tmp_path)
    var = tmp_path / "var"
    assert values["engine"] == "django.db.backends.sqlite3" and not values["is_postgres"]
    assert values["name"] == str(var / "portal.sqlite3")
    assert values["broker"].startswith("filesystem://")
    assert values["results"] == f"file://{var / 'celery' / 'results'}"
    assert (var / "celery" / "broker").is_dir()
