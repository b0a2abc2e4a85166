"""Inbound activities about accounts rather than posts (docs/adr/0029): Block
and its Undo, Update of the sender's actor, Delete of the sender's actor, and
Flag (a report forwarded by another server), each through the domain services
the API and the web use (``graph.services``, ``moderation.services``). The
caller (``inbox.receive``) has checked that ``sender`` signed the activity and
is its ``actor``.

Rules (each a test): an actor is acted on only by itself (the object of an
Update or a Delete of an actor must be the sender's own id); an Update is never
taken from the activity: the actor is fetched again from its id, so a key
changes only when the document at the actor's own id says so; a Delete of an
actor is applied only when that id no longer resolves (404 or 410), as
Mastodon checks; a Block or a Flag names local accounts only, and a Flag's
posts are kept only when they are the reported account's.
"""

from __future__ import annotations

import logging
from typing import Any

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_by_uri, domain_block_for
from tribune.core.errors import DomainError
from tribune.federation.actors import ActorError, remote_actor_fetch
from tribune.federation.client import FederationRequestError, get_document
from tribune.federation.models import RemoteActor
from tribune.federation.notes import ref_id

logger = logging.getLogger(__name__)

FLAG_COMMENT_MAX = 1000  # moderation.services.COMMENT_MAX: a longer comment is cut
FLAG_MAX_OBJECTS = 100  # ids read from a Flag's object


def _ignored(kind: str, sender: RemoteActor, why: str) -> None:
    logger.info("inbox: %s from %s ignored: %s", kind, sender.account.uri, why)


def _local_account(uri: str | None) -> Account | None:
    account = account_by_uri(uri) if uri else None
    return account if account is not None and account.is_local else None


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- Block ----------------------------------------------------------------------------


def block_receive(activity: dict[str, Any], sender: RemoteActor) -> None:
    """``Block`` of a local account by the sender: the same ``block_create`` as a
    local block (follows and requests both ways end). The local account is not
    notified (Mastodon does not show it)."""
    target = _local_account(ref_id(activity.get("object")))
    if target is None:
        _ignored("Block", sender, "not of a local account")
        return
    from tribune.graph.services import block_create

    block_create(account=sender.account, target=target)


def unblock_receive(block: Any, sender: RemoteActor) -> None:
    """``Undo`` of the sender's own ``Block`` (restated, with the sender as its
    ``actor`` or none): the block ends (``block_delete``)."""
    if not isinstance(block, dict) or ref_id(block.get("actor")) not in (
        None,
        sender.account.uri,
    ):
        _ignored("Undo(Block)", sender, "not its own Block")
        return
    target = _local_account(ref_id(block.get("object")))
    if target is None:
        _ignored("Undo(Block)", sender, "not of a local account")
        return
    from tribune.graph.services import block_delete

    block_delete(account=sender.account, target=target)


# --- Update and Delete of the sender's actor --------------------------------------------


def actor_update_receive(activity: dict[str, Any], sender: RemoteActor) -> None:
    """``Update`` of an actor: when its object is the sender itself, the actor
    is fetched again from its own id and stored (name, bio sanitised, locked,
    bot, ``alsoKnownAs``, ``movedTo``, key, inboxes): nothing in the activity is
    taken as it stands. An Update of any other actor is ignored."""
    if ref_id(activity.get("object")) != sender.account.uri:
        _ignored("Update", sender, "of another actor")
        return
    try:
        remote_actor_fetch(sender.account.uri)
    except ActorError as error:
        _ignored("Update", sender, f"the actor cannot be fetched again: {error}")


def actor_delete_receive(activity: dict[str, Any], sender: RemoteActor) -> None:
    """``Delete`` of the sender's own actor: when its id answers 404 or 410 (the
    account is really gone; Mastodon checks the same), everything it left here
    is removed (``remote_account_purge``). An actor that still resolves, or
    cannot be asked now, is left alone."""
    uri = sender.account.uri
    if ref_id(activity.get("object")) != uri:
        _ignored("Delete", sender, "of another actor")
        return
    from tribune.federation.instance_actor import instance_signer

    try:
        get_document(uri, signer=instance_signer())
    except FederationRequestError as error:
        if error.status not in (404, 410):
            _ignored("Delete", sender, f"the actor cannot be checked: {error}")
            return
    else:
        _ignored("Delete", sender, "the actor still resolves")
        return
    remote_account_purge(account=sender.account)


def remote_account_purge(*, account: Account) -> None:
    """Remove what the remote ``account`` left here after it deleted itself
    (Mastodon's DeleteAccountService for a remote account), each through the
    service an interface would use, so counters, feeds and notifications follow:
    its posts and boosts (``status_remote_delete``), favourites, follows and
    requests both ways, blocks and mutes; then its profile is emptied (pictures
    included, their files deleted) and its
    key and inboxes forgotten (``RemoteActor``), so nothing more is accepted
    from it or sent to it. The account row stays, as moderation cases may name
    it. ValueError for a local account."""
    from tribune.graph.models import Block, Follow, FollowRequest, Mute
    from tribune.graph.services import (
        block_delete,
        follow_delete,
        follow_request_reject,
        follower_remove,
        mute_delete,
    )
    from tribune.statuses.models import Favourite, Status
    from tribune.statuses.remote import status_remote_delete
    from tribune.statuses.services import favourite_delete

    if account.is_local:
        raise ValueError("only remote accounts are purged")
    for status in Status.objects.filter(account=account).order_by("-pk").iterator():
        status_remote_delete(account=account, status=status)
    for favourite in Favourite.objects.select_related("status").filter(account=account):
        favourite_delete(account=account, status=favourite.status)
    for follow in Follow.objects.select_related("target").filter(account=account):
        follow_delete(account=account, target=follow.target)
    for follow in Follow.objects.select_related("account").filter(target=account):
        follower_remove(account=account, follower=follow.account)
    for request in FollowRequest.objects.select_related("target").filter(
        account=account
    ):
        follow_delete(account=account, target=request.target)
    for request in FollowRequest.objects.select_related("account").filter(
        target=account
    ):
        follow_request_reject(account=account, requester=request.account)
    for block in Block.objects.select_related("target").filter(account=account):
        block_delete(account=account, target=block.target)
    for mute in Mute.objects.select_related("target").filter(account=account):
        mute_delete(account=account, target=mute.target)
    from tribune.accounts.services import account_remote_upsert

    account_remote_upsert(
        uri=account.uri,
        username=account.username,
        domain=account.domain,
        also_known_as=[],
        moved_to_uri="",
    )
    from tribune.media.remote import account_remote_images_set

    account_remote_images_set(account=account, avatar_url="", header_url="")
    RemoteActor.objects.filter(account=account).delete()
    logger.info(
        "federation: %s deleted itself; its posts and follows are gone", account.uri
    )


# --- Flag -------------------------------------------------------------------------------


def flag_receive(activity: dict[str, Any], sender: RemoteActor) -> None:
    """``Flag``: a report from another server (Mastodon sends it from its
    instance actor) enters moderation through ``report_create``, one report per
    local account named in ``object``, with that account's posts among the
    other ids and ``content`` as the comment (cut to 1,000 characters); the
    reporter is the sender. Dropped when the sender's domain has
    ``reject_reports``; posts of others and unknown ids are left out."""
    from tribune.moderation.services import report_create
    from tribune.statuses.selectors import status_by_uri

    block = domain_block_for(sender.account.domain)
    if block is not None and block.reject_reports:
        _ignored("Flag", sender, "reports from this domain are rejected")
        return
    ids = [
        i
        for i in (ref_id(v) for v in _list(activity.get("object"))[:FLAG_MAX_OBJECTS])
        if i
    ]
    targets: dict[int, Account] = {}
    statuses: dict[int, list[int]] = {}
    for uri in ids:
        account = _local_account(uri)
        if account is not None:
            targets.setdefault(account.pk, account)
            continue
        status = status_by_uri(uri)
        if (
            status is not None
            and status.account.is_local
            and status.reblog_of_id is None
        ):
            statuses.setdefault(status.account_id, []).append(status.pk)
    if not targets:
        _ignored("Flag", sender, "names no local account")
        return
    content = activity.get("content")
    comment = (
        content[:FLAG_COMMENT_MAX].replace("\x00", "")
        if isinstance(content, str)
        else ""
    )
    for target in targets.values():
        try:
            report_create(
                reporter=sender.account,
                target=target,
                status_ids=statuses.get(target.pk, []),
                comment=comment,
            )
        except DomainError as error:
            _ignored("Flag", sender, str(error))
