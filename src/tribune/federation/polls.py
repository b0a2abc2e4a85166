"""Remote polls read again from their servers while people look at them: a poll
found through search or a hashtag gets no ``Update`` of its ``Question`` from a
server that does not know we care, so its counts would stay those of the moment
it was stored. As Mastodon does (Api::V1::PollsController#refresh_poll,
ActivityPub::FetchRemotePollService), a signed-in person reading a poll whose
counts are possibly stale (``statuses.polls.poll_possibly_stale``) has it fetched
again, here on the federation queue rather than inside the request; the answer
goes through the same path as an inbound ``Update`` (``notes.note_update``)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from tribune.core.errors import DomainError
from tribune.federation.client import FederationRequestError, get_object
from tribune.federation.models import RemoteActor
from tribune.federation.notes import NoteRefused, host, note_update, ref_id
from tribune.statuses.models import Poll
from tribune.statuses.polls import poll_possibly_stale

logger = logging.getLogger(__name__)

__all__ = ["poll_fetch_now", "poll_refresh_soon"]


def poll_refresh_soon(poll: Poll) -> bool:
    """Queue a fetch of ``poll``'s Question when its counts are possibly stale;
    returns whether one was queued. The poll is marked read at once, so that
    readers arriving meanwhile queue nothing more."""
    if not poll_possibly_stale(poll):
        return False
    now = timezone.now()
    claimed = (Poll.objects.filter(pk=poll.pk, last_fetched_at=poll.last_fetched_at)
               .update(last_fetched_at=now))
    if not claimed:
        return False  # another reader queued it a moment ago
    from tribune.federation.tasks import poll_fetch

    transaction.on_commit(lambda: poll_fetch.enqueue(poll_id=poll.pk))
    return True


def poll_fetch_now(*, poll_id: int) -> bool:
    """Fetch the remote poll ``poll_id``'s status from its origin (signed by the
    instance actor) and apply it as an ``Update`` from its author: counts, end
    and, when its ``updated`` is newer, its text. The document must be served by
    the status's host and carry the status's own ``id``. Returns whether the poll
    was refreshed; a failure is logged, and the poll is read again once it is
    stale again."""
    poll = Poll.objects.select_related("status__account").filter(pk=poll_id).first()
    if poll is None or poll.status.account.is_local:
        return False
    uri = poll.status.uri
    author = RemoteActor.objects.select_related("account").filter(
        account=poll.status.account).first()
    if author is None or not uri:
        return False
    from tribune.federation.instance_actor import instance_signer

    try:
        fetched = get_object(uri, signer=instance_signer())
        document = fetched.document
        if host(fetched.url) != host(uri) or ref_id(document.get("id")) != uri:
            raise NoteRefused(f"{uri} was answered by another object or host")
        return note_update(document, author=author) is not None
    except (FederationRequestError, NoteRefused, DomainError) as error:
        logger.warning("remote poll %s not refreshed: %s", uri, error)
        return False
