"""Where a home timeline request spends its time, in one process, on the generated
instance of bench/scale (run the benchmark once first to generate it).

    uv run python bench/scale/profile_home.py --backend sqlite|postgres [--quick]
        [--requests 200] [--celebrity | --floor | --sign-up] [--top 25]
        [--skip-response-validation] [--warm]

Sends home timeline requests (or floor requests, or sign-ups) through Django's test
client (the whole middleware stack and the view, no HTTP server), prints the mean
wall time, the mean number of SQL queries and the time spent in them, the queries of
one request and the slowest ones, the share of the main parts, and cProfile's top
functions. ``--skip-response-validation`` is an experiment, not a change: it shows
what the request costs when django-ninja does not re-validate the presenters' dicts.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import time

import instance

PARTS = [  # (label, file, function) whose cumulative time is shown as a share
    ("view: home_timeline_ids (feed page, celebrity merge)", "timelines/selectors.py",
     "home_timeline_ids"),
    ("  of which _celebrity_ids (merged at read time)", "timelines/selectors.py", "_celebrity_ids"),
    ("  of which hidden_account_ids (blocks, mutes)", "graph/selectors.py", "hidden_account_ids"),
    ("  of which the feed store's page", "timelines/feeds.py", "page"),
    ("view: entities.load (versions, cache, misses)", "api/entities.py", "load"),
    ("  of which statuses_by_ids (misses)", "statuses/selectors.py", "statuses_by_ids"),
    ("view: entities.statuses_json (viewer state, assembly)", "api/entities.py", "statuses_json"),
    ("  of which ViewerState.for_ids", "statuses/selectors.py", "for_ids"),
    ("rendering JSON", "ninja/main.py", "create_response"),
    ("ninja: authentication (token lookup, account_seen)", "ninja/operation.py", "_run_authentication"),
    ("  of which account_seen", "timelines/services.py", "account_seen"),
    ("Django ORM: compiling SQL (as_sql)", "sql/compiler.py", "as_sql"),
    ("database driver: executing SQL", "backends/utils.py", "_execute"),
]


def skip_response_validation() -> None:
    """An experiment, not a change: have django-ninja render a view's plain dicts
    and lists as they are, without validating them against the response schema
    (the presenters already build the Mastodon entities)."""
    from ninja.operation import Operation
    from ninja.responses import Status

    original = Operation._result_to_response

    def render(self, request, result, temporal_response):
        if isinstance(result, Status):
            temporal_response.status_code = result.status_code
            result = result.value
        if isinstance(result, list | dict):
            return self.api.create_response(request, result, temporal_response=temporal_response)
        return original(self, request, result, temporal_response)

    Operation._result_to_response = render


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--celebrity", action="store_true", help="readers follow the celebrity")
    parser.add_argument("--floor", action="store_true", help="profile the floor view instead")
    parser.add_argument("--sign-up", action="store_true",
                        help="profile POST /api/v1/accounts (an app token) instead")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--warm", action="store_true",
                        help="send every request once before measuring (a warm entity cache)")
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--skip-response-validation", action="store_true",
                        help="experiment: render the view's dicts without ninja's re-validation")
    args = parser.parse_args()
    sizes = instance.QUICK if args.quick else instance.FULL
    instance.configure(args.backend, sizes, redis_db=args.redis_db)
    import os

    os.environ["TRIBUNE_BENCHMARK_FLOOR"] = "on"
    meta = instance.load_meta(args.backend, sizes)
    if meta is None:
        raise SystemExit("no generated instance: run bench/scale/run.py first")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from run import set_celebrity_follows

    if args.celebrity:
        set_celebrity_follows(meta, True)
    if args.skip_response_validation:
        skip_response_validation()
    client = Client(HTTP_HOST="127.0.0.1:8000")
    tokens = random.sample(meta["reader_tokens"], min(args.requests, len(meta["reader_tokens"])))

    run = f"{random.randrange(36**4):04x}"
    signed_up = iter(range(10**9))

    def one(token: str):
        if args.sign_up:
            name = f"p{run}n{next(signed_up)}"
            return client.post("/api/v1/accounts", json.dumps({
                "username": name, "email": f"{name}@bench.test", "password": instance.PASSWORD,
                "agreement": True}), content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {meta['app_tokens'][0]}")
        if args.floor:
            account = random.choice(meta["floor_accounts"])
            return client.get("/_bench/floor", {"account": account, "bytes": 33000})
        return client.get("/api/v1/timelines/home", {"limit": 20},
                          HTTP_AUTHORIZATION=f"Bearer {token}")

    try:
        for token in (tokens if args.warm else tokens[:20]):
            one(token)  # warm caches
        walls, counts, sql = [], [], []
        sample: list[tuple[float, str]] = []
        slowest: dict[str, float] = {}
        spent = [0.0]

        def timed(execute, sql_text, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql_text, params, many, context)
            finally:
                took = time.perf_counter() - started
                spent[0] += took
                slowest[sql_text] = max(slowest.get(sql_text, 0.0), took)
                if first[0]:
                    sample.append((took, sql_text))

        first = [True]
        for token in tokens:
            spent[0] = 0.0
            with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(timed):
                started = time.perf_counter()
                response = one(token)
                walls.append(time.perf_counter() - started)
            assert response.status_code == 200, (response.status_code, response.content[:200])
            counts.append(len(queries))
            sql.append(spent[0])
            first[0] = False
        print(f"{len(walls)} requests: wall {statistics.mean(walls) * 1000:.1f} ms mean, "
              f"{statistics.median(walls) * 1000:.1f} ms median; {statistics.mean(counts):.1f} "
              f"queries taking {statistics.mean(sql) * 1000:.1f} ms "
              f"({statistics.mean(sql) / statistics.mean(walls):.0%} of the wall time); "
              f"{len(response.content)} bytes")
        print("queries of one request:")
        for took, text in sample:
            print(f"  {took * 1000:6.1f} ms  {text[:150]}")
        print("slowest queries (the worst time of each):")
        for text, took in sorted(slowest.items(), key=lambda kv: -kv[1])[:5]:
            print(f"  {took * 1000:6.1f} ms  {text[:150]}")
        profile = cProfile.Profile()
        profile.enable()
        for token in tokens:
            one(token)
        profile.disable()
        stats = pstats.Stats(profile)
        total = sum(tt for (_, _, tt, _, _) in stats.stats.values())
        print(f"profiled: {total:.2f} s over {len(tokens)} requests; cumulative share of:")
        for label, file_part, function in PARTS:
            cumulative = sum(ct for (filename, _, name), (_, _, _, ct, _) in stats.stats.items()
                             if file_part in filename and name == function)
            print(f"  {label:<58} {cumulative / total:6.1%}")
        stats.sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    finally:
        if args.celebrity:
            set_celebrity_follows(meta, False)


if __name__ == "__main__":
    main()
