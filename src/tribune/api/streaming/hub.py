"""The hub of one streaming process: its connections by channel, and the loop
that reads published events from the transport and hands each connection its
payload (docs/adr/0032).

Transports, as ``streaming.publish`` writes them: Redis pub/sub (one subscription
per process, to ``publish.REDIS_CHANNEL``) when ``TRIBUNE_REDIS_URL`` is set, else
the ``StreamEvent`` table, polled every :data:`POLL_SECONDS` while anyone is
connected. The table is read over a trailing window (:data:`WINDOW`) and rows are
remembered by id, so a row whose transaction committed after a later one (ids
are taken before commit on PostgreSQL) is still seen, once.

Database work (authentication, rendering) runs on one thread of its own
(:func:`run_sync`), so the event loop never blocks and the process holds one
database connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings

from tribune.api.streaming.render import render
from tribune.api.streaming.streams import Subscription

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25
WINDOW = timedelta(seconds=5)
PAGE = 500  # table rows read per query
QUEUE_SIZE = 500  # events waiting for one slow client before it is disconnected

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="streaming-db")
T = TypeVar("T")


async def run_sync(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the database thread."""
    return await asyncio.get_running_loop().run_in_executor(_executor, fn, *args)


class Connection:
    """One client connection (a WebSocket or an SSE response): who it is
    (``viewer_id``, None for visitors), its subscriptions and the queue of
    ``(stream, event, payload)`` waiting to be written. A client that falls
    :data:`QUEUE_SIZE` events behind is closed (``overflowed``)."""

    def __init__(self, viewer_id: int | None) -> None:
        self.viewer_id = viewer_id
        self.subscriptions: set[Subscription] = set()
        self.queue: asyncio.Queue[tuple[tuple[str, ...], str, str]] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = asyncio.Event()

    def put(self, stream: tuple[str, ...], event: str, payload: str) -> None:
        """Queue one event for writing, or mark the connection ``overflowed``."""
        try:
            self.queue.put_nowait((stream, event, payload))
        except asyncio.QueueFull:
            self.overflowed.set()


class Hub:
    """Connections by channel, and the task reading the transport."""

    def __init__(self) -> None:
        self.channels: dict[str, set[tuple[Connection, Subscription]]] = defaultdict(set)
        self.connections: set[Connection] = set()
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        from django.utils import timezone

        self.started = timezone.now()  # the table's older rows are not for us

    def start(self) -> None:
        """Start reading the transport (once, on the running loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def add(self, connection: Connection) -> None:
        """Count ``connection`` in (the table transport reads while anyone is)."""
        self.connections.add(connection)
        self._wake.set()

    def subscribe(self, connection: Connection, subscription: Subscription) -> None:
        """Deliver the events of ``subscription``'s channel to ``connection``."""
        connection.subscriptions.add(subscription)
        self.channels[subscription.channel].add((connection, subscription))

    def unsubscribe(self, connection: Connection, subscription: Subscription) -> None:
        """Stop delivering ``subscription``'s events to ``connection`` (none: no-op)."""
        connection.subscriptions.discard(subscription)
        members = self.channels.get(subscription.channel)
        if members is not None:
            members.discard((connection, subscription))
            if not members:
                del self.channels[subscription.channel]

    def remove(self, connection: Connection) -> None:
        """Forget a closed ``connection`` and its subscriptions."""
        for subscription in list(connection.subscriptions):
            self.unsubscribe(connection, subscription)
        self.connections.discard(connection)

    async def dispatch(self, message: dict) -> int:
        """Hand one published message to the connections subscribed to its
        channels, rendered once per viewer; returns how many were queued."""
        event, ref = message.get("event"), message.get("ref")
        if not isinstance(event, str) or not isinstance(ref, str):
            return 0
        targets = [(c, s) for channel in message.get("streams") or ()
                   for c, s in self.channels.get(channel, ()) if s.passes(event)]
        if not targets:
            return 0
        payloads = await run_sync(render, event, ref,
                                  {(c.viewer_id, s.context) for c, s in targets})
        queued = 0
        for connection, subscription in targets:
            payload = payloads.get((connection.viewer_id, subscription.context))
            if payload is not None and connection in self.connections:
                connection.put(subscription.stream, event, payload)
                queued += 1
        return queued

    async def _run(self) -> None:
        while True:
            try:
                async for message in self._messages():
                    try:
                        await self.dispatch(message)
                    except Exception:
                        logger.exception("streaming: cannot deliver %s", message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("streaming: the transport failed; reading it again")
                await asyncio.sleep(1)

    def _messages(self) -> AsyncIterator[dict]:
        if settings.TRIBUNE_REDIS_URL:
            return self._redis_messages()
        return self._table_messages()

    async def _redis_messages(self) -> AsyncIterator[dict]:
        import redis.asyncio as aioredis

        from tribune.streaming.publish import REDIS_CHANNEL

        client = aioredis.Redis.from_url(settings.TRIBUNE_REDIS_URL, health_check_interval=30)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(REDIS_CHANNEL)
            async for item in pubsub.listen():
                with contextlib.suppress(ValueError, TypeError):
                    message = json.loads(item["data"])
                    if isinstance(message, dict):
                        yield message
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
                await client.aclose()

    async def _table_messages(self) -> AsyncIterator[dict]:
        from django.utils import timezone

        from tribune.streaming.publish import stream_events_since

        started = self.started
        seen: dict[int, float] = {}
        while True:
            if not self.connections:
                self._wake.clear()
                await self._wake.wait()
            after, last = max(started, timezone.now() - WINDOW), 0
            while True:
                rows = await run_sync(lambda a=after, i=last: stream_events_since(
                    after=a, after_id=i, limit=PAGE))
                now = time.monotonic()
                for pk, message in rows:
                    if pk not in seen:
                        seen[pk] = now
                        yield message
                if len(rows) < PAGE:
                    break
                last = rows[-1][0]
            for pk in [pk for pk, at in seen.items() if now - at > 2 * WINDOW.total_seconds()]:
                del seen[pk]
            await asyncio.sleep(POLL_SECONDS)


_hub: Hub | None = None


def hub() -> Hub:
    """This process's hub, started on first use."""
    global _hub
    if _hub is None:
        _hub = Hub()
    _hub.start()
    return _hub
