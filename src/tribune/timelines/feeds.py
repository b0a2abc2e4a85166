"""The feed store: each account's home feed as an ordered set of status ids.

``FeedStore`` is the interface, with two implementations that pass one test suite
(tests/timelines/test_feed_store.py): ``DatabaseFeedStore`` (one table; the embedded
default) and ``RedisFeedStore`` (one sorted set per account; chosen when
``TRIBUNE_REDIS_URL`` is set). Both follow Mastodon's FeedManager: feeds keep their
newest ``MAX_ITEMS`` entries, and a reblog is not added to a feed whose newest
``REBLOG_WINDOW`` entries already hold the original or another reblog of it.

Entries are ids only. A status deleted since it was added is skipped by the reader
(``statuses_by_ids``), so removal from feeds may lag without showing anything gone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import Protocol

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models import Count, Max, Q

from tribune.statuses.models import Status
from tribune.timelines.models import FeedEntry

MAX_ITEMS = 800
REBLOG_WINDOW = 40


class FeedStore(Protocol):
    """Home feeds. Every method is idempotent: adding an entry twice keeps one."""

    def add(self, *, status_id: int, reblog_of_id: int | None, account_ids: Iterable[int]) -> None:
        """Put one status (``reblog_of_id``: the original, for a reblog) on the home
        feed of every account in ``account_ids``, collapsing repeated reblogs."""

    chunk: int  # how many feeds a fan-out writes per transaction (or step)

    def pause_after(self, seconds: float) -> float:
        """How long a fan-out waits after a step that took ``seconds``, to let other
        writers in."""

    def add_many(self, *, account_id: int, entries: Iterable[tuple[int, int | None]]) -> None:
        """Put ``(status_id, reblog_of_id)`` pairs on one feed (no collapsing), then
        trim it to ``MAX_ITEMS``."""

    def remove_status(self, *, status_id: int, reblog_of_id: int | None = None,
                      account_ids: Iterable[int] = ()) -> None:
        """Take a status off the feeds of ``account_ids`` (the database store takes it
        off every feed, and reblogs of it too)."""

    def replace(self, *, feeds: dict[int, list[tuple[int, int | None]]], below: int) -> None:
        """Make ``(status_id, reblog_of_id)`` pairs (a rebuild's, already collapsed,
        at most ``MAX_ITEMS``) the entries below status id ``below`` of each feed
        in ``feeds`` (account id to pairs); entries from ``below`` up stay."""

    def entries(self, *, account_id: int) -> list[tuple[int, int | None]]:
        """Every ``(status_id, reblog_of_id)`` entry of one feed, newest first."""

    def discard(self, *, account_id: int, entries: Iterable[tuple[int, int | None]]) -> None:
        """Take these entries off one feed."""

    def page(self, *, account_id: int, max_id: int | None, since_id: int | None,
             min_id: int | None, limit: int, exclude_authors: set[int]) -> list[int]:
        """Status ids newest first: below ``max_id``, above ``since_id``; with
        ``min_id``, the ``limit`` ids just above it (returned newest first too).
        Statuses by, or reblogging, ``exclude_authors`` are left out."""

    def trim(self, *, account_id: int) -> None:
        """Keep only the newest ``MAX_ITEMS`` entries of one feed."""

    def size(self, *, account_id: int) -> int:
        """How many entries one feed holds."""

    def clear(self, *, account_id: int) -> None:
        """Empty one feed."""

    def stamp(self) -> str:
        """What names the feeds this store holds (``services.feeds_check``): the
        recorded stamp equals it while they are the instance's current feeds."""

    def restamp(self) -> str:
        """Forget every feed this store may hold from an earlier time and give it a
        new stamp, which is returned."""


TRIM_EVERY = 300  # seconds


def _array_literal(values: Iterable[int | None]) -> str:
    """PostgreSQL's text form of an array of integers (``{1,NULL,3}``)."""
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def _trim_due(account_id: int) -> bool:
    """Whether this process has not trimmed ``account_id``'s feed in the last
    :data:`TRIM_EVERY` seconds (and now will): noted in the process's ``local``
    cache, so a feed is trimmed at most once per interval per web process."""
    return caches["local"].add(f"feed-trimmed:{account_id}", True, TRIM_EVERY)


class DatabaseFeedStore:
    """FeedStore on the FeedEntry table: set-based inserts, one query per page.

    Trimming deletes rows, so it is done when the owner reads the first page of
    their feed (at most every ``TRIM_EVERY`` seconds per process) rather than on
    every fan-out; feeds of people who do not read grow only while they are active
    (fan-out skips inactive accounts).

    On SQLite a write transaction holds the database's only write lock, and a
    writer that finds it taken polls for it every millisecond, every 5 ms once it
    has waited 100 ms (``core.sqlite``). So a fan-out writes ``SQLITE_CHUNK`` feeds
    per transaction, a few milliseconds, and then leaves the lock free for as long
    as it held it, and at least 5 ms: a POST waiting meanwhile gets in at the first
    gap, whatever the audience's size (BENCHMARKS.md, benchmark 2).
    """

    SQLITE_CHUNK = 50
    SQLITE_MIN_PAUSE = 0.005  # seconds: a writer that waited long polls 5 ms apart

    @property
    def chunk(self) -> int:
        """Feeds to write per transaction in a fan-out."""
        return self.SQLITE_CHUNK if connection.vendor == "sqlite" else 1000

    def pause_after(self, seconds: float) -> float:
        """Seconds a fan-out waits after a transaction of ``seconds``: on SQLite as
        long as it held the lock, and never less than the interval at which a
        waiting writer polls once it has waited a while, or short chunks with
        short gaps would let it miss every gap."""
        if connection.vendor != "sqlite":
            return 0.0
        return max(seconds, self.SQLITE_MIN_PAUSE)

    def add(self, *, status_id: int, reblog_of_id: int | None, account_ids: Iterable[int]) -> None:
        account_ids = list(account_ids)
        if not account_ids:
            return
        if reblog_of_id is not None:
            account_ids = self._without_recent(account_ids, reblog_of_id)
        FeedEntry.objects.bulk_create(
            [FeedEntry(account_id=a, status_id=status_id, reblog_of_id=reblog_of_id)
             for a in account_ids],
            ignore_conflicts=True, batch_size=500,
        )

    @staticmethod
    def _without_recent(account_ids: list[int], original_id: int) -> list[int]:
        """``account_ids`` minus feeds whose newest REBLOG_WINDOW entries show
        ``original_id`` or a reblog of it (one query, plus one per 500 feeds that
        hold it at all). A feed may hold the original and reblogs of it: the newest
        of them decides."""
        holding = dict(
            FeedEntry.objects.filter(account_id__in=account_ids)
            .filter(Q(status_id=original_id) | Q(reblog_of_id=original_id))
            .values("account_id").annotate(newest=Max("status_id"))
            .values_list("account_id", "newest")
        )
        recent = set(holding)
        pairs = list(holding.items())
        for start in range(0, len(pairs), 500):
            newer = reduce(or_, (Q(account_id=a, status_id__gt=s) for a, s in pairs[start : start + 500]))
            crowded = (FeedEntry.objects.filter(newer).values("account_id")
                       .annotate(n=Count("id")).filter(n__gte=REBLOG_WINDOW)
                       .values_list("account_id", flat=True))
            recent -= set(crowded)
        return [a for a in account_ids if a not in recent]

    def add_many(self, *, account_id: int, entries: Iterable[tuple[int, int | None]]) -> None:
        FeedEntry.objects.bulk_create(
            [FeedEntry(account_id=account_id, status_id=s, reblog_of_id=r) for s, r in entries],
            ignore_conflicts=True, batch_size=500,
        )
        self.trim(account_id=account_id)

    def remove_status(self, *, status_id: int, reblog_of_id: int | None = None,
                      account_ids: Iterable[int] = ()) -> None:
        FeedEntry.objects.filter(Q(status_id=status_id) | Q(reblog_of_id=status_id)).delete()

    INSERT_ROWS = 300  # entries per INSERT statement on SQLite (3 parameters each)

    def replace(self, *, feeds: dict[int, list[tuple[int, int | None]]], below: int) -> None:
        rows = [(a, s, r) for a, entries in feeds.items() for s, r in entries]
        table = FeedEntry._meta.db_table
        columns = '("account_id", "status_id", "reblog_of_id")'
        # Set-based: a rebuild after a restore writes hundreds of thousands of rows,
        # and an ORM object per row would cost more than the insert.
        with transaction.atomic(), connection.cursor() as cursor:
            FeedEntry.objects.filter(account_id__in=list(feeds), status_id__lt=below).delete()
            if connection.vendor == "postgresql":
                # Three array parameters: no statement to parse per row. Each is
                # passed as the text of an array literal, which Python joins ten
                # times as fast as psycopg adapts a list of integers.
                for start in range(0, len(rows), 50_000):
                    chunk = rows[start : start + 50_000]
                    cursor.execute(
                        f'INSERT INTO "{table}" {columns} SELECT * FROM '
                        f"unnest(%s::bigint[], %s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
                        [_array_literal(column) for column in zip(*chunk, strict=True)])
                return
            for start in range(0, len(rows), self.INSERT_ROWS):
                chunk = rows[start : start + self.INSERT_ROWS]
                values = ",".join(["(%s, %s, %s)"] * len(chunk))
                cursor.execute(f'INSERT INTO "{table}" {columns} VALUES {values} '
                               f"ON CONFLICT DO NOTHING", [v for row in chunk for v in row])

    def entries(self, *, account_id: int) -> list[tuple[int, int | None]]:
        return list(FeedEntry.objects.filter(account_id=account_id).order_by("-status_id")
                    .values_list("status_id", "reblog_of_id"))

    def discard(self, *, account_id: int, entries: Iterable[tuple[int, int | None]]) -> None:
        ids = [s for s, _ in entries]
        for start in range(0, len(ids), 500):
            FeedEntry.objects.filter(account_id=account_id,
                                     status_id__in=ids[start : start + 500]).delete()

    def page(self, *, account_id: int, max_id: int | None, since_id: int | None,
             min_id: int | None, limit: int, exclude_authors: set[int]) -> list[int]:
        if max_id is None and since_id is None and min_id is None and _trim_due(account_id):
            self.trim(account_id=account_id)
        # Written out, not through the ORM: compiling the query cost more than
        # running it, on the path of every home timeline page.
        feed, statuses = FeedEntry._meta.db_table, Status._meta.db_table
        sql = [f'SELECT f."status_id" FROM "{feed}" f']
        where, params = ['f."account_id" = %s'], [account_id]
        if exclude_authors:
            hidden = list(exclude_authors)
            marks = ",".join(["%s"] * len(hidden))
            sql.append(f'JOIN "{statuses}" s ON s."id" = f."status_id" '
                       f'LEFT JOIN "{statuses}" o ON o."id" = f."reblog_of_id"')
            where.append(f's."account_id" NOT IN ({marks}) '
                         f'AND (o."account_id" IS NULL OR o."account_id" NOT IN ({marks}))')
            params += hidden + hidden
        for op, bound in (("<", max_id), (">", min_id if min_id is not None else since_id)):
            if bound is not None:
                where.append(f'f."status_id" {op} %s')
                params.append(bound)
        ascending = min_id is not None
        sql.append(f'WHERE {" AND ".join(where)} '
                   f'ORDER BY f."status_id" {"ASC" if ascending else "DESC"} LIMIT %s')
        params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute(" ".join(sql), params)
            ids = [row[0] for row in cursor.fetchall()]
        return ids[::-1] if ascending else ids

    def trim(self, *, account_id: int) -> None:
        cutoff = (FeedEntry.objects.filter(account_id=account_id).order_by("-status_id")
                  .values_list("status_id", flat=True)[MAX_ITEMS : MAX_ITEMS + 1])
        if cutoff:
            FeedEntry.objects.filter(account_id=account_id, status_id__lte=cutoff[0]).delete()

    def size(self, *, account_id: int) -> int:
        return FeedEntry.objects.filter(account_id=account_id).count()

    def clear(self, *, account_id: int) -> None:
        FeedEntry.objects.filter(account_id=account_id).delete()

    def stamp(self) -> str:
        # The feeds are in the database they serve: they are current unless
        # another store was used since, which the recorded stamp says.
        return "database"

    def restamp(self) -> str:
        FeedEntry.objects.all().delete()
        return "database"


class RedisFeedStore:
    """FeedStore on Redis: one sorted set per account, ``feed:<account id>``.

    The member is the status id in decimal, or ``<reblog id>:<original id>`` for a
    reblog (so the collapse check needs only the newest members); the score is the
    status id. Scores are doubles, exact to 2**53 only, so ids that round to one
    score fall back on member order, which is numeric order for ids of equal length;
    range bounds are therefore inclusive in Redis and exact in Python. Fan-out to a
    batch of 1,000 feeds is one round trip: a Lua script runs ZADD, then
    ZREMRANGEBYRANK to keep ``MAX_ITEMS``, for each feed (Mastodon's FeedManager
    does the same per feed), so Python does not build 2,000 commands per batch.
    """

    chunk = 1000  # feeds per fan-out step (the Lua script batches its own calls)

    def pause_after(self, seconds: float) -> float:
        return 0.0

    BATCH = 1000

    # ZADD then trim, for each feed in KEYS, in one round trip per batch; for a
    # reblog (ARGV[4], the original's id), feeds whose newest ARGV[5] members show
    # the original or a reblog of it are skipped. Returns how many feeds got it.
    ADD_SCRIPT = """
    local member, score, keep, original, window = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
    local added = 0
    for _, key in ipairs(KEYS) do
      local shown = false
      if original ~= "" then
        for _, m in ipairs(redis.call("ZREVRANGE", key, 0, window - 1)) do
          if m == member then break end
          local sid, orig = string.match(m, "^(%d+):?(%d*)$")
          if sid == original or orig == original then shown = true break end
        end
      end
      if not shown then
        redis.call("ZADD", key, score, member)
        redis.call("ZREMRANGEBYRANK", key, 0, -(keep + 1))
        added = added + 1
      end
    end
    return added
    """

    # A rebuild's entries for one feed in KEYS[1]: the members of ids below ARGV[1]
    # go (compared as decimal strings, exactly: scores are rounded doubles), the
    # (score, member) pairs from ARGV[3] come in, then the feed is trimmed to ARGV[2].
    REPLACE_SCRIPT = """
    local below, keep = ARGV[1], tonumber(ARGV[2])
    for _, m in ipairs(redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", below)) do
      local sid = string.match(m, "^%d+")
      if #sid < #below or (#sid == #below and sid < below) then
        redis.call("ZREM", KEYS[1], m)
      end
    end
    for i = 3, #ARGV, 1000 do
      redis.call("ZADD", KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
    end
    redis.call("ZREMRANGEBYRANK", KEYS[1], 0, -(keep + 1))
    return 0
    """

    def __init__(self, client=None) -> None:
        from tribune.core.redis import redis_client

        self.redis = client or redis_client()
        self._add_script = self.redis.register_script(self.ADD_SCRIPT)
        self._replace_script = self.redis.register_script(self.REPLACE_SCRIPT)

    @staticmethod
    def key(account_id: int) -> str:
        return f"feed:{account_id}"

    @staticmethod
    def member(status_id: int, reblog_of_id: int | None) -> str:
        return str(status_id) if reblog_of_id is None else f"{status_id}:{reblog_of_id}"

    @staticmethod
    def _parse(member: bytes | str) -> tuple[int, int | None]:
        text = member.decode() if isinstance(member, bytes) else member
        status, _, original = text.partition(":")
        return int(status), (int(original) if original else None)

    def add(self, *, status_id: int, reblog_of_id: int | None, account_ids: Iterable[int]) -> None:
        account_ids = list(account_ids)
        member = self.member(status_id, reblog_of_id)
        original = "" if reblog_of_id is None else str(reblog_of_id)
        for start in range(0, len(account_ids), self.BATCH):
            keys = [self.key(a) for a in account_ids[start : start + self.BATCH]]
            self._add_script(keys=keys, args=[member, status_id, MAX_ITEMS, original, REBLOG_WINDOW])

    def add_many(self, *, account_id: int, entries: Iterable[tuple[int, int | None]]) -> None:
        mapping = {self.member(s, r): s for s, r in entries}
        key = self.key(account_id)
        pipe = self.redis.pipeline(transaction=False)
        if mapping:
            pipe.zadd(key, mapping)
        pipe.zremrangebyrank(key, 0, -(MAX_ITEMS + 1))
        pipe.execute()

    def remove_status(self, *, status_id: int, reblog_of_id: int | None = None,
                      account_ids: Iterable[int] = ()) -> None:
        member = self.member(status_id, reblog_of_id)
        account_ids = list(account_ids)
        for start in range(0, len(account_ids), self.BATCH):
            pipe = self.redis.pipeline(transaction=False)
            for account_id in account_ids[start : start + self.BATCH]:
                pipe.zrem(self.key(account_id), member)
            pipe.execute()

    def replace(self, *, feeds: dict[int, list[tuple[int, int | None]]], below: int) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for account_id, entries in feeds.items():
            args: list[str | int] = [below, MAX_ITEMS]
            for s, r in entries:
                args += [s, self.member(s, r)]
            self._replace_script(keys=[self.key(account_id)], args=args, client=pipe)
        pipe.execute()

    def entries(self, *, account_id: int) -> list[tuple[int, int | None]]:
        return [self._parse(m) for m in self.redis.zrevrange(self.key(account_id), 0, -1)]

    def discard(self, *, account_id: int, entries: Iterable[tuple[int, int | None]]) -> None:
        members = [self.member(s, r) for s, r in entries]
        if members:
            self.redis.zrem(self.key(account_id), *members)

    def page(self, *, account_id: int, max_id: int | None, since_id: int | None,
             min_id: int | None, limit: int, exclude_authors: set[int]) -> list[int]:
        key = self.key(account_id)
        ascending = min_id is not None
        low = min_id if ascending else since_id
        found: list[int] = []
        offset, chunk = 0, max(limit * 2, 40)
        while len(found) < limit:
            if ascending:
                raw = self.redis.zrangebyscore(key, low, max_id if max_id is not None else "+inf",
                                               start=offset, num=chunk)
            else:
                raw = self.redis.zrevrangebyscore(key, max_id if max_id is not None else "+inf",
                                                  low if low is not None else "-inf",
                                                  start=offset, num=chunk)
            if not raw:
                break
            offset += len(raw)
            ids = [self._parse(m)[0] for m in raw]
            ids = [i for i in ids if (max_id is None or i < max_id) and (low is None or i > low)]
            if exclude_authors and ids:
                ids = self._without_authors(ids, exclude_authors)
            found.extend(ids)
            if len(raw) < chunk:
                break
        found = found[:limit]
        return found[::-1] if ascending else found

    @staticmethod
    def _without_authors(ids: list[int], authors: set[int]) -> list[int]:
        hidden = set(Status.objects.filter(pk__in=ids)
                     .filter(Q(account_id__in=authors) | Q(reblog_of__account_id__in=authors))
                     .values_list("pk", flat=True))
        return [i for i in ids if i not in hidden]

    def trim(self, *, account_id: int) -> None:
        self.redis.zremrangebyrank(self.key(account_id), 0, -(MAX_ITEMS + 1))

    def size(self, *, account_id: int) -> int:
        return int(self.redis.zcard(self.key(account_id)))

    def clear(self, *, account_id: int) -> None:
        self.redis.delete(self.key(account_id))

    STAMP_KEY = "feeds:stamp"

    def stamp(self) -> str:
        # A Redis that lost its data (or another instance's Redis) has no stamp or
        # another one than the database recorded.
        value = self.redis.get(self.STAMP_KEY)
        return f"redis:{value.decode()}" if value else "redis"

    def restamp(self) -> str:
        # Feeds left from earlier are not scanned for: a rebuild replaces the
        # active accounts' feeds, and the others are rebuilt when they return.
        token = uuid.uuid4().hex
        self.redis.set(self.STAMP_KEY, token)
        return f"redis:{token}"


def feed_store() -> FeedStore:
    """The configured feed store: Redis when ``TRIBUNE_REDIS_URL`` is set, else the
    database one."""
    if settings.TRIBUNE_REDIS_URL:
        return RedisFeedStore()
    return DatabaseFeedStore()
