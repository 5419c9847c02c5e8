"""Stateless web processes (issue 13): two gunicorn processes on two ports, in production mode, sharing
only PostgreSQL, Redis and the file storage (a shared folder, or an S3 bucket on moto's server), behave
as one portal. A logo uploaded through one is served
by the other; a booking made on one is seen on the other; the Open Referral API's throttle counts a
client across both; a login session made on one works on the other.

The processes are real (`gunicorn thin_portal.wsgi`, DEBUG off, collected static files) and are talked
to over HTTP as a browser behind a TLS-terminating proxy would (X-Forwarded-Proto: https, so secure
cookies and CSRF's origin check apply as in production).
"""

import http.client
import io
import os
import re
import secrets
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import cache
from PIL import Image

from accounts.models import User
from calendar_events.models import Booking
from tests.celery_worker import free_port, start_process, test_database_url
from tests.factories import make_affiliation, make_event, make_organisation, make_user
from tests.organisations.test_views import _edit_data

PASSWORD = "correct horse battery staple"
THROTTLE = 5  # requests a minute each client may make of the API, across every web process



class Browser:
    """Just enough of a browser: cookies (Secure ones included, since the proxy speaks HTTPS to the
    client), the CSRF token, form posts and file uploads, no redirects followed."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, port: int, method: str, path: str, *, body: bytes | None = None, content_type: str = ""):
        headers = {"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if method == "POST":
            origin = f"https://127.0.0.1:{port}"
            headers.update(Origin=origin, Referer=origin + path, **{"X-CSRFToken": self.cookies.get("csrftoken", "")})
            headers["Content-Type"] = content_type
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return SimpleNamespace(status=response.status, headers=response.headers, text=content.decode(errors="replace"), content=content)

    def get(self, port: int, path: str):
        return self.request(port, "GET", path)

    def post(self, port: int, path: str, data: dict, files: dict | None = None):
        if files:
            body, content_type = _multipart(data, files)
        else:
            body, content_type = urlencode(data, doseq=True).encode(), "application/x-www-form-urlencoded"
        return self.request(port, "POST", path, body=body, content_type=content_type)


def _multipart(data: dict, files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = []
    for name, values in data.items():
        for value in values if isinstance(values, list | tuple) else [values]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, content_type) in files.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(f"{head}Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _web_environment(tmp_path) -> dict[str, str]:
    """What every web process of a deployment shares: the database, Redis, the files, the settings."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PORTAL_"))}
    return {
        **environment,
        "DJANGO_SETTINGS_MODULE": "thin_portal.settings",
        "DJANGO_SECRET_KEY": "stateless-test-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "PORTAL_STATIC_ROOT": str(tmp_path / "static"),
        "PORTAL_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PORTAL_PRIVATE_FILES_ROOT": str(settings.PRIVATE_FILES_ROOT),
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "PORTAL_ORUK_THROTTLE_RATE": f"{THROTTLE}/minute",
        "PORTAL_SITE_URL": "https://127.0.0.1",
    }


def _wait_until_ready(port: int, process: subprocess.Popen, log_path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn on {port} exited:\n{log_path.read_text()}")
        try:
            if Browser().get(port, "/readyz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"gunicorn on {port} was not ready within a minute:\n{log_path.read_text()}")


@pytest.fixture(params=["shared folder", pytest.param("object storage", marks=pytest.mark.s3)])
def files(request):
    """Where the processes keep files: the environment that puts them there."""
    if request.param == "shared folder":
        return SimpleNamespace(env={}, on_object_storage=False)
    storage = request.getfixturevalue("object_storage")
    return SimpleNamespace(env=storage.env, on_object_storage=True)


@pytest.fixture
def two_web_processes(request, tmp_path, files):
    environment = {**_web_environment(tmp_path), **files.env}
    cache.clear()  # the cache the processes share: no throttle counts left by an earlier test
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=settings.BASE_DIR, env=environment, check=True, timeout=300,
    )
    ports = []
    for name in ("a", "b"):
        port = free_port()
        log_path = tmp_path / f"gunicorn-{name}.log"
        process = start_process(
            request,
            [sys.executable, "-m", "gunicorn", "thin_portal.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
            + ["--no-control-socket"],  # gunicorn 27 otherwise gives every process ~/.gunicorn/gunicorn.ctl
            env=environment,
            log_path=log_path,
        )
        ports.append((port, process, log_path))
    for port, process, log_path in ports:
        _wait_until_ready(port, process, log_path)
    return SimpleNamespace(a=ports[0][0], b=ports[1][0], logs=[log_path for _, _, log_path in ports])


def _log_in(browser: Browser, port: int, user: User) -> None:
    browser.get(port, "/accounts/login/")  # sets the CSRF cookie
    response = browser.post(port, "/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status == 302, response.text[:2000]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (240, 120), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.postgres  # the processes share the test's database, so it must be a server
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_web_processes_behave_as_one_portal(two_web_processes, files):
    a, b = two_web_processes.a, two_web_processes.b
    editor = make_user(username="stateless_editor", email="stateless@example.org")
    # Hashed as production hashes (the tests' own fast hasher is not one the processes accept).
    editor.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    editor.save(update_fields=["password"])
    organisation = make_organisation(name="Stateless Group", email="office@stateless.example.org")
    make_affiliation(user=editor, organisation=organisation)
    event = make_event(booking_required=True, capacity=10, title="Stateless workshop")

    # A session made on one process works on the other.
    browser = Browser()
    _log_in(browser, a, editor)
    mine = browser.get(b, "/my/organisations/")
    assert mine.status == 200 and "Stateless Group" in mine.text, "the session made on A is not known on B"
    assert Browser().get(b, "/my/organisations/").status == 302, "without the session, B sends to the login page"

    # A logo uploaded through one is served by the other.
    edit = f"/organisations/{organisation.slug}/edit/"
    form = browser.get(a, edit)
    assert form.status == 200
    logo = _png()
    response = browser.post(
        a,
        edit,
        _edit_data(organisation),
        files={"logo": ("logo.png", logo, "image/png")},
    )
    assert response.status == 302, re.sub(r"\s+", " ", response.text)[:3000]
    page = Browser().get(b, f"/organisations/{organisation.slug}/")
    logo_url = re.search(r'<img[^>]+src="([^"]+/logos/[^"]+)"', page.text).group(1)
    assert logo_url.startswith("http") == files.on_object_storage, logo_url
    served = _fetch(logo_url) if files.on_object_storage else Browser().get(b, urlsplit(logo_url).path)
    assert served.status == 200
    assert Image.open(io.BytesIO(served.content)).size == (240, 120), "B serves the logo A stored (as a JPEG)"

    # A booking made on one is seen on the other.
    occurrence = int(event.start.timestamp())
    event_page = f"/calendar/events/{event.uuid}/"
    browser.get(a, event_page)
    booked = browser.post(a, f"{event_page}book/", {"occurrence": occurrence})
    assert booked.status == 302
    assert Booking.objects.filter(user=editor, event=event, status=Booking.Status.BOOKED).count() == 1
    bookings = browser.get(b, "/calendar/my/bookings/")
    assert bookings.status == 200 and "Stateless workshop" in bookings.text
    again = browser.post(b, f"{event_page}book/", {"occurrence": occurrence})
    assert again.status == 302 and Booking.objects.filter(user=editor, event=event).count() == 1

    # The API's throttle counts one client across both processes.
    client = Browser()
    answers = [client.get(a if n % 2 else b, "/api/oruk/services?per_page=1").status for n in range(THROTTLE)]
    assert answers == [200] * THROTTLE
    assert client.get(a, "/api/oruk/services?per_page=1").status == 429
    assert client.get(b, "/api/oruk/services?per_page=1").status == 429


def _fetch(url: str):
    """A file on object storage, at its public address."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = connection.getresponse()
        return SimpleNamespace(status=response.status, content=response.read())
    finally:
        connection.close()
