"""Reads of the social graph, in bulk so pages never query per row."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from tribune.accounts.models import Account
from tribune.graph.models import Block, Follow, FollowRequest, Mute


def _active_mutes():
    return Mute.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def blocked_either_way_ids(viewer_id: int) -> set[int]:
    """Ids of accounts the viewer blocks or is blocked by (one query)."""
    rows = Block.objects.filter(Q(account_id=viewer_id) | Q(target_id=viewer_id)).values_list(
        "account_id", "target_id")
    return {a if b == viewer_id else b for a, b in rows}


def hidden_account_ids(viewer_id: int) -> set[int]:
    """Ids whose statuses the viewer's timelines hide: blocks both ways and mutes."""
    muted = set(_active_mutes().filter(account_id=viewer_id).values_list("target_id", flat=True))
    return blocked_either_way_ids(viewer_id) | muted


def notification_muted_ids(viewer_id: int) -> set[int]:
    """Ids whose notifications the viewer does not get: blocks both ways and mutes
    with notifications hidden."""
    muted = set(_active_mutes().filter(account_id=viewer_id, hide_notifications=True)
                .values_list("target_id", flat=True))
    return blocked_either_way_ids(viewer_id) | muted


def is_following(account_id: int, target_id: int) -> bool:
    return Follow.objects.filter(account_id=account_id, target_id=target_id).exists()


def is_blocked_either_way(a_id: int, b_id: int) -> bool:
    return Block.objects.filter(
        Q(account_id=a_id, target_id=b_id) | Q(account_id=b_id, target_id=a_id)).exists()


def follower_ids(account_id: int) -> list[int]:
    return list(Follow.objects.filter(target_id=account_id).values_list("account_id", flat=True))


@dataclass(frozen=True)
class Relationship:
    """The Mastodon Relationship entity for ``viewer`` towards ``id``."""

    id: int
    following: bool
    showing_reblogs: bool
    notifying: bool
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    requested: bool
    requested_by: bool


def relationships(*, viewer: Account, target_ids: list[int]) -> list[Relationship]:
    """Relationships to each target, in the order given; seven queries in all."""
    ids = list(dict.fromkeys(target_ids))
    following = {f.target_id: f for f in Follow.objects.filter(account=viewer, target_id__in=ids)}
    followed_by = set(Follow.objects.filter(target=viewer, account_id__in=ids).values_list("account_id", flat=True))
    blocking = set(Block.objects.filter(account=viewer, target_id__in=ids).values_list("target_id", flat=True))
    blocked_by = set(Block.objects.filter(target=viewer, account_id__in=ids).values_list("account_id", flat=True))
    mutes = {m.target_id: m for m in _active_mutes().filter(account=viewer, target_id__in=ids)}
    requested = {r.target_id: r for r in FollowRequest.objects.filter(account=viewer, target_id__in=ids)}
    requested_by = set(FollowRequest.objects.filter(target=viewer, account_id__in=ids).values_list("account_id", flat=True))
    out = []
    for target_id in ids:
        follow = following.get(target_id) or requested.get(target_id)
        out.append(Relationship(
            id=target_id,
            following=target_id in following,
            showing_reblogs=bool(follow and follow.show_reblogs),
            notifying=bool(follow and follow.notify),
            followed_by=target_id in followed_by,
            blocking=target_id in blocking,
            blocked_by=target_id in blocked_by,
            muting=target_id in mutes,
            muting_notifications=bool(mutes.get(target_id) and mutes[target_id].hide_notifications),
            requested=target_id in requested,
            requested_by=target_id in requested_by,
        ))
    return out
