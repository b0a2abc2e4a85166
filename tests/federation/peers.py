"""Other servers for federation tests: real HTTP servers on loopback addresses,
reached through ``TRIBUNE_DEV_PEERS`` under invented domains."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

AS = "application/activity+json"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Peer:
    """A server answering from ``routes`` (path with query -> answer, or a callable
    of the request returning one) and remembering every request it got."""

    address: str
    port: int = 0
    routes: dict[str, Answer | Callable[[Received], Answer]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def json(self, path: str, document: dict[str, Any], *, status: int = 200,
             content_type: str = AS) -> None:
        self.routes[path] = (status, {"Content-Type": content_type},
                             json.dumps(document).encode())

    def answer(self, request: Received) -> Answer:
        route = self.routes.get(request.path)
        if route is None:
            return 404, {"Content-Type": "application/json"}, b'{"error":"not found"}'
        return route(request) if callable(route) else route


def start(address: str) -> tuple[Peer, ThreadingHTTPServer]:
    peer = Peer(address)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Received(self.command, self.path, dict(self.headers.items()),
                               self.rfile.read(length) if length else b"")
            peer.received.append(request)
            status, headers, body = peer.answer(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((address, 0), Handler)
    server.daemon_threads = True
    peer.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return peer, server
