"""The database implementation of the feed store."""

from __future__ import annotations

from django.db import models


class FeedEntry(models.Model):
    """``status`` is on ``account``'s home feed. For a reblog, ``status`` is the reblog
    row and ``reblog_of_id`` the original, so repeated reblogs can be collapsed."""

    # The unique (account, status) index serves every read of a feed, newest first
    # by scanning it backwards; a separate index on account, or on (account,
    # -status), would only add a write to every entry fan-out makes.
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+",
                                db_index=False)
    status = models.ForeignKey("statuses.Status", on_delete=models.CASCADE, related_name="+")
    reblog_of_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "status"], name="feed_entry_once")]

    def __str__(self) -> str:
        return f"{self.status_id} on {self.account_id}'s feed"


class FeedStoreStamp(models.Model):
    """The stamp of the feed store holding the instance's current home feeds
    (``FeedStore.stamp``; one row, ``services.feeds_check``). Derived state: a
    backup leaves it out, and a restore records the store it rebuilt into."""

    value = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.value


class MarkerTimeline(models.TextChoices):
    HOME = "home"
    NOTIFICATIONS = "notifications"


class Marker(models.Model):
    """Where ``account`` stopped reading one timeline (Mastodon's Marker), so apps
    can sync the position. ``version`` starts at 0 and grows by one each time the
    position moves (Rails' optimistic-locking counter, which Mastodon exposes)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    timeline = models.CharField(max_length=20, choices=MarkerTimeline.choices)
    last_read_id = models.BigIntegerField()
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "timeline"], name="marker_once")]

    def __str__(self) -> str:
        return f"{self.timeline} marker at {self.last_read_id}"
