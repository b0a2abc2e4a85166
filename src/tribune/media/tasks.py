"""Background tasks of media: processing uploads and removing unused ones."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="media")
def process_media(media_id: str) -> None:
    """Process an upload accepted by ``POST /api/v2/media``."""
    from tribune.media.services import media_process

    media_process(media_id=media_id)


@task(queue_name="media")
def cleanup_orphan(media_id: str) -> None:
    """Delete an upload still unattached a day after it came (scheduled with
    ``run_after``); one attached meanwhile is kept."""
    from tribune.media.services import media_cleanup_orphans

    media_cleanup_orphans(media_id=media_id)
