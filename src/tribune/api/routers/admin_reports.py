"""Mastodon's admin reports (``/api/v1/admin/reports``; docs: methods/admin/reports.md,
entities/Admin_Report.md), for staff, mapped onto cases and decisions
(moderation.staff says why each mapping is what it is):

- ``GET`` lists unresolved reports (``resolved=true``: resolved ones), filtered by
  ``account_id`` (the reporter) and ``target_account_id``, 100 by default and 200
  at most, newest first, with ``Link`` headers. A report is resolved when its case
  is decided; ``action_taken_by_account`` is whoever decided it.
- ``resolve`` decides the report's case (every report in it) to take no action.
  A decision states its reasons, so the facts go in ``text`` (or ``reason``);
  without them the answer is 422 and nothing is written.
- ``reopen`` answers an undecided report as it is and 422 for a decided one: a
  decision is changed by an appeal or a new decision, not by reopening.
- ``assign_to_self`` answers 422 (nothing stores an assignee: cases are taken from
  the queue in order); ``unassign`` answers the report, which is unassigned.

Scopes are Mastodon's ``admin:read:reports`` and ``admin:write:reports``, and the
token's user must also be staff (403 ``This action is not allowed`` otherwise).
Anonymous notices (no reporter account) are not listed: Admin::Report requires the
reporting account.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from ninja import Router, Schema

from tribune.accounts.models import Account
from tribune.api.auth import Scoped
from tribune.api.base import cursor, link_header, responses
from tribune.api.presenters import account_out, iso, rule_out, status_out
from tribune.api.schemas import Account as AccountSchema
from tribune.api.schemas import Out, Role, Rule, Status
from tribune.moderation import staff
from tribune.statuses.selectors import ViewerState

router = Router(tags=["admin"])

DEFAULT_LIMIT, MAX_LIMIT = 100, 200  # Mastodon: LIMIT = 100; limit_param allows twice it


class AdminAccount(Out):
    id: str
    username: str
    domain: str | None
    created_at: str
    email: str
    ip: str | None
    ips: list[dict[str, Any]]
    locale: str
    invite_request: str | None
    role: Role
    confirmed: bool
    approved: bool
    disabled: bool
    silenced: bool
    sensitized: bool
    suspended: bool
    account: AccountSchema


class AdminReport(Out):
    id: str
    action_taken: bool
    action_taken_at: str | None
    category: str
    comment: str
    forwarded: bool
    created_at: str
    updated_at: str
    account: AdminAccount
    target_account: AdminAccount
    assigned_account: AdminAccount | None
    action_taken_by_account: AdminAccount | None
    statuses: list[Status]
    rules: list[Rule]


class ResolveIn(Schema):
    text: str | None = None
    reason: str | None = None


def _role(account: Account) -> dict[str, Any]:
    # The same roles as the CredentialAccount's (presenters.credential_account_out).
    is_admin = bool(account.user and account.user.is_superuser)
    return {"id": "3" if is_admin else "-99", "name": "Admin" if is_admin else "",
            "permissions": "1" if is_admin else "0", "color": "", "highlighted": is_admin}


def admin_account_out(account: Account) -> dict[str, Any]:
    """The Admin::Account entity (docs: entities/Admin_Account.md). Tribune keeps no
    IP addresses and does not verify e-mail addresses (``ip`` null, ``ips`` empty,
    ``confirmed`` false); a sign-up awaiting approval is ``approved`` false with its
    reason as ``invite_request``; ``disabled`` is a frozen account or a login the
    operator switched off; there is no account-wide silence or sensitive mark.
    Reads ``account.user`` and ``account.approval_request``: load them with the
    account (``accounts.selectors`` does for staff) to keep a page's queries
    constant."""
    user = account.user
    pending = getattr(account, "approval_request", None)  # None when there is none
    switched_off = user is not None and not user.is_active and pending is None
    return {
        "id": str(account.pk), "username": account.username,
        "domain": account.domain or None, "created_at": iso(account.created_at),
        "email": user.email if user else "", "ip": None, "ips": [],
        "locale": account.locale or settings.LANGUAGE_CODE,
        "invite_request": (pending.reason or None) if pending else None,
        # No address is confirmed by mail yet, so none is waiting for it: a local
        # login counts as confirmed, as Mastodon's do when made without confirmation.
        "role": _role(account), "confirmed": user is not None, "approved": pending is None,
        "disabled": account.frozen_at is not None or switched_off,
        "silenced": False, "sensitized": False,
        "suspended": account.suspended_at is not None, "account": account_out(account),
    }


def admin_reports_out(reports: list, viewer: Account) -> list[dict[str, Any]]:
    """Admin::Report entities; the viewer's state of their statuses in bulk."""
    state = ViewerState.for_statuses([s for r in reports for s in r.statuses.all()], viewer)
    out = []
    for report in reports:
        outcome = staff.report_outcome(report)
        decided_by = outcome.decided_by if outcome is not None else None
        taken_at = outcome.created_at if outcome is not None else None
        out.append({
            "id": str(report.pk),
            "action_taken": outcome is not None,
            "action_taken_at": iso(taken_at),
            "category": report.category,
            "comment": report.comment,
            "forwarded": report.forward,
            "created_at": iso(report.created_at),
            "updated_at": iso(taken_at or report.created_at),
            "account": admin_account_out(report.reporter),
            "target_account": admin_account_out(report.target_account),
            "assigned_account": None,
            "action_taken_by_account": admin_account_out(decided_by) if decided_by else None,
            "statuses": [status_out(s, state, viewer.pk) for s in report.statuses.all()],
            "rules": [rule_out(rule) for rule in report.rules.all()],
        })
    return out


def _one(report, viewer: Account) -> dict[str, Any]:
    return admin_reports_out([report], viewer)[0]


READ, WRITE = Scoped("admin:read:reports"), Scoped("admin:write:reports")


@router.get("/v1/admin/reports", response=responses(list[AdminReport]), auth=READ)
def report_list(request, response: HttpResponse, resolved: bool = False,
                account_id: str | None = None, target_account_id: str | None = None,
                max_id: str | None = None, since_id: str | None = None,
                min_id: str | None = None, limit: int | None = None):
    """Reports for staff, newest first: unresolved ones unless ``resolved=true``."""
    viewer = request.auth.require_account()
    page = staff.staff_report_list(
        moderator=viewer, resolved=resolved, account_id=account_id,
        target_account_id=target_account_id,
        cursor=cursor(max_id, since_id, min_id, limit, default=DEFAULT_LIMIT, maximum=MAX_LIMIT))
    link_header(request, response, page)
    return admin_reports_out(page.items, viewer)


@router.get("/v1/admin/reports/{report_id}", response=responses(AdminReport), auth=READ)
def report_get(request, report_id: str):
    """One report."""
    viewer = request.auth.require_account()
    return _one(staff.staff_report_get(moderator=viewer, report_id=report_id), viewer)


@router.post("/v1/admin/reports/{report_id}/resolve", response=responses(AdminReport),
             auth=WRITE)
def report_resolve(request, report_id: str, payload: ResolveIn):
    """Decide the report's case to take no action, for the reasons in ``text``."""
    viewer = request.auth.require_account()
    report = staff.report_resolve(moderator=viewer, report_id=report_id,
                                  facts=payload.text or payload.reason or "")
    return _one(report, viewer)


@router.post("/v1/admin/reports/{report_id}/reopen", response=responses(AdminReport),
             auth=WRITE)
def report_reopen(request, report_id: str):
    """An undecided report, as it is; 422 for a decided one."""
    viewer = request.auth.require_account()
    return _one(staff.report_reopen(moderator=viewer, report_id=report_id), viewer)


@router.post("/v1/admin/reports/{report_id}/assign_to_self", response=responses(AdminReport),
             auth=WRITE)
def report_assign_to_self(request, report_id: str):
    """Always 422: reports are not assigned here."""
    viewer = request.auth.require_account()
    return _one(staff.report_assign_to_self(moderator=viewer, report_id=report_id), viewer)


@router.post("/v1/admin/reports/{report_id}/unassign", response=responses(AdminReport),
             auth=WRITE)
def report_unassign(request, report_id: str):
    """The report, unchanged: it was never assigned."""
    viewer = request.auth.require_account()
    return _one(staff.report_unassign(moderator=viewer, report_id=report_id), viewer)
