"""Creating and dismissing notifications."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound
from tribune.graph.selectors import notification_muted_ids
from tribune.notifications.models import Notification, NotificationType
from tribune.notifications.push import push_notification_enqueue
from tribune.streaming import keys
from tribune.streaming.publish import stream_publish


def notify(*, account_id: int, from_account_id: int, type: str, status_id: int | None = None,
           to_self: bool = False) -> Notification | None:
    """Notify ``account_id`` unless it is the actor itself (but with ``to_self``, as
    the end of one's own poll is), is remote, or hides the actor (block either way,
    or a mute with notifications), or when the actor's server is silenced or
    suspended by a domain block and the recipient does not follow the actor
    (Mastodon's limited servers). Idempotent per (recipient, actor, type, status).
    A new notification is pushed to the recipient's push subscriptions after commit."""
    if account_id == from_account_id and not to_self:
        return None
    recipient = Account.objects.filter(pk=account_id, domain="").first()
    if recipient is None:
        return None
    if from_account_id in notification_muted_ids(account_id):
        return None
    if _limited_stranger(account_id, from_account_id):
        return None
    notification, created = Notification.objects.get_or_create(
        account_id=account_id, from_account_id=from_account_id, type=type, status_id=status_id)
    if created:
        notification_stream(notification)
        push_notification_enqueue(notification)
    return notification


def _limited_stranger(account_id: int, from_account_id: int) -> bool:
    """Whether ``from_account_id`` is of a silenced or suspended server (or a
    subdomain of one) and ``account_id`` does not follow it."""
    from tribune.accounts.selectors import domain_block_for
    from tribune.graph.models import Follow

    domain = Account.objects.filter(pk=from_account_id).values_list("domain", flat=True).first()
    if not domain:
        return False
    block = domain_block_for(domain)
    if block is None or block.severity not in ("silence", "suspend"):
        return False
    return not Follow.objects.filter(account_id=account_id, target_id=from_account_id).exists()


def notification_stream(notification: Notification) -> None:
    """Publish ``notification`` to its recipient's ``user`` streams once it is
    committed (Mastodon's ``notification`` event; docs/adr/0032)."""
    pk, channel = notification.pk, keys.user(notification.account_id)
    transaction.on_commit(lambda: stream_publish([channel], "notification", pk))


def notify_many(*, account_ids: set[int], from_account_id: int, type: str = NotificationType.UPDATE,
                status_id: int | None = None) -> int:
    """Notify several accounts of one event; returns how many were notified."""
    return sum(1 for a in account_ids if notify(account_id=a, from_account_id=from_account_id,
                                                type=type, status_id=status_id))


def notify_poll_ended(*, author_id: int, status_id: int, voter_ids: list[int]) -> int:
    """Tell the author of the poll of ``status_id`` and each of its local voters that
    it has ended: ``poll`` notifications from the author, as Mastodon's
    PollExpirationNotifyWorker sends them. Returns how many were made or found."""
    sent = int(notify(account_id=author_id, from_account_id=author_id,
                      type=NotificationType.POLL, status_id=status_id, to_self=True) is not None)
    return sent + notify_many(account_ids=set(voter_ids) - {author_id},
                              from_account_id=author_id, type=NotificationType.POLL,
                              status_id=status_id)


def notification_dismiss(*, account: Account, notification_id: int | str) -> None:
    """Dismiss one of ``account``'s notifications; NotFound if it is not theirs."""
    try:
        deleted, _by_model = Notification.objects.filter(account=account, pk=int(notification_id)).delete()
    except (ValueError, TypeError, OverflowError):
        deleted = 0
    if not deleted:
        raise NotFound(_("Record not found"))


def notifications_clear(*, account: Account) -> None:
    """Dismiss all of ``account``'s notifications."""
    Notification.objects.filter(account=account).delete()


def notifications_retract(*, account_id: int, from_account_id: int, type: str,
                          status_id: int | None = None) -> int:
    """Remove the ``type`` notification that ``from_account_id`` gave ``account_id``
    (about ``status_id``, or about no status when None) because its action was undone:
    an unreblog, unfavourite, unfollow or withdrawn follow request. Mastodon destroys
    a notification with the reblog, favourite, follow or request behind it.

    Returns how many were removed (0 or 1); removing one that is gone is a no-op.
    """
    deleted, _by_model = Notification.objects.filter(
        account_id=account_id, from_account_id=from_account_id, type=type,
        status_id=status_id).delete()
    return deleted
