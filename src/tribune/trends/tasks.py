"""The trends' background task (Django's Tasks API)."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="default")
def refresh_trends() -> None:
    """Recompute the trend scores (``scoring.trends_refresh``); idempotent."""
    from tribune.trends.scoring import trends_refresh

    trends_refresh()
