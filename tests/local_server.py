"""A real HTTP server on 127.0.0.1 for tests of what the portal fetches from outside (core.outbound,
calendar feeds, harvested directories): each test module says how to answer a request, this runs
the server.

    @pytest.fixture(scope="module")
    def server():
        with serving(respond) as url:  # respond(handler) answers one GET
            yield url
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    respond: Callable[["Handler"], None]

    def do_GET(self):
        type(self).respond(self)

    def not_found(self) -> None:
        self.send_response(404)
        self.end_headers()

    def send(self, status: int, headers: dict[str, str], body: bytes, *, length: bool = True) -> None:
        """The whole answer; a client that stops reading part way (the body too large) is expected."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@contextmanager
def serving(respond: Callable[[Handler], None]) -> Iterator[str]:
    """A server answering each GET with `respond(handler)`, for the block; yields its base URL."""
    handler = type("Handler", (Handler,), {"respond": staticmethod(respond)})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
