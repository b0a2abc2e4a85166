"""Which stream a client asks for, and whether it may have it.

Stream names, parameters and scopes are Mastodon's (docs.joinmastodon.org,
methods/streaming; its streaming/index.js ``channelsForStream`` and
``checkScopes``): ``user`` needs ``read`` or ``read:statuses``,
``user:notification`` ``read`` or ``read:notifications``, the others ``read`` or
``read:statuses``; public and hashtag streams need no scope and are open to
visitors, as our public timelines are. A ``user`` stream whose token cannot read
notifications carries no ``notification`` events.
"""

from __future__ import annotations

from dataclasses import dataclass

from tribune.api.auth import Viewer
from tribune.oauth.scopes import grants
from tribune.streaming import keys

NAMES = ("user", "user:notification", "public", "public:local", "public:remote",
         "hashtag", "hashtag:local", "list", "direct")

# The SSE paths under /api/v1/streaming and the stream each one is.
PATHS = {"user": "user", "user/notification": "user:notification", "public": "public",
         "public/local": "public:local", "public/remote": "public:remote",
         "hashtag": "hashtag", "hashtag/local": "hashtag:local", "list": "list",
         "direct": "direct"}


class StreamError(Exception):
    """A refused subscription: Mastodon's ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Subscription:
    """One stream of a connection: the channel it listens to (``keys``), the
    ``stream`` array its WebSocket messages carry (``["hashtag", "cats"]``) and,
    for ``user:notification``, the only event it passes."""

    channel: str
    stream: tuple[str, ...]
    only_event: str | None = None
    without_event: str | None = None
    context: str | None = None  # the filters' context (ADR 0027) its statuses are in

    def passes(self, event: str) -> bool:
        """Whether this subscription carries ``event``."""
        return (self.only_event is None or event == self.only_event) and event != self.without_event


def _scope(viewer: Viewer, *needed: str) -> None:
    if viewer.token is not None and not any(grants(viewer.scopes, s) for s in needed):
        raise StreamError(403, "Access token does not have the required scopes")


def subscription_for(viewer: Viewer, name: str | None, *, tag: str | None = None,
                     list_id: str | None = None) -> Subscription:
    """The subscription for stream ``name`` with its parameters, as ``viewer``.

    StreamError 400 ``Unknown stream type`` for an unknown name or a missing
    parameter, 401 for a stream that needs an account without one, 403 for
    missing scopes, 404 for a list that is not the viewer's. Reads the database
    (a list's owner): call it from a thread, not the event loop.
    """
    if name not in NAMES:
        raise StreamError(400, "Unknown stream type")
    if name in ("public", "public:local", "public:remote"):
        channel = {"public": keys.PUBLIC, "public:local": keys.PUBLIC_LOCAL,
                   "public:remote": keys.PUBLIC_REMOTE}[name]
        return Subscription(channel, (name,), context="public")
    if name in ("hashtag", "hashtag:local"):
        tag = (tag or "").strip().lstrip("#")
        if not tag or len(tag) > 100:
            raise StreamError(400, "No tag for stream provided")
        return Subscription(keys.hashtag(tag, local=name.endswith(":local")), (name, tag),
                            context="public")
    account = viewer.account
    if account is None:
        raise StreamError(401, "Missing access token")
    if name == "user":
        _scope(viewer, "read:statuses")
        notifications = viewer.token is None or grants(viewer.scopes, "read:notifications")
        return Subscription(keys.user(account.pk), ("user",), context="home",
                            without_event=None if notifications else "notification")
    if name == "user:notification":
        _scope(viewer, "read:notifications")
        return Subscription(keys.user(account.pk), ("user:notification",), "notification",
                            context="notifications")
    if name == "direct":
        _scope(viewer, "read:statuses")
        return Subscription(keys.direct(account.pk), ("direct",))
    _scope(viewer, "read:statuses")
    from tribune.core.errors import NotFound
    from tribune.lists.selectors import list_get

    try:
        found = list_get(account=account, list_id=list_id or "")
    except NotFound:
        raise StreamError(404, "Record not found") from None
    return Subscription(keys.list_(found.pk), ("list", str(found.pk)), context="home")
