"""Writes to the social graph. Counters on Account are updated with F() in the same
transaction as the row they count, and only when that transaction created or deleted
the row: a concurrent duplicate fails on a unique constraint or deletes nothing."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import can_act
from tribune.core.entity_cache import new_version
from tribune.core.errors import Forbidden, NotFound, ValidationFailed
from tribune.core.events import (
    Blocked,
    Followed,
    FollowRejected,
    FollowRequested,
    FollowRequestWithdrawn,
    Unblocked,
    Unfollowed,
    publish,
)
from tribune.graph.models import Block, Follow, FollowRequest, Mute


def _is_blocked_either_way(a: Account, b: Account) -> bool:
    return Block.objects.filter(account=a, target=b).exists() or Block.objects.filter(
        account=b, target=a
    ).exists()


def _count_follow(follower_id: int, target_id: int, delta: int) -> None:
    """Move the follower's ``following_count`` and the target's ``followers_count``
    by ``delta`` (never below 0), locking the two rows in id order: A following B
    while B follows A would otherwise lock them in opposite orders and deadlock on
    PostgreSQL."""
    columns = {follower_id: "following_count", target_id: "followers_count"}
    for pk in sorted(columns):
        column = columns[pk]
        rows = Account.objects.filter(pk=pk)
        if delta < 0:
            rows = rows.filter(**{f"{column}__gt": 0})
        rows.update(**{column: F(column) + delta}, version=new_version())


def _add_follow(account: Account, target: Account, *, show_reblogs: bool, notify: bool,
                from_request: bool = False) -> Follow:
    # Created before counting: a duplicate raises IntegrityError (follow_once) here.
    follow = Follow.objects.create(account=account, target=target,
                                   show_reblogs=show_reblogs, notify=notify)
    _count_follow(account.pk, target.pk, +1)
    publish(Followed(follow_id=follow.pk, from_request=from_request))
    return follow


def _remove_follow_request(account: Account, target: Account) -> bool:
    deleted, _by_model = FollowRequest.objects.filter(account=account, target=target).delete()
    if deleted:
        publish(FollowRequestWithdrawn(account_id=account.pk, target_id=target.pk))
    return bool(deleted)


def _remove_follow(account: Account, target: Account) -> bool:
    # The counters follow the rows this DELETE removed; a concurrent unfollow that got
    # there first leaves nothing to delete (it waits on the row lock in PostgreSQL).
    deleted, _by_model = Follow.objects.filter(account=account, target=target).delete()
    if deleted:
        _count_follow(account.pk, target.pk, -1)
        publish(Unfollowed(follower_id=account.pk, target_id=target.pk))
    return bool(deleted)


@transaction.atomic
def follow_create(*, account: Account, target: Account, show_reblogs: bool | None = None,
                  notify: bool | None = None) -> Follow | FollowRequest:
    """Follow ``target``: at once if it is local and unlocked, else as a pending
    request. A remote ``target`` is always requested first: its server answers the
    Follow that ``effects`` sends with an Accept (``follow_request_authorize``) or a
    Reject (Mastodon's FollowService shows ``requested: true`` until then).

    Following again updates ``show_reblogs``/``notify`` and changes nothing else
    (Mastodon's FollowService). Raises ValidationFailed for oneself and Forbidden
    when either blocks the other.
    """
    if not can_act(account):
        raise Forbidden(_("Your account is restricted by a moderation decision: you can "
                          "read, but not post, boost, favourite or follow"))
    if account.pk == target.pk:
        raise ValidationFailed(_("Validation failed: You cannot follow yourself"))
    if _is_blocked_either_way(account, target):
        raise Forbidden(_("This action is not allowed"))
    existing = Follow.objects.filter(account=account, target=target).first()
    if existing is not None:
        changed = False
        if show_reblogs is not None and existing.show_reblogs != show_reblogs:
            existing.show_reblogs, changed = show_reblogs, True
        if notify is not None and existing.notify != notify:
            existing.notify, changed = notify, True
        if changed:
            existing.save(update_fields=["show_reblogs", "notify"])
        return existing
    options = {"show_reblogs": True if show_reblogs is None else show_reblogs,
               "notify": bool(notify)}
    if target.locked or not target.is_local:
        request, created = FollowRequest.objects.get_or_create(
            account=account, target=target, defaults=options)
        if created:
            publish(FollowRequested(follow_request_id=request.pk))
        return request
    try:
        with transaction.atomic():
            return _add_follow(account, target, **options)
    except IntegrityError:  # a concurrent follow won
        return Follow.objects.get(account=account, target=target)


@transaction.atomic
def follow_delete(*, account: Account, target: Account) -> None:
    """Unfollow ``target`` or withdraw a pending request; a no-op if neither exists."""
    _remove_follow_request(account, target)
    _remove_follow(account, target)


def followers_move(*, account: Account, target: Account) -> int:
    """Move ``account``'s local followers to ``target`` after ``account`` moved
    there (Mastodon's MoveWorker): each unfollows ``account`` and follows
    ``target`` with the same options, through ``follow_delete`` and
    ``follow_create`` (a remote ``target`` gets a Follow and stays a request
    until its Accept). Followers who cannot follow ``target`` (a block either
    way, a restriction, ``target`` itself) keep following ``account``. Returns
    how many moved; running it again moves no one twice."""
    if account.pk == target.pk:
        return 0
    moved = 0
    follows = (Follow.objects.filter(target=account, account__domain="")
               .select_related("account").order_by("pk"))
    for follow in list(follows):
        try:
            with transaction.atomic():
                follow_create(account=follow.account, target=target,
                              show_reblogs=follow.show_reblogs, notify=follow.notify)
                follow_delete(account=follow.account, target=account)
        except (Forbidden, ValidationFailed):
            continue
        moved += 1
    return moved


@transaction.atomic
def follow_request_authorize(*, account: Account, requester: Account) -> Follow:
    """Accept ``requester``'s pending request to follow ``account`` and return the follow.

    Accepting again returns the existing follow; raises NotFound when there is neither
    a request nor a follow. Of two concurrent calls only one counts the follow.
    """
    request = FollowRequest.objects.select_for_update().filter(
        account=requester, target=account).first()
    if request is None:
        if follow := Follow.objects.filter(account=requester, target=account).first():
            return follow
        raise NotFound(_("Record not found"))
    request.delete()
    try:
        with transaction.atomic():
            return _add_follow(requester, account, show_reblogs=request.show_reblogs,
                               notify=request.notify, from_request=True)
    except IntegrityError:  # already following: followed while the account was unlocked
        return Follow.objects.get(account=requester, target=account)


@transaction.atomic
def follow_request_reject(*, account: Account, requester: Account) -> None:
    """Reject ``requester``'s pending request to follow ``account``; NotFound if none."""
    deleted, _by_model = FollowRequest.objects.filter(account=requester, target=account).delete()
    if not deleted:
        raise NotFound(_("Record not found"))
    publish(FollowRejected(account_id=account.pk, follower_id=requester.pk))


@transaction.atomic
def follower_remove(*, account: Account, follower: Account) -> None:
    """Remove ``follower`` from ``account``'s followers (Mastodon's remove_from_followers);
    a remote follower's server is told with a ``Reject``."""
    _remove_follow(follower, account)
    publish(FollowRejected(account_id=account.pk, follower_id=follower.pk))


@transaction.atomic
def block_create(*, account: Account, target: Account) -> Block:
    """Block ``target`` and return the block: follows and requests both ways are removed
    (as Mastodon's BlockService unfollows and rejects); idempotent. Raises
    ValidationFailed for oneself."""
    if account.pk == target.pk:
        raise ValidationFailed(_("Validation failed: You cannot block yourself"))
    block, created = Block.objects.get_or_create(account=account, target=target)
    if created:
        _remove_follow(account, target)
        _remove_follow(target, account)
        _remove_follow_request(account, target)
        _remove_follow_request(target, account)
        publish(Blocked(account_id=account.pk, target_id=target.pk))
    return block


@transaction.atomic
def block_delete(*, account: Account, target: Account) -> None:
    """Unblock ``target``; a no-op if not blocked (publishes ``Unblocked`` only
    when a block ended)."""
    deleted, _by_model = Block.objects.filter(account=account, target=target).delete()
    if deleted:
        publish(Unblocked(account_id=account.pk, target_id=target.pk))


def domain_follows_sever(*, domain: str) -> int:
    """End every follow and follow request between a local account and an
    account of ``domain`` (exactly that domain), both ways, as Mastodon does when
    it suspends a domain (BlockDomainService); each through the same removal as
    an unfollow, with its counters and events. Returns how many ended."""
    ended = 0
    follows = (Follow.objects.select_related("account", "target")
               .filter(Q(account__domain=domain, target__domain="")
                       | Q(target__domain=domain, account__domain="")))
    for follow in follows:
        with transaction.atomic():
            ended += _remove_follow(follow.account, follow.target)
    requests = (FollowRequest.objects.select_related("account", "target")
                .filter(Q(account__domain=domain, target__domain="")
                        | Q(target__domain=domain, account__domain="")))
    for request in requests:
        with transaction.atomic():
            ended += _remove_follow_request(request.account, request.target)
    return ended


@transaction.atomic
def mute_create(*, account: Account, target: Account, notifications: bool = True,
                duration: int = 0) -> Mute:
    """Mute ``target`` (and their notifications unless ``notifications`` is False) for
    ``duration`` seconds, 0 meaning indefinitely. Muting again updates the options."""
    from datetime import timedelta

    from django.utils import timezone

    if account.pk == target.pk:
        raise ValidationFailed(_("Validation failed: You cannot mute yourself"))
    if duration < 0:
        raise ValidationFailed(_("Validation failed: Duration must be positive"))
    expires_at = timezone.now() + timedelta(seconds=duration) if duration else None
    mute, _created = Mute.objects.update_or_create(
        account=account, target=target,
        defaults={"hide_notifications": notifications, "expires_at": expires_at},
    )
    return mute


@transaction.atomic
def mute_delete(*, account: Account, target: Account) -> None:
    """Unmute ``target``; a no-op if not muted."""
    Mute.objects.filter(account=account, target=target).delete()
