"""Signed-in browsers ("active sessions" in Mastodon's settings): each Django
session of a login is recorded when it signs in (``LoginSession``), with the
browser and the address; when it was last used, and from where, is kept in the
session itself (``SEEN_KEY``, refreshed at most every ``SEEN_EVERY`` seconds by
the web middleware), so an ordinary page costs no extra query. Signing a session
out deletes it from Django's session store, whatever the engine.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import LoginSession
from tribune.core.errors import NotFound

SEEN_KEY = "tribune_seen"  # [unix seconds, IP address]
SEEN_EVERY = 300
USER_AGENT_MAX = 300


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


@dataclass(frozen=True)
class SessionView:
    """One signed-in browser as the settings page lists it."""

    session_key: str
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime


def login_session_record(*, session_key: str, user: AbstractBaseUser, user_agent: str,
                         ip: str | None) -> LoginSession:
    """Remember that session ``session_key`` is signed in as ``user`` (again, after
    its key changed: the same row is kept for the same key). ``ip`` that is not an
    IP address is kept as unknown."""
    try:
        ip = str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        ip = None
    record, _created = LoginSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user, "user_agent": user_agent[:USER_AGENT_MAX], "ip": ip or None,
                  "created_at": timezone.now()})
    return record


def login_sessions(*, user: AbstractBaseUser) -> list[SessionView]:
    """``user``'s sessions that are still signed in, last used first. Records of
    sessions that ended (signed out, expired, replaced) are skipped."""
    views = []
    for record in LoginSession.objects.filter(user=user):
        data = _store()(session_key=record.session_key).load()
        if str(data.get("_auth_user_id", "")) != str(user.pk):
            continue
        seen, ip = (data.get(SEEN_KEY) or [None, None])[:2]
        last = (datetime.fromtimestamp(seen, tz=UTC) if isinstance(seen, int | float)
                else record.created_at)
        views.append(SessionView(session_key=record.session_key, user_agent=record.user_agent,
                                 ip=ip or record.ip or "", created_at=record.created_at,
                                 last_seen_at=last))
    return sorted(views, key=lambda view: view.last_seen_at, reverse=True)


def login_session_revoke(*, user: AbstractBaseUser, session_key: str) -> None:
    """Sign ``user``'s session ``session_key`` out. Raises NotFound when ``user`` has
    no such session."""
    deleted, _by_model = LoginSession.objects.filter(user=user,
                                                     session_key=session_key).delete()
    if not deleted:
        raise NotFound(_("Record not found"))
    _store()(session_key=session_key).delete()


def login_sessions_prune(*, user: AbstractBaseUser) -> int:
    """Forget the records of ``user``'s sessions that ended; returns how many."""
    gone = [s for s in LoginSession.objects.filter(user=user).values_list("session_key",
                                                                          flat=True)
            if not _store()(session_key=s).exists(s)]
    LoginSession.objects.filter(session_key__in=gone).delete()
    return len(gone)
