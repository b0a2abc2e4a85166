"""Reports as staff see them through Mastodon's admin API (``/api/v1/admin/reports``),
mapped onto cases and decisions.

In Mastodon a moderator resolves, reopens and assigns each report on its own. Here a
report is one notice in its subject's case, and only a decision with reasons closes
the case (``decisions.decision_create``), so:

- a report is *resolved* when its case is decided; resolving one decides the whole
  case (every report in it) to take no action, and needs the facts relied on, like
  every decision (DSA Art. 17(3)(c); moderation reference §8.12, behaviour 2);
- a decided case is not reopened: a decision changes only by an appeal (Art. 20)
  or a new decision that supersedes it;
- reports are not assigned: moderators take cases from the queue in order
  (``selectors.next_case``), and nothing stores an assignee.

Anonymous notices of illegal content (no reporter account) are left out: Mastodon's
Admin::Report requires the reporting account. Every function here is for staff
only and raises Forbidden for anyone else.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.ids import parse_id
from tribune.core.pagination import Cursor, Page, paginate
from tribune.moderation.decisions import Reasons, decision_create, require_moderator
from tribune.moderation.models import CaseState, Decision, Report, Restriction
from tribune.statuses.models import Status
from tribune.statuses.selectors import with_relations

RESOLVED_STATES = (CaseState.DECIDED, CaseState.CLOSED)


def _reports() -> QuerySet:
    """The query shape of reports about to be presented: constant queries per page."""
    decisions = (Decision.objects
                 .select_related("decided_by__user", "decided_by__approval_request")
                 .order_by("-created_at", "-id"))
    return (Report.objects.filter(reporter__isnull=False)
            .select_related("reporter__user", "reporter__approval_request",
                            "target_account__user", "target_account__approval_request",
                            "case")
            .prefetch_related(
                Prefetch("statuses", queryset=with_relations(Status.objects.order_by("id"))),
                "rules", Prefetch("case__decisions", queryset=decisions)))


def _id(value, what: str) -> int:
    try:
        return parse_id(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationFailed(
            _("Validation failed: %(what)s must be an id") % {"what": what}) from None


def staff_report_list(*, moderator: Account, cursor: Cursor, resolved: bool = False,
                      account_id=None, target_account_id=None) -> Page:
    """One page of reports, newest first: unresolved ones (their case is open or
    with a jury), or resolved ones (decided) when ``resolved`` is true, as Mastodon
    lists unresolved reports unless asked otherwise. ``account_id`` keeps the
    reports filed by that account, ``target_account_id`` those about it.

    Raises Forbidden unless ``moderator`` is staff, ValidationFailed for an id
    that is not one.
    """
    require_moderator(moderator)
    qs = _reports()
    qs = (qs.filter(case__state__in=RESOLVED_STATES) if resolved
          else qs.exclude(case__state__in=RESOLVED_STATES))
    if account_id not in (None, ""):
        qs = qs.filter(reporter_id=_id(account_id, "account_id"))
    if target_account_id not in (None, ""):
        qs = qs.filter(target_account_id=_id(target_account_id, "target_account_id"))
    return paginate(qs, cursor)


def staff_report_get(*, moderator: Account, report_id) -> Report:
    """One report with what presenting it needs. Raises Forbidden unless
    ``moderator`` is staff, NotFound for an unknown id or an anonymous notice."""
    require_moderator(moderator)
    try:
        return _reports().get(pk=parse_id(report_id))
    except (Report.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound(_("Record not found")) from None


def report_outcome(report: Report) -> Decision | None:
    """The decision in force on a report's case (the latest), or None while the
    case is undecided. Uses the prefetched decisions of ``staff_report_get`` and
    ``staff_report_list``."""
    if report.case.state not in RESOLVED_STATES:
        return None
    return next(iter(report.case.decisions.all()), None)


def report_resolve(*, moderator: Account, report_id, facts: str) -> Report:
    """Resolve a report as Mastodon's ``resolve`` does, the one way it can be here:
    ``moderator`` decides the report's case to take no action
    (``decision_create(restriction="none")``), stating ``facts``. Every report in
    the case is resolved with it, and their reporters are told the outcome. Returns
    the report, re-read.

    Raises Forbidden unless ``moderator`` is staff and not the case's subject,
    NotFound for an unknown report, ValidationFailed when ``facts`` is blank (a
    decision without reasons is refused: DSA Art. 17(3)) or the case is not open.
    """
    report = staff_report_get(moderator=moderator, report_id=report_id)
    if not (facts or "").strip():
        raise ValidationFailed(_(
            "Validation failed: Reasons are required: resolving a report decides its "
            "case to take no action, and every decision states the facts and "
            "circumstances it relied on"))
    decision_create(case_id=report.case_id, moderator=moderator,
                    restriction=Restriction.NONE, reasons=Reasons(facts=facts))
    return staff_report_get(moderator=moderator, report_id=report.pk)


def report_reopen(*, moderator: Account, report_id) -> Report:
    """Mastodon's ``reopen``: a report whose case is still undecided is already
    open and is returned as it is. A decided case is never reopened.

    Raises Forbidden unless ``moderator`` is staff, NotFound for an unknown
    report, ValidationFailed when the case is decided (a decision is changed by an
    appeal or a new decision that supersedes it, with reasons: DSA Art. 20).
    """
    report = staff_report_get(moderator=moderator, report_id=report_id)
    if report.case.state in RESOLVED_STATES:
        raise ValidationFailed(_(
            "Validation failed: This report's case is decided; a decision is changed "
            "by an appeal or by a new decision with reasons, not by reopening the report"))
    return report


def report_assign_to_self(*, moderator: Account, report_id) -> Report:
    """Mastodon's ``assign_to_self``, which Tribune does not keep: cases are taken
    from the queue in order of severity and deadline, and no assignee is stored.

    Raises Forbidden unless ``moderator`` is staff, NotFound for an unknown report,
    and otherwise always ValidationFailed saying so.
    """
    staff_report_get(moderator=moderator, report_id=report_id)
    raise ValidationFailed(_(
        "Validation failed: Reports are not assigned to moderators here; cases are "
        "taken from the queue, most severe and most overdue first"))


def report_unassign(*, moderator: Account, report_id) -> Report:
    """Mastodon's ``unassign``: no report is ever assigned here, so the report is
    returned as it is. Raises Forbidden unless ``moderator`` is staff, NotFound for
    an unknown report."""
    return staff_report_get(moderator=moderator, report_id=report_id)
