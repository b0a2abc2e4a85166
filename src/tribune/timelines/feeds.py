"""The feed store: each account's home feed as an ordered set of status ids.

``FeedStore`` is the interface; ``DatabaseFeedStore`` is the embedded default (one
table). A Redis sorted-set implementation can replace it without changing callers.
Feeds are trimmed to ``MAX_ITEMS`` entries, as Mastodon's are (FeedManager).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from django.db.models import Q

from tribune.timelines.models import FeedEntry

MAX_ITEMS = 800
REBLOG_WINDOW = 40


class FeedStore(Protocol):
    def add(self, *, status_id: int, reblog_of_id: int | None, account_ids: Iterable[int]) -> None:
        """Put one status on the home feed of every account in ``account_ids``."""

    def remove_status(self, *, status_id: int) -> None:
        """Take a status off every feed."""

    def remove_account_from(self, *, feed_account_id: int, author_id: int) -> None:
        """Take every status by ``author_id`` off ``feed_account_id``'s feed."""

    def page(self, *, account_id: int, max_id: int | None, since_id: int | None,
             min_id: int | None, limit: int, exclude_authors: set[int]) -> list[int]:
        """Status ids newest first (oldest-first window when ``min_id`` is given,
        returned newest first too)."""


class DatabaseFeedStore:
    """FeedStore on the FeedEntry table: set-based inserts, one query per page."""

    def add(self, *, status_id: int, reblog_of_id: int | None, account_ids: Iterable[int]) -> None:
        account_ids = list(account_ids)
        if not account_ids:
            return
        if reblog_of_id is not None:
            # Collapse: skip feeds that already show this original (or a reblog of it)
            # among their newest REBLOG_WINDOW entries (Mastodon's FeedManager).
            recent = set(
                FeedEntry.objects.filter(account_id__in=account_ids)
                .filter(Q(status_id=reblog_of_id) | Q(reblog_of_id=reblog_of_id))
                .values_list("account_id", flat=True)
            )
            account_ids = [a for a in account_ids if a not in recent]
        FeedEntry.objects.bulk_create(
            [FeedEntry(account_id=a, status_id=status_id, reblog_of_id=reblog_of_id)
             for a in account_ids],
            ignore_conflicts=True, batch_size=500,
        )

    def remove_status(self, *, status_id: int) -> None:
        FeedEntry.objects.filter(Q(status_id=status_id) | Q(reblog_of_id=status_id)).delete()

    def remove_account_from(self, *, feed_account_id: int, author_id: int) -> None:
        FeedEntry.objects.filter(account_id=feed_account_id, status__account_id=author_id).delete()
        FeedEntry.objects.filter(account_id=feed_account_id,
                                 status__reblog_of__account_id=author_id).delete()

    def page(self, *, account_id: int, max_id: int | None, since_id: int | None,
             min_id: int | None, limit: int, exclude_authors: set[int]) -> list[int]:
        qs = FeedEntry.objects.filter(account_id=account_id)
        if exclude_authors:
            qs = qs.exclude(status__account_id__in=exclude_authors).exclude(
                status__reblog_of__account_id__in=exclude_authors)
        if max_id is not None:
            qs = qs.filter(status_id__lt=max_id)
        if min_id is not None:
            ids = list(qs.filter(status_id__gt=min_id).order_by("status_id")
                       .values_list("status_id", flat=True)[:limit])
            return ids[::-1]
        if since_id is not None:
            qs = qs.filter(status_id__gt=since_id)
        return list(qs.order_by("-status_id").values_list("status_id", flat=True)[:limit])

    def trim(self, *, account_id: int) -> None:
        """Keep only the newest MAX_ITEMS entries of one feed."""
        cutoff = (FeedEntry.objects.filter(account_id=account_id).order_by("-status_id")
                  .values_list("status_id", flat=True)[MAX_ITEMS : MAX_ITEMS + 1])
        if cutoff:
            FeedEntry.objects.filter(account_id=account_id, status_id__lte=cutoff[0]).delete()


def feed_store() -> DatabaseFeedStore:
    """The configured feed store (the database one on the embedded default)."""
    return DatabaseFeedStore()
