"""Reports (``POST /api/v1/reports``; docs: methods/reports.md): a notice to the
moderators, filed through moderation.services.report_create like every other one."""

from __future__ import annotations

from ninja import Router, Schema

from tribune.accounts.selectors import account_get
from tribune.api.auth import write
from tribune.api.base import responses
from tribune.api.presenters import account_out, iso
from tribune.api.ratelimit import note_window
from tribune.api.schemas import Report
from tribune.moderation.services import report_create, reporting_window

router = Router(tags=["reports"])


class ReportIn(Schema):
    account_id: str | int
    status_ids: list[str | int] | None = None
    comment: str = ""
    forward: bool = False
    category: str | None = None
    rule_ids: list[str | int] | None = None
    collection_ids: list[str] | None = None  # accepted; collections do not exist here


@router.post("/v1/reports", response=responses(Report), auth=write("reports"))
def report(request, payload: ReportIn):
    """File a report about an account and, optionally, some of its statuses. The
    answer is the report as the moderators received it (acknowledged at once).
    Each report spends one of the account's 400 a day (429 past them); the
    rate-limit headers show that budget when it is the tightest."""
    reporter = request.auth.require_account()
    target = account_get(account_id=payload.account_id)
    filed = report_create(reporter=reporter, target=target,
                          status_ids=payload.status_ids or [],
                          rule_ids=payload.rule_ids or [], category=payload.category,
                          comment=payload.comment, forward=payload.forward)
    note_window(request, reporting_window(account=reporter))
    return {
        "id": str(filed.pk), "action_taken": filed.action_taken_at is not None,
        "action_taken_at": iso(filed.action_taken_at), "category": filed.category,
        "comment": filed.comment, "forwarded": filed.forward,
        "created_at": iso(filed.created_at),
        "status_ids": [str(s) for s in filed.statuses.values_list("pk", flat=True)],
        "rule_ids": ([str(r) for r in filed.rules.values_list("pk", flat=True)]
                     or None),
        "target_account": account_out(target),
    }
