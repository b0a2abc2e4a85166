"""The delivery benchmark (docs/adr/0030): one post from an account with 10,000
remote followers on 200 shared inboxes, through the real server.

    uv run --extra hashing python bench/federation/delivery.py --backend sqlite|postgres \
        [--followers 10000] [--domains 200] [--task-workers 2]

The 200 domains ``inbox-NNN.test`` are development peers (``TRIBUNE_DEV_PEERS``)
answered by one inbox farm on loopback (an asyncio HTTP server in its own
process): it answers 202 at once and checks nothing, except that 5% of the
domains are dead (their address refuses connections) and 1% slow (2 s before
the answer). The followers are written in bulk (accounts, their ``RemoteActor``
rows with a shared inbox per domain, their follows of the poster); then
``tribune serve`` (1 web worker, ``--task-workers`` task workers) is started and
the post is made through ``POST /api/v1/statuses``, the path of every post: the
``StatusCreated`` effect queues one ``deliver`` task per shared inbox, the task
workers sign and POST them. Measured: the time from the POST to the last
successful delivery at the farm, deliveries per second over it, and deliveries
per domain (must be one: the sender delivers per shared inbox, not per follower).

The floor, in the same run: the same activity signed and POSTed (a new
connection each, as ``tribune`` makes them) to the same 200 inboxes from one
process with as many worker processes as there are task workers.

``sqlite`` is the embedded default (database task queue); ``postgres`` uses
PostgreSQL (database ``tribune_bench_delivery``, made anew here) and Redis
(``--redis-db``, emptied here). Results are printed as a Markdown table row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

PG_BASE = "postgres://postgres@127.0.0.1:5432"
PG_NAME = "tribune_bench_delivery"
SLOW_SECONDS = 2.0
PASSWORD = "bench-password-not-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the inbox farm ---------------------------------------------------------------


def farm_main(port: int, slow: list[str], ready) -> None:
    """Serve every inbox on ``port``: 202 at once, after ``SLOW_SECONDS`` for the
    hosts in ``slow``. ``GET /_stats`` answers the deliveries seen so far as
    ``[[host, path, unix time], ...]``."""
    slow_hosts = set(slow)
    seen: list[list] = []

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _s, v in (line.partition(":") for line in lines[1:] if line)
                }
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(length)
                host = headers.get("host", "")
                if method == "GET" and path == "/_stats":
                    body = json.dumps(seen).encode()
                    status = "200 OK"
                else:
                    if host in slow_hosts:
                        await asyncio.sleep(SLOW_SECONDS)
                    seen.append([host, path, time.time()])
                    body, status = b"", "202 Accepted"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def farm_stats(port: int) -> list[list]:
    return requests.get(f"http://127.0.0.1:{port}/_stats", timeout=10).json()


# --- the data ---------------------------------------------------------------------


def domains(count: int) -> list[str]:
    return [f"inbox-{n:03d}.test" for n in range(count)]


def dead_and_slow(names: list[str]) -> tuple[list[str], list[str]]:
    """5% dead and 1% slow, spread over the list (at least one of each)."""
    dead = names[7::20][: max(1, len(names) // 20)]
    rest = [n for n in names if n not in dead]
    slow = rest[13::100][: max(1, len(names) // 100)]
    return dead, slow


def generate(*, followers: int, names: list[str]) -> int:
    """The poster (``poster``, local) and ``followers`` remote accounts spread
    over ``names``, each following the poster; returns the poster's id. Bulk
    writes: this is the benchmark's data, not what it measures."""
    from django.db import transaction
    from django.utils import timezone

    from tribune.accounts.models import Account
    from tribune.federation.models import RemoteActor
    from tribune.graph.models import Follow

    poster = Account.objects.get(username="poster", domain="")
    now = timezone.now()
    with transaction.atomic():
        accounts = [
            Account(
                username=f"f{i}",
                domain=names[i % len(names)],
                uri=f"https://{names[i % len(names)]}/users/f{i}",
                created_at=now,
            )
            for i in range(followers)
        ]
        Account.objects.bulk_create(accounts, batch_size=1000)
        accounts = list(Account.objects.exclude(domain="").order_by("pk"))
        RemoteActor.objects.bulk_create(
            [
                RemoteActor(
                    account=a,
                    key_id=f"{a.uri}#main-key",
                    public_key_pem="",
                    inbox=f"{a.uri}/inbox",
                    shared_inbox=f"https://{a.domain}/inbox",
                    fetched_at=now,
                )
                for a in accounts
            ],
            batch_size=1000,
        )
        Follow.objects.bulk_create(
            [Follow(account=a, target=poster) for a in accounts], batch_size=1000
        )
        Account.objects.filter(pk=poster.pk).update(followers_count=len(accounts))
    return poster.pk


# --- the floor --------------------------------------------------------------------

_FLOOR: dict = {}


def _floor_init(key_id: str, private_pem: str, body: bytes, routes: dict) -> None:
    _FLOOR.update(key_id=key_id, private_pem=private_pem, body=body, routes=routes)


def _floor_post(inbox: str) -> tuple[str, bool, float]:
    from urllib.parse import urlsplit

    from tribune.federation.signatures import sign_request

    headers = sign_request(
        method="POST",
        url=inbox,
        body=_FLOOR["body"],
        key_id=_FLOOR["key_id"],
        private_key_pem=_FLOOR["private_pem"],
        headers={"Content-Type": "application/activity+json"},
    )
    host = urlsplit(inbox).netloc
    address, port = _FLOOR["routes"][host]
    headers["Host"] = host
    try:
        response = requests.post(
            f"http://{address}:{port}/inbox",
            data=_FLOOR["body"],
            headers=headers,
            timeout=15,
        )
        ok = 200 <= response.status_code < 300
    except requests.RequestException:
        ok = False
    return host, ok, time.time()


def floor(
    *,
    inboxes: list[str],
    processes: int,
    key_id: str,
    private_pem: str,
    activity: dict,
    routes: dict,
) -> tuple[int, float]:
    """Sign and POST ``activity`` to every inbox from ``processes`` processes;
    returns (successful deliveries, seconds until the last of them)."""
    body = json.dumps(activity, ensure_ascii=False).encode()
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        processes, initializer=_floor_init, initargs=(key_id, private_pem, body, routes)
    ) as pool:
        pool.map(_floor_post, inboxes[:processes])  # processes started and warm
        started = time.time()
        results = pool.map(_floor_post, inboxes, chunksize=1)
    done = [t for _h, ok, t in results if ok]
    return len(done), max(done) - started


# --- the run ----------------------------------------------------------------------


def tribune(env: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "tribune.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--domains", type=int, default=200)
    parser.add_argument("--task-workers", type=int, default=2)
    parser.add_argument("--redis-db", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    names = domains(args.domains)
    dead, slow = dead_and_slow(names)
    farm_port, dead_port = free_port(), free_port()  # nothing listens on dead_port
    routes = {n: ("127.0.0.1", dead_port if n in dead else farm_port) for n in names}
    data_dir = Path(tempfile.mkdtemp(prefix="tribune-bench-delivery-"))
    env = {
        "TRIBUNE_DATA_DIR": str(data_dir),
        "TRIBUNE_RATE_LIMITS": "off",
        "TRIBUNE_LINK_PREVIEWS": "off",
        "TRIBUNE_DEBUG": "1",
        "TRIBUNE_DEV_PEERS": ",".join(f"{n}={a}:{p}" for n, (a, p) in routes.items()),
        "DJANGO_SETTINGS_MODULE": "tribune.settings",
    }
    if args.backend == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")
            conn.execute(f"CREATE DATABASE {PG_NAME}")
        env["TRIBUNE_DATABASE_URL"] = f"{PG_BASE}/{PG_NAME}"
        env["TRIBUNE_REDIS_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
        import redis

        redis.Redis.from_url(env["TRIBUNE_REDIS_URL"]).flushdb()
    for key in ("TRIBUNE_DATABASE_URL", "TRIBUNE_REDIS_URL", "TRIBUNE_DOMAIN"):
        os.environ.pop(key, None)
    os.environ.update(env)
    env = {**os.environ}

    ready = multiprocessing.Event()
    farm = multiprocessing.Process(
        target=farm_main, args=(farm_port, slow, ready), daemon=True
    )
    farm.start()
    ready.wait(10)
    server = None
    try:
        tribune(env, "migrate")
        tribune(
            env,
            "createuser",
            "poster",
            "--email",
            "poster@example.test",
            "--password",
            PASSWORD,
        )
        token = tribune(env, "token", "poster", "--scopes", "read write").split()[-1]
        import django

        django.setup()
        started = time.time()
        poster_id = generate(followers=args.followers, names=names)
        print(
            f"data: {args.followers} followers on {len(names)} domains "
            f"({len(dead)} dead, {len(slow)} slow) in {time.time() - started:.1f} s",
            flush=True,
        )
        from django.db import connections

        connections.close_all()

        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tribune.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--task-workers",
                str(args.task_workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if (
                    requests.get(f"{base}/api/v1/instance", timeout=5).status_code
                    == 200
                ):
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        time.sleep(3)  # task workers up and idle
        expected = len(names) - len(dead)
        posted_at = time.time()
        response = requests.post(
            f"{base}/api/v1/statuses",
            timeout=60,
            headers={"Authorization": f"Bearer {token}"},
            data={"status": "One post for ten thousand followers"},
        )
        response.raise_for_status()
        post_ms = (time.time() - posted_at) * 1000
        status_id = int(response.json()["id"])
        deadline = posted_at + args.timeout
        while True:
            seen = farm_stats(farm_port)
            if len({h for h, _p, _t in seen}) >= expected or time.time() > deadline:
                break
            time.sleep(0.2)
        per_host: dict[str, int] = {}
        for host, _path, _t in seen:
            per_host[host] = per_host.get(host, 0) + 1
        last = max(t for _h, _p, t in seen) - posted_at
        paths = sorted({p for _h, p, _t in seen})
        print(
            f"real: POST {post_ms:.0f} ms; {len(per_host)}/{expected} inboxes reached, "
            f"{len(seen)} deliveries (most to one domain: {max(per_host.values())}), "
            f"paths {paths}; last delivery {last:.2f} s after the POST: "
            f"{len(per_host) / last:.1f} deliveries/s",
            flush=True,
        )
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        server = None

        from tribune.accounts.models import Account
        from tribune.federation import activities
        from tribune.federation.client import account_signer
        from tribune.statuses.models import Status

        poster = Account.objects.get(pk=poster_id)
        status = (
            Status.objects.select_related("account")
            .prefetch_related("mentions__account", "tags", "media_attachments")
            .get(pk=status_id)
        )
        signer = account_signer(poster)
        activity = activities.create(status)
        count, seconds = floor(
            inboxes=[f"https://{n}/inbox" for n in names],
            processes=args.task_workers,
            key_id=signer.key_id,
            private_pem=signer.private_key_pem,
            activity=activity,
            routes=routes,
        )
        print(
            f"floor: {count} deliveries signed and POSTed by {args.task_workers} "
            f"processes in {seconds:.2f} s: {count / seconds:.1f} deliveries/s",
            flush=True,
        )
        print(
            f"| {args.backend} | {args.followers:,} / {len(names)} | {args.task_workers} | "
            f"{post_ms:.0f} ms | {last:.2f} s | {len(per_host) / last:.1f} | "
            f"{seconds:.2f} s | {count / seconds:.1f} |"
        )
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        farm.terminate()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
