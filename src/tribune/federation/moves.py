"""Account moves over federation (docs/adr/0030; Mastodon's MoveService and
ActivityPub::Activity::Move, docs: user/moving.md, spec/activitypub.md "Move").

- **Out**: ``account_move`` marks a local account as moved to another account
  once that account names it in ``alsoKnownAs``: a local target as stored, a
  remote one in its actor document fetched from its origin now (never a copy
  kept from before). ``accounts.services.account_moved_to_set`` then publishes
  ``AccountMoved``; ``effects`` sends the ``Move`` to the remote followers'
  shared inboxes (``outbox.move_send``) and moves the local followers
  (``graph.services.followers_move``). The actor document shows ``movedTo``.
- **In**: ``move_receive`` takes a ``Move`` only from the old account itself
  (the signer is the activity's ``actor``, checked by ``inbox``, and must be
  its ``object``), to a target whose actor document, fetched from its origin
  now (or the local account), lists the old account in ``alsoKnownAs``. The
  old account is then marked moved, and ``effects`` moves its local followers.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_by_uri, account_uri
from tribune.accounts.services import account_moved_to_set
from tribune.core.errors import ValidationFailed
from tribune.core.urls import absolute
from tribune.federation.actors import ActorError, remote_actor_refresh
from tribune.federation.models import RemoteActor
from tribune.federation.notes import ref_id

logger = logging.getLogger(__name__)


class MoveRefused(Exception):
    """A ``Move`` that is not taken, and why."""


def _is_local_uri(uri: str) -> bool:
    return uri.startswith(absolute("/"))


def _target_aliases(uri: str) -> tuple[str, list[str]]:
    """The id of the account ``uri`` and the ids it names in ``alsoKnownAs``:
    a local account's as stored, a remote one's as its origin serves them now.
    Raises MoveRefused when it is not an account that can be had."""
    if _is_local_uri(uri):
        target = account_by_uri(uri)
        if target is None or not target.is_local:
            raise MoveRefused(f"there is no account {uri} here")
        return account_uri(target), list(target.also_known_as)
    try:
        _actor, data = remote_actor_refresh(uri)
    except ActorError as error:
        raise MoveRefused(f"{uri} cannot be fetched: {error}") from None
    if data.moved_to:
        raise MoveRefused(f"{uri} has itself moved")
    return data.uri, list(data.also_known_as)


def account_address(text: str) -> str:
    """The ActivityPub id of the account a person names: an address (``https://``)
    as it is, or a handle (``@user@domain``, ``user@domain``, ``@user`` for one of
    this server) looked up, on its server through WebFinger when it is not known
    here, as Mastodon's moving and alias forms take handles. "" stays "". Raises
    ValidationFailed for a handle that names no account that can be had."""
    from tribune.core.errors import NotFound
    from tribune.federation.webfinger import account_resolve

    text = text.strip()
    if not text or text.startswith(("https://", "http://")) or "@" not in text:
        return text  # an address, or what the next check refuses with its reason
    try:
        found = account_resolve(acct=text.removeprefix("@"))
    except NotFound:
        raise ValidationFailed(
            _("Validation failed: %(handle)s names no account that can be found")
            % {"handle": text[:200]}) from None
    return account_uri(found)


def account_aliases_name(*, account: Account, aliases: list[str]) -> Account:
    """``accounts.services.account_aliases_set`` with each alias an address or a
    handle (``account_address``). Raises ValidationFailed."""
    from tribune.accounts.services import account_aliases_set

    return account_aliases_set(account=account,
                               aliases=[account_address(alias) for alias in aliases])


def account_move(*, account: Account, target_uri: str) -> Account:
    """Move the local ``account`` to the account whose ActivityPub id is
    ``target_uri`` ("" undoes a move, sending nothing). The target must name
    ``account`` among its aliases (``alsoKnownAs``), checked now; a handle is
    looked up first (``account_address``). Raises ValidationFailed for a target
    that cannot be found or fetched or does not name ``account``, and as
    ``account_moved_to_set``."""
    uri = account_address(target_uri)
    if not uri or _is_local_uri(uri) or not uri.startswith(("https://", "http://")):
        return account_moved_to_set(account=account, uri=uri)  # checked there
    try:
        target, aliases = _target_aliases(uri)
    except MoveRefused:
        raise ValidationFailed(
            _("Validation failed: The new account could not be fetched from its server")
        ) from None
    if account_uri(account) not in aliases:
        raise ValidationFailed(
            _(
                "Validation failed: The new account must first name this "
                "one among its aliases"
            )
        )
    return account_moved_to_set(account=account, uri=target)


def move_receive(activity: dict[str, Any], sender: RemoteActor) -> None:
    """Take a ``Move`` from ``sender`` (who signed it and is its ``actor``): the
    old account must be the sender, the target's ``alsoKnownAs`` must name it.
    Raises MoveRefused otherwise; marks the old account moved when taken."""
    old, target = ref_id(activity.get("object")), ref_id(activity.get("target"))
    if old != sender.account.uri:
        raise MoveRefused("the Move is not the signer's own")
    if not target or target == old:
        raise MoveRefused("the Move has no other target")
    target_id, aliases = _target_aliases(target)
    if old not in aliases:
        raise MoveRefused(f"{target_id} does not name {old} in alsoKnownAs")
    try:
        account_moved_to_set(account=sender.account, uri=target_id)
    except ValidationFailed as error:
        raise MoveRefused(str(error)) from None
