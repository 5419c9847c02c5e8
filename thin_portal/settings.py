"""Settings for the THIN Community Portal.

Everything that differs between a laptop and production comes from the environment:

- nothing set: SQLite in ``var/``, Celery on a filesystem broker in ``var/celery`` (no Redis needed);
- ``DATABASE_URL=postgres://...`` switches to PostgreSQL;
- ``REDIS_URL=redis://...`` switches Celery's broker and result store to Redis;
- ``DJANGO_DEBUG=1`` for local development only.

See README.md, "Configuration", for the full list.
"""

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")

# The fallback key is for local development and tests only; wsgi.py refuses to serve with it.
INSECURE_DEVELOPMENT_KEY = "django-insecure-thin-portal-local-development-only"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", INSECURE_DEVELOPMENT_KEY)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# The public address of the portal, used for links in emails and feeds.
SITE_URL = os.environ.get("PORTAL_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = os.environ.get("PORTAL_SITE_NAME", "THIN Community Portal")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "bootstrap",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "simple_history",
    "thin_portal",
    "core",
    "accounts",
    "taxonomies",
    "notifications",
    "site_pages",
    "organisations",
    "directory",
    "referrals",
    "calendar_events",
    "quality",
    "evidence",
    # Last, as it asks: a file replaced in, or deleted with, its record is deleted from storage once the
    # transaction commits (nothing is deleted if it rolls back). History rows keep only the file's name.
    "django_cleanup",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "thin_portal.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "thin_portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "thin_portal.context_processors.portal",
            ],
        },
    },
]

# Widgets come from the project's templates too (the day/month/year date boxes), and every form's
# long text boxes get a character count: see core.forms.PortalFormRenderer.
FORM_RENDERER = "core.forms.PortalFormRenderer"

WSGI_APPLICATION = "thin_portal.wsgi.application"

# Database: SQLite by default, anything dj-database-url understands via DATABASE_URL.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # Django's backend, with a connection health check that asks the server only when the connection
        # has heard from it (core/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "core.postgresql"
        # A database host that silently drops packets must not hang requests (or /healthz) for minutes.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
        # A search with many matches ranks the first ones a scan of the table finds (directory.search.
        # ranked_ids): with synchronised scans on, a scan of a large table starts where the last one
        # stopped, so the same search would rank other services on every request and its pages would
        # repeat or skip results.
        DATABASES["default"]["OPTIONS"].setdefault("options", "-c synchronize_seqscans=off")
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "portal.sqlite3",
            # The web process and the Celery worker share the file: wait for locks, write-ahead log.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# Covering indexes (INCLUDE columns) are for PostgreSQL; SQLite builds them on their key columns
# alone, which is all a laptop's demo needs, so its warning about that is not shown.
SILENCED_SYSTEM_CHECKS = [] if IS_POSTGRES else ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", _("English"))]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("PORTAL_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("PORTAL_MEDIA_ROOT", BASE_DIR / "media"))
# Files whose record is not always public (notice attachments, quality evidence, support materials,
# member imports awaiting confirmation, evidence packs): kept outside MEDIA_ROOT, which anyone can read
# at /media/, and sent only through views that check who is asking (core/files.py); on object storage
# (below), in the bucket's private/ instead. PORTAL_QUALITY_FILES_ROOT is its former name.
PRIVATE_FILES_ROOT = Path(
    os.environ.get("PORTAL_PRIVATE_FILES_ROOT")
    or os.environ.get("PORTAL_QUALITY_FILES_ROOT")
    or VAR_DIR / "private-files"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Every private file, whatever the app (core.files.private_file_storage).
    "private": {"BACKEND": "core.files.PrivateFileStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Files on S3-compatible object storage, for more than one machine (README.md, "Files on object storage"):
# PORTAL_STORAGE_URL=s3://BUCKET[/PREFIX]?endpoint_url=https://...&region_name=... (both parameters
# optional), or django-storages' own AWS_STORAGE_BUCKET_NAME with AWS_S3_ENDPOINT_URL and
# AWS_S3_REGION_NAME; the URL wins if both are set. Credentials are boto3's, never in the URL:
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the machine's role). Public files (logos) go under
# <PREFIX>public/ and are linked at their plain bucket address (or AWS_S3_CUSTOM_DOMAIN, a CDN in front);
# private ones (attachments, evidence, materials, imports awaiting confirmation, evidence packs) under
# <PREFIX>private/, readable only with the portal's credentials and sent through its views.
S3_BACKEND = "storages.backends.s3.S3Storage"
STORAGE_URL_FORM = "s3://BUCKET[/PREFIX]?endpoint_url=https://...&region_name=..."
BUCKET_NAME_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _storage_url_problem(parts) -> str:
    """What is wrong with PORTAL_STORAGE_URL (split by urlsplit), or "" if nothing is."""
    if parts.scheme != "s3":
        return "it must start with s3://"
    if "@" in parts.netloc:
        return "credentials go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not in the URL"
    if not BUCKET_NAME_RE.fullmatch(parts.netloc):
        return f"{parts.netloc!r} is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)"
    if ".." in parts.path.split("/") or parts.fragment:
        return "the prefix after the bucket must be a plain folder name"
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        return "the part after ? must be name=value pairs joined by &"
    unknown = sorted(set(query) - {"endpoint_url", "region_name"})
    if unknown:
        return f"it has unknown parameters ({', '.join(unknown)}); only endpoint_url and region_name are read"
    if any(len(values) != 1 or not values[0].strip() for values in query.values()):
        return "endpoint_url and region_name may each be given once, with a value"
    endpoint = urlsplit(query.get("endpoint_url", [""])[0])
    if "endpoint_url" in query and (endpoint.scheme not in ("http", "https") or not endpoint.hostname):
        return "endpoint_url must be an http:// or https:// address"
    return ""


def parse_storage_url(url: str) -> dict:
    """PORTAL_STORAGE_URL's bucket, prefix ("" or ending in /), endpoint_url and region_name (None when not
    given). The URL is not repeated in the error, in case someone put a secret in it."""
    parts = urlsplit(url.strip())
    problem = _storage_url_problem(parts)
    if problem:
        raise ImproperlyConfigured(
            f"PORTAL_STORAGE_URL is not a storage URL: {problem}. Write it as {STORAGE_URL_FORM}."
        )
    query = parse_qs(parts.query)
    prefix = parts.path.strip("/")
    return {
        "bucket_name": parts.netloc,
        "prefix": f"{prefix}/" if prefix else "",
        "endpoint_url": query.get("endpoint_url", [None])[0],
        "region_name": query.get("region_name", [None])[0],
    }


def object_storage_from_environment() -> dict | None:
    """The bucket (and prefix, endpoint, region) files are kept in, or None for the local disk."""
    if os.environ.get("PORTAL_STORAGE_URL", "").strip():
        location = parse_storage_url(os.environ["PORTAL_STORAGE_URL"])
    elif os.environ.get("AWS_STORAGE_BUCKET_NAME", "").strip():
        location = {
            "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"].strip(),
            "prefix": "",
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
        }
    else:
        return None
    return {**location, "custom_domain": os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None}


def object_storages(*, bucket_name, prefix="", endpoint_url=None, region_name=None, custom_domain=None) -> dict:
    """STORAGES["default"] (public files: public-read, plain addresses) and STORAGES["private"]
    (private objects; a signed address, if anything ever asks for one, lasts five minutes)."""
    bucket = {
        "bucket_name": bucket_name,
        "endpoint_url": endpoint_url,
        "region_name": region_name,
        "file_overwrite": False,
        "max_memory_size": 2 * 1024 * 1024,  # a file read back larger than this is spooled to disk
    }
    return {
        "default": {
            "BACKEND": S3_BACKEND,
            "OPTIONS": {
                **bucket,
                "location": f"{prefix}public",
                "default_acl": "public-read",
                "querystring_auth": False,
                "custom_domain": custom_domain,
            },
        },
        "private": {
            "BACKEND": S3_BACKEND,
            "OPTIONS": {
                **bucket,
                "location": f"{prefix}private",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 300,
            },
        },
    }


def public_files_origin(*, bucket_name, endpoint_url=None, region_name=None, custom_domain=None, **_) -> str:
    """Where public files' addresses point (as boto3 writes them), for the Content-Security-Policy's
    img-src: the custom domain; the S3-compatible endpoint, addressed by path; on AWS, the bucket's own
    host, or, for a bucket name with dots (no such host has a certificate), the region's."""
    if custom_domain:
        return f"https://{custom_domain}"
    if endpoint_url:
        endpoint = urlsplit(endpoint_url)
        return f"{endpoint.scheme}://{endpoint.netloc}"
    if "." in bucket_name:
        regional = region_name and region_name != "us-east-1"
        return f"https://s3.{region_name}.amazonaws.com" if regional else "https://s3.amazonaws.com"
    return f"https://{bucket_name}.s3.amazonaws.com"


OBJECT_STORAGE = object_storage_from_environment()
if OBJECT_STORAGE:
    STORAGES.update(object_storages(**OBJECT_STORAGE))
PUBLIC_FILES_ORIGINS = [public_files_origin(**OBJECT_STORAGE)] if OBJECT_STORAGE else []
# Uploads larger than this are refused before they reach a form.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
PORTAL_LOGO_MAX_BYTES = 2 * 1024 * 1024
PORTAL_LOGO_MAX_PIXELS = 400
PORTAL_IMPORT_MAX_BYTES = 5 * 1024 * 1024
# The Charity Commission register import (organisations.charity_register). A table bigger than this,
# unpacked, is refused (the whole charity table is a few hundred MB); the admin's upload of the zips
# is held to PORTAL_REGISTER_UPLOAD_MAX_BYTES for all of them together.
PORTAL_REGISTER_MAX_BYTES = int(os.environ.get("PORTAL_REGISTER_MAX_BYTES", str(1024 * 1024 * 1024)))
# Companies House's zip alone is some 470 MB; the proxy in front of the app must allow as much.
PORTAL_REGISTER_UPLOAD_MAX_BYTES = int(os.environ.get("PORTAL_REGISTER_UPLOAD_MAX_BYTES", str(1024 * 1024 * 1024)))
# The Companies House bulk file (organisations.companies_house) is bigger: some 2.5 GB unpacked, as one CSV.
PORTAL_COMPANIES_HOUSE_MAX_BYTES = int(os.environ.get("PORTAL_COMPANIES_HOUSE_MAX_BYTES", str(4 * 1024**3)))
# 360Giving grants in (evidence.grants_import): the largest file accepted (a JSON package, CSV or XLSX),
# uploaded or given to the command. 100,000 grants are some 100 MB of JSON.
PORTAL_GRANTS_MAX_BYTES = int(os.environ.get("PORTAL_GRANTS_MAX_BYTES", str(1024 * 1024 * 1024)))
# Background imports (core.background_imports): one still waiting this long after its upload lost its
# message and is queued again; one running this long lost its worker and is marked failed.
PORTAL_IMPORT_REQUEUE_AFTER = int(os.environ.get("PORTAL_IMPORT_REQUEUE_AFTER", str(10 * 60)))
PORTAL_IMPORT_ABANDONED_AFTER = int(os.environ.get("PORTAL_IMPORT_ABANDONED_AFTER", str(2 * 60 * 60)))
# Which charities the import proposes as the borough's: those whose area of operation is this local
# authority, or whose contact postcode is in one of these districts (the part before the space).
PORTAL_BOROUGH_AREA = os.environ.get("PORTAL_BOROUGH_AREA", "Tower Hamlets")
PORTAL_BOROUGH_POSTCODE_DISTRICTS = [
    district.strip().upper()
    for district in os.environ.get("PORTAL_BOROUGH_POSTCODE_DISTRICTS", "E1,E1W,E2,E3,E14").split(",")
    if district.strip()
]

# 360Giving: the grants the network distributes are published with the network as funder. The prefix is
# the one 360Giving registers for the publisher; a grant's identifier is the prefix, a hyphen and the
# grant's own reference, stored when it is recorded so it never changes afterwards.
PORTAL_360G_PREFIX = os.environ.get("PORTAL_360G_PREFIX", "360G-thin").strip()
# A placeholder until set: a production sets the network's own org-id (its charity or company number).
PORTAL_NETWORK_ORG_ID = os.environ.get("PORTAL_NETWORK_ORG_ID", "GB-EXAMPLE-THIN").strip()
PORTAL_NETWORK_NAME = os.environ.get("PORTAL_NETWORK_NAME", "Tower Hamlets Infrastructure Network").strip()

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: the console locally, SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "THIN Community Portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who hears about escalations and new membership applications.
PORTAL_NETWORK_ADMIN_EMAILS = env_list("PORTAL_NETWORK_ADMIN_EMAILS")

# Production hardening. With DEBUG off these are on; `manage.py check --deploy` stays quiet.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every page (thin_portal/middleware.py; Django 6.0's setting name and
# shape). No inline script or style anywhere: behaviour lives in static/js/, looks in static/css/.
# data: images are Bootstrap's own icons (the menu button, select arrows, ticks) drawn in its CSS.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    # The one inline style left is django-simple-history's admin history page (a paginator's
    # style="border-top: 0"): allowed by its hash alone, rather than copying that template.
    "style-src-attr": ["'unsafe-hashes'", "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"],
    "img-src": ["'self'", "data:", *PUBLIC_FILES_ORIGINS],  # logos on object storage
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# Celery: Redis when REDIS_URL is set, otherwise a broker in files under var/ so that a laptop runs
# the real worker and beat with nothing else installed.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # Bounded socket waits: without them a Redis that accepts connections but never answers hangs
    # whoever publishes (a web request) and leaves a worker stuck instead of reconnecting.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 5,
        "socket_timeout": 30,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 5
    CELERY_REDIS_SOCKET_TIMEOUT = 30
else:
    for folder in ("broker", "processed", "results"):
        (CELERY_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://localhost//"  # the host is ignored; naming it spares a warning
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "broker"),
        "data_folder_out": str(CELERY_DIR / "broker"),
        "data_folder_processed": str(CELERY_DIR / "processed"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_DIR / 'results'}"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker whose broker goes away keeps trying to reconnect for as long as it takes (Celery's default
# gives up, and exits, after 100 tries, some 45 minutes), and lets a running task finish rather than
# cancel it: tasks work on the database, which is still there, and are idempotent.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# What tasks print (the console email backend locally) is output, not a warning.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Two queues: the default one ("celery": sweeps, reminders) and one for long tasks (evidence packs,
# partner feed imports), so an email is never stuck behind a pack being built. Workers choose with -Q
# (Procfile); the embedded run's one worker takes both.
CELERY_TASK_DEFAULT_QUEUE = "celery"
PORTAL_LONG_TASK_QUEUE = os.environ.get("PORTAL_LONG_TASK_QUEUE", "").strip() or "long"
# Exactly one beat sends the schedule: a beat that does not hold the lock in the shared cache waits
# (thin_portal/beat.py). It wakes at least this often, and the lock outlives a wake-up three times, so
# a standby beat takes over within PORTAL_BEAT_LOCK_SECONDS of the active one dying.
CELERY_BEAT_SCHEDULER = "thin_portal.beat:SingleBeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = int(os.environ.get("PORTAL_BEAT_WAKE_SECONDS", "30"))
PORTAL_BEAT_LOCK_SECONDS = int(os.environ.get("PORTAL_BEAT_LOCK_SECONDS", "90"))
# Beat only triggers sweeps; the due work itself is rows in the database. Every periodic job is here.
PORTAL_SWEEP_INTERVAL = int(os.environ.get("PORTAL_SWEEP_INTERVAL", "300"))
# `make run` turns it on: every periodic job once as beat starts (thin_portal.celery.sweep_at_start).
PORTAL_SWEEP_AT_START = os.environ.get("PORTAL_SWEEP_AT_START", "") == "1"
# Sweeps are idempotent and nobody waits for their result: a sweep still queued when the next is
# due is dropped, and beat does not ask for results it would never read.
PORTAL_SWEEP_OPTIONS = {"expires": PORTAL_SWEEP_INTERVAL, "ignore_result": True}
CELERY_BEAT_SCHEDULE = {
    "sweep-reminders": {
        "task": "notifications.tasks.sweep_reminders",
        "schedule": PORTAL_SWEEP_INTERVAL,
        "options": PORTAL_SWEEP_OPTIONS,
    },
    # Plans event reminders and the weekly digest, archives expired notices, queues due feed imports.
    "sweep-calendar": {
        "task": "calendar_events.tasks.sweep_calendar",
        "schedule": PORTAL_SWEEP_INTERVAL,
        "options": PORTAL_SWEEP_OPTIONS,
    },
    # Expires quality badges past their date and plans their renewal reminders (sent by the sweep above).
    "quality-badges": {
        "task": "quality.tasks.sweep_badges",
        "schedule": 60 * 60,
        "options": {"expires": 60 * 60, "ignore_result": True},
    },
    # Plans referral reminders and escalations (sent by the sweep above); anonymises old referrals.
    "referrals-sweep": {
        "task": "referrals.tasks.sweep_referrals",
        "schedule": PORTAL_SWEEP_INTERVAL,
        "options": PORTAL_SWEEP_OPTIONS,
    },
    # Plans yearly "please review this service" requests, reminders and escalations (sent by the sweep).
    "directory-service-reviews": {
        "task": "directory.tasks.sweep_service_reviews",
        "schedule": 60 * 60,
        "options": {"expires": 60 * 60, "ignore_result": True},
    },
    # Queues again register imports whose message was lost; fails those whose worker died.
    "register-imports-sweep": {
        "task": "organisations.tasks.sweep_register_imports",
        "schedule": PORTAL_SWEEP_INTERVAL,
        "options": PORTAL_SWEEP_OPTIONS,
    },
    # Queues a harvest of each other directory that is due (directory/harvest.py), each its own task.
    "directory-harvests": {
        "task": "directory.tasks.sweep_harvests",
        "schedule": PORTAL_SWEEP_INTERVAL,
        "options": PORTAL_SWEEP_OPTIONS,
    },
    # Plans monitoring-return reminders (sent by the first sweep), deletes expired evidence packs and
    # queues again packs whose message was lost; the same for 360Giving grants imports; folds the
    # funding figures' change rows (evidence.services.prune_funding_changes).
    "evidence-sweep": {
        "task": "evidence.tasks.sweep_evidence",
        "schedule": PORTAL_SWEEP_INTERVAL,
        "options": PORTAL_SWEEP_OPTIONS,
    },
    # Records this month's baseline coverage (one snapshot per area and item); daily, so a month keeps
    # its last standing and a missed day loses nothing. The baseline page's "changes over time" reads it.
    "evidence-baseline-snapshot": {
        "task": "evidence.tasks.record_baseline_coverage",
        "schedule": 24 * 60 * 60,
        "options": {"expires": 24 * 60 * 60, "ignore_result": True},
    },
}

# Reminders: how long before a membership renewal falls due the reminder goes out, and how old a
# record's "details confirmed" date may be before the organisation is asked again.
PORTAL_RENEWAL_REMINDER_DAYS = int(os.environ.get("PORTAL_RENEWAL_REMINDER_DAYS", "30"))
PORTAL_CONFIRM_DETAILS_AFTER_DAYS = int(os.environ.get("PORTAL_CONFIRM_DETAILS_AFTER_DAYS", "365"))
PORTAL_REMINDER_MAX_ATTEMPTS = 5
# A reminder claimed for sending this many seconds ago without an outcome recorded (its worker died
# between the claim and the end of the send) is sent again by the sweep: possibly a second copy, never none.
PORTAL_REMINDER_CLAIM_TIMEOUT = 15 * 60

# Referrals: a provider answers within this many working days (weekends and England-and-Wales bank
# holidays do not count); network admins hear this many working days after the deadline; closed
# referrals lose their personal data after the retention period.
PORTAL_REFERRAL_RESPONSE_DAYS = int(os.environ.get("PORTAL_REFERRAL_RESPONSE_DAYS", "5"))
PORTAL_REFERRAL_ESCALATE_AFTER_DAYS = int(os.environ.get("PORTAL_REFERRAL_ESCALATE_AFTER_DAYS", "2"))
PORTAL_REFERRAL_RETENTION_DAYS = int(os.environ.get("PORTAL_REFERRAL_RETENTION_DAYS", str(3 * 365)))

# Quality standards, support materials and the health check (quality/). Evidence files and materials
# are kept in PRIVATE_FILES_ROOT and sent only through the app's views.
QUALITY_UPLOAD_MAX_BYTES = int(os.environ.get("PORTAL_QUALITY_UPLOAD_MAX_MB", "8")) * 1024 * 1024
QUALITY_BADGE_VALID_YEARS = int(os.environ.get("PORTAL_QUALITY_BADGE_VALID_YEARS", "2"))
QUALITY_BADGE_RENEWAL_REMINDER_DAYS = int(os.environ.get("PORTAL_QUALITY_BADGE_RENEWAL_REMINDER_DAYS", "60"))
# A health check area scoring below this percentage is "weak": materials and a referral are suggested.
QUALITY_HEALTH_CHECK_WEAK_BELOW = 50

# Harvesting other directories' Open Referral UK APIs (directory/harvest.py): each active source is
# harvested every PORTAL_HARVEST_INTERVAL seconds (only its changes, where it supports modified_after)
# and in full every PORTAL_HARVEST_FULL_INTERVAL. Each page has a read timeout, a deadline and a byte
# cap; a harvest reads at most PORTAL_HARVEST_MAX_PAGES pages and PORTAL_HARVEST_MAX_RECORDS services
# within PORTAL_HARVEST_DEADLINE seconds, or fails and changes nothing.
PORTAL_HARVEST_INTERVAL = int(os.environ.get("PORTAL_HARVEST_INTERVAL", "3600"))
PORTAL_HARVEST_FULL_INTERVAL = int(os.environ.get("PORTAL_HARVEST_FULL_INTERVAL", str(24 * 3600)))
PORTAL_HARVEST_TIMEOUT = float(os.environ.get("PORTAL_HARVEST_TIMEOUT", "15"))
PORTAL_HARVEST_PAGE_DEADLINE = float(os.environ.get("PORTAL_HARVEST_PAGE_DEADLINE", "60"))
PORTAL_HARVEST_DEADLINE = float(os.environ.get("PORTAL_HARVEST_DEADLINE", "1800"))
PORTAL_HARVEST_MAX_PAGE_BYTES = int(os.environ.get("PORTAL_HARVEST_MAX_PAGE_BYTES", str(20 * 1024 * 1024)))
PORTAL_HARVEST_PER_PAGE = int(os.environ.get("PORTAL_HARVEST_PER_PAGE", "200"))
PORTAL_HARVEST_MAX_PAGES = int(os.environ.get("PORTAL_HARVEST_MAX_PAGES", "500"))
PORTAL_HARVEST_MAX_RECORDS = int(os.environ.get("PORTAL_HARVEST_MAX_RECORDS", "50000"))

# Calendar and notice board (calendar_events/): feeds in are imported every PORTAL_CALENDAR_FEED_INTERVAL
# seconds, each with a read timeout, an overall deadline, and size and event caps.
PORTAL_CALENDAR_UID_DOMAIN = os.environ.get("PORTAL_CALENDAR_UID_DOMAIN", "thin-portal")
PORTAL_CALENDAR_FEED_INTERVAL = int(os.environ.get("PORTAL_CALENDAR_FEED_INTERVAL", "3600"))
PORTAL_CALENDAR_FEED_TIMEOUT = float(os.environ.get("PORTAL_CALENDAR_FEED_TIMEOUT", "10"))
PORTAL_CALENDAR_FEED_DEADLINE = float(os.environ.get("PORTAL_CALENDAR_FEED_DEADLINE", "60"))
PORTAL_CALENDAR_FEED_MAX_BYTES = int(os.environ.get("PORTAL_CALENDAR_FEED_MAX_BYTES", str(10 * 1024 * 1024)))
PORTAL_CALENDAR_FEED_MAX_EVENTS = int(os.environ.get("PORTAL_CALENDAR_FEED_MAX_EVENTS", "5000"))
# Feeds on anything but a public address are refused (server-side request forgery: core/outbound.py),
# with no setting to turn that off; only tests and benchmarks allow their own local servers, in code.
PORTAL_NOTICE_ATTACHMENT_MAX_BYTES = int(os.environ.get("PORTAL_NOTICE_ATTACHMENT_MAX_BYTES", str(5 * 1024 * 1024)))
PORTAL_NOTICE_MAX_DAYS = int(os.environ.get("PORTAL_NOTICE_MAX_DAYS", "365"))
# The weekly digest of new notices and events is planned on this weekday (0 is Monday).
PORTAL_DIGEST_WEEKDAY = int(os.environ.get("PORTAL_DIGEST_WEEKDAY", "0"))

# Evidence packs (evidence/): written by a worker into its local EVIDENCE_EXPORT_DIR, then kept with the
# private files (downloaded through the app, by the person who asked) and deleted EVIDENCE_EXPORT_HOURS
# after they are ready. A pack still waiting EVIDENCE_EXPORT_REQUEUE_AFTER seconds after it was asked
# for is queued again by the sweep.
EVIDENCE_EXPORT_DIR = Path(os.environ.get("PORTAL_EVIDENCE_EXPORT_DIR", VAR_DIR / "evidence-packs"))
EVIDENCE_EXPORT_HOURS = int(os.environ.get("PORTAL_EVIDENCE_EXPORT_HOURS", "72"))
EVIDENCE_EXPORT_REQUEUE_AFTER = int(os.environ.get("PORTAL_EVIDENCE_EXPORT_REQUEUE_AFTER", "120"))


# The cache every process shares: the Open Referral API's throttle counts each client once however many
# web processes answer it, the calendar's month grids are worked out once, and the beat lock
# (thin_portal/beat.py) lives here. With Redis: Redis, on its own database number (PORTAL_CACHE_URL,
# else REDIS_URL's database plus one), so clearing the cache never touches Celery's queues. Without:
# a database table (made by `migrate`, thin_portal/migrations), so a laptop needs nothing else.
def redis_url_with_next_database(url: str) -> str:
    """redis://host:port/N -> redis://host:port/N+1 (0 -> 1 when no number is given; 15 wraps to 0)."""
    match = re.fullmatch(r"(rediss?://[^/?#]*)(?:/(\d*))?([?#].*)?", url)
    if not match:
        raise ImproperlyConfigured(f"REDIS_URL={url!r} is not a redis:// or rediss:// address.")
    base, number, rest = match.group(1), match.group(2), match.group(3) or ""
    return f"{base}/{(int(number or 0) + 1) % 16}{rest}"


PORTAL_CACHE_URL = os.environ.get("PORTAL_CACHE_URL", "").strip() or (
    redis_url_with_next_database(REDIS_URL) if REDIS_URL else ""
)
if PORTAL_CACHE_URL:
    _redis_cache = {
        "LOCATION": PORTAL_CACHE_URL,
        # A hung Redis costs a request a second at most, not a worker for minutes.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "KEY_PREFIX": "portal",
    }
    CACHES = {
        # Redis unreachable reads as a miss (core/cache.py): pages keep working through an outage.
        "default": {"BACKEND": "core.cache.TolerantRedisCache", **_redis_cache},
        # The same Redis for locks (the beat lock, import claims), which must fail loudly instead.
        "locks": {"BACKEND": "django.core.cache.backends.redis.RedisCache", **_redis_cache},
    }
else:
    _database_cache = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "portal_cache",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
    CACHES = {"default": _database_cache, "locks": _database_cache}
# Sessions in the database, shared by every web process (never in a process's memory).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# The Open Referral API's politeness limit per client (directory/api/views.py, OrukThrottle): a number of
# requests per second, minute, hour or day. A client is its address: REMOTE_ADDR, or, behind
# PORTAL_TRUSTED_PROXIES reverse proxies, the address the outermost of them put in X-Forwarded-For (any
# address a client writes there itself is further left, and never read).
PORTAL_ORUK_THROTTLE_RATE = os.environ.get("PORTAL_ORUK_THROTTLE_RATE", "").strip() or "600/minute"
if not re.fullmatch(r"[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)", PORTAL_ORUK_THROTTLE_RATE):
    raise ImproperlyConfigured(
        f"PORTAL_ORUK_THROTTLE_RATE={PORTAL_ORUK_THROTTLE_RATE!r} is not a rate: write a number of requests "
        "per second, minute, hour or day, such as 600/minute."
    )
_trusted_proxies = os.environ.get("PORTAL_TRUSTED_PROXIES", "").strip() or "0"
if not re.fullmatch(r"[0-9]{1,2}", _trusted_proxies):
    raise ImproperlyConfigured(
        f"PORTAL_TRUSTED_PROXIES={_trusted_proxies!r} must be the number of reverse proxies in front of the "
        "portal that add to X-Forwarded-For (0 when clients connect to it directly)."
    )
PORTAL_TRUSTED_PROXIES = int(_trusted_proxies)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's throttles identify a client by REMOTE_ADDR when this is 0, else by the address this many
    # places from the right of X-Forwarded-For.
    "NUM_PROXIES": PORTAL_TRUSTED_PROXIES,
}

# Logs go to standard output, one line each: plain text, or one JSON object per line with
# PORTAL_LOG_FORMAT=json (core/logging.py) for a log collector.
PORTAL_LOG_FORMAT = os.environ.get("PORTAL_LOG_FORMAT", "plain").strip().lower() or "plain"
if PORTAL_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"PORTAL_LOG_FORMAT={PORTAL_LOG_FORMAT!r}: write plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": PORTAL_LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("PORTAL_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler (on with DEBUG) would print each of its records a second time,
        # beside the root's: every refusal (403) and bad request once, here (no ADMINS, so no mail_admins).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}
