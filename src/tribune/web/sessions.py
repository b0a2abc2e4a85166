"""Keeping the record of signed-in browsers (``accounts.sessions``): a session is
recorded when it signs in, and the middleware notes in the session when and from
where it was last used, at most every ``SEEN_EVERY`` seconds, so the settings page
can list "last seen" without a write on every page."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse

from tribune.accounts.sessions import (
    SEEN_EVERY,
    SEEN_KEY,
    login_session_record,
    login_sessions_prune,
)
from tribune.core.ratelimit import client_ip


def _seen(request: HttpRequest) -> list:
    return [int(time.time()), client_ip(request)]


def record_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """``user_logged_in`` receiver (connected in ``WebConfig.ready``): remember the
    new session of ``user`` with its browser and address, and forget those of its
    sessions that ended."""
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    session[SEEN_KEY] = _seen(request)
    login_session_record(session_key=session.session_key, user=user,
                         user_agent=request.headers.get("User-Agent", ""),
                         ip=client_ip(request) or None)
    login_sessions_prune(user=user)


def connect() -> None:
    user_logged_in.connect(record_login, dispatch_uid="tribune.web.sessions.record_login")


class SessionSeenMiddleware:
    """Note in a signed-in session when and from where it was last used."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            seen = request.session.get(SEEN_KEY)
            if not seen or time.time() - seen[0] >= SEEN_EVERY:
                request.session[SEEN_KEY] = _seen(request)
        return self.get_response(request)
