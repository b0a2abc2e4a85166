"""The background task that publishes a scheduled post at its time."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="default")
def publish_scheduled_status(scheduled_status_id: str) -> None:
    """Publish scheduled status ``scheduled_status_id`` if it is due (enqueued with
    ``run_after`` set to its time); a post moved later, published or cancelled
    meanwhile is left alone, so running twice or early does no harm."""
    from tribune.scheduling.services import scheduled_status_publish

    scheduled_status_publish(scheduled_status_id=scheduled_status_id)
