"""The generated instance of the scale benchmarks: configuration and bulk set-up.

Set-up only, not product code: rows go straight into the tables (executemany on
SQLite, COPY on PostgreSQL), status ids are ``tribune.core.ids.new_id`` ids for the
statuses' creation times, home feeds are filled directly (SQLite) or through the
feed store's ``add_many`` (Redis), and tokens come from
``tribune.oauth.services.token_create``. The instance is kept under bench/.data
(SQLite) or in the database ``tribune_bench_<size>`` (PostgreSQL) with a
``generated.json`` beside it, so a rerun reuses it.

Shape (full size): 10,000 accounts; each follows on average 100 others, targets
drawn from a Zipf law (s = 1) over a random popularity order, so a few accounts are
followed by nearly everyone (never more than 10,000: all are fanned out); 1,000,000
statuses over 30 days, authors weighted log-normally; every home feed holds the
newest 800 statuses of the accounts it follows and its own. Besides: three authors
followed by 10, 1,000 and 10,000 follower accounts (benchmark 2) and a celebrity
followed by 990,000 minimal accounts, plus the 10,000 readers while benchmark 3
runs (1,000,000 followers).
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA_ROOT = HERE.parent / ".data"
PG_BASE = "postgres://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class Sizes:
    name: str
    accounts: int
    statuses: int
    mean_following: int
    celebrity_followers: int  # including the readers, who follow during benchmark 3
    celebrity_statuses: int
    fan_sizes: tuple[int, ...]
    feed_items: int = 800
    app_tokens: int = 100

    @property
    def extra_accounts(self) -> int:
        return max(self.celebrity_followers - self.accounts, max(self.fan_sizes))


FULL = Sizes("full", accounts=10_000, statuses=1_000_000, mean_following=100,
             celebrity_followers=1_000_000, celebrity_statuses=5_000,
             fan_sizes=(10, 1_000, 10_000))
QUICK = Sizes("quick", accounts=500, statuses=20_000, mean_following=30,
              celebrity_followers=20_000, celebrity_statuses=500, fan_sizes=(10, 1_000, 10_000))
PASSWORD = "bench password, not a secret"
WORDS = [
    "river", "lantern", "orbit", "maple", "quiet", "signal", "harbor", "meadow",
    "copper", "violet", "thunder", "garden", "pixel", "summit", "canyon", "ember",
    "willow", "falcon", "marble", "cedar", "ripple", "autumn", "beacon", "glacier",
    "prairie", "velvet", "compass", "saffron", "tundra", "nebula", "orchard",
    "cobalt", "the", "a", "of", "and", "to", "in", "is", "it", "for", "on", "with",
    "as", "at", "by", "from", "this", "that", "we", "you", "they",
]


def configure(backend: str, sizes: Sizes, *, redis_db: int, rate_limits: bool = False) -> dict:
    """Set the TRIBUNE_* environment for ``backend`` (sqlite or postgres) and return
    it (the server is started with the same)."""
    data_dir = DATA_ROOT / f"{backend}-{sizes.name}"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {"TRIBUNE_DATA_DIR": str(data_dir), "TRIBUNE_RATE_LIMITS": "on" if rate_limits else "off",
           "TRIBUNE_LINK_PREVIEWS": "off", "DJANGO_SETTINGS_MODULE": "tribune.settings"}
    if backend == "postgres":
        env["TRIBUNE_DATABASE_URL"] = f"{PG_BASE}/{pg_name(sizes)}?pool_max=8"
        env["TRIBUNE_REDIS_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
    for key in ("TRIBUNE_DATABASE_URL", "TRIBUNE_REDIS_URL", "TRIBUNE_DOMAIN"):
        os.environ.pop(key, None)
    os.environ.update(env)
    return env


def pg_name(sizes: Sizes) -> str:
    return f"tribune_bench_{sizes.name}"


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def pg_exists(sizes: Sizes) -> bool:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [pg_name(sizes)]).fetchone() is not None


def meta_path(backend: str, sizes: Sizes) -> Path:
    return DATA_ROOT / f"{backend}-{sizes.name}" / "generated.json"


def load_meta(backend: str, sizes: Sizes) -> dict | None:
    path = meta_path(backend, sizes)
    if not path.exists():
        return None
    meta = json.loads(path.read_text())
    if meta.get("sizes") != json.loads(json.dumps(asdict(sizes))):
        return None
    if backend == "postgres" and not pg_exists(sizes):
        return None
    return meta


# --- bulk writing ---------------------------------------------------------------

class Writer:
    """Bulk rows into one model's table: every concrete column not given takes the
    field's default (so columns added by later migrations need no change here)."""

    def __init__(self, model, given: list[str]):
        from django.db import connection
        from django.db.models import AutoField, BigAutoField

        self.connection = connection
        self.table = model._meta.db_table
        self.given = given
        self.columns: list[str] = list(given)
        self.constants: list = []
        by_name = {f.attname: f for f in model._meta.concrete_fields}
        for name in given:
            assert name in by_name, (model, name)
        for f in model._meta.concrete_fields:
            if f.attname in given or isinstance(f, AutoField | BigAutoField):
                continue
            default = f.get_default()
            if f.primary_key:
                raise ValueError(f"{self.table}.{f.column} must be given")
            self.columns.append(f.column)
            self.constants.append(f.get_db_prep_save(default, connection))
        self.given_columns = [by_name[n].column for n in given]
        self.columns = self.given_columns + self.columns[len(given):]
        self.sqlite = connection.vendor == "sqlite"

    def write(self, rows) -> int:
        """Insert ``rows`` (tuples in the order of ``given``); returns the count."""
        constants = tuple(self.constants)
        count = 0
        if self.sqlite:
            raw = self.connection.connection
            marks = ",".join("?" * len(self.columns))
            sql = f'INSERT INTO "{self.table}" ({",".join(self.columns)}) VALUES ({marks})'

            def full():
                nonlocal count
                for row in rows:
                    count += 1
                    yield tuple(row) + constants

            raw.executemany(sql, full())
            return count
        with self.connection.cursor() as cursor:
            sql = f'COPY "{self.table}" ({",".join(self.columns)}) FROM STDIN'
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(tuple(row) + constants)
                    count += 1
        return count


def db_time(value: datetime):
    """A datetime as this database's driver takes it in bulk (SQLite: Django's text)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        return value.replace(tzinfo=None).isoformat(" ")
    return value


def step(label: str, started: list[float]) -> None:
    now = time.monotonic()
    print(f"  {label}: {now - started[0]:.1f} s", flush=True)
    started[0] = now


# --- generation -----------------------------------------------------------------

def generate(backend: str, sizes: Sizes, *, seed: int = 2026) -> dict:
    """Create the instance from nothing (the database is emptied first) and return
    its description, also written to generated.json."""
    import django
    from django.core.management import call_command

    if backend == "postgres":
        pg_admin(f"DROP DATABASE IF EXISTS {pg_name(sizes)}")
        pg_admin(f"CREATE DATABASE {pg_name(sizes)}")
    else:
        for suffix in ("", "-wal", "-shm"):
            (Path(os.environ["TRIBUNE_DATA_DIR"]) / f"tribune.sqlite3{suffix}").unlink(missing_ok=True)
    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection, transaction

    started_all = time.monotonic()
    clock = [time.monotonic()]
    rng = np.random.default_rng(seed)
    pyrng = random.Random(seed)
    now = datetime.now(tz=UTC).replace(microsecond=0)
    print(f"generating the {sizes.name} instance on {backend}", flush=True)
    with connection.cursor() as c:
        if connection.vendor == "sqlite":
            c.execute("PRAGMA synchronous=OFF")
            c.execute("PRAGMA cache_size=-400000")
        else:
            # Rows are consistent by construction: no per-row foreign-key triggers.
            c.execute("SET session_replication_role = replica")
            c.execute("SET synchronous_commit = off")
            c.execute("SET maintenance_work_mem = '512MB'")

    n = sizes.accounts
    following = follow_graph(rng, n, sizes.mean_following)
    step(f"follow graph ({sum(len(f) for f in following):,} follows)", clock)

    # Statuses: times uniform over 30 days; authors weighted log-normally.
    weights = rng.lognormal(0.0, 1.0, n)
    authors = rng.choice(n, size=sizes.statuses, p=weights / weights.sum())
    span = 30 * 86400
    offsets = np.sort(rng.uniform(0, span, sizes.statuses + sizes.celebrity_statuses))
    start = now - timedelta(seconds=span)
    times = [start + timedelta(seconds=float(o)) for o in offsets]
    ids = status_ids(times)
    # Celebrity posts are spread among the others.
    celeb_slots = set(rng.choice(len(ids), size=sizes.celebrity_statuses, replace=False).tolist())
    step("status ids", clock)

    from django.contrib.auth import get_user_model

    from tribune.accounts.models import Account
    from tribune.graph.models import Follow
    from tribune.oauth.services import (
        application_create,
        cli_application_get_or_create,
        token_create,
    )
    from tribune.statuses.models import Status

    User = get_user_model()
    named = ["celebrity", *(f"fan{size}" for size in sizes.fan_sizes)]
    # Account and follow ids are made for times in the 60 days before: new_id()
    # without a time may take a shared counter from Redis, a round trip per id.
    made = spread_ids(n + len(named) + sizes.extra_accounts, now - timedelta(days=60), now)
    main_ids = made[:n]
    named_ids = dict(zip(named, made[n:n + len(named)], strict=True))
    extra_ids = made[n + len(named):]
    main_posts = np.bincount(authors, minlength=n)
    celeb_id = named_ids["celebrity"]
    last_post: dict[int, datetime] = {}
    author_ids = np.array(main_ids, dtype=np.int64)[authors]
    status_author = []
    it = iter(author_ids.tolist())
    for index in range(len(ids)):
        account = celeb_id if index in celeb_slots else next(it)
        status_author.append(account)
        last_post[account] = times[index]
    followers_of = np.zeros(n, dtype=np.int64)
    for targets in following:
        followers_of[targets] += 1

    with transaction.atomic():
        created = db_time(now - timedelta(days=60))
        user_rows = []
        usernames = [f"reader{i}" for i in range(n)] + named
        for i, name in enumerate(usernames, start=1):
            user_rows.append((i, "!", name, f"{name}@bench.test", True, created))
        Writer(User, ["id", "password", "username", "email", "is_active", "date_joined"]).write(user_rows)
        if connection.vendor == "postgresql":
            with connection.cursor() as c:
                c.execute("SELECT setval(pg_get_serial_sequence('auth_user', 'id'), "
                          "(SELECT max(id) FROM auth_user))")
        active = db_time(now)
        fields = ["id", "user_id", "username", "display_name", "created_at", "active_at",
                  "statuses_count", "followers_count", "following_count", "last_status_at"]
        writer = Writer(Account, fields)

        def account_rows():
            for i, aid in enumerate(main_ids):
                last = last_post.get(aid)
                yield (aid, i + 1, f"reader{i}", f"Reader {i}", created, active, int(main_posts[i]),
                       int(followers_of[i]), len(following[i]), db_time(last) if last else None)
            for j, name in enumerate(named):
                aid = named_ids[name]
                count = (sizes.celebrity_followers if name == "celebrity"
                         else int(name.removeprefix("fan")))
                posts = sizes.celebrity_statuses if name == "celebrity" else 0
                last = last_post.get(aid)
                yield (aid, n + j + 1, name, name.title(), created, active, posts, count, 0,
                       db_time(last) if last else None)
            fans = max(sizes.fan_sizes)
            for k, aid in enumerate(extra_ids):
                yield (aid, None, f"follower{k}", "", created, active if k < fans else None,
                       0, 0, 1, None)

        writer.write(account_rows())
        step(f"{n + len(named) + len(extra_ids):,} accounts", clock)

        follow_writer = Writer(Follow, ["id", "account_id", "target_id", "created_at"])

        total = (sum(len(t) for t in following) + sum(sizes.fan_sizes)
                 + sizes.celebrity_followers - n)
        follow_ids = iter(spread_ids(total, now - timedelta(days=60), now))

        def follow_rows():
            for i, targets in enumerate(following):
                for t in targets.tolist():
                    yield (next(follow_ids), main_ids[i], main_ids[t], created)
            for size in sizes.fan_sizes:
                target = named_ids[f"fan{size}"]
                for aid in extra_ids[:size]:
                    yield (next(follow_ids), aid, target, created)
            for aid in extra_ids[: sizes.celebrity_followers - n]:
                yield (next(follow_ids), aid, celeb_id, created)

        count = follow_writer.write(follow_rows())
        step(f"{count:,} follows", clock)

        texts = [" ".join(pyrng.choices(WORDS, k=pyrng.randint(8, 40))) for _ in range(997)]
        status_writer = Writer(Status, ["id", "account_id", "text", "content", "language",
                                        "visibility", "thread_id", "created_at"])

        def status_rows():
            for index, (sid, at) in enumerate(zip(ids, times, strict=True)):
                text = f"Post {index}: {texts[index % 997]}"
                yield (sid, status_author[index], text, f"<p>{text}</p>", "en", "public",
                       sid, db_time(at))

        count = status_writer.write(status_rows())
        step(f"{count:,} statuses", clock)

        app = cli_application_get_or_create()
        users = {u.username: u for u in User.objects.filter(username__in=usernames)}
        reader_tokens = [token_create(user=users[f"reader{i}"], application=app,
                                      scopes=["read", "write", "follow"]) for i in range(n)]
        named_tokens = {name: token_create(user=users[name], application=app,
                                           scopes=["read", "write", "follow"]) for name in named}
        app_tokens = []
        for k in range(sizes.app_tokens):
            client, _ = application_create(name=f"Bench app {k}", redirect_uris="urn:ietf:wg:oauth:2.0:oob",
                                           scopes="read write follow push")
            app_tokens.append(token_create(user=None, application=client, scopes=["write:accounts"]))
        step("tokens", clock)

    feeds = compute_feeds(np.array(ids, dtype=np.int64),
                          np.array(status_author, dtype=np.int64), main_ids, following,
                          sizes.feed_items)
    step("feeds computed", clock)
    if backend == "sqlite":
        from tribune.timelines.models import FeedEntry
        from tribune.timelines.services import feeds_restamp

        # Recorded as the store holding the current feeds, or the server would
        # find no stamp as it starts, forget them all and rebuild them.
        feeds_restamp()
        with transaction.atomic():
            writer = Writer(FeedEntry, ["account_id", "status_id", "reblog_of_id"])
            count = writer.write((aid, sid, None) for aid, feed in zip(main_ids, feeds, strict=True)
                                 for sid in feed)
        step(f"{count:,} feed entries", clock)
        with connection.cursor() as c:
            c.execute("ANALYZE")
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with connection.cursor() as c:
            c.execute("SET session_replication_role = origin")
            c.execute("VACUUM ANALYZE")
    step("analyze", clock)

    floor_accounts = [aid for i, aid in enumerate(main_ids) if main_posts[i] >= 20]
    meta = {
        "sizes": asdict(sizes), "backend": backend, "generated_at": now.isoformat(),
        "generation_seconds": round(time.monotonic() - started_all, 1),
        "main_ids": main_ids, "reader_tokens": reader_tokens,
        "named_ids": named_ids, "named_tokens": named_tokens, "app_tokens": app_tokens,
        "fan_followers": {str(size): extra_ids[:size] for size in sizes.fan_sizes},
        "floor_accounts": floor_accounts,
        "follows": sum(len(f) for f in following),
        "max_followers": int(followers_of.max()),
        "statuses": len(ids),
    }
    meta_path(backend, sizes).write_text(json.dumps(meta))
    if backend == "postgres":
        fill_redis_feeds(meta, feeds)
    print(f"generated in {meta['generation_seconds']:.0f} s", flush=True)
    return meta


def follow_graph(rng, n: int, mean: int) -> list[np.ndarray]:
    """For each account, the indexes it follows: out-degrees log-normal around
    ``mean`` (5 to 20x mean), targets Zipf(s=1) over a random popularity order."""
    order = rng.permutation(n)
    p = 1.0 / np.arange(1, n + 1)
    p /= p.sum()
    popularity = np.empty(n)
    popularity[order] = p
    degrees = np.clip(rng.lognormal(np.log(mean) - 0.32, 0.8, n).astype(int), 5, min(20 * mean, n - 1))
    result = []
    for i in range(n):
        want = int(degrees[i])
        picks = rng.choice(n, size=want * 3, p=popularity)
        _, first = np.unique(picks, return_index=True)
        picks = picks[np.sort(first)]
        picks = picks[picks != i][:want]
        result.append(picks)
    return result


def status_ids(times: list[datetime]) -> list[int]:
    """``new_id(at=...)`` for each time (sorted), made strictly increasing (an id
    that collides with or undercuts its predecessor in the same millisecond moves
    up by one: still an id of that millisecond)."""
    from tribune.core.ids import new_id

    ids = [new_id(at) for at in times]
    for k in range(1, len(ids)):
        if ids[k] <= ids[k - 1]:
            ids[k] = ids[k - 1] + 1
    return ids


def spread_ids(count: int, start: datetime, end: datetime) -> list[int]:
    """``count`` increasing ids for times spread evenly from ``start`` to ``end``."""
    step = (end - start) / max(count, 1)
    return status_ids([start + step * k for k in range(count)])


def compute_feeds(ids: np.ndarray, authors: np.ndarray, main_ids: list[int],
                  following: list[np.ndarray], keep: int) -> list[list[int]]:
    """Each reader's home feed as fan-out would have made it: the newest ``keep``
    statuses of the accounts it follows and its own, newest first."""
    order = np.argsort(authors, kind="stable")
    sorted_authors = authors[order]
    by_author: dict[int, np.ndarray] = {}
    bounds = np.flatnonzero(np.diff(sorted_authors)) + 1
    for chunk in np.split(order, bounds):
        if len(chunk):
            by_author[int(authors[chunk[0]])] = np.sort(ids[chunk])[::-1][:keep]
    empty = np.zeros(0, dtype=np.int64)
    feeds = []
    for i, aid in enumerate(main_ids):
        parts = [by_author.get(aid, empty)] + [by_author.get(main_ids[t], empty) for t in following[i]]
        merged = np.concatenate(parts)
        if len(merged) > keep:
            merged = np.partition(merged, len(merged) - keep)[-keep:]
        feeds.append(np.sort(merged)[::-1].tolist())
    return feeds


def feeds_from_database(meta: dict) -> list[list[int]]:
    """The readers' home feeds computed again from the database (to refill Redis)."""
    from tribune.graph.models import Follow
    from tribune.statuses.models import Status

    main_ids = meta["main_ids"]
    index = {aid: i for i, aid in enumerate(main_ids)}
    rows = np.array(list(Status.objects.filter(account_id__in=main_ids)
                         .values_list("id", "account_id").iterator(chunk_size=50_000)), dtype=np.int64)
    following: list[list[int]] = [[] for _ in main_ids]
    celeb = meta["named_ids"]["celebrity"]
    for a, t in Follow.objects.filter(account_id__in=main_ids).exclude(target_id=celeb) \
            .values_list("account_id", "target_id").iterator(chunk_size=50_000):
        if t in index:
            following[index[a]].append(index[t])
    return compute_feeds(rows[:, 0], rows[:, 1], main_ids,
                         [np.array(f, dtype=np.int64) for f in following], meta["sizes"]["feed_items"])


def redis_marker(meta: dict) -> str:
    return f"{meta['backend']}-{meta['sizes']['name']}-{meta['generated_at']}"


def fill_redis_feeds(meta: dict, feeds: list[list[int]] | None = None) -> None:
    """Empty this benchmark's Redis database and write every reader's feed with the
    feed store's ``add_many``, unless it already holds this instance's feeds."""
    from tribune.core.redis import redis_client
    from tribune.timelines.feeds import RedisFeedStore

    client = redis_client()
    if (client.get("bench:generated") or b"").decode() == redis_marker(meta):
        return
    from tribune.timelines.services import feeds_restamp

    clock = [time.monotonic()]
    client.flushdb()
    feeds_restamp()  # recorded as the store holding the current feeds (see above)
    if feeds is None:
        feeds = feeds_from_database(meta)
        step("feeds computed from the database", clock)
    store = RedisFeedStore(client)
    for aid, feed in zip(meta["main_ids"], feeds, strict=True):
        store.add_many(account_id=aid, entries=[(sid, None) for sid in feed])
    client.set("bench:generated", redis_marker(meta))
    step(f"{sum(len(f) for f in feeds):,} feed entries in Redis", clock)
