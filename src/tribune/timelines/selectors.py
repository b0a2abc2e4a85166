"""The home timeline read."""

from __future__ import annotations

from tribune.accounts.models import Account
from tribune.core.pagination import Cursor, Page
from tribune.graph.selectors import hidden_account_ids
from tribune.statuses.policy import removed_for
from tribune.statuses.selectors import statuses_by_ids
from tribune.timelines.feeds import feed_store
from tribune.timelines.models import Marker


def home_timeline(*, viewer: Account, cursor: Cursor) -> Page:
    """The viewer's home feed, newest first: ids from the feed store, then one query
    for the rows; blocked and muted authors are filtered in the id query."""
    ids = feed_store().page(
        account_id=viewer.pk, max_id=cursor.max_id, since_id=cursor.since_id,
        min_id=cursor.min_id, limit=cursor.limit,
        exclude_authors=hidden_account_ids(viewer.pk),
    )
    # A status removed by moderation stays in feeds (a reversal brings it back)
    # but is shown to its author only.
    statuses = [s for s in statuses_by_ids(ids) if not removed_for(viewer, s)]
    if ids:
        return Page(statuses, next_max_id=ids[-1], prev_min_id=ids[0])
    return Page([], None, cursor.min_id or cursor.since_id or cursor.max_id)


def markers(*, account: Account, timelines: list[str]) -> dict[str, Marker]:
    """``account``'s markers for the named timelines that have one, by timeline name;
    unknown names are ignored (one query)."""
    rows = Marker.objects.filter(account=account, timeline__in=timelines)
    return {m.timeline: m for m in rows}
