"""The activities local accounts send (docs/adr/0024): Follow, Undo, Like,
Update and Delete, as Mastodon writes them. Create and Announce are
``serializers.create`` and ``serializers.announce``, the same documents the
outbox and the archive export serve. Pure functions; each document carries
``@context``.

Sources: ActivityStreams 2.0 §3.2 (``Follow``, ``Undo``, ``Like``, ``Update``,
``Delete``, ``Tombstone``), ActivityPub §6.5-6.10 and §7, and Mastodon's
serializers (ActivityPub::FollowSerializer, UndoFollowSerializer,
LikeSerializer, UndoLikeSerializer, UpdateSerializer, DeleteSerializer) for ids
and addressing: a Delete and an Update go to the post's own audience, a Like and
a Follow to their object's author.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tribune.accounts.models import Account
from tribune.federation import serializers

Document = dict[str, Any]


def _with_context(document: Document) -> Document:
    return {"@context": serializers.CONTEXT, **document}


def follow_id(follower: Account, target_id: int) -> str:
    """The id of ``follower``'s Follow of the account ``target_id``:
    ``<actor>#follows/<target id>``, the same for the Follow and its Undo (a
    server that kept the Follow's id finds it again)."""
    return f"{serializers.actor_id(follower)}#follows/{target_id}"


def follow(follower: Account, target: Account) -> Document:
    """``Follow`` of the remote ``target`` by the local ``follower``."""
    return _with_context({"id": follow_id(follower, target.pk), "type": "Follow",
                          "actor": serializers.actor_id(follower), "object": target.uri})


def undo(actor: Account, obj: Document, *, suffix: str) -> Document:
    """``Undo`` of ``obj`` (without its ``@context``) by ``actor``, addressed as
    ``obj`` was; its id is ``obj``'s id plus ``/undo`` or ``#undo``."""
    obj = {k: v for k, v in obj.items() if k != "@context"}
    document: Document = {"id": f"{obj['id']}{suffix}", "type": "Undo",
                          "actor": serializers.actor_id(actor), "object": obj}
    for key in ("to", "cc"):
        if key in obj:
            document[key] = obj[key]
    return _with_context(document)


def undo_follow(follower: Account, target: Account) -> Document:
    """``Undo`` of ``follower``'s ``Follow`` of ``target``."""
    return undo(follower, follow(follower, target), suffix="/undo")


def like_id(account: Account, status_id: int) -> str:
    """The id of ``account``'s Like of the status ``status_id``:
    ``<actor>#likes/<status id>``."""
    return f"{serializers.actor_id(account)}#likes/{status_id}"


def like(account: Account, status) -> Document:
    """``Like`` of ``status`` by the local ``account`` (Mastodon's LikeSerializer:
    no addressing, sent to the author's inbox)."""
    return _with_context({"id": like_id(account, status.pk), "type": "Like",
                          "actor": serializers.actor_id(account),
                          "object": serializers.status_id(status)})


def undo_like(account: Account, status) -> Document:
    """``Undo`` of ``account``'s ``Like`` of ``status``."""
    return undo(account, like(account, status), suffix="/undo")


def create(status) -> Document:
    """``Create`` of a local post, its ``Note`` inside."""
    return _with_context(serializers.create(status))


def update(status) -> Document:
    """``Update`` of an edited local post: the ``Note`` as it is now, with
    ``updated``; the id names the edit time so each edit is a new activity."""
    note = serializers.note(status)
    stamp = note.get("updated") or note["published"]
    return _with_context({"id": f"{note['id']}#updates/{stamp}", "type": "Update",
                          "actor": note["attributedTo"], "published": stamp,
                          "to": note["to"], "cc": note["cc"], "object": note})


def delete(account: Account, status_uri: str) -> Document:
    """``Delete`` of the post ``status_uri`` by its author: a ``Tombstone`` with
    the post's id, to Public (Mastodon's DeleteSerializer)."""
    return _with_context({"id": f"{status_uri}#delete", "type": "Delete",
                          "actor": serializers.actor_id(account),
                          "to": [serializers.PUBLIC],
                          "object": {"id": status_uri, "type": "Tombstone",
                                     "atomUri": status_uri}})


def announce(reblog) -> Document:
    """``Announce`` of a boost (``reblog`` with ``reblog_of__account`` loaded)."""
    return _with_context(serializers.announce(reblog))


def undo_announce(account: Account, reblog_uri: str, original_uri: str) -> Document:
    """``Undo`` of the boost ``reblog_uri`` of ``original_uri`` (the boost is
    gone by then, so the ``Announce`` is restated from the ids)."""
    announce_doc = {"id": f"{reblog_uri}/activity", "type": "Announce",
                    "actor": serializers.actor_id(account), "object": original_uri,
                    "to": [serializers.PUBLIC], "cc": [serializers.followers_id(account)]}
    return undo(account, announce_doc, suffix="/undo")


def move(account: Account, target_uri: str) -> Document:
    """``Move`` of the local ``account`` to ``target_uri`` (AS2 §3.2 ``Move``;
    Mastodon's MoveSerializer: ``actor`` and ``object`` the old account,
    ``target`` the new one). Its id names the target, so telling the same move
    twice is the same activity."""
    actor = serializers.actor_id(account)
    digest = hashlib.sha256(target_uri.encode()).hexdigest()[:16]
    return _with_context({"id": f"{actor}#moves/{digest}", "type": "Move", "actor": actor,
                          "object": actor, "target": target_uri})


def block_id(account: Account, target_id: int) -> str:
    """The id of ``account``'s Block of the account ``target_id``:
    ``<actor>#blocks/<target id>``, the same for the Block and its Undo."""
    return f"{serializers.actor_id(account)}#blocks/{target_id}"


def block(account: Account, target: Account) -> Document:
    """``Block`` of the remote ``target`` by the local ``account`` (Mastodon's
    BlockSerializer: no addressing, sent to the blocked account's inbox)."""
    return _with_context({"id": block_id(account, target.pk), "type": "Block",
                          "actor": serializers.actor_id(account), "object": target.uri})


def undo_block(account: Account, target: Account) -> Document:
    """``Undo`` of ``account``'s ``Block`` of ``target``."""
    return undo(account, block(account, target), suffix="/undo")


def update_actor(account: Account, actor_document: Document, *, stamp: str) -> Document:
    """``Update`` of the local ``account``'s actor (its profile changed), the
    actor document as served at its id inside (without its ``@context``), to
    Public (Mastodon's UpdateSerializer for an account); ``stamp`` (ISO 8601)
    makes each update's id new."""
    obj = {k: v for k, v in actor_document.items() if k != "@context"}
    actor = serializers.actor_id(account)
    return _with_context({"id": f"{actor}#updates/{stamp}", "type": "Update",
                          "actor": actor, "to": [serializers.PUBLIC], "object": obj})


def delete_actor(account: Account) -> Document:
    """``Delete`` of the local ``account``'s actor by itself, to Public
    (Mastodon's DeleteActorSerializer)."""
    actor = serializers.actor_id(account)
    return _with_context({"id": f"{actor}#delete", "type": "Delete", "actor": actor,
                          "to": [serializers.PUBLIC], "object": actor})


def flag(*, actor: str, report_id: int, target: Account, status_uris: list[str],
         comment: str) -> Document:
    """``Flag`` of the remote ``target`` (and some of its posts, ``status_uris``)
    sent by the instance actor ``actor`` when a report is forwarded (Mastodon's
    FlagSerializer: ``object`` the account then the posts, ``content`` the
    reporter's comment; the reporter is not named)."""
    return _with_context({"id": f"{actor}#reports/{report_id}", "type": "Flag",
                          "actor": actor, "content": comment,
                          "object": [target.uri, *status_uris]})


def vote_id(account: Account, vote_pk: int) -> str:
    """The id of the Note that carries one choice of ``account``'s vote:
    ``<actor>#votes/<vote id>`` (Mastodon's ActivityPub::TagManager for votes)."""
    return f"{serializers.actor_id(account)}#votes/{vote_pk}"


def vote(account: Account, *, vote_pk: int, title: str, status, published) -> Document:
    """``Create`` of the ``Note`` that tells the remote author of ``status`` that
    the local ``account`` chose the option ``title`` of its poll (Mastodon's
    ActivityPub::VoteSerializer: ``name`` the option's title, ``inReplyTo`` the
    Question, no content, addressed to the poll's author alone). One per chosen
    option; ``vote_pk`` is that choice's ``PollVote`` id, ``published`` its
    time."""
    actor = serializers.actor_id(account)
    note_id = vote_id(account, vote_pk)
    to = [status.account.uri]
    return _with_context({
        "id": f"{note_id}/activity", "type": "Create", "actor": actor,
        "published": serializers.iso(published), "to": to,
        "object": {"id": note_id, "type": "Note", "name": title, "attributedTo": actor,
                   "inReplyTo": serializers.status_id(status), "to": to}})


def update_poll(status, *, stamp: str) -> Document:
    """``Update`` of a local post with a poll, its ``Question`` with the counts
    as they are now (Mastodon's ActivityPub::UpdatePollSerializer), to the
    post's audience; ``stamp`` (ISO 8601) makes each one's id new, since the
    post itself was not edited."""
    note = serializers.note(status)
    return _with_context({"id": f"{note['id']}#updates/{stamp}", "type": "Update",
                          "actor": note["attributedTo"], "published": stamp,
                          "to": note["to"], "cc": note["cc"], "object": note})
