"""Fetching an address that a partner gave us (calendar feeds; later Open Referral harvests), for every app.

A partner's address must not reach inside our own network (server-side request forgery). The host name
is looked up once; every address it gives must be a public one (is_public_address: the ipaddress
module's own properties, so every special-purpose range it knows of is refused, plus the IPv6 forms that
carry an IPv4 address inside them); and the connection goes to exactly the address that was checked,
while the Host header, TLS server name and certificate check stay on the host name. A second lookup
could give a different answer (DNS rebinding), so there is none. Redirects are followed, a few at most,
each checked the same way. No proxy is used.

The download is bounded: a timeout for each wait (connecting, each read), an overall deadline that
holds whatever the server does (a watchdog cuts the connection), and a byte cap while streaming.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse

from django.utils.translation import gettext as _

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}
# NAT64's well-known prefix (RFC 6052): an IPv6-only network reaches an IPv4 host through it, so what
# counts is the IPv4 address inside. The ipaddress module has no property for it.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Addresses allowed although they are not public: for the tests' and benchmarks' own local servers
# only, which set it (monkeypatch) explicitly. No setting or environment variable reaches it.
ALLOWED_TEST_ADDRESSES: frozenset[str] = frozenset()


class FetchError(Exception):
    """The address could not be fetched; the message is for the person who gave it."""


def is_public_address(address) -> bool:
    """True for an address on the public internet; False for private, shared (100.64.0.0/10), loopback,
    link-local, multicast, reserved, documentation and every other special-purpose range, including
    IPv6 addresses that embed such an IPv4 address (IPv4-mapped, NAT64), and 6to4 (2002::/16) and
    Teredo, whose traffic goes to an IPv4 address we cannot check."""
    ip = ipaddress.ip_address(str(address).split("%")[0])
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None or ip.teredo is not None or ip.is_site_local:
            return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve_public(host: str, port: int) -> list[str]:
    """The host's addresses, looked up once; FetchError unless every one of them is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchError(_("The server (%(host)s) could not be found.") % {"host": host}) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise FetchError(_("The server (%(host)s) could not be found.") % {"host": host})
    for address in addresses:
        if address not in ALLOWED_TEST_ADDRESSES and not is_public_address(address):
            raise FetchError(_("The address points inside a private network, which is not allowed."))
    return addresses


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A connection to the first checked address that answers (as socket.create_connection does, but
    without looking the name up again)."""
    error = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as caught:
            error = caught
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked addresses; the Host header still names the host. (raw_sock stays the
    socket in use after the connection hands it to a response, for the watchdog and the read timeouts.)"""

    def __init__(self, host, port, *, addresses, timeout):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self):
        self.sock = self.raw_sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, addresses, timeout):
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.addresses = addresses

    def connect(self):
        # The certificate is checked against the host name, not the address connected to.
        self.sock = self.raw_sock = self.tls.wrap_socket(
            _connect(self.addresses, self.port, self.timeout), server_hostname=self.host
        )


def _too_large(max_bytes: int) -> str:
    return _("The answer is larger than the limit of %(size)s MB, so it was not used.") % {
        "size": f"{max_bytes / (1024 * 1024):g}"
    }


def _too_slow(seconds: float) -> str:
    return _("The server took too long to answer (more than %(seconds)s seconds).") % {"seconds": f"{seconds:g}"}


def fetch_public(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    deadline_seconds: float,
    headers: dict[str, str] | None = None,
) -> bytes:
    """The body of a GET of `url` (http or https, public addresses only, redirects followed), or
    FetchError: not found, not public, unreachable, an HTTP error, too slow or too large."""
    deadline = time.monotonic() + deadline_seconds
    for _redirect in range(MAX_REDIRECTS + 1):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchError(_("The address must start with http:// or https://."))
        try:
            host = parts.hostname.encode("idna").decode("ascii")
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except (UnicodeError, ValueError):
            raise FetchError(_("The address is not a valid web address.")) from None
        addresses = resolve_public(host, port)
        connection_class = _PinnedHTTPSConnection if parts.scheme.lower() == "https" else _PinnedHTTPConnection
        remaining = deadline - time.monotonic()
        connection = connection_class(host, port, addresses=addresses, timeout=max(0.01, min(timeout, remaining)))
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        location, body = _get(connection, target, headers or {}, timeout, max_bytes, deadline, deadline_seconds)
        if location is None:
            return body
        url = urllib.parse.urljoin(url, location)
    raise FetchError(_("The address redirected more than %(n)s times.") % {"n": MAX_REDIRECTS})


def _get(connection, target, headers, timeout, max_bytes, deadline, deadline_seconds) -> tuple[str | None, bytes]:
    """(the redirect's Location, b"") or (None, the body)."""
    cut = threading.Event()

    def watchdog():
        # The overall deadline, whatever the server does (a trickle of headers or body never trips the
        # per-read timeout): shutting the socket down ends any read that is waiting.
        cut.set()
        sock = getattr(connection, "raw_sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), watchdog)
    timer.daemon = True
    timer.start()
    response = None
    try:
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        if response.status in _REDIRECTS and response.getheader("Location"):
            return response.getheader("Location"), b""
        if not 200 <= response.status < 300:
            raise FetchError(
                _("The server answered with an error: HTTP %(code)s %(reason)s.")
                % {"code": response.status, "reason": response.reason}
            )
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise FetchError(_too_large(max_bytes))
        chunks, size = [], 0
        while True:
            if cut.is_set() or time.monotonic() > deadline:
                raise FetchError(_too_slow(deadline_seconds))
            # (The connection hands its socket to the response when the server closes after it.)
            connection.raw_sock.settimeout(max(0.01, min(timeout, deadline - time.monotonic())))
            chunk = response.read1(CHUNK)  # whatever has arrived: a trickle cannot hold a read open
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(_too_large(max_bytes))
            chunks.append(chunk)
        if cut.is_set():
            raise FetchError(_too_slow(deadline_seconds))
        return None, b"".join(chunks)
    except FetchError:
        raise
    except (TimeoutError, socket.timeout):
        # Each wait is the shorter of `timeout` and what is left before the deadline, and a wait never
        # ends early: one that reached the deadline was cut by it, whether or not the watchdog has run.
        by_deadline = cut.is_set() or time.monotonic() >= deadline
        raise FetchError(_too_slow(deadline_seconds if by_deadline else timeout)) from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        if cut.is_set():
            raise FetchError(_too_slow(deadline_seconds)) from None
        reason = error.__class__.__name__ if not str(error) else str(error)
        raise FetchError(_("The address could not be reached: %(reason)s.") % {"reason": reason}) from None
    finally:
        timer.cancel()
        if response is not None:
            response.close()
        connection.close()
