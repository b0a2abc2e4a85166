"""The streaming API's ASGI application (docs/adr/0032), Mastodon's routes:

- ``GET /api/v1/streaming/health``: ``OK``;
- ``GET /api/v1/streaming/<stream path>`` (``user``, ``user/notification``,
  ``public``, ``public/local``, ``public/remote``, ``hashtag``, ``hashtag/local``,
  ``list``, ``direct``) and ``GET /api/v1/streaming?stream=NAME``: Server-Sent
  Events, ``event:``/``data:`` lines, a ``:thump`` comment every
  :data:`HEARTBEAT_SECONDS`;
- WebSocket ``/api/v1/streaming``: ``{"type": "subscribe"|"unsubscribe",
  "stream": ..., "tag": ..., "list": ...}`` messages in, ``{"stream": [...],
  "event": ..., "payload": "..."}`` out; a ``stream`` query parameter subscribes
  on connection.

Authentication (Mastodon's): the ``access_token`` query parameter, an
``Authorization: Bearer`` header or, for WebSockets, ``Sec-WebSocket-Protocol``;
an invalid token is refused (401). The web interface, on the same host, is
recognised by its session cookie, when the request comes from the instance's own
origin. Errors are Mastodon's ``{"error": ...}`` JSON.

Plain ASGI, no Django request machinery: only this process speaks ASGI, and each
connection costs a coroutine and a queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribune.settings")
django.setup()

from django.conf import settings  # noqa: E402

from tribune.api.auth import ApiError, Viewer, viewer_for_token  # noqa: E402
from tribune.api.streaming.hub import Connection, hub, run_sync  # noqa: E402
from tribune.api.streaming.render import NO_PAYLOAD  # noqa: E402
from tribune.api.streaming.streams import (  # noqa: E402
    PATHS,
    StreamError,
    Subscription,
    subscription_for,
)

PREFIX = "/api/v1/streaming"
HEARTBEAT_SECONDS = 15.0

Scope = dict[str, Any]


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _query(scope: Scope) -> dict[str, str]:
    parsed = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return {k: v[-1] for k, v in parsed.items()}


def _cors(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """CORS for browsers: the instance's own pages with their cookie, any other
    origin without credentials (a token is its authentication)."""
    origin = headers.get("origin")
    if origin and origin == settings.TRIBUNE_BASE_URL:
        return [(b"access-control-allow-origin", origin.encode()),
                (b"access-control-allow-credentials", b"true"), (b"vary", b"Origin")]
    return [(b"access-control-allow-origin", b"*")]


def viewer_for(headers: dict[str, str], query: dict[str, str], *,
               protocol_token: str | None = None) -> Viewer:
    """Who connects: by token (header, query, WebSocket protocol), else by the web
    interface's session cookie from its own origin, else a visitor. ApiError 401
    or 403 for a token that may not be used (``api.auth.viewer_for_token``).
    Synchronous (database reads)."""
    header = headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    token = (value.strip() if scheme.lower() == "bearer" else "") or query.get(
        "access_token", "").strip() or (protocol_token or "").strip()
    if token:
        return viewer_for_token(token)
    origin = headers.get("origin")
    if origin is None or origin == settings.TRIBUNE_BASE_URL:
        account = _session_account(headers.get("cookie", ""))
        if account is not None:
            return Viewer(account=account)
    return Viewer()


def _session_account(cookie_header: str):
    """The account signed in to the web interface by this cookie header, as
    Django's ``auth.get_user`` decides (session hash checked), or None."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.contrib.auth import get_user

    cookie = SimpleCookie()
    with contextlib.suppress(Exception):
        cookie.load(cookie_header)
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    if morsel is None:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(morsel.value)
    user = get_user(SimpleNamespace(session=store))
    if not user.is_authenticated or not user.is_active:
        return None
    account = getattr(user, "account", None)
    if account is None or account.suspended_at is not None:
        return None
    return account


def _resolve(viewer: Viewer, params: dict[str, Any]) -> Subscription:
    """``subscription_for`` with a WebSocket message's or a query's parameters."""
    name = params.get("stream")
    tag, list_id = params.get("tag"), params.get("list")
    return subscription_for(viewer, name if isinstance(name, str) else None,
                            tag=tag if isinstance(tag, str) else None,
                            list_id=str(list_id) if isinstance(list_id, (str, int)) else None)


def _authenticate_and_subscribe(headers, query, protocol_token, params):
    viewer = viewer_for(headers, query, protocol_token=protocol_token)
    subscription = _resolve(viewer, params) if params.get("stream") else None
    return viewer, subscription


async def application(scope: Scope, receive, send) -> None:
    """The ASGI entry point."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
    elif scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _respond(send, status: int, body: bytes, content_type: bytes,
                   extra: list[tuple[bytes, bytes]] = ()) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), *extra]})
    await send({"type": "http.response.body", "body": body})


async def _error(send, status: int, message: str, extra=()) -> None:
    await _respond(send, status, json.dumps({"error": message}).encode(),
                   b"application/json; charset=utf-8", list(extra))


async def _http(scope: Scope, receive, send) -> None:
    path = scope["path"].rstrip("/")
    headers = _headers(scope)
    cors = _cors(headers)
    if scope["method"] == "OPTIONS":
        await _respond(send, 204, b"", b"text/plain", [
            *cors, (b"access-control-allow-headers", b"Authorization"),
            (b"access-control-allow-methods", b"GET, OPTIONS")])
        return
    if path == f"{PREFIX}/health":
        await _respond(send, 200, b"OK", b"text/plain; charset=utf-8", cors)
        return
    if scope["method"] not in ("GET", "HEAD"):
        await _error(send, 405, "Method not allowed", cors)
        return
    query = _query(scope)
    if path == PREFIX:
        name = query.get("stream")
    elif path.startswith(PREFIX + "/") and path[len(PREFIX) + 1:] in PATHS:
        name = PATHS[path[len(PREFIX) + 1:]]
        if name == "public" and query.get("local", "").lower() in ("1", "true"):
            name = "public:local"
    else:
        await _error(send, 404, "Not found", cors)
        return
    params = {**query, "stream": name or ""}
    try:
        viewer, subscription = await run_sync(_authenticate_and_subscribe, headers, query,
                                              None, params)
        if subscription is None:
            raise StreamError(400, "Unknown stream type")
    except (ApiError, StreamError) as exc:
        await _error(send, exc.status, exc.message, cors)
        return
    await _sse(viewer, subscription, receive, send, cors)


async def _sse(viewer: Viewer, subscription: Subscription, receive, send, cors) -> None:
    connection = Connection(viewer.account.pk if viewer.account else None)
    the_hub = hub()
    the_hub.add(connection)
    the_hub.subscribe(connection, subscription)
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-store"), (b"x-accel-buffering", b"no"), *cors]})

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    async def write() -> None:
        await send({"type": "http.response.body", "body": b":)\n\n", "more_body": True})
        while True:
            try:
                _stream, event, payload = await asyncio.wait_for(connection.queue.get(),
                                                                 HEARTBEAT_SECONDS)
            except TimeoutError:
                chunk = b":thump\n\n"
            else:
                chunk = f"event: {event}\ndata: {payload}\n\n".encode()
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

    await _until_first(disconnected(), write(), connection.overflowed.wait(),
                       finally_=lambda: the_hub.remove(connection))


async def _until_first(*coroutines, finally_) -> None:
    """Run ``coroutines`` until the first ends (or fails), cancel the rest, then
    ``finally_()``."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        finally_()


async def _websocket(scope: Scope, receive, send) -> None:
    if scope["path"].rstrip("/") != PREFIX:
        await send({"type": "websocket.close", "code": 4004})
        return
    if (await receive())["type"] != "websocket.connect":
        return
    headers, query = _headers(scope), _query(scope)
    protocols = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
    protocol_token = protocols[0] if protocols else None
    try:
        viewer, first = await run_sync(_authenticate_and_subscribe, headers, query,
                                       protocol_token, query)
    except (ApiError, StreamError) as exc:
        # Refused before the upgrade, with Mastodon's status (401, 403...).
        if "websocket.http.response" in scope.get("extensions", {}):
            await send({"type": "websocket.http.response.start", "status": exc.status,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "websocket.http.response.body",
                        "body": json.dumps({"error": exc.message}).encode()})
        else:
            await send({"type": "websocket.close", "code": 4000 + exc.status})
        return
    accept: dict[str, Any] = {"type": "websocket.accept"}
    if protocol_token and not headers.get("authorization") and not query.get("access_token"):
        accept["subprotocol"] = protocol_token
    await send(accept)
    connection = Connection(viewer.account.pk if viewer.account else None)
    the_hub = hub()
    the_hub.add(connection)
    if first is not None:
        the_hub.subscribe(connection, first)

    async def read() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
            await _command(text)

    async def _command(text: str) -> None:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict) or data.get("type") not in ("subscribe", "unsubscribe"):
            await _send_error("Unknown message type", 400)
            return
        try:
            subscription = await run_sync(_resolve, viewer, data)
        except StreamError as exc:
            await _send_error(exc.message, exc.status)
            return
        if data["type"] == "subscribe":
            the_hub.subscribe(connection, subscription)
        else:
            the_hub.unsubscribe(connection, subscription)

    async def _send_error(message: str, status: int) -> None:
        await send({"type": "websocket.send",
                    "text": json.dumps({"error": message, "status": status})})

    async def write() -> None:
        while True:
            stream, event, payload = await connection.queue.get()
            message = {"stream": list(stream), "event": event, "payload": payload}
            if payload == NO_PAYLOAD:
                del message["payload"]  # as Mastodon's JSON.stringify leaves it out
            await send({"type": "websocket.send", "text": json.dumps(message)})

    await _until_first(read(), write(), connection.overflowed.wait(),
                       finally_=lambda: the_hub.remove(connection))
    with contextlib.suppress(Exception):
        await send({"type": "websocket.close", "code": 1000})
