"""Throughput of the embedded default through the real server.

Starts `tribune serve` (SQLite, database task queue, rate limits off) in a fresh data
directory on a free loopback port, makes accounts that follow each other, then for a
fixed time per phase has N client threads post statuses and read home timelines.
Prints requests per second and latency percentiles per phase, and how long fan-out
took to reach the followers.

    uv run python bench/api_throughput.py [--threads 8] [--seconds 15] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tribune(env, *args) -> str:
    return subprocess.run([sys.executable, "-m", "tribune.cli", *args], env=env, check=True,
                          capture_output=True, text=True).stdout


def phase(name, seconds, threads, work) -> None:
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def run(index):
        nonlocal errors
        session = requests.Session()
        i = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            ok = work(session, index, i)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1
            i += 1

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    ordered = sorted(latencies)
    print(f"{name:<14} {len(latencies) / seconds:8.1f} req/s  "
          f"p50 {statistics.median(ordered) * 1000:6.1f} ms  "
          f"p95 {ordered[int(len(ordered) * 0.95)] * 1000:6.1f} ms  errors {errors}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--accounts", type=int, default=20)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="tribune-bench-"))
    port = free_port()
    env = {**os.environ, "TRIBUNE_DATA_DIR": str(data_dir), "TRIBUNE_RATE_LIMITS": "off"}
    env.pop("TRIBUNE_DOMAIN", None)
    tribune(env, "migrate")
    names = [f"bench{i}" for i in range(args.accounts)]
    tokens = {}
    for name in names:
        tribune(env, "createuser", name, "--email", f"{name}@example.test",
                "--password", "bench-password-not-secret")
        tokens[name] = tribune(env, "token", name, "--scopes", "read write follow").split()[-1]
    server = subprocess.Popen([sys.executable, "-m", "tribune.cli", "serve", "--port", str(port),
                               "--workers", str(args.workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/instance", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        ids = {n: requests.get(f"{base}/accounts/lookup", params={"acct": n}).json()["id"] for n in names}
        for follower in names:
            for target in names:
                if follower != target:
                    requests.post(f"{base}/accounts/{ids[target]}/follow",
                                  headers={"Authorization": f"Bearer {tokens[follower]}"})
        print(f"{args.accounts} accounts following each other, {args.threads} client threads, "
              f"{args.workers} web workers, {args.seconds:.0f} s per phase")

        def post(session, index, i):
            name = names[index % len(names)]
            r = session.post(f"{base}/statuses", data={"status": f"bench {index}-{i} #bench"},
                             headers={"Authorization": f"Bearer {tokens[name]}"})
            return r.status_code == 200

        def home(session, index, i):
            name = names[index % len(names)]
            r = session.get(f"{base}/timelines/home", params={"limit": 20},
                            headers={"Authorization": f"Bearer {tokens[name]}"})
            return r.status_code == 200

        def public(session, index, i):
            return session.get(f"{base}/timelines/public", params={"limit": 20}).status_code == 200

        phase("POST statuses", args.seconds, args.threads, post)
        started = time.monotonic()
        marker = requests.post(f"{base}/statuses", data={"status": "last"},
                               headers={"Authorization": f"Bearer {tokens[names[0]]}"}).json()["id"]
        while marker not in [s["id"] for s in requests.get(
                f"{base}/timelines/home", headers={"Authorization": f"Bearer {tokens[names[-1]]}"}).json()]:
            time.sleep(0.1)
        print(f"fan-out backlog drained {time.monotonic() - started:.1f} s after the posting phase")
        phase("GET home", args.seconds, args.threads, home)
        phase("GET public", args.seconds, args.threads, public)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
