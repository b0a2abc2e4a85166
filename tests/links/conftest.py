"""Real HTTP servers on loopback for link previews: ``site`` serves pages, ``canary``
counts every connection made to it (and must count none)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

Route = tuple[int, dict[str, str], bytes]


@dataclass
class Server:
    """One loopback HTTP server: ``routes`` maps a path to (status, headers, body)
    or to a function of the server giving one; ``connections`` counts accepted
    connections, ``paths`` and ``headers`` the requests made."""

    host: str = "127.0.0.1"
    port: int = 0
    routes: dict[str, Route | Callable[[Server], Route]] = field(default_factory=dict)
    connections: int = 0
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path


def _serve(server: Server):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            server.paths.append(self.path)
            server.headers.append(dict(self.headers))
            route = server.routes.get(self.path, (404, {"Content-Type": "text/plain"}, b"no"))
            status, headers, body = route(server) if callable(route) else route
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading, as it should past its limit

        def log_message(self, *args):
            pass

    class Counting(ThreadingHTTPServer):
        daemon_threads = True

        def verify_request(self, request, client_address):
            server.connections += 1
            return True

    httpd = Counting((server.host, 0), Handler)
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd


@pytest.fixture
def site():
    server = Server()
    httpd = _serve(server)
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def canary():
    server = Server(routes={"/": (200, {"Content-Type": "text/html"},
                                  b"<title>internal</title><meta property='og:title' content='leak'>")})
    httpd = _serve(server)
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def previews(settings, tmp_path):
    """Link previews on, card pictures stored under a temporary folder, nothing
    allow-listed yet (tests set ``settings.TRIBUNE_FETCH_ALLOW_HOSTS``)."""
    settings.TRIBUNE_LINK_PREVIEWS = True
    settings.TRIBUNE_FETCH_ALLOW_HOSTS = []
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(tmp_path), "base_url": "/system/"}},
    }
    return settings
