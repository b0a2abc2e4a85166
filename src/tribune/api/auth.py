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
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer
from oauth2_provider.models import get_access_token_model, get_application_model

from tribune.accounts.models import Account, ApprovalRequest, EmailConfirmation
from tribune.core import sql
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
        except (ValueError, RecursionError):
            return None
        value = data.get("access_token") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None
    return None


PENDING = "Your login is currently pending approval"
DISABLED = "Your login is currently disabled"
UNCONFIRMED = "Your login is missing a confirmed e-mail address"


def viewer_for_token(raw: str, *, allow_unconfirmed: bool = False) -> Viewer:
    """The Viewer for a raw bearer token (one query).

    ApiError(401) ``The access token is invalid`` if the token is unknown, revoked
    or expired, or its login has no account. A valid token whose login may not act
    is 403, as Mastodon's ``Api::BaseController#require_user!`` answers: ``Your
    login is currently pending approval`` while the sign-up awaits review,
    ``Your login is currently disabled`` for an inactive login or a suspended
    account (Mastodon's ``User#functional?`` is false for a suspended account), and
    ``Your login is missing a confirmed e-mail address`` while the login's address
    awaits confirmation (unless ``allow_unconfirmed``: the endpoint that resends
    the link).
    """
    token, user, account, pending, unconfirmed = _token_row(
        hashlib.sha256(raw.encode()).hexdigest())
    if token is None or token.expires <= timezone.now():
        raise ApiError(401, "The access token is invalid")
    if user is not None:
        if account is None:
            raise ApiError(401, "The access token is invalid")
        if not user.is_active and pending:
            raise ApiError(403, PENDING)
        if not user.is_active or account.suspended_at is not None:
            raise ApiError(403, DISABLED)
        if unconfirmed and not allow_unconfirmed:
            raise ApiError(403, UNCONFIRMED)
    return Viewer(token=token, account=account, scopes=set(token.scope.split()),
                  application_id=token.application_id)


def _token_row(checksum: str) -> tuple[Any, Any, Account | None, bool, bool]:
    """(access token, its login, the login's account, whether the account awaits
    approval, whether the login's address awaits confirmation) for a token
    checksum, in one written-out query (core.sql): every API call makes it, and
    through the ORM its compiling cost more than the rest of a cached home page.
    The token's login and the login's account are attached as the ORM's
    ``select_related`` would, so ``token.user.account`` is no query. An app's own
    token (no login) comes with its application, read by a second written-out
    query, which the calls that take such a token need (a sign-up:
    ``api.routers.registrations``)."""
    AccessToken, User = get_access_token_model(), get_user_model()
    Application = get_application_model()

    query = (f"SELECT {sql.columns(AccessToken, 't')}, {sql.columns(User, 'u')}, "
             f"{sql.columns(Account, 'a')}, EXISTS (SELECT 1 FROM "
             f'"{ApprovalRequest._meta.db_table}" r WHERE r."account_id" = a."id"), '
             f'EXISTS (SELECT 1 FROM "{EmailConfirmation._meta.db_table}" c '
             f'WHERE c."user_id" = u."id" AND c."confirmed_at" IS NULL) '
             f'FROM "{AccessToken._meta.db_table}" t '
             f'LEFT JOIN "{User._meta.db_table}" u ON u."id" = t."user_id" '
             f'LEFT JOIN "{Account._meta.db_table}" a ON a."user_id" = u."id" '
             f'WHERE t."token_checksum" = %s')
    with connection.cursor() as cursor:
        cursor.execute(query, [checksum])
        row = cursor.fetchone()
    if row is None:
        return None, None, None, False, False
    t_end = sql.width(AccessToken)
    u_end = t_end + sql.width(User)
    a_end = u_end + sql.width(Account)
    token = sql.instance(AccessToken, row[:t_end])
    user = sql.instance(User, row[t_end:u_end])
    account = sql.instance(Account, row[u_end:a_end])
    pending, unconfirmed = bool(row[a_end]), bool(row[a_end + 1])
    if token.user_id is None and token.application_id is not None:
        # An app's own token: its app too, written out (a join in the query
        # above would cost every other call; PostgreSQL planned it as a scan).
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {sql.columns(Application, 'p')} "
                           f'FROM "{Application._meta.db_table}" p WHERE p."id" = %s',
                           [token.application_id])
            found = cursor.fetchone()
        if found is not None:
            AccessToken._meta.get_field("application").set_cached_value(
                token, sql.instance(Application, found))
    if user is not None:
        AccessToken._meta.get_field("user").set_cached_value(token, user)
        user_field = Account._meta.get_field("user")
        user_field.remote_field.set_cached_value(user, account)
        if account is not None:
            user_field.set_cached_value(account, user)
    return token, user, account, pending, unconfirmed


class Scoped(HttpBearer):
    """Auth for one endpoint: ``Scoped("read:statuses")`` requires a token with that
    scope; ``optional=True`` also lets visitors in (and still rejects a bad token);
    ``user=True`` requires a token that belongs to an account;
    ``unconfirmed=True`` lets in a login whose address awaits confirmation."""

    def __init__(self, scope: str | None = None, *, optional: bool = False, user: bool = True,
                 unconfirmed: bool = False):
        super().__init__()
        self.unconfirmed = unconfirmed
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
        viewer = viewer_for_token(raw, allow_unconfirmed=self.unconfirmed)
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
