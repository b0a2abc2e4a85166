"""Delay from a post to its ``update`` on the streaming API, through the real server.

Starts `tribune serve` (with its streaming process) in a fresh data directory on a
free loopback port, on the embedded default (SQLite, the StreamEvent table) or
with ``--redis URL`` (Redis pub/sub, task queue and feeds; give it a database of
its own). One account listens on its ``user`` stream over Server-Sent Events
while ``--followers`` other accounts listen too; the author posts ``--posts``
times, one post at a time. For each post: the time from sending the POST to the
first ``update`` with its id on the author's stream. Prints p50, p99 and the
maximum.

    uv run python bench/streaming/delay.py [--posts 50] [--followers 10] [--redis URL]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tribune(env, *args) -> str:
    return subprocess.run([sys.executable, "-m", "tribune.cli", *args], env=env, check=True,
                          capture_output=True, text=True).stdout


def listen(url: str, token: str, into: queue.Queue | None, ready: threading.Event) -> None:
    """Read one ``user`` stream; put ``(arrival time, status id)`` per update."""
    response = requests.get(f"{url}/api/v1/streaming/user", stream=True, timeout=(10, 120),
                            headers={"Authorization": f"Bearer {token}"})
    event = None
    try:
        for line in response.iter_lines(chunk_size=1, decode_unicode=True):
            if line.startswith(":"):
                ready.set()
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "update" and into is not None:
                into.put((time.perf_counter(), json.loads(line[6:])["id"]))
    except requests.RequestException:
        return  # the server stopped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--followers", type=int, default=10)
    parser.add_argument("--redis", default="", help="a Redis URL (default: none)")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="tribune-bench-streaming-")
    port = free_port()
    env = {**os.environ, "TRIBUNE_DATA_DIR": data_dir, "TRIBUNE_RATE_LIMITS": "off",
           "TRIBUNE_REDIS_URL": args.redis}
    env.pop("TRIBUNE_DOMAIN", None)
    env.pop("TRIBUNE_STREAMING_URL", None)
    tribune(env, "migrate")
    names = ["author"] + [f"follower{n}" for n in range(args.followers)]
    tokens = {}
    for name in names:
        tribune(env, "createuser", name, "--email", f"{name}@example.test",
                "--password", "correct-horse-battery-staple")
        tokens[name] = tribune(env, "token", name, "--scopes", "read write follow").split()[-1]
    server = subprocess.Popen([sys.executable, "-m", "tribune.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                instance = requests.get(f"{base}/api/v1/instance", timeout=5).json()
                break
            except (requests.RequestException, ValueError):
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.5)
        streaming = instance["urls"]["streaming_api"].replace("ws", "http", 1)
        author = requests.get(f"{base}/api/v1/accounts/lookup", params={"acct": "author"},
                              timeout=30).json()["id"]
        for name in names[1:]:
            requests.post(f"{base}/api/v1/accounts/{author}/follow", timeout=30,
                          headers={"Authorization": f"Bearer {tokens[name]}"}).raise_for_status()
        arrivals: queue.Queue = queue.Queue()
        for name in names:
            ready = threading.Event()
            threading.Thread(target=listen, daemon=True, args=(
                streaming, tokens[name], arrivals if name == "author" else None, ready)).start()
            if not ready.wait(60):
                raise SystemExit("a stream did not open")
        delays = []
        headers = {"Authorization": f"Bearer {tokens['author']}"}
        for n in range(args.posts):
            sent = time.perf_counter()
            posted = requests.post(f"{base}/api/v1/statuses", headers=headers, timeout=60,
                                   json={"status": f"post {n}"}).json()["id"]
            while True:
                arrived, status_id = arrivals.get(timeout=60)
                if status_id == posted:
                    delays.append(arrived - sent)
                    break
        delays.sort()
        p50 = statistics.median(delays)
        p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
        transport = "Redis pub/sub" if args.redis else "StreamEvent table"
        print(f"{transport}, {args.followers + 1} listeners, {len(delays)} posts: "
              f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
