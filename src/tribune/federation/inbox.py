"""What other servers post to our inboxes (docs/adr/0023): the signature checked
(``signatures``, the key found by ``actors.remote_key_get``), the body read as one
JSON object, the key's owner required to be the activity's actor; then one
handler per activity type. ``Follow`` of a local account and ``Undo`` of one,
``Accept`` and ``Reject`` of a local account's Follow, and the activities about
posts (``interactions``: Create, Update, Delete, Announce, Like, Undo) are
handled, and those about accounts (``actor_activities``: Block and its Undo,
Update and Delete of the sender's actor, Flag; docs/adr/0029) and ``Move``
(``moves``, docs/adr/0030); every other type
is logged and accepted (202), as Mastodon answers what it ignores. Requests
signed by a key of a suspended domain are refused (403) before anything is
fetched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_by_uri
from tribune.core.errors import DomainError
from tribune.federation import actor_activities, interactions, moves
from tribune.federation.actors import ACTOR_TYPES, ActorError, remote_key_get
from tribune.federation.health import delivery_health_clear, inbox_domain
from tribune.federation.models import RemoteActor
from tribune.federation.outbox import follow_accept_send
from tribune.federation.signatures import (
    SignatureError,
    SignatureMismatch,
    parse_signature,
    verify_request,
)
from tribune.graph.models import Follow, FollowRequest
from tribune.graph.services import (
    follow_create,
    follow_delete,
    follow_request_authorize,
    follow_request_reject,
    follower_remove,
)

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # bytes; Mastodon refuses inbox bodies over 1 MB as well


class InboxRefused(Exception):
    """The inbox does not take the request: ``status`` (400, 401, 413, 503) and
    the message for the sender."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _signer(*, method: str, target: str, headers: Mapping[str, str],
            body: bytes) -> RemoteActor:
    """The remote actor whose key signed the request; InboxRefused (401, or 503
    when the key's server cannot answer now) otherwise. A signature that does
    not verify with the stored key is tried once more with the key fetched anew
    (the actor may have changed keys)."""
    raw = headers.get("Signature")
    if raw is None:
        raise InboxRefused(401, "the request is not signed (no Signature header)")
    try:
        params = parse_signature(raw)
        actor = remote_key_get(params.key_id)
        try:
            verify_request(method=method, target=target, headers=headers, body=body,
                           public_key_pem=actor.public_key_pem, params=params)
        except SignatureMismatch:
            actor = remote_key_get(params.key_id, refresh=True)
            verify_request(method=method, target=target, headers=headers, body=body,
                           public_key_pem=actor.public_key_pem, params=params)
    except SignatureError as error:
        raise InboxRefused(401, str(error)) from None
    except ActorError as error:
        if error.temporary:
            raise InboxRefused(503, f"the signing key cannot be fetched now: {error}") from None
        raise InboxRefused(401, f"the signing key is not usable: {error}") from None
    return actor


def _id(value: Any) -> str | None:
    """The id of an AS2 reference: the string itself, or an object's ``id``."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _refuse_suspended(headers: Mapping[str, str]) -> None:
    """InboxRefused (403, as Mastodon answers a domain it does not allow) when the
    request's ``keyId`` is on a suspended domain. A malformed signature is left to
    ``_signer``."""
    from urllib.parse import urlsplit

    from tribune.accounts.selectors import domain_suspended

    raw = headers.get("Signature")
    if raw is None:
        return
    try:
        host = urlsplit(parse_signature(raw).key_id).hostname or ""
    except (SignatureError, ValueError):
        return
    if host and domain_suspended(host):
        raise InboxRefused(403, "this server does not accept activities from your domain")


def inbox_receive(*, method: str, target: str, headers: Mapping[str, str],
                  body: bytes) -> None:
    """Check and apply one activity posted to an inbox.

    ``target`` is the request's path and query, ``headers`` its headers (any case).
    Raises InboxRefused: 413 for a body over 1 MiB, 403 for a key on a suspended
    domain (checked first, so nothing is fetched from it), 401 for a missing or invalid
    signature or a key whose owner is not the activity's ``actor``, 400 for a body
    that is not a JSON object with a type, 503 when the key cannot be fetched now.
    Whatever passes those checks is accepted, handled or not.
    """
    if len(body) > MAX_BODY:
        raise InboxRefused(413, f"the body is over {MAX_BODY} bytes")
    _refuse_suspended(headers)
    signer = _signer(method=method, target=target, headers=headers, body=body)
    try:
        activity = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested too deeply
        raise InboxRefused(400, "the body is not JSON") from None
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise InboxRefused(400, "the body is not an activity")
    if _id(activity.get("actor")) != signer.account.uri:
        raise InboxRefused(401, "the signing key does not belong to the activity's actor")
    # The sender's server reaches us, so it is up: forget its delivery failures
    # (Mastodon's DeliveryFailureTracker.track_inverse_success!).
    for host in {signer.account.domain, inbox_domain(signer.inbox),
                 inbox_domain(signer.shared_inbox or signer.inbox)}:
        delivery_health_clear(domain=host)
    receive(activity, sender=signer)


def receive(activity: dict[str, Any], *, sender: RemoteActor) -> None:
    """Apply one verified ``activity`` from ``sender``. Refusals of the domain
    (a block, a restricted account) and unknown types are logged, not raised."""
    kind, obj = activity["type"], activity.get("object")
    try:
        match kind, obj:
            case "Follow", _:
                _follow(activity, sender)
            case "Undo", {"type": "Follow"}:
                _unfollow(obj, sender)
            case "Block", _:
                actor_activities.block_receive(activity, sender)
            case "Undo", {"type": "Block"}:
                actor_activities.unblock_receive(obj, sender)
            case "Update", {"type": str(t)} if t in ACTOR_TYPES:
                actor_activities.actor_update_receive(activity, sender)
            case "Delete", _ if _id(obj) == sender.account.uri:
                actor_activities.actor_delete_receive(activity, sender)
            case "Flag", _:
                actor_activities.flag_receive(activity, sender)
            case "Accept" | "Reject", _:
                _follow_answer(kind, obj, sender)
            case "Create", _:
                interactions.create_receive(activity, sender)
            case "Update", _:
                interactions.update_receive(activity, sender)
            case "Delete", _:
                interactions.delete_receive(activity, sender)
            case "Announce", _:
                interactions.announce_receive(activity, sender)
            case "Like", _:
                interactions.like_receive(activity, sender)
            case "Undo", _:
                interactions.undo_receive(obj, sender)
            case "Move", _:
                moves.move_receive(activity, sender)
            case _:
                logger.info("inbox: ignoring %s from %s", kind, sender.account.uri)
    except (DomainError, moves.MoveRefused) as error:
        logger.info("inbox: %s from %s refused: %s", kind, sender.account.uri, error)


def _local_target(value: Any) -> Account | None:
    uri = _id(value)
    account = account_by_uri(uri) if uri else None
    return account if account is not None and account.is_local else None


def _follow(activity: dict[str, Any], sender: RemoteActor) -> None:
    """A remote actor follows a local account: at once, answered with an Accept
    to the follower's inbox, or as a request when the account is locked (accepted
    later by the account, ``effects`` sends the Accept then)."""
    target = _local_target(activity.get("object"))
    if target is None:
        logger.info("inbox: Follow of an unknown account from %s", sender.account.uri)
        return
    result = follow_create(account=sender.account, target=target)
    if isinstance(result, Follow):
        # A follow that already existed is accepted again: the sender may have
        # lost our first Accept (Mastodon does the same).
        follow_accept_send(follower=sender.account, target=target,
                           follow_id=_id(activity.get("id")))


def _unfollow(follow: dict[str, Any], sender: RemoteActor) -> None:
    """``Undo`` of a Follow: the follow, or the pending request, ends. Only the
    follower may undo it: the Follow's ``actor`` must be the sender."""
    if _id(follow.get("actor")) != sender.account.uri:
        logger.info("inbox: Undo of another actor's Follow from %s", sender.account.uri)
        return
    target = _local_target(follow.get("object"))
    if target is not None:
        follow_delete(account=sender.account, target=target)


def _local_follower(follow: Any, sender: RemoteActor) -> Account | None:
    """The local account whose Follow of ``sender`` an Accept or Reject answers:
    the Follow restated (``actor`` local, ``object`` the sender), or the id of a
    Follow we sent (``activities.follow_id``: ``<actor>#follows/<target id>``,
    whose target must be the sender)."""
    if isinstance(follow, dict):
        if follow.get("type") not in (None, "Follow"):
            return None
        if follow.get("actor") is not None or follow.get("object") is not None:
            if _id(follow.get("object")) != sender.account.uri:
                return None
            return _local_target(follow.get("actor"))
        follow = follow.get("id")
    if not isinstance(follow, str):
        return None
    actor, _sep, target_id = follow.partition("#follows/")
    if target_id != str(sender.account.pk):
        return None
    return _local_target(actor)


def _follow_answer(kind: str, follow: Any, sender: RemoteActor) -> None:
    """``Accept`` or ``Reject`` of a local account's Follow of the sender: an
    Accept makes the pending request a follow (``follow_request_authorize``); a
    Reject ends the request, or the follow if it was accepted already (Mastodon's
    RejectFollow). Anything else (an Accept of another kind) is ignored."""
    follower = _local_follower(follow, sender)
    if follower is None:
        logger.info("inbox: %s of nothing we asked from %s", kind, sender.account.uri)
        return
    if kind == "Accept":
        follow_request_authorize(account=sender.account, requester=follower)
        return
    if FollowRequest.objects.filter(account=follower, target=sender.account).exists():
        follow_request_reject(account=sender.account, requester=follower)
    else:
        follower_remove(account=sender.account, follower=follower)
