"""core.outbound: only public addresses are fetched, the address checked is the one connected to,
and the download stays within its limits. Served by local HTTP servers, allowed explicitly."""

import socket
import threading
import time

import pytest

from core import outbound
from tests.local_server import serving

REFUSED = [
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "2002:7f00:1::1",  # 6to4, carrying 127.0.0.1
    "2002:808:808::1",  # 6to4 at all (2002::/16), even carrying a public address
    "::ffff:10.0.0.1",  # IPv4-mapped private
    "::ffff:127.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2001::a00:1",  # Teredo
    "169.254.169.254",  # cloud metadata (link-local)
    "0.0.0.0",
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%lo",
    "fec0::1",  # site-local
    "::1",
    "::",
    "::7f00:1",  # IPv4-compatible
    "198.18.0.1",  # benchmarking
    "192.0.0.1",  # IETF protocol assignments
    "192.0.2.1",  # documentation
    "2001:db8::1",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "ff02::1",
    "240.0.0.1",  # reserved
    "255.255.255.255",
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "81.2.69.160", "2a00:1450:4009:81f::200e", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_special_purpose_addresses_are_not_public(address):
    assert outbound.is_public_address(address) is False


@pytest.mark.parametrize("address", ALLOWED)
def test_global_addresses_are_public(address):
    assert outbound.is_public_address(address) is True


def _fake_dns(monkeypatch, answers: dict[str, list[str]]):
    """getaddrinfo answering from `answers` (each call takes the next answer); numeric hosts as the real one."""
    real = socket.getaddrinfo
    calls: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        calls.append(host)
        address = answers[host][min(len(calls) - 1, len(answers[host]) - 1)]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def _fetch(url, **kwargs):
    return outbound.fetch_public(url, **{"timeout": 1, "max_bytes": 10_000, "deadline_seconds": 2, **kwargs})


@pytest.mark.parametrize("address", ["100.64.0.1", "2002:7f00:1::1", "169.254.169.254", "::ffff:10.0.0.1"])
def test_a_name_resolving_to_a_special_address_is_refused_without_connecting(monkeypatch, address):
    _fake_dns(monkeypatch, {"feeds.example.org": [address]})
    connected = []
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: connected.append(args))
    with pytest.raises(outbound.FetchError, match="private network"):
        _fetch("https://feeds.example.org/cal.ics")
    assert connected == []


def test_one_private_address_among_public_ones_is_refused(monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "feeds.example.org":
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(outbound.FetchError, match="private network"):
        _fetch("http://feeds.example.org/cal.ics")


def test_the_connection_goes_to_the_address_checked_not_a_second_lookup(monkeypatch):
    """DNS rebinding: the name answers a public address, then (were it asked again) an internal one.
    The connection is made to the address that was checked, and the name is looked up once."""
    calls = _fake_dns(monkeypatch, {"feeds.example.org": ["93.184.215.14", "169.254.169.254"]})
    told = []

    def create_connection(address, *args, **kwargs):
        told.append(address)
        raise ConnectionRefusedError("not in the test")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    with pytest.raises(outbound.FetchError, match="could not be reached"):
        _fetch("http://feeds.example.org/cal.ics")
    assert told == [("93.184.215.14", 80)] and calls == ["feeds.example.org"]


HEADERS_SEEN: list[str] = []


def _respond(handler) -> None:
    HEADERS_SEEN.append(handler.headers.get("Host"))
    port = handler.server.server_address[1]
    path = handler.path
    if path == "/cal.ics":
        handler.send(200, {}, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    elif path == "/to-metadata":
        handler.send(302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    elif path == "/to-rebound-name":
        handler.send(302, {"Location": f"http://rebound.example.org:{port}/cal.ics"}, b"")
    elif path == "/to-ftp":
        handler.send(302, {"Location": "ftp://feeds.example.org/cal.ics"}, b"")
    elif path.startswith("/loop"):
        handler.send(302, {"Location": f"/loop{len(path)}"}, b"")
    elif path == "/relative":
        handler.send(301, {"Location": "/cal.ics"}, b"")
    elif path == "/silent":
        time.sleep(3)  # no answer at all within the timeout
        handler.send(200, {}, b"late")
    elif path == "/trickle-headers":
        # Headers that never end, one short line at a time: each read is quick, the whole never is.
        handler.wfile.write(b"HTTP/1.0 200 OK\r\n")
        for n in range(100):
            try:
                handler.wfile.write(f"X-{n}: y\r\n".encode())
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)
    elif path == "/trickle-body":
        handler.send_response(200)
        handler.end_headers()
        for _n in range(600):
            try:
                handler.wfile.write(b"x")
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)
    else:
        handler.send(404, {}, b"")


@pytest.fixture(scope="module")
def port():
    with serving(_respond) as url:
        yield int(url.rsplit(":", 1)[1])


@pytest.fixture
def local(monkeypatch):
    """127.0.0.1 (the test server) allowed, explicitly, as only tests may."""
    monkeypatch.setattr(outbound, "ALLOWED_TEST_ADDRESSES", frozenset({"127.0.0.1"}))
    HEADERS_SEEN.clear()


def test_local_server_refused_unless_allowed_explicitly(port):
    with pytest.raises(outbound.FetchError, match="private network"):
        _fetch(f"http://127.0.0.1:{port}/cal.ics")


def test_fetch_connects_to_the_checked_address_keeping_the_host_name(monkeypatch, local, port):
    """The name is looked up once (127.0.0.1, allowed here); a second lookup would say 127.0.0.2, where
    nothing listens. The fetch works, so it connected to the first answer; the Host header kept the name."""
    calls = _fake_dns(monkeypatch, {"feeds.example.org": ["127.0.0.1", "127.0.0.2"]})
    assert _fetch(f"http://feeds.example.org:{port}/cal.ics").startswith(b"BEGIN:VCALENDAR")
    assert calls == ["feeds.example.org"]
    assert HEADERS_SEEN == [f"feeds.example.org:{port}"]


def test_redirects_are_checked_like_the_first_address(monkeypatch, local, port):
    with pytest.raises(outbound.FetchError, match="private network"):
        _fetch(f"http://127.0.0.1:{port}/to-metadata")
    _fake_dns(monkeypatch, {"rebound.example.org": ["10.0.0.7"]})
    with pytest.raises(outbound.FetchError, match="private network"):
        _fetch(f"http://127.0.0.1:{port}/to-rebound-name")
    with pytest.raises(outbound.FetchError, match="http:// or https://"):
        _fetch(f"http://127.0.0.1:{port}/to-ftp")
    with pytest.raises(outbound.FetchError, match="redirected more than 5 times"):
        _fetch(f"http://127.0.0.1:{port}/loop")
    assert _fetch(f"http://127.0.0.1:{port}/relative").startswith(b"BEGIN:VCALENDAR")


@pytest.mark.parametrize("path", ["/silent", "/trickle-headers", "/trickle-body"])
def test_the_deadline_holds_whatever_the_server_does(local, port, path):
    started = time.monotonic()
    with pytest.raises(outbound.FetchError, match="took too long"):
        _fetch(f"http://127.0.0.1:{port}{path}", max_bytes=10_000_000)
    assert time.monotonic() - started < 3.5



class _LateWatchdog(threading.Timer):
    """The deadline's watchdog losing the race with the socket's own timeout: it never fires."""

    def start(self):
        pass


@pytest.mark.parametrize("watchdog", ["on time", "late"])
@pytest.mark.parametrize(("timeout", "deadline", "said"), [(5, 1, "more than 1 seconds"), (1, 10, "more than 1 seconds"), (0.5, 10, "more than 0.5 seconds")])
def test_too_slow_names_the_limit_that_cut_the_wait(monkeypatch, local, port, watchdog, timeout, deadline, said):
    """A server that says nothing for 3 s: cut by the deadline when it comes first (not reported as the
    longer per-read timeout), whether the watchdog or the socket's timeout ends the wait; else by the
    timeout."""
    if watchdog == "late":
        monkeypatch.setattr(outbound.threading, "Timer", _LateWatchdog)
    with pytest.raises(outbound.FetchError, match=said):
        _fetch(f"http://127.0.0.1:{port}/silent", timeout=timeout, deadline_seconds=deadline)
