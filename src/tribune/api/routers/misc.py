"""Markers, search, and the endpoints apps call that Tribune has no content for yet
(trending links, ...). Those answer a valid empty result, as
Takahē's do, so apps keep working (client-api.md, tier 2)."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema

from tribune.accounts.models import Account
from tribune.api.auth import ApiError, Scoped, public, read, write
from tribune.api.base import offset_param, responses
from tribune.api.presenters import (
    account_out,
    marker_out,
    statuses_out,
    tag_out,
    tags_out,
)
from tribune.api.schemas import Marker, Search, SearchV1
from tribune.core.errors import DomainError
from tribune.core.ids import parse_id
from tribune.federation.lookup import looks_like_url, url_resolve
from tribune.federation.webfinger import account_resolve, looks_like_handle
from tribune.graph.selectors import account_search
from tribune.search.selectors import status_search
from tribune.statuses.models import Status
from tribune.statuses.selectors import tag_search
from tribune.timelines.selectors import markers
from tribune.timelines.services import markers_set

router = Router(tags=["misc"])

SEARCH_DEFAULT, SEARCH_MAX = 20, 40
SEARCH_TYPES = ("accounts", "hashtags", "statuses")


# --- markers ------------------------------------------------------------------------


class MarkerIn(Schema):
    last_read_id: str | int | None = None


class MarkersIn(Schema):
    home: MarkerIn | None = None
    notifications: MarkerIn | None = None


@router.get("/v1/markers", response=responses(dict[str, Marker]), auth=read("statuses"))
def markers_get(request, timeline: Query[list[str] | None] = None):
    """The caller's saved positions in ``timeline[]`` (home, notifications)."""
    found = markers(account=request.auth.require_account(), timelines=timeline or [])
    return {name: marker_out(m) for name, m in found.items()}


@router.post("/v1/markers", response=responses(dict[str, Marker]), auth=write("statuses"))
def markers_post(request, payload: MarkersIn):
    """Save ``home[last_read_id]`` and/or ``notifications[last_read_id]``."""
    positions = {name: m.last_read_id for name, m in
                 (("home", payload.home), ("notifications", payload.notifications))
                 if m is not None and m.last_read_id not in (None, "")}
    saved = markers_set(account=request.auth.require_account(), positions=positions)
    return {name: marker_out(m) for name, m in saved.items()}


# --- search -------------------------------------------------------------------------


def _search(request, q: str, type: str | None, limit: int | None, offset: int | None,
            resolve: bool, following: bool, account_id: str | None,
            max_id: str | None = None, min_id: str | None = None) -> tuple[list, list, list]:
    """(accounts, tags, statuses) matching ``q``, as Mastodon's SearchService: a
    ``type`` (accounts, hashtags, statuses) keeps one kind, ``offset`` applies only
    with a type, and statuses are found by signed-in searchers only
    (``search.selectors.status_search``), by ``account_id`` alone when given. With
    ``resolve``, a handle is looked up on its server and an address
    (``federation.lookup.url_resolve``) gives its account or post alone. Raises
    ApiError 400 for a missing or blank ``q``, 401 for a visitor's offset or
    resolve."""
    viewer = request.auth.account
    if not q.strip():
        # Mastodon's validate_search_params! (params.require(:q)): Rails' own 400.
        raise ApiError(400, "param is missing or the value is empty: q")
    if viewer is None and (offset or resolve):
        # Mastodon's rule: visitors get the first page only, and no remote lookups.
        raise ApiError(401, "Search queries pagination is not supported without authentication")
    limit = min(limit if limit and limit > 0 else SEARCH_DEFAULT, SEARCH_MAX)
    offset = offset_param(offset) if type else 0  # offset applies only with a type
    accounts = tags = statuses = []
    if resolve and looks_like_url(q):
        # Mastodon's url_query?: an address finds its account or post and nothing else.
        found = url_resolve(q, viewer=viewer) if not offset else None
        if isinstance(found, Account) and type in (None, "", "accounts"):
            accounts = [found]
        elif isinstance(found, Status) and type in (None, "", "statuses"):
            statuses = [found]
        return accounts, tags, statuses
    if type in (None, "", "accounts"):
        accounts = account_search(query=q, viewer=viewer, following=following,
                                  limit=limit, offset=offset)
        if resolve and not offset and looks_like_handle(q):
            accounts = _resolved(q, accounts)
    if type in (None, "", "hashtags"):
        tags = tag_search(query=q, limit=limit, offset=offset)
    if type in (None, "", "statuses"):
        author = None
        if account_id not in (None, ""):
            try:
                author = parse_id(account_id)
            except (ValueError, TypeError, OverflowError):
                return accounts, tags, []  # no account has that id: none of its statuses
        statuses = status_search(viewer=viewer, query=q, account_id=author,
                                 offset=offset, limit=limit, max_id=_id_or_none(max_id),
                                 min_id=_id_or_none(min_id))
    return accounts, tags, statuses


def _id_or_none(raw: str | None) -> int | None:
    """An id parameter, None when absent or not an id (ignored, as Mastodon does)."""
    try:
        return parse_id(raw) if raw not in (None, "") else None
    except (ValueError, TypeError, OverflowError):
        return None


def _resolved(query: str, found: list) -> list:
    """``found`` with the account of the handle ``query`` first, looked up on its
    server when unknown (``resolve=true``); unchanged when it cannot be had."""
    try:
        account = account_resolve(acct=query)
    except DomainError:
        return found
    return [account, *(a for a in found if a.pk != account.pk)]


@router.get("/v2/search", response=responses(Search), auth=public("read:search"))
def search_v2(request, q: str = "", type: str | None = None, limit: int | None = None,
              offset: int | None = None, following: bool = False,
              account_id: str | None = None, max_id: str | None = None,
              min_id: str | None = None,
              remote: bool = Query(False, alias="resolve")):  # "resolve" would shadow ninja
    """Local accounts, hashtags and statuses matching ``q`` (20 of each by default,
    40 at most); ``type`` is one of accounts, hashtags, statuses;
    https://docs.joinmastodon.org/methods/search/#v2"""
    accounts, tags, statuses = _search(request, q, type, limit, offset, remote, following,
                                       account_id, max_id, min_id)
    return {"accounts": [account_out(a) for a in accounts],
            "statuses": statuses_out(statuses, request.auth.account),
            "hashtags": tags_out(tags, request.auth.account)}


@router.get("/v1/search", response=responses(SearchV1), auth=public("read:search"))
def search_v1(request, q: str = "", type: str | None = None, limit: int | None = None,
              offset: int | None = None, following: bool = False,
              account_id: str | None = None, max_id: str | None = None,
              min_id: str | None = None,
              remote: bool = Query(False, alias="resolve")):  # "resolve" would shadow ninja
    """Search as Mastodon answered it before v2: hashtags are plain names."""
    accounts, tags, statuses = _search(request, q, type, limit, offset, remote, following,
                                       account_id, max_id, min_id)
    return {"accounts": [account_out(a) for a in accounts],
            "statuses": statuses_out(statuses, request.auth.account),
            "hashtags": [tag_out(t)["name"] for t in tags]}


# --- empty but valid ------------------------------------------------------------------

EMPTY_LISTS = [
    # (path, auth, what it would list)
    ("/v1/trends/links", public(None), "Trending links."),
    ("/v1/announcements", Scoped("read"), "The instance's announcements."),
    ("/v1/suggestions", Scoped("read"), "Accounts to follow (v1)."),
    ("/v2/suggestions", Scoped("read"), "Accounts to follow."),
    ("/v1/domain_blocks", read("blocks"), "Domains the caller blocks."),
    ("/v1/endorsements", read("accounts"), "Accounts the caller features."),
    ("/v1/featured_tags", read("accounts"), "Hashtags the caller features."),
]


def _empty_list(doc: str):
    def view(request):
        return []

    view.__doc__ = doc + " None yet: an empty list."
    return view


for path, auth, doc in EMPTY_LISTS:
    operation = "empty_" + path.strip("/").replace("/", "_")
    router.get(path, response=responses(list[Any]), auth=auth,
               operation_id=operation)(_empty_list(doc))

