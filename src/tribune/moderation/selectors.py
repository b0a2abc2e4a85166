"""Reads of moderation state."""

from __future__ import annotations

from tribune.accounts.models import Account
from tribune.moderation.models import Case, CaseState, Rule


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
