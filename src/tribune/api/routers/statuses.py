"""Statuses: /api/v1/statuses and the actions on one status."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Query, Router, Schema

from tribune.api.auth import public, read, write
from tribune.api.base import cursor, link_header, responses
from tribune.api.filtering import apply_to_statuses, filtered
from tribune.api.presenters import (
    account_out,
    scheduled_status_out,
    status_edit_out,
    statuses_out,
)
from tribune.api.ratelimit import note_window
from tribune.api.schemas import (
    Account,
    Context,
    ScheduledStatus,
    Status,
    StatusEdit,
    StatusSource,
)
from tribune.core.errors import ValidationFailed
from tribune.filters.selectors import viewer_filters
from tribune.scheduling.selectors import scheduled_status_get
from tribune.scheduling.services import scheduled_status_create
from tribune.statuses import selectors, services
from tribune.statuses.models import ReplyPolicy
from tribune.statuses.polls import PollSpec, poll_spec

router = Router(tags=["statuses"])


class StatusIn(Schema):
    status: str | None = None
    spoiler_text: str | None = None
    sensitive: bool | None = None
    visibility: str | None = None
    language: str | None = None
    in_reply_to_id: str | int | None = None
    media_ids: list[str | int] | None = None
    poll: dict | None = None
    scheduled_at: str | None = None
    local_only: bool | None = None
    # GoToSocial's ``interaction_policy`` (only ``can_reply`` is chosen per post).
    interaction_policy: dict | None = None
    # Mastodon 4.5's quote posts.
    quoted_status_id: str | int | None = None
    quote_approval_policy: str | None = None


class InteractionPolicyIn(Schema):
    quote_approval_policy: str | None = None


class StatusEditIn(Schema):
    status: str | None = None
    spoiler_text: str | None = None
    sensitive: bool | None = None
    language: str | None = None
    media_ids: list[str | int] | None = None
    poll: dict | None = None


class ReblogIn(Schema):
    visibility: str | None = None


def _refuse_unsupported(payload) -> None:
    """Scheduling is refused with 422 rather than dropped silently, so the client can
    tell its user."""
    if getattr(payload, "scheduled_at", None):
        raise ValidationFailed("Validation failed: Scheduled posts are not supported yet")


def _poll(params: dict | None) -> PollSpec | None:
    """The ``poll[...]`` parameters as a checked PollSpec (None without a poll);
    ValidationFailed (422) for a bad one."""
    if not params:
        return None
    return poll_spec(options=params.get("options"), expires_in=params.get("expires_in"),
                     multiple=params.get("multiple", False),
                     hide_totals=params.get("hide_totals", False))


REPLY_AUDIENCES = {"public", "followers", "mentioned", "author", "me"}


def _reply_policy(policy: dict | None) -> str | None:
    """The reply policy that GoToSocial's ``interaction_policy[can_reply][always]``
    asks for: anyone (``public``), followers (``followers``), or only the mentioned
    accounts and the author; None when not given. ValidationFailed (422) for an
    audience not supported here (``following``, ``mutuals``, single accounts) or a
    non-empty ``with_approval`` (nothing waits for approval here)."""
    if not policy or policy.get("can_reply") in (None, ""):
        return None
    can_reply = policy["can_reply"]
    always = can_reply.get("always") if isinstance(can_reply, dict) else None
    if isinstance(always, str):
        always = [always]
    if not isinstance(always, list) or not set(always) <= REPLY_AUDIENCES \
            or can_reply.get("with_approval"):
        raise ValidationFailed("Validation failed: interaction_policy[can_reply] accepts "
                               "public, followers, mentioned and author, always")
    if "public" in always:
        return ReplyPolicy.EVERYONE
    return ReplyPolicy.FOLLOWERS if "followers" in always else ReplyPolicy.MENTIONED


def _one(request, status) -> dict:
    """One Status entity; ``filtered`` lists every active filter it matches, as
    Mastodon's single-status answers do (apps decide by context)."""
    viewer = request.auth.account
    return filtered(statuses_out([status], viewer), viewer, None)[0]


def _get(request, status_id: str):
    return selectors.status_get_visible(status_id=status_id, viewer=request.auth.account)


def _refresh(request, status_id: int):
    return selectors.status_get_visible(status_id=status_id, viewer=request.auth.account)


def _schedule(request, payload: StatusIn) -> dict:
    """Keep the post for ``scheduled_at`` and answer its ScheduledStatus entity:
    every parameter of a post now is kept for then (Mastodon's params)."""
    account = request.auth.require_account()
    row = scheduled_status_create(
        account=account, scheduled_at=payload.scheduled_at, text=payload.status or "",
        visibility=payload.visibility or None, spoiler_text=payload.spoiler_text or "",
        sensitive=payload.sensitive, language=payload.language or None,
        in_reply_to_id=payload.in_reply_to_id, media_ids=payload.media_ids or None,
        poll=_poll(payload.poll), local_only=payload.local_only,
        reply_policy=_reply_policy(payload.interaction_policy),
        quoted_status_id=payload.quoted_status_id,
        quote_approval_policy=payload.quote_approval_policy or None,
        idempotency_key=request.headers.get("Idempotency-Key"),
        application_id=request.auth.application_id)
    return scheduled_status_out(scheduled_status_get(account=account,
                                                     scheduled_status_id=row.pk))


@router.post("/v1/statuses", response=responses(Status | ScheduledStatus),
             auth=write("statuses"))
def status_create(request, payload: StatusIn):
    """Post a status (honours the Idempotency-Key header). The rate-limit headers
    show the account's posting budget when it is the tightest (Mastodon's
    ``override_rate_limit_headers :create, family: :statuses``). With
    ``scheduled_at`` (ISO 8601, at least five minutes ahead) the post is kept for
    then and the answer is a ScheduledStatus."""
    if payload.scheduled_at:
        return _schedule(request, payload)
    _refuse_unsupported(payload)
    account = request.auth.require_account()
    status = services.status_create(
        account=account, text=payload.status or "", visibility=payload.visibility or None,
        spoiler_text=payload.spoiler_text or "", sensitive=payload.sensitive,
        language=payload.language or None,
        in_reply_to_id=str(payload.in_reply_to_id) if payload.in_reply_to_id not in (None, "") else None,
        application_id=request.auth.application_id,
        idempotency_key=request.headers.get("Idempotency-Key"),
        media_ids=payload.media_ids or None, poll=_poll(payload.poll),
        reply_policy=_reply_policy(payload.interaction_policy), local_only=payload.local_only,
        quoted_status_id=(str(payload.quoted_status_id)
                          if payload.quoted_status_id not in (None, "") else None),
        quote_approval_policy=payload.quote_approval_policy or None,
    )
    note_window(request, services.posting_window(account=account))
    return _one(request, _refresh(request, status.pk))


@router.get("/v1/statuses", response=responses(list[Status]), auth=public())
def statuses_many(request, id: Query[list[str] | None] = None):
    """Several statuses by id (``id[]``); unknown or invisible ones are left out."""
    found = []
    for status_id in (id or [])[:40]:
        try:
            found.append(_get(request, status_id))
        except Exception:
            continue
    return statuses_out(found, request.auth.account)


@router.get("/v1/statuses/{status_id}", response=responses(Status), auth=public())
def status_get(request, status_id: str):
    """One status, if visible to the caller."""
    return _one(request, _get(request, status_id))


@router.put("/v1/statuses/{status_id}", response=responses(Status), auth=write("statuses"))
def status_edit(request, status_id: str, payload: StatusEditIn):
    """Edit one's own status; the previous version goes to its history. Without
    ``poll`` parameters an edit removes the poll, as Mastodon's does."""
    account = request.auth.require_account()
    status = selectors.status_get_own(status_id=status_id, account=account)
    _refuse_unsupported(payload)
    services.status_update(account=account, status=status, text=payload.status or "",
                           spoiler_text=payload.spoiler_text, sensitive=payload.sensitive,
                           language=payload.language or None, media_ids=payload.media_ids,
                           poll=_poll(payload.poll))
    return _one(request, _refresh(request, status.pk))


@router.delete("/v1/statuses/{status_id}", response=responses(Status), auth=write("statuses"))
def status_delete(request, status_id: str):
    """Delete one's own status; the answer carries its source ``text`` (redraft)."""
    account = request.auth.require_account()
    status = selectors.status_get_own(status_id=status_id, account=account)
    data = _one(request, status)
    data["text"] = status.text
    services.status_delete(account=account, status=status)
    return data


@router.get("/v1/statuses/{status_id}/context", response=responses(Context), auth=public())
def status_context(request, status_id: str):
    """Ancestors and descendants visible to the caller."""
    status = _get(request, status_id)
    ancestors, descendants = selectors.status_context(status=status, viewer=request.auth.account)
    viewer = request.auth.account
    out = statuses_out(ancestors + descendants, viewer)
    filters = viewer_filters(viewer)
    return {"ancestors": apply_to_statuses(out[: len(ancestors)], filters, "thread"),
            "descendants": apply_to_statuses(out[len(ancestors):], filters, "thread")}


@router.get("/v1/statuses/{status_id}/history", response=responses(list[StatusEdit]), auth=public())
def status_history(request, status_id: str):
    """Every version of a status, oldest first."""
    status = _get(request, status_id)
    return [status_edit_out(e, status.account) for e in selectors.status_history(status=status)]


@router.get("/v1/statuses/{status_id}/source", response=responses(StatusSource), auth=write("statuses"))
def status_source(request, status_id: str):
    """The plain text of one's own status, for editing."""
    account = request.auth.require_account()
    status = selectors.status_get_own(status_id=status_id, account=account)
    return {"id": str(status.pk), "text": status.text, "spoiler_text": status.spoiler_text}


def _action(name: str, scope: str, doc: str, *, body: bool = False):
    def view(request, status_id: str):
        account = request.auth.require_account()
        status = _get(request, status_id)
        getattr(services, name)(account=account, status=status)
        return _one(request, _refresh(request, status.pk))

    view.__name__ = name.replace("_create", "").replace("_delete", "_undo")
    view.__doc__ = doc
    return view


for path, service, scope, doc in [
    ("favourite", "favourite_create", "favourites", "Favourite a status."),
    ("unfavourite", "favourite_delete", "favourites", "Remove a favourite."),
    ("bookmark", "bookmark_create", "bookmarks", "Bookmark a status."),
    ("unbookmark", "bookmark_delete", "bookmarks", "Remove a bookmark."),
    ("pin", "pin_create", "accounts", "Pin one's own status to one's profile."),
    ("unpin", "pin_delete", "accounts", "Unpin a status."),
]:
    router.post(f"/v1/statuses/{{status_id}}/{path}", response=responses(Status),
                auth=write(scope), operation_id=f"status_{path}")(_action(service, scope, doc))


@router.post("/v1/statuses/{status_id}/reblog", response=responses(Status), auth=write("statuses"))
def status_reblog(request, status_id: str, payload: ReblogIn):
    """Reblog a status; the answer is the reblog, wrapping the original. Reblogs
    spend the posting budget, whose window the rate-limit headers may show."""
    account = request.auth.require_account()
    status = _get(request, status_id)
    reblog = services.reblog_create(account=account, status=status,
                                    visibility=payload.visibility or "public")
    note_window(request, services.posting_window(account=account))
    return _one(request, _refresh(request, reblog.pk))


@router.post("/v1/statuses/{status_id}/unreblog", response=responses(Status), auth=write("statuses"))
def status_unreblog(request, status_id: str):
    """Undo a reblog; the answer is the original status."""
    account = request.auth.require_account()
    status = _get(request, status_id)
    services.reblog_delete(account=account, status=status)
    original = status.reblog_of_id or status.pk
    return _one(request, _refresh(request, original))


@router.get("/v1/statuses/{status_id}/favourited_by", response=responses(list[Account]), auth=public())
def status_favourited_by(request, response: HttpResponse, status_id: str, max_id: str | None = None,
                         since_id: str | None = None, min_id: str | None = None, limit: int | None = None):
    """Accounts that favourited the status (40 by default, 80 at most)."""
    status = _get(request, status_id)
    page = selectors.favourited_by(status=status, viewer=request.auth.account,
                                   cursor=cursor(max_id, since_id, min_id, limit, default=40, maximum=80))
    link_header(request, response, page)
    return [account_out(a) for a in page.items]


@router.get("/v1/statuses/{status_id}/reblogged_by", response=responses(list[Account]), auth=public())
def status_reblogged_by(request, response: HttpResponse, status_id: str, max_id: str | None = None,
                        since_id: str | None = None, min_id: str | None = None, limit: int | None = None):
    """Accounts that reblogged the status (40 by default, 80 at most)."""
    status = _get(request, status_id)
    page = selectors.reblogged_by(status=status, viewer=request.auth.account,
                                  cursor=cursor(max_id, since_id, min_id, limit, default=40, maximum=80))
    link_header(request, response, page)
    return [account_out(a) for a in page.items]


@router.get("/v1/statuses/{status_id}/quotes", response=responses(list[Status]),
            auth=read("statuses"))
def status_quotes(request, response: HttpResponse, status_id: str, max_id: str | None = None,
                  since_id: str | None = None, min_id: str | None = None,
                  limit: int | None = None):
    """The posts quoting one of the caller's own statuses (Mastodon 4.5: for its
    author only), newest quote first (20 by default, 40 at most), paged by the
    quote's id in the Link header."""
    account = request.auth.require_account()
    status = selectors.status_get_own(status_id=status_id, account=account)
    page = selectors.status_quotes(status=status, viewer=account,
                                   cursor=cursor(max_id, since_id, min_id, limit, maximum=40))
    link_header(request, response, page)
    return filtered(statuses_out(page.items, account), account, "thread")


@router.post("/v1/statuses/{status_id}/quotes/{quoting_status_id}/revoke",
             response=responses(Status), auth=write("statuses"))
def status_quote_revoke(request, status_id: str, quoting_status_id: str):
    """Detach the caller's status from a post quoting it; the answer is the quoting
    post, whose quote is now ``revoked``."""
    account = request.auth.require_account()
    status = selectors.status_get_own(status_id=status_id, account=account)
    quoting = services.quote_revoke(account=account, status=status,
                                    quoting_status_id=quoting_status_id)
    return _one(request, _refresh(request, quoting.pk))


@router.put("/v1/statuses/{status_id}/interaction_policy", response=responses(Status),
            auth=write("statuses"))
def status_interaction_policy(request, status_id: str, payload: InteractionPolicyIn):
    """Change who may quote one's own status (``quote_approval_policy``: public,
    followers or nobody)."""
    account = request.auth.require_account()
    status = selectors.status_get_own(status_id=status_id, account=account)
    services.status_quote_policy_update(account=account, status=status,
                                        quote_approval_policy=payload.quote_approval_policy)
    return _one(request, _refresh(request, status.pk))
