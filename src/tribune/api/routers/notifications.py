"""Notifications: list, one, unread count, dismiss and clear."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import Query, Router

from tribune.api.auth import read, write
from tribune.api.base import cursor, link_header, responses
from tribune.api.filtering import filtered_notifications
from tribune.api.presenters import notifications_out
from tribune.api.schemas import Count, Notification
from tribune.notifications import selectors, services
from tribune.notifications.selectors import (
    NOTIFICATION_DEFAULT_LIMIT,
    NOTIFICATION_MAX_LIMIT,
)
from tribune.timelines.selectors import markers

router = Router(tags=["notifications"])

UNREAD_DEFAULT, UNREAD_MAX = 100, 1000  # Mastodon's unread_count limits


@router.get("/v1/notifications", response=responses(list[Notification]),
            auth=read("notifications"))
def notification_list(
    request, response: HttpResponse, types: Query[list[str] | None] = None,
    exclude_types: Query[list[str] | None] = None, account_id: str | None = None,
    max_id: str | None = None, since_id: str | None = None, min_id: str | None = None,
    limit: int | None = None,
):
    """The caller's notifications, newest first (40 by default, 80 at most), filtered
    by ``types[]``, ``exclude_types[]`` and the sender ``account_id``."""
    viewer = request.auth.require_account()
    page = selectors.notifications(
        viewer=viewer, types=types, exclude_types=exclude_types, account_id=account_id,
        cursor=cursor(max_id, since_id, min_id, limit, default=NOTIFICATION_DEFAULT_LIMIT,
                      maximum=NOTIFICATION_MAX_LIMIT))
    link_header(request, response, page)
    return filtered_notifications(notifications_out(page.items, viewer), viewer)


@router.get("/v1/notifications/unread_count", response=responses(Count),
            auth=read("notifications"))
def notification_unread_count(request, types: Query[list[str] | None] = None,
                              exclude_types: Query[list[str] | None] = None,
                              account_id: str | None = None, limit: int | None = None):
    """How many notifications are newer than the caller's notifications marker
    (100 by default, 1000 at most)."""
    viewer = request.auth.require_account()
    marker = markers(account=viewer, timelines=["notifications"]).get("notifications")
    count = selectors.unread_count(
        viewer=viewer, since_id=marker.last_read_id if marker else None, types=types,
        exclude_types=exclude_types, account_id=account_id,
        limit=min(limit if limit and limit > 0 else UNREAD_DEFAULT, UNREAD_MAX))
    return {"count": count}


@router.post("/v1/notifications/clear", response=responses(dict[str, Any]),
             auth=write("notifications"))
def notification_clear(request):
    """Dismiss all of the caller's notifications."""
    services.notifications_clear(account=request.auth.require_account())
    return {}


@router.get("/v1/notifications/{notification_id}", response=responses(Notification),
            auth=read("notifications"))
def notification_get(request, notification_id: str):
    """One of the caller's notifications."""
    viewer = request.auth.require_account()
    notification = selectors.notification_get(viewer=viewer, notification_id=notification_id)
    return notifications_out([notification], viewer)[0]


@router.post("/v1/notifications/{notification_id}/dismiss", response=responses(dict[str, Any]),
             auth=write("notifications"))
def notification_dismiss(request, notification_id: str):
    """Dismiss one of the caller's notifications."""
    services.notification_dismiss(account=request.auth.require_account(),
                                  notification_id=notification_id)
    return {}
