"""Bearer-token authentication and Mastodon's scope checks for the client API.

``request.auth`` is a :class:`Viewer`: the access token (or None for visitors), the
account behind it (None for app-only tokens) and its scopes. Errors follow Mastodon:
401 ``The access token is invalid``, 403 ``This action is outside the authorized
scopes``, 403 for a login pending approval or disabled (``viewer_for_token``), 422
``This method requires an authenticated user``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer
from oauth2_provider.models import get_access_token_model

from tribune.accounts.models import Account
from tribune.oauth.scopes import grants
from tribune.timelines.services import account_seen


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Viewer:
    """Who is calling: ``account`` is None for visitors and app-only tokens."""

    token: object | None = None
    account: Account | None = None
    scopes: set[str] = field(default_factory=set)
    application_id: int | None = None

    def __bool__(self) -> bool:  # ninja treats a falsy auth result as "not authenticated"
        return True

    def require_account(self) -> Account:
        if self.account is None:
            if self.token is None:
                raise ApiError(401, "The access token is invalid")
            raise ApiError(422, "This method requires an authenticated user")
        return self.account


def token_from_header(request: HttpRequest) -> str | None:
    """The bearer token of a request: the ``Authorization: Bearer`` header, else an
    ``access_token`` query or form parameter (Doorkeeper's methods, which Mastodon
    enables). None when there is none; "" when an Authorization header is malformed.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if header:
        return ""
    param = request.GET.get("access_token")
    if param is None and request.method in ("POST", "PUT", "PATCH", "DELETE"):
        param = _body_token(request)
    return param.strip() if param and param.strip() else None


def _body_token(request: HttpRequest) -> str | None:
    """``access_token`` from a form or JSON body (the body is cached first, so the
    API's parser can still read it)."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        request.body  # noqa: B018
        return request.POST.get("access_token")
    if request.content_type.endswith("json"):
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return None
        value = data.get("access_token") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None
    return None


PENDING = "Your login is currently pending approval"
DISABLED = "Your login is currently disabled"


def viewer_for_token(raw: str) -> Viewer:
    """The Viewer for a raw bearer token (one query).

    ApiError(401) ``The access token is invalid`` if the token is unknown, revoked
    or expired, or its login has no account. A valid token whose login may not act
    is 403, as Mastodon's ``Api::BaseController#require_user!`` answers: ``Your
    login is currently pending approval`` while the sign-up awaits review,
    ``Your login is currently disabled`` for an inactive login or a suspended
    account (Mastodon's ``User#functional?`` is false for a suspended account).
    """
    AccessToken = get_access_token_model()
    checksum = hashlib.sha256(raw.encode()).hexdigest()
    token = (AccessToken.objects
             .select_related("user__account__approval_request", "application")
             .filter(token_checksum=checksum).first())
    if token is None or token.expires <= timezone.now():
        raise ApiError(401, "The access token is invalid")
    account = None
    if token.user is not None:
        account = getattr(token.user, "account", None)
        if account is None:
            raise ApiError(401, "The access token is invalid")
        if not token.user.is_active and hasattr(account, "approval_request"):
            raise ApiError(403, PENDING)
        if not token.user.is_active or account.suspended_at is not None:
            raise ApiError(403, DISABLED)
    return Viewer(token=token, account=account, scopes=set(token.scope.split()),
                  application_id=token.application_id)


class Scoped(HttpBearer):
    """Auth for one endpoint: ``Scoped("read:statuses")`` requires a token with that
    scope; ``optional=True`` also lets visitors in (and still rejects a bad token);
    ``user=True`` requires a token that belongs to an account."""

    def __init__(self, scope: str | None = None, *, optional: bool = False, user: bool = True):
        super().__init__()
        self.scope = scope
        self.optional = optional
        self.user = user

    def __call__(self, request: HttpRequest) -> Viewer:
        raw = token_from_header(request)
        if raw is None:
            if self.optional:
                return Viewer()
            raise ApiError(401, "The access token is invalid")
        if raw == "":
            raise ApiError(401, "The access token is invalid")
        viewer = viewer_for_token(raw)
        if self.scope and not grants(viewer.scopes, self.scope):
            raise ApiError(403, "This action is outside the authorized scopes")
        if self.user and not self.optional and viewer.account is None:
            raise ApiError(422, "This method requires an authenticated user")
        if viewer.account is not None:
            account_seen(account=viewer.account)
        return viewer

    def authenticate(self, request: HttpRequest, token: str) -> Viewer:  # pragma: no cover
        return self(request)


def read(scope: str) -> Scoped:
    return Scoped(f"read:{scope}")


def write(scope: str) -> Scoped:
    return Scoped(f"write:{scope}")


def public(scope: str = "read:statuses") -> Scoped:
    """Visitors allowed; a token, if sent, must be valid."""
    return Scoped(scope, optional=True)
