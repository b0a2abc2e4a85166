"""Reads of moderation state."""

from __future__ import annotations

from tribune.moderation.models import Rule


def rule_list() -> list[Rule]:
    """The instance rules in their published order."""
    return list(Rule.objects.order_by("position", "id"))
