"""Which streams hear of a status, a deletion, an edit, a direct message or a
change of filters: the producer half of Mastodon's streaming API (docs/adr/0032), called from
:func:`tribune.effects.handle` after the fan-out. Each publishes references only;
the streaming process renders them per viewer (``tribune.api.streaming``).

Channels follow Mastodon's ``FanOutOnWriteService``: the home audience's ``user``
streams; for a public post that is not a reblog and whose reach is not reduced,
``public`` with ``public:local`` or ``public:remote`` and each hashtag's stream
(with ``:local`` for local posts); the lists that show it.
"""

from __future__ import annotations

from collections.abc import Iterable

from tribune.streaming import keys
from tribune.streaming.publish import stream_publish


def _public_channels(status) -> list[str]:
    """The public, local or remote, and hashtag channels of a status that
    ``statuses.policy.public_q`` admits and that is not a reblog."""
    from tribune.statuses.models import Status
    from tribune.statuses.policy import public_q

    if status.reblog_of_id is not None or not Status.objects.filter(
            public_q(), pk=status.pk).exists():
        return []
    local = status.account.is_local
    channels = [keys.PUBLIC, keys.PUBLIC_LOCAL if local else keys.PUBLIC_REMOTE]
    for name in status.tags.values_list("name", flat=True):
        channels.append(keys.hashtag(name))
        if local:
            channels.append(keys.hashtag(name, local=True))
    return channels


def _channels(status, audience: Iterable[int]) -> list[str]:
    from tribune.lists.selectors import lists_receiving

    audience = set(audience)
    channels = [keys.user(a) for a in audience]
    channels += _public_channels(status)
    channels += [keys.list_(pk) for pk in lists_receiving(
        author_id=status.account_id, owner_ids=audience - {status.account_id},
        visibility=status.visibility, in_reply_to_account_id=status.in_reply_to_account_id)]
    return channels


def status_created_stream(*, status_id: int, audience: set[int]) -> bool:
    """``update`` for a new status whose fan-out reached ``audience`` (account ids)."""
    from tribune.statuses.models import Status

    status = Status.objects.select_related("account").filter(pk=status_id).first()
    if status is None:
        return False
    return stream_publish(_channels(status, audience), "update", status_id)


def status_updated_stream(*, status_id: int) -> bool:
    """``status.update`` for an edited status, to the streams its creation reached
    (the home audience computed again, without writing)."""
    from tribune.timelines.services import home_audience

    status, audience = home_audience(status_id=status_id)
    if status is None:
        return False
    return stream_publish(_channels(status, audience), "status.update", status_id)


def status_deleted_stream(*, status_id: int, account_id: int | None) -> bool:
    """``delete`` (the id only) to the author's and their local followers' ``user``
    streams and to the public streams; a deleted status's hashtags are gone with it,
    so the hashtag streams are not told (Mastodon's clients also drop a deleted
    status when they next load it)."""
    from tribune.accounts.models import Account
    from tribune.graph.models import Follow

    channels = [keys.PUBLIC]
    if account_id is None:
        channels += [keys.PUBLIC_LOCAL, keys.PUBLIC_REMOTE]
    else:
        local = Account.objects.filter(pk=account_id, domain="").exists()
        channels.append(keys.PUBLIC_LOCAL if local else keys.PUBLIC_REMOTE)
        channels.append(keys.user(account_id))
        channels += [keys.user(a) for a in Follow.objects.filter(
            target_id=account_id, account__domain="").values_list("account_id", flat=True)]
    return stream_publish(channels, "delete", status_id)


def conversations_stream(*, status_id: int) -> int:
    """``conversation`` to the ``direct`` stream of each local account whose
    conversation the direct status ``status_id`` now ends; returns how many."""
    from tribune.conversations.models import AccountConversation

    rows = AccountConversation.objects.filter(last_status_id=status_id).values_list(
        "pk", "account_id")
    return sum(stream_publish([keys.direct(account_id)], "conversation", pk)
               for pk, account_id in rows)


def filters_changed_stream(*, account_id: int) -> bool:
    """``filters_changed`` (no payload) to the account's ``user`` streams, so apps
    load its filters again (ADR 0027)."""
    return stream_publish([keys.user(account_id)], "filters_changed", account_id)
