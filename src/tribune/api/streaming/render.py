"""A published reference made into each viewer's payload, once per event for
everyone this process serves (docs/adr/0032).

Mastodon's payloads: ``update`` and ``status.update`` carry the JSON of the Status
entity *as the viewer sees it* (``filtered`` by the viewer's filters of the
stream's context, left out when one of them hides it), ``delete`` the status id,
``notification`` the Notification entity, ``conversation`` the Conversation
entity, each a string; ``filters_changed`` has none.

Who gets a status: those ``statuses.policy.viewers_who_can_view`` lets see it,
less those whose timelines hide its author or the author of what it reblogs
(``graph.selectors.viewers_hiding``: blocks either way, mutes in force), as
Mastodon's streaming server filters. The status's shared entity is loaded once
(``api.entities``); each viewer then costs one query, for its own state
(favourited, bookmarked...). Synchronous: the hub calls it in a thread.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django.db import close_old_connections

from tribune.accounts.models import Account
from tribune.api import entities
from tribune.api.filtering import apply_to_status, filtered_notifications
from tribune.api.presenters import conversations_out, notifications_out
from tribune.core.errors import NotFound
from tribune.filters.selectors import viewer_filters
from tribune.graph.selectors import viewers_hiding
from tribune.statuses.models import Status
from tribune.statuses.policy import viewers_who_can_view

Target = tuple[int | None, str | None]  # (account id or None for a visitor, filter context)
Targets = set[Target]
NO_PAYLOAD = "undefined"  # what Mastodon's server writes for an event without one


def _dump(entity: Any) -> str:
    return json.dumps(entity, ensure_ascii=False, separators=(",", ":"))


def render(event: str, ref: str, targets: Targets) -> dict[Target, str]:
    """The payload of ``event`` about ``ref`` for each of ``targets`` (a viewer,
    and the filters' context of the stream it listens to: ``home``, ``public``,
    ``notifications`` or None) that may have it; the others are left out (a status
    they may not see or that a ``hide`` filter of the context matches, a
    notification or conversation that is not theirs, a reference that no longer
    exists). Statuses carry ``filtered`` as the REST API fills it (ADR 0027)."""
    close_old_connections()
    try:
        pk = int(ref)
    except ValueError:
        return {}
    if event == "delete":
        return dict.fromkeys(targets, str(pk))
    if event == "filters_changed":
        return {t: NO_PAYLOAD for t in targets if t[0] == pk}
    if event in ("update", "status.update"):
        return _statuses(pk, targets)
    viewers = {viewer for viewer, _context in targets if viewer is not None}
    if event == "notification":
        found = _notification(pk, viewers)
    elif event == "conversation":
        found = _conversation(pk, viewers)
    else:
        return {}
    return {t: found[t[0]] for t in targets if t[0] in found}


def statuses_audience(status: Status, viewers: set[int | None]) -> set[int | None]:
    """Those of ``viewers`` who may be shown ``status`` on a stream."""
    seeing = viewers_who_can_view(status, set(viewers))
    authors = {status.account_id}
    if status.reblog_of_id is not None:
        authors.add(status.reblog_of.account_id)
    accounts = {v for v in seeing if v is not None}
    return seeing - (viewers_hiding(author_ids=authors, viewer_ids=accounts) - authors)


def _statuses(pk: int, targets: Targets) -> dict[Target, str]:
    status = (Status.objects.select_related("account", "reblog_of__account")
              .filter(pk=pk).first())
    if status is None:
        return {}
    audience = statuses_audience(status, {viewer for viewer, _context in targets})
    if not audience:
        return {}
    loaded = entities.load([pk])
    accounts = Account.objects.in_bulk([v for v in audience if v is not None])
    out: dict[Target, str] = {}
    for viewer_id in audience:
        viewer = accounts.get(viewer_id) if viewer_id is not None else None
        if viewer_id is not None and viewer is None:
            continue
        rendered = entities.statuses_json([pk], loaded, viewer)
        if not rendered:
            continue
        filters = viewer_filters(viewer)
        for context in {c for v, c in targets if v == viewer_id}:
            entity = copy.deepcopy(rendered[0]) if filters else rendered[0]
            if not apply_to_status(entity, filters, context):
                out[viewer_id, context] = _dump(entity)
    return out


def _notification(pk: int, viewers: set[int]) -> dict[int, str]:
    from tribune.notifications.selectors import notification_get

    out: dict[int, str] = {}
    for viewer in Account.objects.filter(pk__in=viewers):
        try:
            notification = notification_get(viewer=viewer, notification_id=pk)
        except NotFound:
            continue
        kept = filtered_notifications(notifications_out([notification], viewer), viewer)
        if kept:
            out[viewer.pk] = _dump(kept[0])
    return out


def _conversation(pk: int, viewers: set[int]) -> dict[int, str]:
    from tribune.conversations.selectors import conversation_get

    out: dict[int, str] = {}
    for viewer in Account.objects.filter(pk__in=viewers):
        try:
            row = conversation_get(account=viewer, conversation_id=pk)
        except NotFound:
            continue
        if row.last_status is not None:
            out[viewer.pk] = _dump(conversations_out([row], viewer)[0])
    return out
