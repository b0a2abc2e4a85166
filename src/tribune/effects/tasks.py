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
