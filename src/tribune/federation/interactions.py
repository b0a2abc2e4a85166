"""Inbound activities about posts (docs/adr/0024): Create, Update and Delete of
Notes, Announce and Like and their Undo, each through the domain services the
API uses (``statuses.remote`` for remote posts, ``reblog_create``,
``favourite_create`` and their deletions). The caller (``inbox.receive``) has
checked that ``sender`` signed the activity and is its ``actor``.

The rules that keep a server from speaking for another (each a test):
a Note in a Create or Update is on the sender's host and attributed to the
sender; a Create never takes over a post stored for someone else; only the
author updates or deletes a post; the object of an Announce is never trusted
inline: it is the post known here or the one its origin serves.
"""

from __future__ import annotations

import logging
from typing import Any

from tribune.federation import votes
from tribune.federation.models import RemoteActor
from tribune.federation.notes import (
    NOTE_TYPES,
    NoteRefused,
    host,
    note_fetch,
    note_store,
    note_update,
    ref_id,
)
from tribune.federation.serializers import visibility_of
from tribune.statuses.models import Status
from tribune.statuses.remote import status_remote_delete
from tribune.statuses.selectors import status_by_uri
from tribune.statuses.services import (
    favourite_create,
    favourite_delete,
    reblog_create,
    reblog_delete,
)

logger = logging.getLogger(__name__)


def _ignored(kind: str, sender: RemoteActor, why: str) -> None:
    logger.info("inbox: %s from %s ignored: %s", kind, sender.account.uri, why)


def create_receive(activity: dict[str, Any], sender: RemoteActor) -> None:
    """``Create`` of a Note (or a Question, a Note with a poll): stored when it
    is the sender's own (see the module's docstring). An object given by id only
    is fetched from its origin. A Note that is a vote in a local poll
    (``votes.is_vote``) is counted as one, not stored."""
    obj = activity.get("object")
    if votes.is_vote(obj):
        votes.vote_receive(obj, sender)
        return
    try:
        if isinstance(obj, str):
            status = note_fetch(obj)
            if status.account_id != sender.account_id:
                raise NoteRefused(f"{obj} is not {sender.account.uri}'s")
            return
        if isinstance(obj, dict):
            note_store(obj, author=sender)
    except NoteRefused as error:
        _ignored("Create", sender, str(error))


def update_receive(activity: dict[str, Any], sender: RemoteActor) -> None:
    """``Update`` of a Note: the sender's own known post is edited; of a
    Question, its poll's counts and end are refreshed as well. Updates of
    actors and other objects are not handled yet."""
    obj = activity.get("object")
    if not isinstance(obj, dict) or obj.get("type") not in NOTE_TYPES:
        _ignored("Update", sender, "not an Update of a Note")
        return
    try:
        note_update(obj, author=sender)
    except NoteRefused as error:
        _ignored("Update", sender, str(error))


def delete_receive(activity: dict[str, Any], sender: RemoteActor) -> None:
    """``Delete`` of a post (its id, or a Tombstone): the sender's own post is
    deleted; a post of someone else, or unknown, is left alone. The deletion of
    an actor is not handled yet."""
    uri = ref_id(activity.get("object"))
    status = status_by_uri(uri) if uri else None
    if status is None or status.account.is_local:
        _ignored("Delete", sender, f"{uri} is not a remote post known here")
        return
    status_remote_delete(account=sender.account, status=status)  # NotFound if not owner


def _visibility(activity: dict[str, Any], sender: RemoteActor) -> str:
    to = [i for i in (ref_id(v) for v in _list(activity.get("to"))) if i]
    cc = [i for i in (ref_id(v) for v in _list(activity.get("cc"))) if i]
    return visibility_of(to, cc, followers=sender.followers_url or None)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def announce_receive(activity: dict[str, Any], sender: RemoteActor) -> None:
    """``Announce``: the sender boosts a post, which is found here by its id or
    fetched from its origin (an embedded copy is never trusted). Boosts that
    are not public, unlisted or to followers are ignored."""
    uri = ref_id(activity.get("object"))
    if uri is None:
        _ignored("Announce", sender, "no object")
        return
    try:
        original = note_fetch(uri)
    except NoteRefused as error:
        _ignored("Announce", sender, str(error))
        return
    visibility = _visibility(activity, sender)
    if visibility == "direct":
        _ignored("Announce", sender, "not addressed to anyone here")
        return
    announce_id = ref_id(activity.get("id")) or ""
    reblog_create(account=sender.account, status=original, visibility=visibility,
                  uri=announce_id if host(announce_id) == host(sender.account.uri) else "")


def like_receive(activity: dict[str, Any], sender: RemoteActor) -> None:
    """``Like`` of a local post: a favourite by the sender. A Like of another
    server's post is ignored, as Mastodon's ActivityPub::Activity::Like ignores
    it: its count is its own server's, which the Like reaches too, and counting
    it here as well would let anyone inflate a count that server does not show."""
    uri = ref_id(activity.get("object"))
    status = status_by_uri(uri) if uri else None
    if status is None:
        _ignored("Like", sender, f"{uri} is not known here")
        return
    if not status.account.is_local:
        _ignored("Like", sender, f"{uri} is not a post of this server")
        return
    favourite_create(account=sender.account, status=status)


def undo_receive(obj: Any, sender: RemoteActor) -> None:
    """``Undo`` of the sender's own ``Announce`` or ``Like`` (the object
    restated, or for a boost its id)."""
    if isinstance(obj, str):
        reblog = Status.objects.filter(uri=obj, account=sender.account,
                                       reblog_of__isnull=False).first()
        if reblog is not None:
            reblog_delete(account=sender.account, status=reblog)
        return
    if not isinstance(obj, dict) or ref_id(obj.get("actor")) not in (None, sender.account.uri):
        _ignored("Undo", sender, "not its own activity")
        return
    if obj.get("type") == "Announce":
        reblog = Status.objects.filter(uri=ref_id(obj.get("id")) or "", account=sender.account,
                                       reblog_of__isnull=False).first()
        target = reblog or status_by_uri(ref_id(obj.get("object")) or "")
        if target is not None:
            reblog_delete(account=sender.account, status=target)
    elif obj.get("type") == "Like":
        status = status_by_uri(ref_id(obj.get("object")) or "")
        if status is not None:
            favourite_delete(account=sender.account, status=status)
    else:
        _ignored("Undo", sender, f"of {obj.get('type')!r}")
