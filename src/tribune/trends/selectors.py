"""Reads of followed hashtags and trends: which posts may trend
(:func:`trendable_q`), what trends publicly and what awaits review, a hashtag's
usage history (Mastodon's Tag ``history``), and whom a post's hashtags bring it to.
Each reads a page in a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from tribune.accounts.models import Account, Visibility
from tribune.core.ids import datetime_to_min_id
from tribune.core.pagination import Cursor, Page, paginate
from tribune.graph.models import Follow
from tribune.statuses.models import Status, Tag
from tribune.statuses.policy import public_q
from tribune.statuses.selectors import STATUS_PREFETCH, STATUS_RELATED, with_relations
from tribune.trends.models import Review, StatusTrend, TagFollow, TagTrend

HISTORY_DAYS = 7  # Mastodon's Tag history: the last week, today first


def _prefixed(q: Q, prefix: str) -> Q:
    """``q`` with every lookup under ``prefix`` (``status__``), for a related model."""
    out = Q()
    out.connector, out.negated = q.connector, q.negated
    out.children = [
        _prefixed(c, prefix) if isinstance(c, Q) else (prefix + c[0], c[1])
        for c in q.children
    ]
    return out


def trendable_q(prefix: str = "") -> Q:
    """A filter for posts that may trend (Mastodon's ``StatusTrend`` eligibility and
    ``Account#trendable?``): those fit for public timelines (``statuses.policy.public_q``:
    public, not removed, reach not reduced, author not suspended), not a boost, a
    reply, sensitive, labelled by moderation or imported, by an account that is not
    frozen and opted into discovery (``discoverable``). Local and remote alike.
    ``prefix`` puts the lookups under a relation (``"status__"``)."""
    q = public_q() & Q(
        reblog_of__isnull=True,
        in_reply_to_account__isnull=True,
        sensitive=False,
        moderation_label="",
        imported=False,
        account__frozen_at__isnull=True,
        account__discoverable=True,
    )
    return _prefixed(q, prefix) if prefix else q


def _public_review() -> Q:
    """The reviews under which a scored item trends publicly: approved, or also not
    yet reviewed when ``TRIBUNE_TRENDS_REQUIRE_REVIEW`` is off; never rejected."""
    if settings.TRIBUNE_TRENDS_REQUIRE_REVIEW:
        return Q(review=Review.APPROVED)
    return ~Q(review=Review.REJECTED)


def trending_tags(*, limit: int = 10, offset: int = 0) -> list[Tag]:
    """Hashtags trending now, highest score first (``GET /api/v1/trends/tags``;
    Mastodon: 10 by default, 20 at most). One query."""
    trends = (
        TagTrend.objects.filter(_public_review(), score__gt=0)
        .select_related("tag")
        .order_by("-score", "tag_id")[offset : offset + limit]
    )
    return [t.tag for t in trends]


def trending_statuses(
    *,
    limit: int = 20,
    offset: int = 0,
    language: str | None = None,
    hidden: set[int] | frozenset[int] = frozenset(),
) -> list[Status]:
    """Posts trending now, highest score first (``GET /api/v1/trends/statuses``),
    still eligible (:func:`trendable_q`, checked again: a decision since the last
    refresh takes effect at once); ``language`` keeps those in it (or of unknown
    language); ``hidden`` authors (a viewer's blocks and mutes) are left out. One
    query, and the prefetches of ``statuses.selectors.with_relations``."""
    qs = Status.objects.filter(
        _prefixed(_public_review(), "trend__"), trendable_q(), trend__score__gt=0
    )
    if hidden:
        qs = qs.exclude(account_id__in=hidden)
    if language:
        qs = qs.filter(Q(language=language) | Q(language__isnull=True) | Q(language=""))
    return list(
        with_relations(qs).order_by("-trend__score", "-id")[offset : offset + limit]
    )


def tags_for_review(
    *, review: str | None = Review.PENDING, limit: int = 100, offset: int = 0
) -> list[TagTrend]:
    """Hashtag trends for staff, highest score first, the tags loaded: those in
    ``review`` state (None: every state) that have a score, or, for approved and
    rejected ones, that were reviewed (Mastodon's admin trends list the candidates,
    reviewed or not)."""
    qs = TagTrend.objects.select_related("tag")
    if review is None:
        qs = qs.filter(score__gt=0)
    else:
        qs = qs.filter(review=review)
        if review == Review.PENDING:
            qs = qs.filter(score__gt=0)
    return list(qs.order_by("-score", "tag_id")[offset : offset + limit])


def statuses_for_review(
    *, review: str | None = Review.PENDING, limit: int = 100, offset: int = 0
) -> list[StatusTrend]:
    """Post trends for staff, as :func:`tags_for_review`, only posts still eligible
    to trend (:func:`trendable_q`), with the posts and their authors loaded."""
    qs = (
        StatusTrend.objects.filter(_prefixed(trendable_q(), "status__"))
        .select_related("status", *(f"status__{r}" for r in STATUS_RELATED))
        .prefetch_related(*(f"status__{p}" for p in STATUS_PREFETCH))
    )
    if review is None:
        qs = qs.filter(score__gt=0)
    else:
        qs = qs.filter(review=review)
        if review == Review.PENDING:
            qs = qs.filter(score__gt=0)
    return list(qs.order_by("-score", "-status_id")[offset : offset + limit])


def tag_histories(
    tag_ids: list[int], *, now: datetime | None = None
) -> dict[int, list[dict[str, str]]]:
    """Mastodon's Tag ``history`` for each of ``tag_ids``: the last seven UTC days,
    today first, each ``{"day": UNIX time of the day's start, "uses": posts,
    "accounts": distinct accounts}`` as strings, counting public posts
    (``public_q``, boosts left out). One aggregate query for all the tags."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    first = datetime.combine(
        today - timedelta(days=HISTORY_DAYS - 1), datetime.min.time(), UTC
    )
    counts: dict[tuple[int, object], tuple[int, int]] = {}
    if tag_ids:
        rows = (
            Status.tags.through.objects.filter(
                tag_id__in=tag_ids,
                status_id__gte=datetime_to_min_id(first),
                status__reblog_of__isnull=True,
            )
            .filter(_prefixed(public_q(), "status__"))
            .annotate(day=TruncDate("status__created_at", tzinfo=UTC))
            .values("tag_id", "day")
            .annotate(
                uses=Count("status_id", distinct=True),
                accounts=Count("status__account_id", distinct=True),
            )
            .values_list("tag_id", "day", "uses", "accounts")
        )
        counts = {(tag, day): (uses, accounts) for tag, day, uses, accounts in rows}
    days = [today - timedelta(days=n) for n in range(HISTORY_DAYS)]
    return {
        tag: [
            {
                "day": str(
                    int(datetime.combine(day, datetime.min.time(), UTC).timestamp())
                ),
                "uses": str(counts.get((tag, day), (0, 0))[0]),
                "accounts": str(counts.get((tag, day), (0, 0))[1]),
            }
            for day in days
        ]
        for tag in tag_ids
    }


def followed_tag_ids(*, account: Account | None, tag_ids: list[int]) -> set[int]:
    """Which of ``tag_ids`` ``account`` follows (one query; none for visitors)."""
    if account is None or not tag_ids:
        return set()
    return set(
        TagFollow.objects.filter(account=account, tag_id__in=tag_ids).values_list(
            "tag_id", flat=True
        )
    )


def is_following_tag(*, account: Account, name: str) -> bool:
    """Whether ``account`` follows the hashtag whose matching key is ``name``."""
    return TagFollow.objects.filter(account=account, tag__name=name).exists()


def followed_tags_page(*, account: Account, cursor: Cursor) -> Page:
    """The hashtags ``account`` follows, most recently followed first, paged by the
    follow's id (``GET /api/v1/followed_tags``); items are Tags."""
    qs = TagFollow.objects.filter(account=account).select_related("tag")
    return paginate(qs, cursor, transform=lambda rows: [r.tag for r in rows])


def broadcast_q() -> Q:
    """A filter for posts that may reach the followers of their hashtags: public,
    not boosts (Mastodon's ``FanOutOnWriteService#broadcastable?``), fit for public
    timelines (``statuses.policy.public_q``), by an account that is not frozen, and
    not imported from an archive (on no feed)."""
    return public_q() & Q(
        reblog_of__isnull=True, account__frozen_at__isnull=True, imported=False
    )


def broadcastable(status: Status) -> bool:
    """:func:`broadcast_q` for one post (its account loaded)."""
    return (
        status.visibility == Visibility.PUBLIC
        and status.reblog_of_id is None
        and not status.imported
        and status.removed_at is None
        and status.reach_reduced_at is None
        and status.account.suspended_at is None
        and status.account.frozen_at is None
    )


def tag_followers(*, status: Status, active_since: datetime) -> set[int]:
    """Ids of the local accounts active since ``active_since`` that follow a
    hashtag of ``status`` and not its author (those get it as followers), for
    fan-out; none unless the post is :func:`broadcastable`. One query."""
    if not broadcastable(status):
        return set()
    return set(
        TagFollow.objects.filter(
            tag__statuses=status.pk,
            account__domain="",
            account__active_at__gte=active_since,
        )
        .exclude(account_id=status.account_id)
        .exclude(
            account_id__in=Follow.objects.filter(target_id=status.account_id).values(
                "account_id"
            )
        )
        .values_list("account_id", flat=True)
        .distinct()
    )


def tagged_pairs(
    *,
    viewer_ids: list[int],
    status_ids: list[int] | None = None,
    low: int | None = None,
    high: int | None = None,
) -> set[tuple[int, int]]:
    """The ``(viewer, status)`` pairs where one of ``viewer_ids`` follows a hashtag
    of a post that may reach its hashtags' followers (:func:`broadcast_q`), among
    ``status_ids`` (one query per 500) or the ids in ``[low, high)`` (one query)."""
    if not viewer_ids or status_ids == []:
        return set()
    q = Q(tag__follows__account_id__in=viewer_ids) & _prefixed(
        broadcast_q(), "status__"
    )
    if low is not None and high is not None:
        q &= Q(status_id__gte=low, status_id__lt=high)
    through = Status.tags.through.objects
    # One filter() call: the hashtag's follows are joined once, and read back.
    if status_ids is None:
        return set(
            through.filter(q).values_list("tag__follows__account_id", "status_id")
        )
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(status_ids), 500):
        pairs |= set(
            through.filter(
                q & Q(status_id__in=status_ids[start : start + 500])
            ).values_list("tag__follows__account_id", "status_id")
        )
    return pairs
