"""Background tasks of media: processing uploads, removing unused ones, and
copying the media of other servers."""

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


@task(queue_name="media")
def cache_remote_media(media_id: str) -> None:
    """Fetch and process an attachment of a remote post (``media.remote``)."""
    from tribune.media.remote import media_remote_cache

    media_remote_cache(media_id=media_id)


@task(queue_name="media")
def cache_remote_account_image(account_id: str, kind: str) -> None:
    """Fetch and store a remote account's avatar or header whose URL changed."""
    from tribune.media.remote import account_remote_image_cache

    account_remote_image_cache(account_id=account_id, kind=kind)
