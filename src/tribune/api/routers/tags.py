"""Hashtags, followed hashtags and trends (docs: methods/tags, methods/followed_tags,
methods/trends; docs/adr/0031):

- ``GET /api/v1/tags/:name`` is the Tag entity with its week of ``history`` and, for
  a signed-in caller, ``following``; an unknown tag is 404.
- ``POST /api/v1/tags/:name/follow`` and ``/unfollow`` answer the Tag; following
  makes a new tag from a valid name (Mastodon's ``Tag.find_or_create_by_names``),
  an invalid one is 404; scope ``write:follows``.
- ``GET /api/v1/followed_tags``: the caller's followed tags, most recently followed
  first, 100 by default and 200 at most, paged with ``Link`` (scope ``read:follows``).
- ``GET /api/v1/trends/tags`` (and the old ``/api/v1/trends``): 10 by default, 20 at
  most; ``GET /api/v1/trends/statuses``: 20 by default, 40 at most; both with
  ``offset``, open to visitors. What trends is what staff approved
  (``TRIBUNE_TRENDS_REQUIRE_REVIEW``); a signed-in caller does not see posts by
  accounts hidden from them.
"""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from tribune.api.auth import public, read, write
from tribune.api.base import cursor, link_header, offset_param, responses
from tribune.api.presenters import statuses_out, tags_out
from tribune.api.schemas import Status as StatusSchema
from tribune.api.schemas import Tag as TagSchema
from tribune.graph.selectors import hidden_account_ids
from tribune.trends.selectors import (
    followed_tags_page,
    trending_statuses,
    trending_tags,
)
from tribune.trends.services import tag_follow, tag_for_name, tag_unfollow

router = Router(tags=["tags"])

TAGS_DEFAULT, TAGS_MAX = 10, 20  # Mastodon's Api::V1::Trends::TagsController
STATUSES_DEFAULT, STATUSES_MAX = 20, 40  # ... and StatusesController
FOLLOWED_DEFAULT, FOLLOWED_MAX = 100, 200  # Api::V1::FollowedTagsController


def _limit(limit: int | None, default: int, maximum: int) -> int:
    return min(limit if limit and limit > 0 else default, maximum)


@router.get("/v1/tags/{name}", response=responses(TagSchema), auth=public(None))
def tag_get(request, name: str):
    """One hashtag, matched case- and width-insensitively; 404 if unknown."""
    return tags_out([tag_for_name(name, create=False)], request.auth.account)[0]


@router.post(
    "/v1/tags/{name}/follow", response=responses(TagSchema), auth=write("follows")
)
def tag_follow_view(request, name: str):
    """Follow a hashtag: its public posts reach the caller's home timeline."""
    account = request.auth.require_account()
    return tags_out([tag_follow(account=account, name=name)], account)[0]


@router.post(
    "/v1/tags/{name}/unfollow", response=responses(TagSchema), auth=write("follows")
)
def tag_unfollow_view(request, name: str):
    """Stop following a hashtag."""
    account = request.auth.require_account()
    return tags_out([tag_unfollow(account=account, name=name)], account)[0]


@router.get(
    "/v1/followed_tags", response=responses(list[TagSchema]), auth=read("follows")
)
def followed_tags(
    request,
    response: HttpResponse,
    max_id: str | None = None,
    since_id: str | None = None,
    min_id: str | None = None,
    limit: int | None = None,
):
    """The hashtags the caller follows, most recently followed first."""
    account = request.auth.require_account()
    page = followed_tags_page(
        account=account,
        cursor=cursor(
            max_id,
            since_id,
            min_id,
            limit,
            default=FOLLOWED_DEFAULT,
            maximum=FOLLOWED_MAX,
        ),
    )
    link_header(request, response, page)
    return tags_out(page.items, account)


def _trending_tags(request, limit: int | None, offset: int | None):
    tags = trending_tags(
        limit=_limit(limit, TAGS_DEFAULT, TAGS_MAX), offset=offset_param(offset)
    )
    return tags_out(tags, request.auth.account)


@router.get("/v1/trends/tags", response=responses(list[TagSchema]), auth=public(None))
def trends_tags(request, limit: int | None = None, offset: int | None = None):
    """Hashtags trending now, highest score first."""
    return _trending_tags(request, limit, offset)


@router.get(
    "/v1/trends",
    response=responses(list[TagSchema]),
    auth=public(None),
    operation_id="trends_tags_old_path",
)
def trends_old_path(request, limit: int | None = None, offset: int | None = None):
    """Hashtags trending now (the path before Mastodon 3.5)."""
    return _trending_tags(request, limit, offset)


@router.get(
    "/v1/trends/statuses", response=responses(list[StatusSchema]), auth=public(None)
)
def trends_statuses(request, limit: int | None = None, offset: int | None = None):
    """Posts trending now, highest score first."""
    viewer = request.auth.account
    statuses = trending_statuses(
        limit=_limit(limit, STATUSES_DEFAULT, STATUSES_MAX),
        offset=offset_param(offset),
        hidden=hidden_account_ids(viewer.pk) if viewer else set(),
    )
    return statuses_out(statuses, viewer)
