"""Template context every interface page gets."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from tribune.accounts.instance import registration_mode
from tribune.accounts.models import Account
from tribune.notifications.selectors import unread_count
from tribune.timelines.selectors import markers
from tribune.web.viewer import viewer_of


def interface(request: HttpRequest) -> dict:
    """``site_title``, ``site_domain``, ``max_characters``, ``viewer`` (the
    signed-in account or None), ``streaming_url`` (Server-Sent Events) and ``unread_notifications`` (a count, computed only
    if a template reads it)."""
    viewer = viewer_of(request) if hasattr(request, "user") else None
    return {
        "site_title": settings.TRIBUNE_TITLE,
        "site_domain": settings.TRIBUNE_DOMAIN,
        "max_characters": settings.TRIBUNE_MAX_CHARACTERS,
        "viewer": viewer,
        # The streaming API's base (docs/adr/0032), for the script's EventSource.
        "streaming_url": settings.TRIBUNE_STREAMING_URL.replace("ws", "http", 1)
        + "/api/v1/streaming",
        # Evaluated only by templates that show it (two queries).
        "unread_notifications": (lambda: unread_notifications(viewer)) if viewer else 0,
        "registrations_open": lambda: registration_mode() != "closed",
    }


UNREAD_CAP = 40


def unread_notifications(viewer: Account) -> int:
    """How many notifications arrived after the viewer's notifications marker,
    counting at most UNREAD_CAP (the page shows "40+")."""
    marker = markers(account=viewer, timelines=["notifications"]).get("notifications")
    return unread_count(viewer=viewer, since_id=marker.last_read_id if marker else None,
                        limit=UNREAD_CAP)
