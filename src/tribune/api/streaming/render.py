"""A published reference made into each viewer's payload, once per event for
everyone this process serves (docs/adr/0032).

Mastodon's payloads: ``update`` and ``status.update`` carry the JSON of the Status
entity *as the viewer sees it*, ``delete`` the status id, ``notification`` the
Notification entity, ``conversation`` the Conversation entity; each a string.

Who gets a status: those ``statuses.policy.viewers_who_can_view`` lets see it,
less those whose timelines hide its author or the author of what it reblogs
(``graph.selectors.viewers_hiding``: blocks either way, mutes in force), as
Mastodon's streaming server filters. The status's shared entity is loaded once
(``api.entities``); each viewer then costs one query, for its own state
(favourited, bookmarked...). Synchronous: the hub calls it in a thread.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import close_old_connections

from tribune.accounts.models import Account
from tribune.api import entities
from tribune.api.presenters import conversations_out, notifications_out
from tribune.core.errors import NotFound
from tribune.graph.selectors import viewers_hiding
from tribune.statuses.models import Status
from tribune.statuses.policy import viewers_who_can_view

Viewers = set[int | None]  # account ids; None for visitors


def _dump(entity: Any) -> str:
    return json.dumps(entity, ensure_ascii=False, separators=(",", ":"))


def render(event: str, ref: str, viewers: Viewers) -> dict[int | None, str]:
    """The payload of ``event`` about ``ref`` for each of ``viewers`` that may have
    it; the others are left out (a status they may not see, a notification or
    conversation that is not theirs, a reference that no longer exists)."""
    close_old_connections()
    try:
        pk = int(ref)
    except ValueError:
        return {}
    if event == "delete":
        return dict.fromkeys(viewers, str(pk))
    if event in ("update", "status.update"):
        return _statuses(pk, viewers)
    if event == "notification":
        return _notification(pk, viewers)
    if event == "conversation":
        return _conversation(pk, viewers)
    return {}


def statuses_audience(status: Status, viewers: Viewers) -> Viewers:
    """Those of ``viewers`` who may be shown ``status`` on a stream."""
    seeing = viewers_who_can_view(status, set(viewers))
    authors = {status.account_id}
    if status.reblog_of_id is not None:
        authors.add(status.reblog_of.account_id)
    accounts = {v for v in seeing if v is not None}
    return seeing - (viewers_hiding(author_ids=authors, viewer_ids=accounts) - authors)


def _statuses(pk: int, viewers: Viewers) -> dict[int | None, str]:
    status = (Status.objects.select_related("account", "reblog_of__account")
              .filter(pk=pk).first())
    if status is None:
        return {}
    audience = statuses_audience(status, viewers)
    if not audience:
        return {}
    loaded = entities.load([pk])
    accounts = Account.objects.in_bulk([v for v in audience if v is not None])
    out: dict[int | None, str] = {}
    for viewer_id in audience:
        viewer = accounts.get(viewer_id) if viewer_id is not None else None
        if viewer_id is not None and viewer is None:
            continue
        rendered = entities.statuses_json([pk], loaded, viewer)
        if rendered:
            out[viewer_id] = _dump(rendered[0])
    return out


def _notification(pk: int, viewers: Viewers) -> dict[int | None, str]:
    from tribune.notifications.selectors import notification_get

    out: dict[int | None, str] = {}
    for viewer in Account.objects.filter(pk__in=[v for v in viewers if v is not None]):
        try:
            notification = notification_get(viewer=viewer, notification_id=pk)
        except NotFound:
            continue
        out[viewer.pk] = _dump(notifications_out([notification], viewer)[0])
    return out


def _conversation(pk: int, viewers: Viewers) -> dict[int | None, str]:
    from tribune.conversations.selectors import conversation_get

    out: dict[int | None, str] = {}
    for viewer in Account.objects.filter(pk__in=[v for v in viewers if v is not None]):
        try:
            row = conversation_get(account=viewer, conversation_id=pk)
        except NotFound:
            continue
        if row.last_status is not None:
            out[viewer.pk] = _dump(conversations_out([row], viewer)[0])
    return out
