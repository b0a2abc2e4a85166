"""Activities Tribune sends to other servers, and to whom (docs/adr/0023).
Each is delivered by ``tasks.deliver`` on the ``federation`` queue after the
current transaction commits."""

from __future__ import annotations

from tribune.accounts.models import Account
from tribune.federation import documents
from tribune.federation.models import RemoteActor
from tribune.federation.tasks import delivery_enqueue


def follow_accept_send(*, follower: Account, target: Account,
                       follow_id: str | None = None) -> bool:
    """Send the ``Accept`` of the remote ``follower``'s follow of the local
    ``target`` to the follower's inbox; ``follow_id`` is the Follow activity's id
    when it is known. False (nothing sent) when the follower is local or its actor
    is not known here."""
    if follower.is_local or not target.is_local:
        return False
    actor = RemoteActor.objects.filter(account=follower).first()
    if actor is None:
        return False
    accept = documents.accept_follow(target, follower_uri=follower.uri, follow_id=follow_id)
    delivery_enqueue(account_id=target.pk, inbox=actor.inbox, activity=accept)
    return True
