"""Mastodon's admin accounts (``/api/v1/admin/accounts``; docs:
methods/admin/accounts.md, entities/Admin_Account.md), for staff:

- ``GET /api/v1/admin/accounts`` and ``GET /api/v2/admin/accounts`` list accounts,
  newest first, 100 by default and 200 at most, with ``Link`` headers. v1 filters
  by booleans and, as Mastodon's controller does, lists local active accounts
  unless told otherwise (``remote``; ``active``, ``pending``, ``disabled``,
  ``silenced``, ``suspended``, ``sensitized``; ``staff``); v2 by ``origin``,
  ``status`` and ``permissions=staff`` and lists every account by default. Both
  take ``username``, ``display_name``, ``by_domain``, ``email`` and ``ip``
  (``accounts.selectors.account_list_for_staff`` says what each matches).
  ``role_ids`` and ``invited_by`` are not supported. An unknown ``origin`` or
  ``status`` is 400.
- ``GET .../:id`` is one account, whatever its state.
- ``POST .../:id/approve`` lets a sign-up awaiting approval in and answers its
  Admin::Account; ``POST .../:id/reject`` deletes the login and account (the
  username and e-mail address are free again) and answers ``{}``, as Mastodon's
  controller does. Both go through ``accounts.registrations``
  (``account_approve``, ``account_reject``), as the operator pages in ``/admin/``
  do; an account that is not awaiting approval is 403 ``This action is not
  allowed``, as Mastodon's policy answers.

Scopes ``admin:read:accounts`` and ``admin:write:accounts``; the token's user must
be staff (403 otherwise). An unknown id is 404.
"""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from tribune.accounts.registrations import account_approve, account_reject
from tribune.accounts.selectors import (
    Origin,
    StaffAccountFilter,
    Standing,
    account_get_for_staff,
    account_list_for_staff,
)
from tribune.api.auth import ApiError, Scoped
from tribune.api.base import cursor, link_header, responses
from tribune.api.routers.admin_reports import AdminAccount, admin_account_out
from tribune.core.errors import Conflict
from tribune.moderation.decisions import require_moderator

router = Router(tags=["admin"])

READ, WRITE = Scoped("admin:read:accounts"), Scoped("admin:write:accounts")
NOT_ALLOWED = "This action is not allowed"
DEFAULT_LIMIT, MAX_LIMIT = 100, 200  # Mastodon: LIMIT = 100; limit_param allows twice it
V1_STATUSES = ("active", "pending", "disabled", "silenced", "suspended", "sensitized")


def _choice(kind, name: str, value: str | None):
    if value in (None, ""):
        return None
    try:
        return kind(value)
    except ValueError:
        raise ApiError(400, f"Unknown {name}: {value}") from None


def _page(request, response: HttpResponse, filters: StaffAccountFilter, max_id, since_id,
          min_id, limit):
    require_moderator(request.auth.require_account())
    page = account_list_for_staff(filters=filters, cursor=cursor(
        max_id, since_id, min_id, limit, default=DEFAULT_LIMIT, maximum=MAX_LIMIT))
    link_header(request, response, page)
    return [admin_account_out(account) for account in page.items]


@router.get("/v1/admin/accounts", response=responses(list[AdminAccount]), auth=READ)
def account_list_v1(request, response: HttpResponse, local: bool = False,
                    remote: bool = False, active: bool = False, pending: bool = False,
                    disabled: bool = False, silenced: bool = False,
                    suspended: bool = False, sensitized: bool = False, staff: bool = False,
                    username: str = "", display_name: str = "", by_domain: str = "",
                    email: str = "", ip: str = "", max_id: str | None = None,
                    since_id: str | None = None, min_id: str | None = None,
                    limit: int | None = None):
    """Accounts for staff; local and active ones unless the filters say otherwise."""
    flags = {"active": active, "pending": pending, "disabled": disabled,
             "silenced": silenced, "suspended": suspended, "sensitized": sensitized}
    status = [name for name in V1_STATUSES if flags[name]]  # the last one set wins
    filters = StaffAccountFilter(
        origin=Origin.REMOTE if remote else Origin.LOCAL,
        status=Standing(status[-1] if status else "active"), staff=staff,
        username=username, display_name=display_name, by_domain=by_domain, email=email,
        ip=ip)
    return _page(request, response, filters, max_id, since_id, min_id, limit)


@router.get("/v2/admin/accounts", response=responses(list[AdminAccount]), auth=READ)
def account_list_v2(request, response: HttpResponse, origin: str | None = None,
                    status: str | None = None, permissions: str | None = None,
                    username: str = "", display_name: str = "", by_domain: str = "",
                    email: str = "", ip: str = "", max_id: str | None = None,
                    since_id: str | None = None, min_id: str | None = None,
                    limit: int | None = None):
    """Accounts for staff, every one unless the filters say otherwise."""
    filters = StaffAccountFilter(
        origin=_choice(Origin, "origin", origin), status=_choice(Standing, "status", status),
        staff=permissions == "staff", username=username, display_name=display_name,
        by_domain=by_domain, email=email, ip=ip)
    return _page(request, response, filters, max_id, since_id, min_id, limit)


@router.get("/v1/admin/accounts/{account_id}", response=responses(AdminAccount), auth=READ)
def account_get_endpoint(request, account_id: str):
    """One account, also when suspended or awaiting approval."""
    require_moderator(request.auth.require_account())
    return admin_account_out(account_get_for_staff(account_id=account_id))


def _pending(request, account_id: str):
    require_moderator(request.auth.require_account())
    account = account_get_for_staff(account_id=account_id)
    if not account.is_local or account.user is None:
        raise ApiError(403, NOT_ALLOWED)
    return account


@router.post("/v1/admin/accounts/{account_id}/approve", response=responses(AdminAccount),
             auth=WRITE)
def account_approve_endpoint(request, account_id: str):
    """Approve a sign-up awaiting review; its login works from now on."""
    account = _pending(request, account_id)
    try:
        account_approve(account=account)
    except Conflict:
        raise ApiError(403, NOT_ALLOWED) from None
    return admin_account_out(account_get_for_staff(account_id=account.pk))


@router.post("/v1/admin/accounts/{account_id}/reject", response=responses(dict),
             auth=WRITE)
def account_reject_endpoint(request, account_id: str):
    """Reject a sign-up awaiting review: its login and account are deleted."""
    account = _pending(request, account_id)
    try:
        account_reject(account=account)
    except Conflict:
        raise ApiError(403, NOT_ALLOWED) from None
    return {}
