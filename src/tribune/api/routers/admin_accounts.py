"""Mastodon's admin account review (``/api/v1/admin/accounts``; docs:
methods/admin/accounts.md), for staff, on the sign-ups awaiting approval of the
``approval`` registration mode:

- ``POST .../:id/approve`` lets the account in and answers its Admin::Account;
- ``POST .../:id/reject`` deletes the login and account (the username and e-mail
  address are free again) and answers ``{}``, as Mastodon's controller does.

Both go through ``accounts.registrations`` (``account_approve``,
``account_reject``), as the operator pages in ``/admin/`` do. Scope
``admin:write:accounts``; the token's user must be staff (403 otherwise). An
unknown id is 404; an account that is not awaiting approval is 403 ``This action
is not allowed``, as Mastodon's policy answers.
"""

from __future__ import annotations

from ninja import Router

from tribune.accounts.registrations import account_approve, account_reject
from tribune.accounts.selectors import account_get_for_staff
from tribune.api.auth import ApiError, Scoped
from tribune.api.base import responses
from tribune.api.routers.admin_reports import AdminAccount, admin_account_out
from tribune.core.errors import Conflict
from tribune.moderation.decisions import require_moderator

router = Router(tags=["admin"])

WRITE = Scoped("admin:write:accounts")
NOT_ALLOWED = "This action is not allowed"


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
    return admin_account_out(account)


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
