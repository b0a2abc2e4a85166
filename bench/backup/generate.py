"""The generated instance of the backup benchmark, written straight into a freshly
migrated SQLite database (set-up only, not product code).

    TRIBUNE_DATA_DIR=... python bench/backup/generate.py ACCOUNTS STATUSES FOLLOWS FAVOURITES

Accounts with logins (one shared password hash); statuses over 60 days with
time-ordered ids, authors weighted log-normally, one in ten a reply; follows and
favourites drawn at random (no duplicates, no self-follows); every counter equal
to its rows, so a restore corrects none; one account in ten active within the
last week (their home feeds are rebuilt by a restore).
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribune.settings")

WORDS = ["river", "lantern", "orbit", "maple", "quiet", "signal", "harbor", "meadow",
         "copper", "violet", "thunder", "garden", "pixel", "summit", "canyon", "ember",
         "willow", "falcon", "marble", "cedar", "ripple", "autumn", "beacon", "glacier",
         "the", "a", "of", "and", "to", "in", "is", "it", "for", "on", "with", "as", "at",
         "by", "from", "this", "that", "we", "you", "they", "café", "über", "naïve"]


def _rows(model, count_overrides):
    """Row tuples for ``model``: its fields' defaults, with ``count_overrides``
    (an iterable of {column: value}) laid over them."""
    from django.db import connection

    fields = model._meta.local_concrete_fields
    columns = [f.column for f in fields]
    base = [None if f.primary_key else f.get_db_prep_save(f.get_default(), connection)
            for f in fields]
    index = {c: i for i, c in enumerate(columns)}
    for overrides in count_overrides:
        row = list(base)
        for column, value in overrides.items():
            row[index[column]] = value
        yield tuple(row)


def _insert(model, rows) -> None:
    from django.db import connection, transaction

    fields = model._meta.local_concrete_fields
    sql = (f'INSERT INTO "{model._meta.db_table}" ({", ".join(f.column for f in fields)}) '
           f'VALUES ({", ".join("?" * len(fields))})')
    with transaction.atomic():
        connection.ensure_connection()
        connection.connection.executemany(sql, rows)


def _when(moment: datetime) -> str:
    return str(moment.astimezone(UTC).replace(tzinfo=None))  # Django's SQLite form


def generate(accounts: int, statuses: int, follows: int, favourites: int) -> None:
    import django
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from django.contrib.auth.models import User

    from tribune.accounts.models import Account
    from tribune.graph.models import Follow
    from tribune.statuses.models import Favourite, Status

    rng = random.Random(2026)
    now = datetime.now(UTC)
    start = now - timedelta(days=60)
    started = time.monotonic()
    password = make_password("bench password, not a secret")
    ids = list(range(1, accounts + 1))
    _insert(User, _rows(User, ({
        "id": n, "password": password, "username": f"user{n}", "email": f"user{n}@example.test",
        "is_active": True, "date_joined": _when(start)} for n in ids)))

    # Statuses: time-ordered snowflake ids (milliseconds << 16), authors log-normal.
    weights = [rng.lognormvariate(0, 1.2) for _ in ids]
    authors = rng.choices(ids, weights=weights, k=statuses)
    span = (now - start).total_seconds() * 1000
    times = sorted(int(start.timestamp() * 1000 + rng.random() * span) for _ in range(statuses))
    status_ids = [(ms << 16) | (n & 0xFFFF) for n, ms in enumerate(times)]
    replies: dict[int, int] = {}
    parents: list[int | None] = []
    for n in range(len(status_ids)):
        parent = status_ids[rng.randrange(n)] if n and rng.random() < 0.1 else None
        parents.append(parent)
        if parent:
            replies[parent] = replies.get(parent, 0) + 1
    author_of = dict(zip(status_ids, authors, strict=True))

    favourite_pairs: set[tuple[int, int]] = set()
    while len(favourite_pairs) < favourites:
        favourite_pairs.add((rng.choice(ids), rng.choice(status_ids)))
    favourite_counts: dict[int, int] = {}
    for _, sid in favourite_pairs:
        favourite_counts[sid] = favourite_counts.get(sid, 0) + 1

    def status_rows():
        for n, sid in enumerate(status_ids):
            words = " ".join(rng.choices(WORDS, k=rng.randint(5, 40)))
            parent = parents[n]
            yield {"version": rng.getrandbits(62), "id": sid, "account_id": author_of[sid],
                   "text": words, "content": f"<p>{words}</p>", "language": "en",
                   "in_reply_to_id": parent, "thread_id": parent or sid,
                   "in_reply_to_account_id": author_of[parent] if parent else None,
                   "created_at": _when(datetime.fromtimestamp((sid >> 16) / 1000, UTC)),
                   "replies_count": replies.get(sid, 0),
                   "favourites_count": favourite_counts.get(sid, 0)}

    follow_pairs: set[tuple[int, int]] = set()
    while len(follow_pairs) < follows:
        a, b = rng.choice(ids), rng.choice(ids)
        if a != b:
            follow_pairs.add((a, b))
    followers: dict[int, int] = {}
    following: dict[int, int] = {}
    for a, b in follow_pairs:
        following[a] = following.get(a, 0) + 1
        followers[b] = followers.get(b, 0) + 1
    posted: dict[int, int] = {}
    for author in authors:
        posted[author] = posted.get(author, 0) + 1

    _insert(Account, _rows(Account, ({
        "version": rng.getrandbits(62), "id": n, "user_id": n, "username": f"user{n}",
        "display_name": f"User {n}", "created_at": _when(start),
        "active_at": _when(now - timedelta(days=rng.uniform(0, 7) if n % 10 == 0 else 60)),
        "statuses_count": posted.get(n, 0), "followers_count": followers.get(n, 0),
        "following_count": following.get(n, 0)} for n in ids)))
    _insert(Status, _rows(Status, status_rows()))

    pair_ids = iter(range(1, 10**9))
    _insert(Follow, _rows(Follow, ({
        "id": next(pair_ids), "account_id": a, "target_id": b, "created_at": _when(start)}
        for a, b in sorted(follow_pairs))))
    _insert(Favourite, _rows(Favourite, ({
        "id": next(pair_ids), "account_id": a, "status_id": s, "created_at": _when(now)}
        for a, s in sorted(favourite_pairs))))
    print(f"generated in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    generate(*(int(a) for a in sys.argv[1:5]))
