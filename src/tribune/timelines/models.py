"""The database implementation of the feed store."""

from __future__ import annotations

from django.db import models


class FeedEntry(models.Model):
    """``status`` is on ``account``'s home feed. For a reblog, ``status`` is the reblog
    row and ``reblog_of_id`` the original, so repeated reblogs can be collapsed."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    status = models.ForeignKey("statuses.Status", on_delete=models.CASCADE, related_name="+")
    reblog_of_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "status"], name="feed_entry_once")]
        indexes = [models.Index(fields=["account", "-status"])]
