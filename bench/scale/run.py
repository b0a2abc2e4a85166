"""The scale-out benchmarks (docs/adr/0011-scale-out.md), through the real server.

    uv run --extra hashing python bench/scale/run.py --backend sqlite|postgres [--quick] [--seconds S]

``sqlite`` is the embedded default (SQLite, the database feed store, django-tasks-db);
``postgres`` is PostgreSQL (database ``tribune_bench_<size>``, made here) with Redis
(``--redis-db``, 12 by default, emptied and filled here). The instance is generated
once (bench/scale/instance.py) and reused; ``--regenerate`` makes it anew and
``--drop`` removes it at the end (``--drop-only``: and runs nothing), that is the
PostgreSQL database and the Redis database, or the SQLite data dir. ``tribune serve`` is started as an operator would (2 web
workers x 4 threads, 1 task worker) and loaded by wrk over loopback. Every figure
comes with the floor it is compared with, measured in the same run:

1. home timeline reads (64 connections, bearer tokens rotating over every reader)
   against ``/_bench/floor`` (TRIBUNE_BENCHMARK_FLOOR: one indexed query, a JSON
   body of the same size), alternating rounds;
2. POST /api/v1/statuses by authors with 10, 1,000 and 10,000 followers (2
   connections pacing 300 ms, twice the phase length): latency,
   then the time until a post is in every follower's feed, beside the raw
   bulk-insert (SQLite) or pipelined ZADD (Redis) time for as many entries;
3. a celebrity with 1,000,000 followers: POST latency, and home reads of the same
   readers following it and not, in alternate rounds;
4. sign-ups through POST /api/v1/accounts against the raw Argon2id rate of the same
   parameters on every core; then, with rate limits on, three times that rate from
   many addresses (bench/scale/surge.py) while benchmark 1's reads run;
5. the peak resident memory (VmHWM) of every server process after benchmark 1.

Results are printed and written to bench/.data/results-<backend>-<size>.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import instance
import requests

HERE = Path(__file__).resolve().parent
LUA = HERE / "load.lua"
READ_CONNECTIONS = 64
WEB_WORKERS = 2
POST_CONNECTIONS = 2
POST_DELAY_MS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the server -------------------------------------------------------------------

class Server:
    """``tribune serve`` in its own process group, with the benchmark environment."""

    def __init__(self, env: dict, *, rate_limits: bool):
        self.port = free_port()
        self.env = {**os.environ, **env, "TRIBUNE_BENCHMARK_FLOOR": "on",
                    "TRIBUNE_RATE_LIMITS": "on" if rate_limits else "off"}
        self.env.pop("TRIBUNE_DOMAIN", None)
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.log = open(Path(self.env["TRIBUNE_DATA_DIR"]) / "serve.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tribune.cli", "serve", "--port", str(self.port),
             "--workers", str(WEB_WORKERS)],
            env=self.env, stdout=self.log, stderr=self.log, process_group=0)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("tribune serve exited; see serve.log in the data dir")
            try:
                if requests.get(f"{self.base}/api/v1/instance", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("tribune serve did not answer within 120 s")

    def __exit__(self, *exc) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()

    def memory(self) -> list[dict]:
        """VmHWM and VmRSS (MiB) of serve and every process under it."""
        import psutil

        root = psutil.Process(self.process.pid)
        found = []
        for proc in [root, *root.children(recursive=True)]:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                cmd = " ".join(proc.cmdline())
            except (OSError, psutil.Error):
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            kib = {k: int(fields[k].split()[0]) for k in ("VmHWM", "VmRSS")}
            if "gunicorn" in cmd:
                role = ("gunicorn master" if proc.ppid() == self.process.pid
                        else "gunicorn worker")
            elif " worker" in cmd:
                # A child of an RQ worker: its scheduler, or the work horse of a job.
                role = "task worker" if proc.ppid() == self.process.pid else "task worker child"
            else:
                role = "tribune serve (supervisor)"
            found.append({"role": role, "pid": proc.pid, "peak_mib": round(kib["VmHWM"] / 1024, 1),
                          "rss_mib": round(kib["VmRSS"] / 1024, 1)})
        return found


# --- wrk ----------------------------------------------------------------------------

def lines_file(rows: list[tuple[str, str, str]]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False, dir=instance.DATA_ROOT) as handle:
        for row in rows:
            handle.write("\t".join(row) + "\n")
    return handle.name


def wrk(server: Server, lines: str, *, seconds: float, connections: int, method: str = "GET",
        delay_ms: int = 0, content_type: str = "", threads: int = 2) -> dict:
    """One wrk run; returns its BENCH summary with rps and ms figures added."""
    threads = min(threads, connections)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
           "--timeout", "10s", "-s", str(LUA), server.base, "--", method, lines,
           str(delay_ms), content_type, f"{random.randrange(36**3):x}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    found = [line for line in out.stdout.splitlines() if line.startswith("BENCH ")]
    if not found:
        raise RuntimeError(f"wrk printed no summary: {out.stdout}\n{out.stderr}")
    result = json.loads(found[-1][6:])
    seconds_run = result["duration_us"] / 1e6
    ok = sum(v for k, v in result["codes"].items() if k.startswith("2"))
    result.update({"rps": result["requests"] / seconds_run, "ok_rps": ok / seconds_run,
                   "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
                   "mean_bytes": result["bytes"] / max(result["requests"], 1)})
    return result


def show(label: str, r: dict) -> None:
    codes = ", ".join(f"{k}: {v}" for k, v in sorted(r["codes"].items()))
    errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
    print(f"  {label:<34} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.1f} ms  "
          f"p99 {r['p99_ms']:7.1f} ms  [{codes}{f', socket errors {errors}' if errors else ''}]",
          flush=True)


# --- the benchmarks -------------------------------------------------------------------

def home_lines(meta: dict) -> str:
    tokens = list(meta["reader_tokens"])
    random.shuffle(tokens)
    return lines_file([("/api/v1/timelines/home?limit=20", t, "") for t in tokens])


def response_size(server: Server, meta: dict, samples: int = 40) -> tuple[float, float]:
    """Mean body bytes and statuses of real home pages (a sample of readers)."""
    sizes, counts = [], []
    for token in random.sample(meta["reader_tokens"], samples):
        r = requests.get(f"{server.base}/api/v1/timelines/home", params={"limit": 20},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
        r.raise_for_status()
        sizes.append(len(r.content))
        counts.append(len(r.json()))
    return statistics.mean(sizes), statistics.mean(counts)


def floor_lines(meta: dict, size: float) -> str:
    accounts = list(meta["floor_accounts"])
    random.shuffle(accounts)
    return lines_file([(f"/_bench/floor?account={a}&bytes={int(size)}", "-", "") for a in accounts])


def alternate(server: Server, rounds: list[tuple[str, str]], seconds: float) -> dict[str, list[dict]]:
    """Run wrk rounds in the given order (label, lines file); results by label."""
    results: dict[str, list[dict]] = {}
    for label, lines in rounds:
        r = wrk(server, lines, seconds=seconds, connections=READ_CONNECTIONS)
        show(label, r)
        results.setdefault(label, []).append(r)
    return results


def summary(runs: list[dict]) -> dict:
    return {"rps": statistics.mean(r["ok_rps"] for r in runs),
            "p50_ms": statistics.mean(r["p50_ms"] for r in runs),
            "p99_ms": statistics.mean(r["p99_ms"] for r in runs),
            "non_2xx": sum(r["requests"] - sum(v for k, v in r["codes"].items() if k.startswith("2"))
                           for r in runs),
            "mean_bytes": statistics.mean(r["mean_bytes"] for r in runs)}


def warm_every_reader(server: Server, meta: dict, threads: int = 16) -> None:
    """Read every reader's home page once, so the rounds measure a server that has
    been running (its processes' entity caches warm; docs/adr/0013), not the first
    minutes after a start, whose cost depends on how long the warm-up lasts."""
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    local = threading.local()

    def one(token: str) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        session.get(f"{server.base}/api/v1/timelines/home", params={"limit": 20},
                    headers={"Authorization": f"Bearer {token}"}, timeout=60).raise_for_status()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, meta["reader_tokens"]))
    print(f"  every reader's page read once to warm up: {len(meta['reader_tokens']):,} in "
          f"{time.monotonic() - started:.0f} s", flush=True)


def bench_reads(server: Server, meta: dict, seconds: float) -> dict:
    print("1. home timeline reads against the floor", flush=True)
    home = home_lines(meta)
    warm_every_reader(server, meta)
    wrk(server, home, seconds=max(5, seconds / 2), connections=READ_CONNECTIONS)  # warm-up
    size, statuses = response_size(server, meta)
    floor = floor_lines(meta, size)
    wrk(server, floor, seconds=3, connections=READ_CONNECTIONS)
    runs = alternate(server, [("floor", floor), ("home", home)] * 2, seconds)
    out = {"response_bytes": size, "statuses_per_page": statuses,
           "floor": summary(runs["floor"]), "home": summary(runs["home"])}
    out["ratio"] = out["home"]["rps"] / out["floor"]["rps"]
    print(f"  home/floor throughput {out['ratio']:.2f} (target >= 0.5); page {size:.0f} bytes, "
          f"{statuses:.1f} statuses", flush=True)
    return out


def feed_holders(meta: dict, status_id: int, accounts: list[int]) -> int:
    """How many of ``accounts`` have ``status_id`` on their home feed."""
    if meta["backend"] == "sqlite":
        from tribune.timelines.models import FeedEntry

        return FeedEntry.objects.filter(status_id=status_id).count()
    from tribune.core.redis import redis_client

    pipe = redis_client().pipeline(transaction=False)
    for aid in accounts:
        pipe.zscore(f"feed:{aid}", str(status_id))
    return sum(1 for score in pipe.execute() if score is not None)


def wait_in_feeds(meta: dict, status_id: int, accounts: list[int], limit: float = 900) -> float:
    started = time.monotonic()
    while True:
        checked = time.monotonic()
        if feed_holders(meta, status_id, accounts) >= len(accounts):
            return time.monotonic() - started
        if checked - started > limit:
            return float("nan")
        # Poll often, but never spend more than a third of the time checking.
        time.sleep(max(0.02, 2 * (time.monotonic() - checked)))


def raw_insert(meta: dict, author: int, accounts: list[int]) -> float:
    """Seconds to write one entry on each of ``accounts``' feeds with no product
    code: one executemany INSERT in a transaction (SQLite) or one pipeline of ZADDs
    (Redis). Undone afterwards."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tribune.statuses.models import Status

    status = Status.objects.create(account_id=author, text="raw", content="<p>raw</p>",
                                   created_at=timezone.now())
    try:
        if meta["backend"] == "sqlite":
            started = time.perf_counter()
            with transaction.atomic():
                connection.connection.executemany(
                    "INSERT INTO timelines_feedentry (account_id, status_id, reblog_of_id) "
                    "VALUES (?, ?, NULL)", [(a, status.pk) for a in accounts])
            return time.perf_counter() - started
        from tribune.core.redis import redis_client

        client = redis_client()
        started = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        for aid in accounts:
            pipe.zadd(f"feed:{aid}", {str(status.pk): status.pk})
        pipe.execute()
        elapsed = time.perf_counter() - started
        pipe = client.pipeline(transaction=False)
        for aid in accounts:
            pipe.zrem(f"feed:{aid}", str(status.pk))
        pipe.execute()
        return elapsed
    finally:
        Status.objects.filter(pk=status.pk).delete()


def post(server: Server, token: str, text: str) -> int:
    r = requests.post(f"{server.base}/api/v1/statuses", data={"status": text},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
    r.raise_for_status()
    return int(r.json()["id"])


def bench_posts(server: Server, meta: dict, seconds: float) -> dict:
    print("2. posting with fan-out", flush=True)
    from tribune.statuses.models import Status

    out = {}
    # Warm-up: the first posts of a new server pay for what each process loads and
    # caches once, which is not the fan-out's cost (posts removed at the end).
    first = meta["sizes"]["fan_sizes"][0]
    wrk(server, lines_file([("/api/v1/statuses", meta["named_tokens"][f"fan{first}"],
                             "status=Warm-up+post+{n}")]),
        seconds=max(3, seconds / 4), connections=POST_CONNECTIONS, method="POST",
        delay_ms=POST_DELAY_MS, threads=1)
    for size in meta["sizes"]["fan_sizes"]:
        name = f"fan{size}"
        author, token = meta["named_ids"][name], meta["named_tokens"][name]
        audience = [author, *meta["fan_followers"][str(size)]]
        lines = lines_file([("/api/v1/statuses", token, "status=Bench+post+{n}")])
        r = wrk(server, lines, seconds=2 * seconds, connections=POST_CONNECTIONS, method="POST",
                delay_ms=POST_DELAY_MS, threads=1)
        ended = time.monotonic()
        show(f"POST, {size:,} followers", r)
        last = Status.objects.filter(account_id=author).order_by("-id").values_list("id", flat=True)[0]
        wait_in_feeds(meta, last, audience)
        backlog = time.monotonic() - ended
        started = time.monotonic()
        marker = post(server, token, f"Marker for {size} followers")
        wait_in_feeds(meta, marker, audience)
        delivered = time.monotonic() - started  # from sending the POST
        raw = raw_insert(meta, author, audience)
        print(f"  {size:>6,} followers: in every feed {delivered:.3f} s after the POST "
              f"(backlog of the phase drained {backlog:.1f} s after it); raw "
              f"{'INSERT' if meta['backend'] == 'sqlite' else 'ZADD'} of {len(audience):,} "
              f"entries {raw:.3f} s ({len(audience) / raw:,.0f}/s)", flush=True)
        out[str(size)] = {"post": r, "posts": r["requests"], "p50_ms": r["p50_ms"],
                          "p99_ms": r["p99_ms"], "delivered_s": delivered, "backlog_s": backlog,
                          "raw_s": raw, "raw_per_s": len(audience) / raw}
    first, last = (str(s) for s in (meta["sizes"]["fan_sizes"][0], meta["sizes"]["fan_sizes"][-1]))
    out["p99_ratio"] = out[last]["p99_ms"] / out[first]["p99_ms"]
    print(f"  p99 {last} / p99 {first} followers: {out['p99_ratio']:.2f} (target <= 1.2)", flush=True)
    clean_fan_feeds(meta)
    remove_bench_posts(meta)
    return out


def remove_bench_posts(meta: dict) -> None:
    """Delete what the benchmarks posted (statuses of the named authors made after
    the instance was generated), so that reruns read the same timelines."""
    from datetime import datetime

    from tribune.statuses.models import Status

    Status.objects.filter(account_id__in=list(meta["named_ids"].values()),
                          created_at__gt=datetime.fromisoformat(meta["generated_at"])).delete()


def clean_fan_feeds(meta: dict) -> None:
    """Empty the feeds of benchmark 2's followers (they are nobody's readers)."""
    followers = meta["fan_followers"][str(max(meta["sizes"]["fan_sizes"]))]
    if meta["backend"] == "sqlite":
        from tribune.timelines.models import FeedEntry

        for start in range(0, len(followers), 900):
            FeedEntry.objects.filter(account_id__in=followers[start:start + 900])._raw_delete("default")
        return
    from tribune.core.redis import redis_client

    client = redis_client()
    for start in range(0, len(followers), 1000):
        client.delete(*[f"feed:{a}" for a in followers[start:start + 1000]])


def set_celebrity_follows(meta: dict, on: bool) -> None:
    """Make every reader follow the celebrity (benchmark 3), or not."""
    from django.db import transaction
    from django.utils import timezone

    from tribune.graph.models import Follow

    celebrity = meta["named_ids"]["celebrity"]
    with transaction.atomic():
        Follow.objects.filter(target_id=celebrity, account_id__in=meta["main_ids"]).delete()
        if on:
            now = timezone.now()
            ids = instance.spread_ids(len(meta["main_ids"]), now - timedelta(hours=1), now)
            Follow.objects.bulk_create([Follow(id=i, account_id=a, target_id=celebrity, created_at=now)
                                        for i, a in zip(ids, meta["main_ids"], strict=True)],
                                       batch_size=2000)


def bench_celebrity(server: Server, meta: dict, seconds: float, reads: dict) -> dict:
    print(f"3. a celebrity with {meta['sizes']['celebrity_followers']:,} followers", flush=True)
    from tribune.graph.models import Follow

    home = home_lines(meta)
    runs: dict[str, list[dict]] = {}
    followers = famous = 0
    size = 0.0
    # The same readers with and without the celebrity, alternating.
    for following in (True, False, True, False):
        set_celebrity_follows(meta, following)
        label = "home, following the celebrity" if following else "home, not following it"
        if following and not runs:
            followers = Follow.objects.filter(target_id=meta["named_ids"]["celebrity"]).count()
            size, _ = response_size(server, meta)
            page = requests.get(f"{server.base}/api/v1/timelines/home", params={"limit": 20},
                                headers={"Authorization": f"Bearer {meta['reader_tokens'][0]}"},
                                timeout=30).json()
            famous = sum(1 for s in page if s["account"]["username"] == "celebrity")
            wrk(server, home, seconds=3, connections=READ_CONNECTIONS)
        r = wrk(server, home, seconds=seconds, connections=READ_CONNECTIONS)
        show(label, r)
        runs.setdefault(label, []).append(r)
    set_celebrity_follows(meta, False)
    # Posting comes after reading, so the readers' pages show the celebrity's
    # generated posts, not a burst of benchmark posts.
    lines = lines_file([("/api/v1/statuses", meta["named_tokens"]["celebrity"], "status=Famous+{n}")])
    r = wrk(server, lines, seconds=2 * seconds, connections=POST_CONNECTIONS, method="POST",
            delay_ms=POST_DELAY_MS, threads=1)
    show(f"POST by the celebrity ({followers - len(meta['main_ids']):,})", r)
    remove_bench_posts(meta)
    out = {"followers": followers, "post": r, "post_p50_ms": r["p50_ms"], "post_p99_ms": r["p99_ms"],
           "response_bytes": size, "celebrity_statuses_on_a_page": famous,
           "home": summary(runs["home, following the celebrity"]),
           "home_not_following": summary(runs["home, not following it"])}
    out["cost_vs_not_following"] = out["home_not_following"]["rps"] / out["home"]["rps"]
    out["cost_vs_bench1"] = reads["home"]["rps"] / out["home"]["rps"]
    print(f"  {followers:,} followers; {famous} of the celebrity's posts on a reader's first page; "
          f"read cost {out['cost_vs_not_following']:.2f} of the same readers' without it in "
          f"alternate rounds ({out['cost_vs_bench1']:.2f} of benchmark 1's rounds) (target <= 1.3)",
          flush=True)
    return out


def _hash_worker(args: tuple[float, int]) -> int:
    seconds, _ = args
    from tribune.accounts.hashers import Argon2idPasswordHasher

    hasher = Argon2idPasswordHasher()
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        hasher.encode(instance.PASSWORD, hasher.salt())
        count += 1
    return count


def raw_hash_rate(seconds: float) -> dict:
    """Argon2id hashings per second on every core (one process per core), with the
    product's hasher and parameters."""
    cores = os.cpu_count() or 1
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        started = time.monotonic()
        counts = pool.map(_hash_worker, [(seconds, k) for k in range(cores)])
        elapsed = time.monotonic() - started
    return {"processes": cores, "hashes": sum(counts), "per_s": sum(counts) / elapsed}


def sign_up_lines(meta: dict, tokens: list[str]) -> str:
    body = json.dumps({"username": "s{n}", "email": "s{n}@bench.test",
                       "password": instance.PASSWORD, "agreement": True}, separators=(",", ":"))
    return lines_file([("/api/v1/accounts", t, body) for t in tokens])


def bench_sign_ups(server: Server, meta: dict, seconds: float) -> dict:
    print("4a. sign-ups against the raw password-hash rate", flush=True)
    raw = raw_hash_rate(min(seconds, 10))
    print(f"  raw Argon2id (m=19456, t=2, p=1) on {raw['processes']} processes: "
          f"{raw['per_s']:.1f} hashes/s", flush=True)
    lines = sign_up_lines(meta, meta["app_tokens"][:1])
    r = wrk(server, lines, seconds=seconds, connections=4, method="POST",
            content_type="application/json", threads=1)
    show("POST /api/v1/accounts", r)
    out = {"raw_hash": raw, "sign_ups": r, "sign_ups_per_s": r["ok_rps"],
           "ratio": r["ok_rps"] / raw["per_s"]}
    print(f"  sign-ups {r['ok_rps']:.1f}/s = {out['ratio']:.2f} of the raw hash rate "
          f"(target >= 0.8)", flush=True)
    return out


def bench_surge(server: Server, meta: dict, seconds: float, rate: float) -> dict:
    print(f"4b. surge at {rate:.0f} sign-ups/s with rate limits on, reads meanwhile", flush=True)
    home = home_lines(meta)
    wrk(server, home, seconds=3, connections=READ_CONNECTIONS)
    alone = wrk(server, home, seconds=seconds, connections=READ_CONNECTIONS)
    show("home alone (limits on)", alone)
    tokens = lines_file([(t, "", "") for t in meta["app_tokens"]])
    surge = subprocess.Popen([sys.executable, str(HERE / "surge.py"), "--port", str(server.port),
                              "--rate", f"{rate:.2f}", "--seconds", f"{seconds:g}",
                              "--tokens", tokens], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    during = wrk(server, home, seconds=seconds - 1, connections=READ_CONNECTIONS)
    results = json.loads(surge.communicate(timeout=seconds + 120)[0])
    show("home during the surge", during)
    answers = results["results"]
    total = len(answers)

    def share(test) -> float:
        return sum(1 for status, latency in answers if test(status, latency)) / total

    out = {"offered_per_s": rate, "requests": total, "sent_for_s": results["sent_for"],
           "created": share(lambda s, lat: s == 200),
           "refused_within_1s": share(lambda s, lat: s in (429, 503) and lat < 1),
           "refused_after_1s": share(lambda s, lat: s in (429, 503) and lat >= 1),
           "answered_429": share(lambda s, lat: s == 429), "answered_503": share(lambda s, lat: s == 503),
           "other": share(lambda s, lat: s not in (200, 429, 503)),
           "refused_p99_ms": _p99([lat for s, lat in answers if s in (429, 503)]),
           "created_p99_ms": _p99([lat for s, lat in answers if s == 200]),
           "home_alone": summary([alone]), "home_during": summary([during])}
    out["home_p99_ratio"] = out["home_during"]["p99_ms"] / out["home_alone"]["p99_ms"]
    print(f"  {total} sign-ups offered in {results['sent_for']:.1f} s: created {out['created']:.1%}, "
          f"429/503 within 1 s {out['refused_within_1s']:.1%}, after 1 s {out['refused_after_1s']:.1%}, "
          f"other {out['other']:.1%}; home p99 {out['home_alone']['p99_ms']:.0f} -> "
          f"{out['home_during']['p99_ms']:.0f} ms", flush=True)
    return out


def _p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


# --- main ---------------------------------------------------------------------------------

def prepare(backend: str, sizes: instance.Sizes, regenerate: bool) -> dict:
    import django

    meta = None if regenerate else instance.load_meta(backend, sizes)
    if meta is None:
        meta = instance.generate(backend, sizes)
    else:
        django.setup()
        if backend == "postgres":
            instance.fill_redis_feeds(meta)
    from django.utils import timezone

    from tribune.accounts.models import Account

    purge_tasks(meta)
    remove_bench_posts(meta)
    clean_fan_feeds(meta)
    # Everyone generated as active is active now: no feed rebuilds, no activity writes.
    Account.objects.filter(active_at__isnull=False).update(active_at=timezone.now())
    return meta


def purge_tasks(meta: dict) -> None:
    """Drop tasks left queued by an interrupted run, so that no worker is busy with
    them while the next run measures."""
    from django.conf import settings

    if meta["backend"] == "postgres":
        import django_rq

        for name in settings.TASK_QUEUES:
            django_rq.get_queue(name).empty()
        return
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status=TaskResultStatus.READY).delete()


def drop(backend: str, sizes: instance.Sizes) -> None:
    from django.db import connections

    if backend == "postgres":
        from tribune.core.redis import redis_client

        redis_client().flushdb()
        connections.close_all()
        instance.pg_admin(f"DROP DATABASE IF EXISTS {instance.pg_name(sizes)} WITH (FORCE)")
    else:
        connections.close_all()
    shutil.rmtree(instance.DATA_ROOT / f"{backend}-{sizes.name}", ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--quick", action="store_true", help="small instance, short phases")
    parser.add_argument("--seconds", type=float, help="length of each measured phase")
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--drop", action="store_true", help="remove the instance at the end")
    parser.add_argument("--only", default="1,2,3,4,5", help="benchmarks to run, e.g. 1,5")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--drop-only", action="store_true", help="only remove the instance")
    args = parser.parse_args()
    sizes = instance.QUICK if args.quick else instance.FULL
    seconds = args.seconds or (5 if args.quick else 20)
    only = set(args.only.split(","))
    env = instance.configure(args.backend, sizes, redis_db=args.redis_db)
    if args.drop_only:
        import django

        django.setup()
        drop(args.backend, sizes)
        return
    meta = prepare(args.backend, sizes, args.regenerate)
    if args.generate_only:
        return
    results: dict = {"backend": args.backend, "sizes": meta["sizes"], "seconds": seconds,
                     "machine": {"cpus": os.cpu_count(), "memory_gib": round(
                         os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
                     "instance": {k: meta[k] for k in ("follows", "max_followers", "statuses",
                                                        "generation_seconds")},
                     "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                     "load_average_at_start": os.getloadavg()}
    print(f"{args.backend}, {sizes.name} instance: {sizes.accounts:,} readers, "
          f"{meta['statuses']:,} statuses, {meta['follows']:,} follows "
          f"(most-followed reader: {meta['max_followers']:,}); {seconds:g} s phases", flush=True)
    try:
        with Server(env, rate_limits=False) as server:
            if "1" in only or "3" in only or "5" in only:
                results["reads"] = bench_reads(server, meta, seconds)
                results["memory"] = server.memory()
                print("5. peak memory after benchmark 1 (VmHWM)", flush=True)
                for proc in results["memory"]:
                    print(f"  {proc['role']:<28} pid {proc['pid']:>7}  peak {proc['peak_mib']:7.1f} MiB"
                          f"  now {proc['rss_mib']:7.1f} MiB", flush=True)
            if "3" in only:
                results["celebrity"] = bench_celebrity(server, meta, seconds, results["reads"])
            if "2" in only:
                results["posts"] = bench_posts(server, meta, seconds)
            if "4" in only:
                results["sign_ups"] = bench_sign_ups(server, meta, seconds)
        if "4" in only:
            with Server(env, rate_limits=True) as server:
                results["surge"] = bench_surge(server, meta, seconds,
                                               3 * results["sign_ups"]["sign_ups_per_s"])
    finally:
        for path in instance.DATA_ROOT.glob("tmp*.tsv"):
            path.unlink(missing_ok=True)
    results["load_average_at_end"] = os.getloadavg()
    partial = "" if only == {"1", "2", "3", "4", "5"} else "-only-" + "".join(sorted(only))
    out = instance.DATA_ROOT / f"results-{args.backend}-{sizes.name}{partial}.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"results in {out}")
    if args.drop:
        drop(args.backend, sizes)


if __name__ == "__main__":
    main()
