"""The background task that runs domain events (Django's Tasks API)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from tribune.core.events import Event


@task(queue_name="default")
def handle_event(name: str, payload: dict[str, Any]) -> None:
    """Rebuild the event named ``name`` from ``payload`` and apply its effects."""
    from tribune.effects import handle

    handle(Event.load(name, payload))


@task(queue_name="default")
def poll_end(poll_id: int) -> None:
    """At the end of poll ``poll_id``: its ``poll`` notifications, once
    (``tribune.effects.poll_ended``). Enqueued to run after the poll's end."""
    from tribune.effects import poll_ended

    poll_ended(poll_id=poll_id)
