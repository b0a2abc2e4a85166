"""The stream events of the embedded default (no Redis): a short-lived table that
streaming processes poll (docs/adr/0032)."""

from __future__ import annotations

from django.db import models


class StreamEvent(models.Model):
    """One published event: the Mastodon stream channels it goes to (``streams``,
    names as ``keys`` makes them), the event name (``update``, ``delete``,
    ``status.update``, ``notification``, ``conversation``, ``filters_changed``) and
    a reference to what it is about (a status or notification id, as a string).
    Rows live about a minute (``publish.PRUNE_AFTER``)."""

    streams = models.JSONField()
    event = models.CharField(max_length=32)
    ref = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.event} {self.ref}"
