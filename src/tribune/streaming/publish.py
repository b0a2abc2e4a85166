"""The one way to publish a stream event (docs/adr/0032).

A producer (``tribune.effects``, after commit) calls :func:`stream_publish` with the
channels, the event name and a *reference* (a status or notification id): never
the entity, since what a Status entity shows depends on who looks (filters, blocks,
the viewer's favourites). The streaming process renders it for each viewer.

Transport, by configuration: with ``TRIBUNE_REDIS_URL``, one Redis pub/sub message
on :data:`REDIS_CHANNEL`; otherwise one :class:`~tribune.streaming.models.StreamEvent`
row, which streaming processes poll; rows older than :data:`PRUNE_AFTER` are
deleted as new ones are written. Both carry the same JSON message,
``{"streams": [...], "event": "...", "ref": "..."}``.

A failure to publish is logged, never raised: a live update is a courtesy, and the
write it follows has committed already.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

REDIS_CHANNEL = "tribune:stream"
PRUNE_AFTER = timedelta(seconds=60)
PRUNE_EVERY = 10.0  # seconds between two prunes by one process
EVENTS = frozenset({"update", "delete", "status.update", "notification", "conversation",
                    "filters_changed"})

_last_prune = 0.0


def stream_message(streams: Iterable[str], event: str, ref: int | str) -> dict:
    """The message both transports carry. ValueError for an unknown event."""
    if event not in EVENTS:
        raise ValueError(f"unknown stream event {event!r}")
    return {"streams": sorted(set(streams)), "event": event, "ref": str(ref)}


def stream_publish(streams: Iterable[str], event: str, ref: int | str) -> bool:
    """Publish ``event`` about ``ref`` to the channels ``streams`` (``keys``).

    Returns whether it was published (False: no channel, or the transport failed,
    which is logged). ValueError for an unknown event name (a programming error).
    """
    message = stream_message(streams, event, ref)
    if not message["streams"]:
        return False
    try:
        if settings.TRIBUNE_REDIS_URL:
            from tribune.core.redis import redis_client

            redis_client().publish(REDIS_CHANNEL, json.dumps(message))
        else:
            _table_publish(message)
    except Exception:
        logger.exception("streaming: cannot publish %s %s", event, ref)
        return False
    return True


def _table_publish(message: dict) -> None:
    from tribune.streaming.models import StreamEvent

    global _last_prune
    now = timezone.now()
    StreamEvent.objects.create(streams=message["streams"], event=message["event"],
                               ref=message["ref"], created_at=now)
    if time.monotonic() - _last_prune > PRUNE_EVERY:
        _last_prune = time.monotonic()
        StreamEvent.objects.filter(created_at__lt=now - PRUNE_AFTER).delete()


def stream_events_since(*, after: timezone.datetime, after_id: int = 0,
                        limit: int = 1000) -> list[tuple[int, dict]]:
    """At most ``limit`` of the table's events created at or after ``after`` with
    ids above ``after_id``, by id, as ``(row id, message)``; for the streaming
    process's poll (which pages on with the last id it got)."""
    from tribune.streaming.models import StreamEvent

    rows = (StreamEvent.objects.filter(created_at__gte=after, id__gt=after_id).order_by("id")
            .values_list("id", "streams", "event", "ref")[:limit])
    return [(pk, {"streams": streams, "event": event, "ref": ref})
            for pk, streams, event, ref in rows]
