"""Reads of moderation state."""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.utils import timezone

from tribune.accounts.models import Account
from tribune.moderation.models import Case, CaseState, LogEntry, Report, Rule, Tier


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
