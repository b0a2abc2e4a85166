"""What the producers publish, read back from whichever transport the run uses:
the StreamEvent table on the embedded default, Redis pub/sub with Redis."""

from __future__ import annotations

import json
import time

import pytest


class Published:
    """The messages published since the fixture started, oldest first."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.pubsub = None
        self.seen: list[dict] = []
        if settings.TRIBUNE_REDIS_URL:
            from tribune.core.redis import redis_client
            from tribune.streaming.publish import REDIS_CHANNEL

            self.pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
            self.pubsub.subscribe(REDIS_CHANNEL)
            self.pubsub.get_message(timeout=1)  # the subscription's confirmation
        else:
            from tribune.streaming.models import StreamEvent

            self.after = StreamEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def messages(self) -> list[dict]:
        if self.pubsub is not None:
            deadline = time.monotonic() + 0.3
            while time.monotonic() < deadline:
                item = self.pubsub.get_message(timeout=0.1)
                if item is not None:
                    self.seen.append(json.loads(item["data"]))
            return list(self.seen)
        from tribune.streaming.models import StreamEvent

        rows = StreamEvent.objects.filter(id__gt=self.after).order_by("id")
        return [{"streams": r.streams, "event": r.event, "ref": r.ref} for r in rows]

    def of(self, event: str, ref) -> list[dict]:
        """The messages of ``event`` about ``ref``."""
        return [m for m in self.messages() if m["event"] == event and m["ref"] == str(ref)]

    def channels(self, event: str, ref) -> set[str]:
        """Every channel that heard ``event`` about ``ref``."""
        return {c for m in self.of(event, ref) for c in m["streams"]}

    def close(self) -> None:
        if self.pubsub is not None:
            self.pubsub.close()


@pytest.fixture
def published(settings, transactional_db):
    found = Published(settings)
    yield found
    found.close()
