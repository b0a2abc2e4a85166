"""Cursor pagination in Mastodon's style (docs: api/guidelines.md#pagination).

Pages are newest first. ``max_id`` returns items older than the cursor, ``since_id``
items newer than it (newest first), ``min_id`` the items immediately newer than it.
All bounds are exclusive, so following ``next`` then ``prev`` never repeats an item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


@dataclass(frozen=True)
class Cursor:
    """A request's pagination parameters, already validated."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def has_cursor(self) -> bool:
        return any(v is not None for v in (self.max_id, self.since_id, self.min_id))


@dataclass
class Page:
    """One page of ``items`` with the keys the ``Link`` header needs.

    ``next_max_id`` is the key of the oldest item (None on an empty page),
    ``prev_min_id`` the key of the newest, or the request's own cursor on an empty page
    that had one, so clients can keep polling for newer items.
    """

    items: list[Any]
    next_max_id: int | None = None
    prev_min_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def paginate(qs: QuerySet, cursor: Cursor, *, key: str = "id",
             transform: Callable[[list[Any]], list[Any]] | None = None) -> Page:
    """Apply ``cursor`` to ``qs`` ordered by the integer column ``key`` and fetch one
    page. ``transform`` maps the fetched rows to the page's items (e.g. favourites to
    their statuses) without changing the keys."""
    if cursor.max_id is not None:
        qs = qs.filter(**{f"{key}__lt": cursor.max_id})
    if cursor.min_id is not None:
        rows = list(qs.filter(**{f"{key}__gt": cursor.min_id}).order_by(key)[: cursor.limit])
        rows.reverse()
    else:
        if cursor.since_id is not None:
            qs = qs.filter(**{f"{key}__gt": cursor.since_id})
        rows = list(qs.order_by(f"-{key}")[: cursor.limit])
    return page_from_rows(rows, cursor, key_of=lambda row: getattr(row, key), transform=transform)


def page_from_rows(rows: list[Any], cursor: Cursor, *, key_of: Callable[[Any], int],
                   transform: Callable[[list[Any]], list[Any]] | None = None) -> Page:
    """A Page from rows already fetched newest first."""
    items = transform(rows) if transform else rows
    if rows:
        return Page(items, next_max_id=key_of(rows[-1]), prev_min_id=key_of(rows[0]))
    fallback = cursor.min_id or cursor.since_id or cursor.max_id
    return Page(items, next_max_id=None, prev_min_id=fallback)
