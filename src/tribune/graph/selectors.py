"""Reads of the social graph, in bulk so pages never query per row."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_search_queryset
from tribune.core.pagination import Cursor, Page, paginate
from tribune.graph.models import Block, Follow, FollowRequest, Mute


def active_mutes():
    """Mute rows in force: without an end, or ending in the future."""
    return Mute.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def blocked_either_way_ids(viewer_id: int) -> set[int]:
    """Ids of accounts the viewer blocks or is blocked by (one query)."""
    rows = Block.objects.filter(Q(account_id=viewer_id) | Q(target_id=viewer_id)).values_list(
        "account_id", "target_id")
    return {a if b == viewer_id else b for a, b in rows}


def _hidden_sql(extra: str = "") -> str:
    """Ids hidden from a viewer: blocks both ways, unexpired mutes; ``extra`` is
    added to each select list. Parameters: viewer, viewer, viewer, now."""
    block, mute = Block._meta.db_table, Mute._meta.db_table
    return (f'SELECT "target_id"{extra} FROM "{block}" WHERE "account_id" = %s '
            f'UNION ALL SELECT "account_id"{extra} FROM "{block}" WHERE "target_id" = %s '
            f'UNION ALL SELECT "target_id"{extra} FROM "{mute}" WHERE "account_id" = %s '
            f'AND ("expires_at" IS NULL OR "expires_at" > %s)')


def hidden_account_ids(viewer_id: int) -> set[int]:
    """Ids whose statuses the viewer's timelines hide: blocks both ways and mutes
    that have not expired (one query, written out: every timeline page asks)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_hidden_sql(), [viewer_id, viewer_id, viewer_id, now])
        return {row[0] for row in cursor.fetchall()}


def home_graph(viewer_id: int, *, followers_over: int) -> tuple[set[int], dict[int, bool]]:
    """What a home timeline page needs of the graph, in one query: the
    :func:`hidden_account_ids`, and the accounts the viewer follows that have more
    than ``followers_over`` followers, with whether their reblogs are shown."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    follow, account = Follow._meta.db_table, Account._meta.db_table
    sql = (f'{_hidden_sql(", 0")} UNION ALL SELECT f."target_id", CASE WHEN f."show_reblogs" THEN 2 ELSE 1 END '
           f'FROM "{follow}" f JOIN "{account}" a ON a."id" = f."target_id" '
           f'WHERE f."account_id" = %s AND a."followers_count" > %s')
    hidden: set[int] = set()
    followed: dict[int, bool] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [viewer_id, viewer_id, viewer_id, now, viewer_id, followers_over])
        for target, kind in cursor.fetchall():
            if kind == 0:
                hidden.add(target)
            else:
                followed[target] = kind == 2
    return hidden, followed


def notification_muted_ids(viewer_id: int) -> set[int]:
    """Ids whose notifications the viewer does not get: blocks both ways and mutes
    with notifications hidden."""
    muted = set(active_mutes().filter(account_id=viewer_id, hide_notifications=True)
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
    mutes = {m.target_id: m for m in active_mutes().filter(account=viewer, target_id__in=ids)}
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


# --- lists of accounts, paged by the id of the row that links them ---------------------


def _accounts_of(rows: list, attr: str) -> list[Account]:
    return [getattr(row, attr) for row in rows]


def followers_page(*, account: Account, viewer: Account | None, cursor: Cursor) -> Page:
    """Accounts that follow ``account``, most recent follow first.

    Paged by the Follow row's id (the ``Link`` header carries it, as Mastodon's does).
    Suspended accounts and accounts blocked either way by ``viewer`` are left out.
    """
    qs = Follow.objects.filter(target=account, account__suspended_at__isnull=True)
    if viewer is not None:
        qs = qs.exclude(account_id__in=blocked_either_way_ids(viewer.pk))
    return paginate(qs.select_related("account"), cursor,
                    transform=lambda rows: _accounts_of(rows, "account"))


def following_page(*, account: Account, viewer: Account | None, cursor: Cursor) -> Page:
    """Accounts that ``account`` follows, most recent follow first (see followers_page)."""
    qs = Follow.objects.filter(account=account, target__suspended_at__isnull=True)
    if viewer is not None:
        qs = qs.exclude(target_id__in=blocked_either_way_ids(viewer.pk))
    return paginate(qs.select_related("target"), cursor,
                    transform=lambda rows: _accounts_of(rows, "target"))


def follow_requests_page(*, account: Account, cursor: Cursor) -> Page:
    """Accounts waiting for ``account`` to accept their follow request, newest first
    (paged by the request's id)."""
    qs = FollowRequest.objects.filter(target=account, account__suspended_at__isnull=True)
    return paginate(qs.select_related("account"), cursor,
                    transform=lambda rows: _accounts_of(rows, "account"))


def follow_requests_count(*, account: Account) -> int:
    """How many follow requests ``account`` has not answered yet."""
    return FollowRequest.objects.filter(target=account, account__suspended_at__isnull=True).count()


def blocks_page(*, account: Account, cursor: Cursor) -> Page:
    """Accounts that ``account`` blocks, most recent block first (paged by block id)."""
    qs = Block.objects.filter(account=account).select_related("target")
    return paginate(qs, cursor, transform=lambda rows: _accounts_of(rows, "target"))


def mutes_page(*, account: Account, cursor: Cursor) -> Page:
    """``account``'s active mutes (Mute rows with ``target`` loaded), most recent
    first; expired mutes are left out. Paged by the mute's id."""
    qs = active_mutes().filter(account=account).select_related("target")
    return paginate(qs, cursor)


def account_search(*, query: str, viewer: Account | None, limit: int = 40, offset: int = 0,
                   following: bool = False) -> list[Account]:
    """Local account search (accounts.selectors.account_search_queryset) as ``viewer``
    sees it: accounts blocked either way are left out, and ``following`` keeps only
    accounts the viewer follows (Mastodon's ``following=true``)."""
    qs = account_search_queryset(query=query)
    if viewer is not None:
        qs = qs.exclude(pk__in=blocked_either_way_ids(viewer.pk))
        if following:
            qs = qs.filter(pk__in=Follow.objects.filter(account=viewer).values("target_id"))
    elif following:
        return []
    return list(qs[offset : offset + limit])


def viewers_hiding(*, author_ids: set[int], viewer_ids: set[int]) -> set[int]:
    """Those of ``viewer_ids`` whose timelines hide statuses of any of
    ``author_ids``: a block either way or a mute in force (the rule of
    :func:`hidden_account_ids`, for many viewers at once: two queries)."""
    if not author_ids or not viewer_ids:
        return set()
    rows = Block.objects.filter(
        Q(account_id__in=viewer_ids, target_id__in=author_ids)
        | Q(account_id__in=author_ids, target_id__in=viewer_ids)).values_list(
        "account_id", "target_id")
    hiding = {a if a in viewer_ids else b for a, b in rows}
    hiding |= set(active_mutes().filter(account_id__in=viewer_ids, target_id__in=author_ids)
                  .values_list("account_id", flat=True))
    return hiding & viewer_ids
