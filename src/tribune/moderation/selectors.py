"""Reads of moderation state."""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
from tribune.moderation.models import (
    Appeal,
    AppealState,
    Case,
    CaseState,
    Decision,
    LogEntry,
    Report,
    Rule,
    Tier,
)


def rule_list() -> list[Rule]:
    """The instance rules in their published order."""
    return list(Rule.objects.order_by("position", "id"))


def next_case(*, moderator: Account | None = None) -> Case | None:
    """The case a moderator should take next, or None when the queue is empty.

    Order (moderation reference §8.12, behaviour 9): the most severe tier first,
    then the earliest deadline (the most overdue), then the highest priority. One
    indexed query whatever the backlog, so a flood of low-tier reports cannot delay
    a P0 case. Cases about the moderator's own account are skipped (nobody
    decides their own case).
    """
    qs = Case.objects.filter(state=CaseState.OPEN)
    if moderator is not None:
        qs = qs.exclude(target_account_id=moderator.pk)
    return qs.order_by("severity_tier", "deadline_at", "-priority", "id").first()


def case_queue(*, limit: int = 50) -> list[Case]:
    """The first ``limit`` open cases in ``next_case`` order, with their targets."""
    return list(Case.objects.filter(state=CaseState.OPEN).select_related("target_account")
                .order_by("severity_tier", "deadline_at", "-priority", "id")[:limit])


def queue_stats() -> dict:
    """The queue's figures: ``{"reports", "open_cases", "log_entries", "tiers":
    [{"tier", "open", "overdue", "oldest_deadline" (ISO 8601 or None)}, ...]}``,
    one entry per tier P0..P4 (a few aggregate queries)."""
    now = timezone.now()
    rows = {row["severity_tier"]: row for row in (
        Case.objects.filter(state=CaseState.OPEN).values("severity_tier")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(deadline_at__lt=now)),
                  oldest=Min("deadline_at")))}
    tiers = []
    for tier in Tier:
        row = rows.get(tier.value, {})
        oldest = row.get("oldest")
        tiers.append({"tier": tier.value, "open": row.get("open", 0),
                      "overdue": row.get("overdue", 0),
                      "oldest_deadline": oldest.isoformat() if oldest else None})
    return {"reports": Report.objects.count(),
            "open_cases": sum(t["open"] for t in tiers),
            "log_entries": LogEntry.objects.count(), "tiers": tiers}


def decision_get(decision_id) -> Decision:
    """One decision with its case, rule, target and appeals; NotFound if unknown."""
    try:
        return (Decision.objects.select_related("case", "rule", "target_account", "status",
                                                "supersedes")
                .get(pk=parse_id(decision_id)))
    except (Decision.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound(_("Record not found")) from None


def decisions_about(account: Account) -> list:
    """Decisions that restricted ``account`` or its posts, and the ones that later
    replaced them, newest first (the affected user's notices page)."""
    return list(Decision.objects.filter(target_account=account)
                .exclude(restriction="none", supersedes__isnull=True)
                .select_related("rule", "status").order_by("-created_at")[:100])


def decisions_on_reports_of(account: Account) -> list:
    """Decisions on cases ``account`` reported, newest first (their outcomes)."""
    cases = Report.objects.filter(reporter=account).values("case_id")
    return list(Decision.objects.filter(case_id__in=cases).select_related("target_account")
                .order_by("-created_at")[:100])


def case_history(case: Case) -> list[LogEntry]:
    """Every log entry about ``case``, oldest first."""
    return list(LogEntry.objects.filter(case_id=case.pk).select_related("actor").order_by("seq"))


def appeals_assigned_to(reviewer: Account) -> list:
    """Appeals waiting for ``reviewer``'s answer, oldest first."""
    return list(Appeal.objects.filter(reviewer=reviewer, state=AppealState.ASSIGNED)
                .select_related("decision__target_account", "appellant").order_by("filed_at"))


def appeals_without_reviewer() -> int:
    """How many appeals wait because nobody uninvolved can review them."""
    return Appeal.objects.filter(state=AppealState.PENDING).count()
