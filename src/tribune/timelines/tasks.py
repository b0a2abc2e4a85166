"""Background tasks of the timelines (Django's Tasks API)."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="timelines")
def rebuild_home_feed(account_id: int) -> int:
    """Rebuild one returning account's home feed (``services.feed_rebuild``);
    returns the entries written. Idempotent: a retry writes the same entries."""
    from tribune.timelines.services import feed_rebuild

    return feed_rebuild(account_id=account_id)


@task(queue_name="timelines")
def rebuild_active_home_feeds() -> int:
    """Rebuild the home feeds of all active accounts after the feed store changed
    (``services.feeds_check``); returns how many feeds. Idempotent."""
    from tribune.timelines.services import active_feeds_rebuild

    return active_feeds_rebuild()
