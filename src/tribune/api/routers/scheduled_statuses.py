"""Scheduled posts (Mastodon's Api::V1::ScheduledStatusesController, docs:
methods/scheduled_statuses.md); they are made by ``POST /api/v1/statuses`` with
``scheduled_at``."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import Router, Schema

from tribune.api.auth import read, write
from tribune.api.base import cursor, link_header, responses
from tribune.api.presenters import scheduled_status_out
from tribune.api.schemas import ScheduledStatus
from tribune.scheduling import selectors, services

router = Router(tags=["scheduled_statuses"])


class ScheduledAtIn(Schema):
    scheduled_at: str | None = None


@router.get("/v1/scheduled_statuses", response=responses(list[ScheduledStatus]),
            auth=read("statuses"))
def scheduled_status_list(request, response: HttpResponse, max_id: str | None = None,
                          since_id: str | None = None, min_id: str | None = None,
                          limit: int | None = None):
    """The caller's scheduled posts, newest first (20 by default, 40 at most)."""
    page = selectors.scheduled_statuses_page(account=request.auth.require_account(),
                                             cursor=cursor(max_id, since_id, min_id, limit))
    link_header(request, response, page)
    return [scheduled_status_out(row) for row in page.items]


@router.get("/v1/scheduled_statuses/{scheduled_status_id}",
            response=responses(ScheduledStatus), auth=read("statuses"))
def scheduled_status_get(request, scheduled_status_id: str):
    """One of the caller's scheduled posts."""
    return scheduled_status_out(selectors.scheduled_status_get(
        account=request.auth.require_account(), scheduled_status_id=scheduled_status_id))


@router.put("/v1/scheduled_statuses/{scheduled_status_id}",
            response=responses(ScheduledStatus), auth=write("statuses"))
def scheduled_status_update(request, scheduled_status_id: str,
                            payload: ScheduledAtIn | None = None):
    """Move a scheduled post to ``scheduled_at`` (at least five minutes ahead)."""
    account = request.auth.require_account()
    when = (payload.scheduled_at if payload else None) or request.GET.get("scheduled_at") or ""
    services.scheduled_status_update(account=account, scheduled_status_id=scheduled_status_id,
                                     scheduled_at=when)
    return scheduled_status_out(selectors.scheduled_status_get(
        account=account, scheduled_status_id=scheduled_status_id))


@router.delete("/v1/scheduled_statuses/{scheduled_status_id}",
               response=responses(dict[str, Any]), auth=write("statuses"))
def scheduled_status_delete(request, scheduled_status_id: str):
    """Cancel a scheduled post."""
    services.scheduled_status_delete(account=request.auth.require_account(),
                                     scheduled_status_id=scheduled_status_id)
    return {}
