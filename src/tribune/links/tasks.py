"""The background task that fetches a status's preview card."""

from __future__ import annotations

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task(queue_name="media")
def fetch_card(status_id: int) -> None:
    """Run :func:`tribune.links.services.card_fetch_for_status`; a failure is
    logged, never retried (the next edit of the status tries again)."""
    from tribune.links.services import card_fetch_for_status

    try:
        card_fetch_for_status(status_id=status_id)
    except Exception:
        logger.exception("links: card for status %s failed", status_id)
