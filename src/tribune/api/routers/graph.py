"""The social graph: relationships, follow/block/mute actions, follow requests,
and the caller's lists of blocked and muted accounts.

Every action answers the caller's Relationship to the target afterwards."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Query, Router, Schema

from tribune.accounts.selectors import account_get, accounts_by_ids
from tribune.api.auth import read, write
from tribune.api.base import link_header, responses
from tribune.api.presenters import muted_account_out, relationship_out
from tribune.api.routers.accounts import account_cursor, accounts_page
from tribune.api.schemas import Account, MutedAccount, Relationship
from tribune.graph import selectors, services

router = Router(tags=["graph"])


class FollowIn(Schema):
    reblogs: bool | None = None
    notify: bool | None = None
    languages: list[str] | None = None  # accepted; language filters are not kept yet


class MuteIn(Schema):
    notifications: bool = True
    duration: int = 0


def _relationship(viewer, target) -> dict:
    return relationship_out(selectors.relationships(viewer=viewer, target_ids=[target.pk])[0])


@router.get("/v1/accounts/relationships", response=responses(list[Relationship]),
            auth=read("follows"))
def relationships(request, id: Query[list[str] | None] = None):
    """The caller's relationship to each account in ``id[]`` (unknown ids left out)."""
    found = accounts_by_ids(id or [])
    rels = selectors.relationships(viewer=request.auth.require_account(),
                                   target_ids=[a.pk for a in found])
    return [relationship_out(r) for r in rels]


@router.post("/v1/accounts/{account_id}/follow", response=responses(Relationship),
             auth=write("follows"))
def follow(request, account_id: str, payload: FollowIn):
    """Follow an account, or ask to if it is locked; again, to change the options."""
    viewer, target = request.auth.require_account(), account_get(account_id=account_id)
    services.follow_create(account=viewer, target=target, show_reblogs=payload.reblogs,
                           notify=payload.notify)
    return _relationship(viewer, target)


@router.post("/v1/accounts/{account_id}/mute", response=responses(Relationship),
             auth=write("mutes"))
def mute(request, account_id: str, payload: MuteIn):
    """Mute an account (and its notifications unless ``notifications=false``) for
    ``duration`` seconds, 0 meaning until unmuted."""
    viewer, target = request.auth.require_account(), account_get(account_id=account_id)
    services.mute_create(account=viewer, target=target, notifications=payload.notifications,
                         duration=payload.duration)
    return _relationship(viewer, target)


def _action(service: str, other: str, doc: str):
    """A view that calls ``services.<service>(account=caller, <other>=that account)``
    and answers the Relationship with that account."""
    def view(request, account_id: str):
        viewer, target = request.auth.require_account(), account_get(account_id=account_id)
        getattr(services, service)(account=viewer, **{other: target})
        return _relationship(viewer, target)

    view.__doc__ = doc
    return view


for path, service, other, scope, doc in [
    ("accounts/{account_id}/unfollow", "follow_delete", "target", "follows",
     "Unfollow an account or withdraw a request."),
    ("accounts/{account_id}/block", "block_create", "target", "blocks",
     "Block an account; follows both ways end."),
    ("accounts/{account_id}/unblock", "block_delete", "target", "blocks", "Unblock an account."),
    ("accounts/{account_id}/unmute", "mute_delete", "target", "mutes", "Unmute an account."),
    ("accounts/{account_id}/remove_from_followers", "follower_remove", "follower", "follows",
     "Make an account stop following the caller."),
    ("follow_requests/{account_id}/authorize", "follow_request_authorize", "requester", "follows",
     "Accept the follow request of the account ``account_id``."),
    ("follow_requests/{account_id}/reject", "follow_request_reject", "requester", "follows",
     "Reject the follow request of the account ``account_id``."),
]:
    operation = path.replace("/{account_id}/", "_").replace("accounts_", "account_")
    router.post(f"/v1/{path}", response=responses(Relationship), auth=write(scope),
                operation_id=operation)(_action(service, other, doc))


@router.get("/v1/follow_requests", response=responses(list[Account]), auth=read("follows"))
def follow_requests(request, response: HttpResponse, max_id: str | None = None,
                    since_id: str | None = None, min_id: str | None = None,
                    limit: int | None = None):
    """Accounts asking to follow the caller, newest first (40 by default, 80 at most)."""
    page = selectors.follow_requests_page(account=request.auth.require_account(),
                                          cursor=account_cursor(max_id, since_id, min_id, limit))
    return accounts_page(request, response, page)


@router.get("/v1/blocks", response=responses(list[Account]), auth=read("blocks"))
def blocks(request, response: HttpResponse, max_id: str | None = None,
           since_id: str | None = None, min_id: str | None = None, limit: int | None = None):
    """Accounts the caller blocks, most recent first; page with the ``Link`` header."""
    page = selectors.blocks_page(account=request.auth.require_account(),
                                 cursor=account_cursor(max_id, since_id, min_id, limit))
    return accounts_page(request, response, page)


@router.get("/v1/mutes", response=responses(list[MutedAccount]), auth=read("mutes"))
def mutes(request, response: HttpResponse, max_id: str | None = None,
          since_id: str | None = None, min_id: str | None = None, limit: int | None = None):
    """Accounts the caller mutes, with when each mute ends; page with ``Link``."""
    page = selectors.mutes_page(account=request.auth.require_account(),
                                cursor=account_cursor(max_id, since_id, min_id, limit))
    link_header(request, response, page)
    return [muted_account_out(m) for m in page.items]
