"""Shared fixtures. Tests that need PostgreSQL, Redis, Chromium or moto's S3 server are marked; where
those are absent they skip with the reason, except under PORTAL_REQUIRE_SERVICES=1 (set by .ci/run),
where they fail."""

import functools
import os
import shutil

import pytest
from django.conf import settings

# The S3 server fixtures (moto), for tests marked `s3`.
pytest_plugins = ["tests.object_storage"]

REQUIRE_SERVICES = os.environ.get("PORTAL_REQUIRE_SERVICES") == "1"
# Chromium for the browser tests: PORTAL_CHROMIUM, else the first on the PATH, else Debian's.
CHROMIUM = (
    os.environ.get("PORTAL_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
    or shutil.which("google-chrome")
    or "/usr/bin/chromium"
)


def pytest_configure(config):
    # Plain HTTP in tests, no manifest needed for static files, fast password hashing.
    settings.SECURE_SSL_REDIRECT = False
    from core.files import replace_storages

    replace_storages(staticfiles={"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"})
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _redis_available() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


# axe-core, from the npm registry (package.json; `make install` runs npm ci): the browser tests check every
# page state they visit with it.
AXE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "node_modules", "axe-core", "axe.min.js"
)


def _chromium_available() -> bool:
    return os.path.exists(CHROMIUM) and os.path.exists(AXE)


@functools.cache
def _moto_server_available() -> bool:
    try:
        import moto.server  # noqa: F401  (with its web server's packages: moto[server])
    except ImportError:
        return False
    return True


SERVICES = {
    "postgres": (lambda: settings.IS_POSTGRES, "needs PostgreSQL: set DATABASE_URL=postgres://..."),
    "redis": (_redis_available, "needs Redis: set REDIS_URL=redis://... to a running server"),
    "browser": (
        _chromium_available,
        "needs Chromium (set PORTAL_CHROMIUM, or put chromium on the PATH: apt-get install chromium) and axe-core (npm ci)",
    ),
    "s3": (_moto_server_available, "needs moto's S3 server: pip install 'moto[server]' (in requirements.txt)"),
}


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path_factory):
    """Uploaded files, public (MEDIA_ROOT) and private (PRIVATE_FILES_ROOT), never land in the project."""
    root = tmp_path_factory.mktemp("uploads")
    settings.MEDIA_ROOT = root / "media"
    settings.PRIVATE_FILES_ROOT = root / "private"


@pytest.fixture(autouse=True)
def _required_services(request):
    for marker, (available, reason) in SERVICES.items():
        if request.node.get_closest_marker(marker) and not available():
            if REQUIRE_SERVICES:
                pytest.fail(f"{reason} (PORTAL_REQUIRE_SERVICES=1, so this is a failure, not a skip)")
            pytest.skip(reason)


@pytest.fixture(autouse=True)
def _nothing_kept_from_terms():
    """What a process keeps from the terms (taxonomies.selectors.built_from_terms) is keyed by a data
    version that a test's rolled-back transaction does not move on: each test starts without it, and
    without the directory's size as last read (directory.search.table_rows)."""
    from directory.search import forget_table_rows
    from taxonomies.selectors import forget_built_terms

    forget_built_terms()
    forget_table_rows()


@pytest.fixture(autouse=True)
def _vocabulary_after_flush(request):
    """Transactional tests flush the database after each test, taking what the data migrations seeded
    (the vocabulary, the quality standard, the health check and the statement pages) with it; put it back so every test
    starts from a migrated database."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not (marker.kwargs.get("transaction") or (len(marker.args) > 0 and marker.args[0])):
        return
    request.getfixturevalue("transactional_db")
    from quality.models import Criterion, FrameworkVersion, HealthCheckArea, HealthCheckQuestion, StandardArea
    from quality.seed import seed_framework, seed_health_check
    from site_pages.defaults import seed_pages
    from site_pages.models import SitePage
    from taxonomies.models import Taxonomy, TaxonomyTerm
    from taxonomies.vocabulary import seed_taxonomies

    seed_taxonomies(Taxonomy, TaxonomyTerm)
    seed_pages(SitePage)
    seed_framework(FrameworkVersion, StandardArea, Criterion)
    seed_health_check(HealthCheckArea, HealthCheckQuestion, TaxonomyTerm)
