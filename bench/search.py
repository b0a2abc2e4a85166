"""Full-text search over statuses at scale: query latency through the selector.

Makes a fresh instance (a temporary SQLite data directory, or a PostgreSQL
database ``tribune_bench_search`` made anew), fills it with STATUSES statuses of
invented text (words drawn Zipf-like, s = 1.07, from a vocabulary of common
English and French words followed by made-up words, a fifth of them accented) by
ACCOUNTS authors weighted log-normally, 40% of them ``indexable``; visibility
70% public, 15% unlisted, 10% followers-only, 5% direct; one status in ten a
reply. The rows go in with ``bulk_create``: the index triggers fill the index as
they go. Then one searcher with typical interactions (300 posts of their own,
500 favourites, 100 bookmarks, 50 mentions, 20 blocks and mutes) runs, through
``search.selectors.status_search``, each kind of query ``--runs`` times:

* common: one of the 20 most frequent words;
* rare: a word of rank 5,000 to 20,000;
* two words: a common and a mid-frequency word;
* phrase: two adjacent words taken from a status;
* from: ``from:<a prolific author>`` and a common word;
* offset: a common word, the third page (offset 40);

and prints p50 and p99 in milliseconds, with the database's size. One more row
times the common query through ``GET /api/v2/search`` (Django's test client, in
process: the view, the presenters and the schema, no network).

    uv run python bench/search.py --backend sqlite [--quick]
    uv run python bench/search.py --backend postgres [--quick]

``--quick`` makes 50,000 statuses and 1,000 accounts.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

PG_BASE = "postgres://postgres@127.0.0.1:5432"
PG_NAME = "tribune_bench_search"

COMMON = ["the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "de", "la", "le", "et", "les", "des", "un", "une", "est", "pour", "on", "with", "for", "this", "are", "was", "en", "du", "dans", "qui", "pas", "au", "sur", "plus", "par"]
SYLLABLES = ["ba", "be", "bi", "bo", "bu", "ca", "ce", "ci", "co", "cu", "da", "de", "di", "do", "du", "fa", "fe", "fi", "fo", "ga", "ge", "go", "la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo", "mu", "na", "ne", "ni", "no", "nu", "pa", "pe", "pi", "po", "ra", "re", "ri", "ro", "ru", "sa", "se", "si", "so", "su", "ta", "te", "ti", "to", "tu", "va", "ve", "vi", "vo", "za", "zé", "è", "ça", "ô", "ï"]


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """COMMON first, then ``size`` made-up words of two to four syllables."""
    words = list(COMMON)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def setup_database(backend: str) -> None:
    if backend == "postgres":
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PG_NAME],
                       check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_NAME], check=True)
        os.environ["TRIBUNE_DATABASE_URL"] = f"{PG_BASE}/{PG_NAME}"
    else:
        os.environ.pop("TRIBUNE_DATABASE_URL", None)
    os.environ.pop("TRIBUNE_REDIS_URL", None)
    os.environ.update(TRIBUNE_DATA_DIR=tempfile.mkdtemp(prefix="tribune-bench-search-"),
                      DJANGO_SETTINGS_MODULE="tribune.settings")


def fill(*, statuses: int, accounts: int, rng: random.Random, words: list[str]):
    """The accounts and statuses; returns (accounts, status ids sample, texts sample)."""
    from django.db import transaction
    from django.utils import timezone

    from tribune.accounts.models import Account
    from tribune.core.ids import new_id
    from tribune.statuses.models import Status

    now = timezone.now()
    people = Account.objects.bulk_create([
        Account(username=f"author{i}", created_at=now, indexable=rng.random() < 0.4)
        for i in range(accounts)])
    weights = [rng.lognormvariate(0, 1.2) for _ in people]
    zipf = [1 / (rank + 1) ** 1.07 for rank in range(len(words))]
    cumulative_zipf = list(_accumulate(zipf))
    cumulative_authors = list(_accumulate(weights))
    visibilities = ["public"] * 14 + ["unlisted"] * 3 + ["private"] * 2 + ["direct"]
    start = now - timedelta(days=365)
    span = (now - start).total_seconds()
    moments = sorted(rng.random() * span for _ in range(statuses))
    made: list[int] = []
    samples: list[str] = []
    began = time.perf_counter()
    batch: list = []
    for i, offset in enumerate(moments):
        at = start + timedelta(seconds=offset)
        author = rng.choices(people, cum_weights=cumulative_authors)[0]
        text = " ".join(rng.choices(words, cum_weights=cumulative_zipf, k=rng.randint(6, 40)))
        reply_to = made[-rng.randint(1, min(len(made), 500))] if made and rng.random() < 0.1 else None
        status_id = new_id(at)
        batch.append(Status(id=status_id, account=author, text=text, content=f"<p>{text}</p>",
                            visibility=rng.choice(visibilities), created_at=at,
                            in_reply_to_id=reply_to, thread_id=reply_to or status_id,
                            language=rng.choice(["en", "fr"])))
        made.append(status_id)
        if i % 1000 == 0:
            samples.append(text)
        if len(batch) == 5000:
            with transaction.atomic():
                Status.objects.bulk_create(batch)
            batch = []
            if (i + 1) % 100_000 == 0:
                print(f"  {i + 1} statuses, {time.perf_counter() - began:.0f} s", flush=True)
    with transaction.atomic():
        Status.objects.bulk_create(batch)
    elapsed = time.perf_counter() - began
    print(f"fill: {statuses} statuses in {elapsed:.0f} s ({statuses / elapsed:.0f}/s, "
          "index triggers included)", flush=True)
    return people, weights, made, samples


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


def searcher_with_interactions(people, made, rng: random.Random):
    """A local account with 300 posts, 500 favourites, 100 bookmarks, 50 mentions,
    10 blocks and 10 mutes, made directly (set-up only)."""
    from django.utils import timezone

    from tribune.accounts.services import account_create
    from tribune.graph.models import Block, Mute
    from tribune.statuses.models import Bookmark, Favourite, Mention, Status

    searcher = account_create(username="searcher", email="searcher@example.test",
                              password="a-long-bench-passphrase", check_password=False)
    now = timezone.now()
    words = ["the", "of", "de", "la", "café", "élysée", "naïve"]
    from tribune.core.ids import new_id
    Status.objects.bulk_create([
        Status(id=new_id(now - timedelta(hours=i)), account=searcher,
               text=" ".join(rng.choices(words, k=8)), created_at=now - timedelta(hours=i),
               visibility="public")
        for i in range(300)])
    picks = rng.sample(made, 650)
    Favourite.objects.bulk_create([Favourite(account=searcher, status_id=s) for s in picks[:500]])
    Bookmark.objects.bulk_create([Bookmark(account=searcher, status_id=s)
                                  for s in picks[500:600]])
    Mention.objects.bulk_create([Mention(account=searcher, status_id=s) for s in picks[600:]])
    others = rng.sample(people, 20)
    Block.objects.bulk_create([Block(account=searcher, target=a) for a in others[:10]])
    Mute.objects.bulk_create([Mute(account=searcher, target=a) for a in others[10:]])
    return searcher


def database_size() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database()), "
                           "pg_total_relation_size('search_status')")
            total, index = cursor.fetchone()
        else:
            cursor.execute("PRAGMA page_size")
            page = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_count")
            total = page * cursor.fetchone()[0]
            cursor.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_status%'")
            index = cursor.fetchone()[0] or 0
    return f"database {total / 2**20:.0f} MiB, of which the index {index / 2**20:.0f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    statuses, accounts = (50_000, 1_000) if args.quick else (1_000_000, 10_000)
    setup_database(args.backend)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tribune.oauth.services import cli_application_get_or_create, token_create
    from tribune.search.selectors import status_search

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    rng = random.Random(20)
    words = vocabulary(20_000, rng)
    people, weights, made, samples = fill(statuses=statuses, accounts=accounts, rng=rng,
                                          words=words)
    searcher = searcher_with_interactions(people, made, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    prolific = [p.username for _w, p in sorted(zip(weights, people, strict=True),
                                               key=lambda pair: -pair[0])[:20]]

    def phrase() -> str:
        text = rng.choice(samples).split()
        at = rng.randrange(len(text) - 1)
        return f'"{text[at]} {text[at + 1]}"'

    kinds = {
        "common word": lambda: rng.choice(words[:20]),
        "rare word": lambda: rng.choice(words[5000:20000]),
        "two words": lambda: f"{rng.choice(words[:20])} {rng.choice(words[200:2000])}",
        "phrase": phrase,
        "from: + common word": lambda: f"from:{rng.choice(prolific)} {rng.choice(words[:20])}",
    }
    print(f"{statuses} statuses, {accounts} authors, {args.backend} "
          f"({connection.vendor}); {database_size()}")
    print(f"{'query':<24}{'p50 ms':>9}{'p99 ms':>9}{'results':>9}")

    def measure(label: str, make_query, offset: int = 0) -> None:
        samples_ms, found = [], 0
        for _ in range(args.runs):
            query = make_query()
            began = time.perf_counter()
            found += len(status_search(viewer=searcher, query=query, offset=offset, limit=20))
            samples_ms.append((time.perf_counter() - began) * 1000)
        print(f"{label:<24}{statistics.median(samples_ms):>9.1f}"
              f"{percentile(samples_ms, 99):>9.1f}{found / args.runs:>9.1f}", flush=True)

    for label, make_query in kinds.items():
        measure(label, make_query)
    measure("common word, offset 40", kinds["common word"], offset=40)

    token = token_create(user=searcher.user, application=cli_application_get_or_create(),
                         scopes=["read"])
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/api/v2/search", {"q": "the", "type": "statuses"})  # warm the process
    samples_ms = []
    for _ in range(max(10, args.runs // 4)):
        began = time.perf_counter()
        response = client.get("/api/v2/search", {"q": kinds["common word"](),
                                                 "type": "statuses"})
        samples_ms.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.content
    print(f"{'HTTP API, common word':<24}{statistics.median(samples_ms):>9.1f}"
          f"{percentile(samples_ms, 99):>9.1f}{len(response.json()['statuses']):>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
