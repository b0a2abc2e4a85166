"""Mastodon's admin trends (docs: methods/admin/trends; docs/adr/0031), for staff:

- ``GET /api/v1/admin/trends/tags``: hashtags with a trend score, reviewed or not,
  highest first (10 by default, 20 at most, ``offset``), as Admin::Tag entities
  (``trendable``: approved; ``requires_review``: not reviewed yet; ``usable``:
  always true, Tribune does not switch hashtags off).
- ``POST .../tags/:id/approve`` and ``/reject`` answer the Admin::Tag.
- ``GET /api/v1/admin/trends/statuses`` and ``POST .../statuses/:id/approve``,
  ``/reject``: the same for posts, as Status entities.

Scopes ``admin:read`` and ``admin:write``; the token's user must be staff (403
otherwise). An unknown id is 404. The web's staff review page calls the same
services (``trends.services.trend_tag_review``, ``trend_status_review``).
"""

from __future__ import annotations

from ninja import Router

from tribune.api.auth import Scoped
from tribune.api.base import offset_param, responses
from tribune.api.presenters import statuses_out, tags_out
from tribune.api.schemas import Status as StatusSchema
from tribune.api.schemas import Tag as TagSchema
from tribune.trends.models import Review
from tribune.trends.selectors import statuses_for_review, tags_for_review
from tribune.trends.services import require_staff, trend_status_review, trend_tag_review

router = Router(tags=["admin"])

READ, WRITE = Scoped("admin:read"), Scoped("admin:write")
TAGS_DEFAULT, STATUSES_DEFAULT, MAXIMUM = 10, 20, 40


class AdminTag(TagSchema):
    requires_review: bool
    trendable: bool
    usable: bool


def _admin_tags(trends: list, viewer) -> list[dict]:
    return [
        {
            **entity,
            "requires_review": t.review == Review.PENDING,
            "trendable": t.review == Review.APPROVED,
            "usable": True,
        }
        for t, entity in zip(
            trends, tags_out([t.tag for t in trends], viewer), strict=True
        )
    ]


def _limit(limit: int | None, default: int) -> int:
    return min(limit if limit and limit > 0 else default, MAXIMUM)


@router.get("/v1/admin/trends/tags", response=responses(list[AdminTag]), auth=READ)
def trend_tags(request, limit: int | None = None, offset: int | None = None):
    """Hashtags with a trend score, whatever their review, highest first."""
    account = request.auth.require_account()
    require_staff(account)
    trends = tags_for_review(
        review=None, limit=_limit(limit, TAGS_DEFAULT), offset=offset_param(offset)
    )
    return _admin_tags(trends, account)


def _tag_review(request, id: str, approve: bool):
    account = request.auth.require_account()
    trend = trend_tag_review(reviewer=account, tag_id=id, approve=approve)
    return _admin_tags([trend], account)[0]


@router.post(
    "/v1/admin/trends/tags/{id}/approve", response=responses(AdminTag), auth=WRITE
)
def trend_tag_approve(request, id: str):
    """Let a hashtag trend."""
    return _tag_review(request, id, True)


@router.post(
    "/v1/admin/trends/tags/{id}/reject", response=responses(AdminTag), auth=WRITE
)
def trend_tag_reject(request, id: str):
    """Keep a hashtag from trending."""
    return _tag_review(request, id, False)


@router.get(
    "/v1/admin/trends/statuses", response=responses(list[StatusSchema]), auth=READ
)
def trend_statuses(request, limit: int | None = None, offset: int | None = None):
    """Posts with a trend score, whatever their review, highest first."""
    account = request.auth.require_account()
    require_staff(account)
    trends = statuses_for_review(
        review=None, limit=_limit(limit, STATUSES_DEFAULT), offset=offset_param(offset)
    )
    return statuses_out([t.status for t in trends], account)


def _status_review(request, id: str, approve: bool):
    account = request.auth.require_account()
    trend = trend_status_review(reviewer=account, status_id=id, approve=approve)
    return statuses_out([trend.status], account)[0]


@router.post(
    "/v1/admin/trends/statuses/{id}/approve",
    response=responses(StatusSchema),
    auth=WRITE,
)
def trend_status_approve(request, id: str):
    """Let a post trend."""
    return _status_review(request, id, True)


@router.post(
    "/v1/admin/trends/statuses/{id}/reject",
    response=responses(StatusSchema),
    auth=WRITE,
)
def trend_status_reject(request, id: str):
    """Keep a post from trending."""
    return _status_review(request, id, False)
