"""The home timeline read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

from tribune.accounts.models import Account
from tribune.core.pagination import Cursor, Page
from tribune.graph.selectors import home_graph
from tribune.lists.selectors import exclusive_member_ids
from tribune.statuses.models import Status
from tribune.statuses.policy import removed_for
from tribune.statuses.selectors import statuses_by_ids
from tribune.timelines.feeds import feed_store
from tribune.timelines.models import Marker
from tribune.timelines.rules import merged_q
from tribune.timelines.services import REBUILDING_ALL, rebuild_flag_key

T = TypeVar("T")


def home_timeline_ids(*, viewer: Account, cursor: Cursor) -> Page:
    """The ids of the viewer's home feed page, newest first (oldest first for
    ``min_id``), before moderation and reblog collapsing (:func:`home_timeline`).

    Ids come from the feed store, merged with the statuses of followed accounts that
    are not fanned out (more than ``TRIBUNE_FANOUT_MAX_FOLLOWERS`` followers): one
    indexed query on ``(account, -id)`` for the page's range, under the fan-out's
    rules for replies, reblogs, blocks and mutes; the members of the viewer's
    exclusive lists are left out (their posts show in those lists). ``page.extra``: ``partial`` is True
    while the feed is being rebuilt after a long absence (the API answers 206, as
    Mastodon does); ``merged`` is True when such statuses were merged in, so the
    page's reblogs must be collapsed (:func:`collapse_reblogs`).
    """
    hidden, big = home_graph(viewer.pk, followers_over=settings.TRIBUNE_FANOUT_MAX_FOLLOWERS)
    hidden = hidden | exclusive_member_ids(account_id=viewer.pk)
    ids = feed_store().page(
        account_id=viewer.pk, max_id=cursor.max_id, since_id=cursor.since_id,
        min_id=cursor.min_id, limit=cursor.limit, exclude_authors=hidden,
    )
    merged = _celebrity_ids(viewer=viewer, cursor=cursor, hidden=hidden,
                            follows={t: show for t, show in big.items() if t not in hidden})
    if merged:
        ascending = cursor.min_id is not None
        ids = sorted(set(ids) | set(merged), reverse=not ascending)[: cursor.limit]
        if ascending:
            ids.reverse()
    partial = bool(cache.get_many([rebuild_flag_key(viewer.pk), REBUILDING_ALL]))
    extra = {"partial": partial, "merged": bool(merged)}
    if ids:
        return Page(ids, next_max_id=ids[-1], prev_min_id=ids[0], extra=extra)
    return Page([], None, cursor.min_id or cursor.since_id or cursor.max_id, extra=extra)


def home_timeline(*, viewer: Account, cursor: Cursor) -> Page:
    """The viewer's home feed page of Status rows (:func:`home_timeline_ids`).

    A status removed by moderation stays in feeds (a reversal brings it back) but
    is shown to its author only.
    """
    page = home_timeline_ids(viewer=viewer, cursor=cursor)
    statuses = [s for s in statuses_by_ids(page.items) if not removed_for(viewer, s)]
    if page.extra["merged"]:
        statuses = collapse_reblogs(statuses, lambda s: (s.pk, s.reblog_of_id))
    page.items = statuses
    return page


def collapse_reblogs(items: list[T], key: Callable[[T], tuple[int, int | None]]) -> list[T]:
    """Drop each reblog whose original, or another reblog of it, is older on the same
    page: merged statuses never went through the fan-out's collapse (Mastodon's
    FeedManager keeps the first appearance). ``key`` gives an item's (status id,
    reblogged id or None). Order is kept, newest or oldest first."""
    if len(items) > 1 and key(items[0])[0] < key(items[-1])[0]:
        return collapse_reblogs(items[::-1], key)[::-1]
    seen: set[int] = set()
    kept: list[T] = []
    for item in reversed(items):  # oldest first
        pk, reblog_of_id = key(item)
        original = reblog_of_id or pk
        if reblog_of_id is not None and original in seen:
            continue
        seen.add(original)
        kept.append(item)
    return kept[::-1]


def _celebrity_ids(*, viewer: Account, cursor: Cursor, hidden: set[int],
                   follows: dict[int, bool]) -> list[int]:
    """Ids of statuses by followed accounts that are merged at read time
    (``follows``: those accounts, with whether their reblogs are shown), in the
    page's range and order (ascending for ``min_id``), at most ``cursor.limit``, under
    the rules fan-out applies (:func:`rules.merged_q`)."""
    if not follows:
        return []
    qs = Status.objects.filter(merged_q(viewer_id=viewer.pk, follows=follows, hidden=hidden))
    if cursor.max_id is not None:
        qs = qs.filter(id__lt=cursor.max_id)
    if cursor.min_id is not None:
        return list(qs.filter(id__gt=cursor.min_id).order_by("id")
                    .values_list("id", flat=True)[: cursor.limit])
    if cursor.since_id is not None:
        qs = qs.filter(id__gt=cursor.since_id)
    return list(qs.order_by("-id").values_list("id", flat=True)[: cursor.limit])


def markers(*, account: Account, timelines: list[str]) -> dict[str, Marker]:
    """``account``'s markers for the named timelines that have one, by timeline name;
    unknown names are ignored (one query)."""
    rows = Marker.objects.filter(account=account, timeline__in=timelines)
    return {m.timeline: m for m in rows}
