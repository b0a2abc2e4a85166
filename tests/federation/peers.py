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


def key_pair() -> tuple[str, str]:
    """A new RSA-2048 pair as ``(private PEM, public PEM)``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


def actor_document(username: str, public_pem: str, /, *, host: str = "remote.test",
                   **extra: Any) -> dict[str, Any]:
    """An actor document as Mastodon writes one, for ``https://HOST/users/USERNAME``;
    ``extra`` replaces or adds properties."""
    uri = f"https://{host}/users/{username}"
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": uri, "type": "Person", "preferredUsername": username,
        "name": username.title(), "summary": "<p>Hello</p>", "url": f"https://{host}/@{username}",
        "manuallyApprovesFollowers": False, "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox", "followers": f"{uri}/followers",
        "endpoints": {"sharedInbox": f"https://{host}/inbox"},
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem},
        **extra,
    }
