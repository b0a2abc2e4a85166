"""Activities Tribune sends to other servers, and to whom (docs/adr/0023, 0024).
Each is delivered by ``tasks.deliver`` on the ``federation`` queue after the
current transaction commits; ``effects`` calls these after local accounts act."""

from __future__ import annotations

from tribune.accounts.models import Account
from tribune.federation import activities, documents
from tribune.federation.models import RemoteActor
from tribune.federation.tasks import delivery_enqueue


def _inbox(account: Account) -> str | None:
    """The personal inbox of the remote ``account``, None when it is local or its
    actor is not known here."""
    if account.is_local:
        return None
    return RemoteActor.objects.filter(account=account).values_list("inbox", flat=True).first()


def follow_accept_send(*, follower: Account, target: Account,
                       follow_id: str | None = None) -> bool:
    """Send the ``Accept`` of the remote ``follower``'s follow of the local
    ``target`` to the follower's inbox; ``follow_id`` is the Follow activity's id
    when it is known. False (nothing sent) when the follower is local or its actor
    is not known here."""
    if follower.is_local or not target.is_local:
        return False
    inbox = _inbox(follower)
    if inbox is None:
        return False
    accept = documents.accept_follow(target, follower_uri=follower.uri, follow_id=follow_id)
    delivery_enqueue(account_id=target.pk, inbox=inbox, activity=accept)
    return True


def follow_send(*, follower: Account, target: Account) -> bool:
    """Send the local ``follower``'s ``Follow`` to the remote ``target``'s inbox
    (its request stays pending until the Accept). False when there is nothing to
    send: a local target, a remote follower, an actor not known here."""
    inbox = _inbox(target) if follower.is_local else None
    if inbox is None:
        return False
    delivery_enqueue(account_id=follower.pk, inbox=inbox,
                     activity=activities.follow(follower, target))
    return True


def follow_undo_send(*, follower: Account, target: Account) -> bool:
    """Send the ``Undo`` of the local ``follower``'s Follow to the remote
    ``target`` (an unfollow, or a request withdrawn). False as ``follow_send``."""
    inbox = _inbox(target) if follower.is_local else None
    if inbox is None:
        return False
    delivery_enqueue(account_id=follower.pk, inbox=inbox,
                     activity=activities.undo_follow(follower, target))
    return True
