"""The trend scores, refreshed by a task at most every
``TRIBUNE_TRENDS_REFRESH_SECONDS`` while people post (``effects``), or by
``tribune trends refresh`` (docs/adr/0031).

After Mastodon's ``Trends::Tags`` and ``Trends::Statuses``, with every count made of
DISTINCT accounts, so that one account posting a hashtag a thousand times, or a
handful of accounts boosting each other, weighs as one account each:

- a hashtag: ``observed`` is the number of distinct accounts whose eligible posts
  (``selectors.trendable_q``) used it in the last ``TAG_WINDOW`` (a sliding day),
  ``expected`` the distinct accounts of the ``BASELINE_DAYS`` before, per day, at
  least 1. The raw score is ``(observed - expected)² / expected`` when ``observed``
  exceeds ``expected`` and reaches ``TAG_THRESHOLD``, else 0. The highest raw score
  is kept with its time and decays by half every ``TAG_HALFLIFE``; the score is the
  larger of the raw score and the decayed peak, and a peak older than
  ``TAG_COOLDOWN`` is forgotten (Mastodon's ``max_score_halflife`` and
  ``max_score_cooldown``).
- a post: ``observed`` is the number of distinct accounts other than its author
  that favourited or boosted it, for eligible posts of the last ``STATUS_WINDOW``;
  the raw score is ``(observed - 1)²`` from ``STATUS_THRESHOLD`` accounts on, and
  it decays by half every ``STATUS_HALFLIFE`` of the post's age.
- a score under ``DECAY_THRESHOLD`` is 0: the item no longer trends.

The counts are aggregate queries over a window of status ids (ids are time-ordered),
so the work grows with the window's activity, not with the instance's history; the
Python that follows runs once per hashtag or per post that reached the threshold.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from tribune.core.ids import datetime_to_min_id
from tribune.statuses.models import Favourite, Status
from tribune.trends.models import StatusTrend, TagTrend
from tribune.trends.selectors import trendable_q

TAG_WINDOW = timedelta(days=1)
BASELINE_DAYS = 6
TAG_THRESHOLD = 5  # distinct accounts (Mastodon's threshold: 5)
TAG_HALFLIFE = timedelta(hours=2)
TAG_COOLDOWN = timedelta(days=2)
STATUS_WINDOW = timedelta(days=2)
STATUS_THRESHOLD = 5  # distinct accounts besides the author
STATUS_HALFLIFE = timedelta(hours=2)
DECAY_THRESHOLD = 1.0
CHUNK = 500


def _halves(elapsed: timedelta, halflife: timedelta) -> float:
    """The factor after ``elapsed`` at one half per ``halflife``."""
    return 0.5 ** (max(elapsed.total_seconds(), 0.0) / halflife.total_seconds())


def tag_raw_score(observed: int, expected: float) -> float:
    """Mastodon's expected-versus-observed score of a hashtag (``Trends::Tags``):
    ``(observed - expected)² / expected`` when ``observed`` (distinct accounts)
    exceeds ``expected`` (at least 1) and reaches ``TAG_THRESHOLD``; else 0."""
    expected = max(expected, 1.0)
    if observed <= expected or observed < TAG_THRESHOLD:
        return 0.0
    return (observed - expected) ** 2 / expected


def status_raw_score(observed: int) -> float:
    """A post's score before decay (``Trends::Statuses``, with ``expected`` = 1):
    ``(observed - 1)²`` from ``STATUS_THRESHOLD`` distinct accounts on, else 0."""
    return float((observed - 1) ** 2) if observed >= STATUS_THRESHOLD else 0.0


REFRESH_KEY = "trends:refresh"  # cache key present while a refresh is recent


def trends_refresh_soon() -> bool:
    """Enqueue a refresh of the scores unless one was enqueued within the last
    ``TRIBUNE_TRENDS_REFRESH_SECONDS`` (one cache ``add``, atomic on every cache
    backend); called by ``effects`` as people post and favourite, so the scores
    follow activity at that period and cost nothing on a quiet instance. Returns
    whether a refresh was enqueued."""
    if not cache.add(REFRESH_KEY, 1, timeout=settings.TRIBUNE_TRENDS_REFRESH_SECONDS):
        return False
    from tribune.trends.tasks import refresh_trends

    transaction.on_commit(refresh_trends.enqueue, robust=True)
    return True


def trends_refresh(*, now: datetime | None = None) -> tuple[int, int]:
    """Recompute every trend score as of ``now`` (default: the present); returns
    how many hashtags and posts now trend (score above 0, whatever their review).
    Idempotent: running it twice at the same ``now`` writes the same scores."""
    now = now or timezone.now()
    return _tags_refresh(now), _statuses_refresh(now)


def _tags_refresh(now: datetime) -> int:
    recent = datetime_to_min_id(now - TAG_WINDOW)
    oldest = datetime_to_min_id(now - TAG_WINDOW - timedelta(days=BASELINE_DAYS))
    upper = datetime_to_min_id(now + timedelta(milliseconds=1))
    through = Status.tags.through
    recent_q = Q(status_id__gte=recent)
    rows = (
        through.objects.filter(
            trendable_q("status__"), status_id__gte=oldest, status_id__lt=upper
        )
        .values("tag_id")
        .annotate(
            accounts=Count("status__account_id", distinct=True, filter=recent_q),
            uses=Count("status_id", distinct=True, filter=recent_q),
            before=Count("status__account_id", distinct=True, filter=~recent_q),
        )
        # those that may score, and those still trending (their counts shown)
        .filter(
            Q(accounts__gte=TAG_THRESHOLD)
            | Q(tag_id__in=TagTrend.objects.filter(score__gt=0).values("tag_id"))
        )
        .values_list("tag_id", "accounts", "uses", "before")
    )
    counts = {tag: (accounts, uses, before) for tag, accounts, uses, before in rows}
    known = {
        t.tag_id: t
        for t in TagTrend.objects.filter(Q(score__gt=0) | Q(tag_id__in=list(counts)))
    }
    updated = []
    for tag_id in known.keys() | counts.keys():
        accounts, uses, before = counts.get(tag_id, (0, 0, 0))
        trend = known.get(tag_id) or TagTrend(tag_id=tag_id)
        raw = tag_raw_score(accounts, before / BASELINE_DAYS)
        peak = 0.0
        if trend.max_score_at is not None and now - trend.max_score_at < TAG_COOLDOWN:
            peak = trend.max_score * _halves(now - trend.max_score_at, TAG_HALFLIFE)
        if raw > 0 and raw >= peak:
            trend.max_score, trend.max_score_at, peak = raw, now, raw
        score = max(raw, peak)
        trend.score = score if score >= DECAY_THRESHOLD else 0.0
        trend.accounts, trend.uses, trend.refreshed_at = accounts, uses, now
        updated.append(trend)
    with transaction.atomic():
        TagTrend.objects.bulk_create(
            updated,
            batch_size=CHUNK,
            update_conflicts=True,
            unique_fields=["tag"],
            update_fields=[
                "score",
                "max_score",
                "max_score_at",
                "accounts",
                "uses",
                "refreshed_at",
            ],
        )
    return sum(1 for t in updated if t.score > 0)


def _interactions(low: int, high: int) -> dict[int, int]:
    """Posts with an id in ``[low, high)`` and the number of distinct accounts,
    their author left out, that favourited or boosted them, for those with at least
    ``STATUS_THRESHOLD`` (one aggregate query)."""
    status, favourite = Status._meta.db_table, Favourite._meta.db_table
    sql = (
        f'SELECT u."sid", COUNT(DISTINCT u."aid") FROM ('
        f'SELECT f."status_id" AS "sid", f."account_id" AS "aid" FROM "{favourite}" f '
        f'WHERE f."status_id" >= %s AND f."status_id" < %s '
        f'UNION ALL SELECT r."reblog_of_id", r."account_id" FROM "{status}" r '
        f'WHERE r."reblog_of_id" >= %s AND r."reblog_of_id" < %s'
        f') u JOIN "{status}" s ON s."id" = u."sid" WHERE u."aid" <> s."account_id" '
        f'GROUP BY u."sid" HAVING COUNT(DISTINCT u."aid") >= %s'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [low, high, low, high, STATUS_THRESHOLD])
        return dict(cursor.fetchall())


def _statuses_refresh(now: datetime) -> int:
    low = datetime_to_min_id(now - STATUS_WINDOW)
    high = datetime_to_min_id(now + timedelta(milliseconds=1))
    counts = _interactions(low, high)
    eligible: list[tuple[int, datetime, str | None]] = []
    ids = list(counts)
    for start in range(0, len(ids), CHUNK):
        eligible += Status.objects.filter(
            trendable_q(), pk__in=ids[start : start + CHUNK]
        ).values_list("pk", "created_at", "language")
    updated = []
    for status_id, created_at, language in eligible:
        observed = counts[status_id]
        score = status_raw_score(observed) * _halves(now - created_at, STATUS_HALFLIFE)
        updated.append(
            StatusTrend(
                status_id=status_id,
                interactions=observed,
                language=language or "",
                score=score if score >= DECAY_THRESHOLD else 0.0,
                max_score=score,
                max_score_at=now,
                refreshed_at=now,
            )
        )
    scored = {t.status_id for t in updated}
    with transaction.atomic():
        # Posts that left the window or lost their eligibility stop trending.
        StatusTrend.objects.filter(score__gt=0).exclude(status_id__in=scored).update(
            score=0, refreshed_at=now
        )
        StatusTrend.objects.bulk_create(
            updated,
            batch_size=CHUNK,
            update_conflicts=True,
            unique_fields=["status"],
            update_fields=[
                "score",
                "max_score",
                "max_score_at",
                "interactions",
                "language",
                "refreshed_at",
            ],
        )
    return sum(1 for t in updated if t.score > 0)
