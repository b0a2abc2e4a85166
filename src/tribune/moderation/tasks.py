"""Background tasks of moderation."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="default")
def lift_decision(decision_id: str) -> None:
    """Lift a temporary restriction at its end (scheduled with ``run_after``)."""
    from tribune.moderation.decisions import decision_lift

    decision_lift(decision_id=decision_id)


@task(queue_name="default")
def close_jury_panel(panel_id: str) -> None:
    """Close a jury panel at its deadline (scheduled with ``run_after``)."""
    from tribune.moderation.juries import panel_close_due

    panel_close_due(panel_id=panel_id)
