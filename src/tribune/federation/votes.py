"""Votes of other servers' accounts in local polls (docs/adr/0036): each chosen
option arrives as a ``Create`` of a ``Note`` whose ``name`` is the option's
title and whose ``inReplyTo`` is the poll's ``Question``, without content
(Mastodon's ActivityPub::VoteSerializer; its Create handler's ``poll_vote?``).
Such a Note is a vote through ``statuses.polls.poll_vote``, with the rules of a
local vote, never a reply post.
"""

from __future__ import annotations

import logging
from typing import Any

from tribune.core.errors import DomainError
from tribune.federation.models import RemoteActor
from tribune.federation.notes import host, ref_id
from tribune.statuses.models import Status
from tribune.statuses.polls import poll_vote
from tribune.statuses.selectors import status_by_uri, status_poll

logger = logging.getLogger(__name__)


def _voted_status(note: dict[str, Any]) -> Status | None:
    """The local post with a poll that ``note`` answers, or None."""
    uri = ref_id(note.get("inReplyTo"))
    status = status_by_uri(uri) if uri else None
    if status is None or not status.account.is_local or status_poll(status) is None:
        return None
    return status


def is_vote(note: Any) -> bool:
    """Whether ``note`` (a Create's object) is a vote: a ``Note`` with a ``name``
    and no content, answering a local post with a poll."""
    if not isinstance(note, dict) or note.get("type") != "Note":
        return False
    content = note.get("content")
    if not isinstance(note.get("name"), str) or (isinstance(content, str) and content.strip()):
        return False
    return _voted_status(note) is not None


def vote_receive(note: dict[str, Any], sender: RemoteActor) -> bool:
    """Count the vote ``note`` (``is_vote``) of ``sender``: its id must be on the
    sender's host and ``attributedTo`` the sender; its ``name`` must be one of
    the poll's options. One option per Note, so a voter may add options to a
    multiple-choice poll (``poll_vote(adding=True)``) but votes once in any other;
    a second vote, a vote after the end or in a post the sender may not see is
    refused by ``poll_vote`` and logged. Returns whether it was counted."""
    uri = ref_id(note.get("id"))
    who = sender.account.uri
    if uri is None or host(uri) != host(who) or ref_id(note.get("attributedTo")) != who:
        logger.info("inbox: a vote from %s that is not its own ignored", who)
        return False
    status = _voted_status(note)
    poll = status_poll(status) if status is not None else None
    if poll is None or note["name"] not in poll.options:
        logger.info("inbox: a vote from %s for no option of a poll here ignored", who)
        return False
    try:
        poll_vote(account=sender.account, poll=poll, choices=[poll.options.index(note["name"])],
                  adding=True)
    except DomainError as error:
        logger.info("inbox: a vote from %s refused: %s", who, error)
        return False
    return True
