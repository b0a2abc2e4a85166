"""Polls: /api/v1/polls/:id and voting (Mastodon's Api::V1::PollsController and
Polls::VotesController; docs: methods/polls)."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from tribune.api.auth import public, write
from tribune.api.base import responses
from tribune.api.presenters import poll_entity, poll_shared
from tribune.api.schemas import Poll
from tribune.federation.polls import poll_refresh_soon
from tribune.statuses import polls

router = Router(tags=["polls"])


class VoteIn(Schema):
    # ``choices[]=0&choices[]=2`` (form or query) or a JSON array; one index alone too.
    choices: list[str | int] | str | int | None = None


def _out(request, poll) -> dict[str, Any]:
    viewer = request.auth.account
    votes = polls.own_votes(poll=poll, viewer=viewer)
    return poll_entity(poll_shared(poll), viewer_id=viewer.pk if viewer else None,
                       author_id=poll.status.account_id,
                       own_votes=tuple(votes) if votes else None)


@router.get("/v1/polls/{poll_id}", response=responses(Poll), auth=public())
def poll_get(request, poll_id: str):
    """A poll, if its status is visible to the caller. A remote poll whose counts
    are possibly stale is read again from its server for a signed-in caller, as
    Mastodon's refresh_poll does; this answer has the counts known now, the next
    one the fresh ones (federation.polls)."""
    viewer = request.auth.account
    poll = polls.poll_get_visible(poll_id=poll_id, viewer=viewer)
    if viewer is not None:
        poll_refresh_soon(poll)
    return _out(request, poll)


@router.post("/v1/polls/{poll_id}/votes", response=responses(Poll), auth=write("statuses"))
def poll_vote(request, poll_id: str, payload: VoteIn):
    """Vote in a poll with the option indexes ``choices[]``; answers the poll with
    the caller's votes."""
    account = request.auth.require_account()
    poll = polls.poll_get_visible(poll_id=poll_id, viewer=account)
    choices = payload.choices
    if not isinstance(choices, list):
        choices = [] if choices in (None, "") else [choices]
    return _out(request, polls.poll_vote(account=account, poll=poll, choices=choices))
