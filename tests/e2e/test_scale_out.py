"""Scale-out for real: several web and task-worker processes share one PostgreSQL
database and one Redis.

- Two web processes and two RQ workers; 20 clients post, follow, favourite and read
  at once for a bounded time; afterwards every acknowledged post exists, every
  counter equals a recount from the rows, and every home feed holds exactly the
  posts it should.
- A worker killed with SIGKILL in the middle of a fan-out: RQ's own recovery runs
  the job again on another worker, which completes the fan-out without delivering
  anything twice.

The cluster gets a database of its own on the PostgreSQL server named by
TRIBUNE_DATABASE_URL (a copy of the one the run migrated for its instances:
tests/instances.py; else a new one on 127.0.0.1:5432, user postgres) and a private
redis-server; without them the tests skip, or fail under TRIBUNE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import free_port
from tests.instances import _connect, _PrivateRedis, _with_database, migrated_database
from tests.mastodon_schema import require_services

TRIBUNE = [sys.executable, "-m", "tribune.cli"]
QUEUES = ["default", "timelines", "federation", "media", "portability"]
CLIENTS = 20
LOAD_SECONDS = 10
MAX_POSTS_PER_CLIENT = 30  # under the 40 recent posts a new follow brings in


def _skip_or_fail(reason: str):
    if require_services():
        pytest.fail(f"{reason} (TRIBUNE_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Cluster:
    data_dir: Path
    env: dict[str, str]
    database_url: str
    redis_url: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def run(self, *args: str, timeout: int = 300) -> str:
        done = subprocess.run([*TRIBUNE, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def python(self, code: str, timeout: int = 300) -> str:
        """Run Django code against the cluster's database (set-up at scale)."""
        prelude = "import django; django.setup()\n"
        done = subprocess.run([sys.executable, "-c", prelude + code], env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start_web(self) -> str:
        port = free_port()
        log = (self.data_dir / f"web-{port}.log").open("w")
        process = subprocess.Popen(
            [*TRIBUNE, "serve", "--no-tasks", "--workers", "1", "--port", str(port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{url}/api/v1/instance", timeout=5).status_code == 200:
                    return url
            except requests.RequestException:
                pass
            assert process.poll() is None, (self.data_dir / f"web-{port}.log").read_text()
            assert time.monotonic() < deadline, "the web process did not start"
            time.sleep(0.2)

    def start_worker(self) -> subprocess.Popen:
        log = (self.data_dir / f"worker-{len(self.processes)}.log").open("w")
        process = subprocess.Popen([*TRIBUNE, "worker"], env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        """Signal the process and everything it started: an RQ worker's work-horse
        runs in a session of its own, so it is found among the worker's children."""
        children = []
        if sig == signal.SIGKILL:
            path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
            children = [int(p) for p in path.read_text().split()] if path.exists() else []
        for pid in [process.pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig) if pid == process.pid else os.kill(pid, sig)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process, signal.SIGTERM)
        self.processes.clear()

    def redis(self):
        import redis

        return redis.Redis.from_url(self.redis_url)

    def query(self, sql: str, *params) -> list[tuple]:
        with _connect(self.database_url) as db, db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def wait_until_idle(self, timeout: float = 180) -> None:
        """Until no job is queued, scheduled or running on any queue."""
        client = self.redis()
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:
            pending = sum(client.llen(f"rq:queue:{q}") + client.zcard(f"rq:wip:{q}")
                          + client.zcard(f"rq:scheduled:{q}") for q in QUEUES)
            quiet = quiet + 1 if pending == 0 else 0
            assert time.monotonic() < deadline, f"{pending} jobs still pending"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        import psycopg
    except ImportError:  # pragma: no cover - a dependency
        _skip_or_fail("psycopg is not installed")
    server = os.environ.get("TRIBUNE_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    name = f"tribune_cluster_{secrets.token_hex(6)}"
    # On a run on PostgreSQL, a copy of the database that the run migrated once for
    # its instances (tests/instances.py); else a new one, migrated below.
    copied = bool(os.environ.get("TRIBUNE_DATABASE_URL"))
    try:
        if copied:
            migrated_database(name)
        else:
            with _connect(_with_database(server, "postgres")) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _skip_or_fail(f"no PostgreSQL server at {server} ({str(exc).strip()})")
    private_redis = _PrivateRedis()
    data_dir = tmp_path_factory.mktemp("cluster")
    database_url = _with_database(server, name)
    redis_url = private_redis.new_url()
    env = {**os.environ, "TRIBUNE_DATA_DIR": str(data_dir), "TRIBUNE_DATABASE_URL": database_url,
           "TRIBUNE_REDIS_URL": redis_url, "TRIBUNE_RATE_LIMITS": "off",
           "TRIBUNE_LINK_PREVIEWS": "off", "TRIBUNE_FANOUT_MAX_FOLLOWERS": "1000000",
           "DJANGO_SETTINGS_MODULE": "tribune.settings", "PYTHONUNBUFFERED": "1"}
    env.pop("TRIBUNE_DOMAIN", None)
    made = Cluster(data_dir=data_dir, env=env, database_url=database_url, redis_url=redis_url)
    try:
        if not copied:
            made.run("migrate")
        yield made
    finally:
        made.stop_all()
        private_redis.stop()
        with _connect(_with_database(server, "postgres")) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sign_up(base_url: str, username: str) -> str:
    """A new account through the API, as an app would make it; returns its token."""
    app = requests.post(f"{base_url}/api/v1/apps", json={
        "client_name": "load", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read write follow"}, timeout=30).json()
    app_token = requests.post(f"{base_url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "read write follow"},
        timeout=30).json()["access_token"]
    for _attempt in range(20):
        response = requests.post(
            f"{base_url}/api/v1/accounts", timeout=30,
            headers={"Authorization": f"Bearer {app_token}"},
            json={"username": username, "email": f"{username}@example.test",
                  "password": "a-long-load-passphrase", "agreement": True, "locale": "en"})
        if response.status_code != 503:  # busy hashing: try again in a moment
            break
        time.sleep(0.5)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _home(base_url: str, token: str) -> list[int]:
    """Every id on a home timeline, paging with max_id."""
    ids: list[int] = []
    params = {"limit": 40}
    while True:
        response = requests.get(f"{base_url}/api/v1/timelines/home", params=params, timeout=30,
                                headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        page = [int(s["id"]) for s in response.json()]
        if not page:
            return ids
        ids += page
        params = {"limit": 40, "max_id": page[-1]}


@dataclass
class Client:
    name: str
    token: str
    account_id: int = 0
    posts: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def test_two_web_processes_and_two_workers_under_concurrent_load(cluster):
    web = [cluster.start_web(), cluster.start_web()]
    cluster.start_worker()
    cluster.start_worker()
    clients = [Client(f"load{n}", _sign_up(web[n % 2], f"load{n}")) for n in range(CLIENTS)]
    for n, client in enumerate(clients):
        me = requests.get(f"{web[n % 2]}/api/v1/accounts/verify_credentials", timeout=30,
                          headers={"Authorization": f"Bearer {client.token}"}).json()
        client.account_id = int(me["id"])
    known_posts: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + LOAD_SECONDS

    def act(n: int, client: Client) -> None:
        rng = random.Random(n)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {client.token}"
        step = 0
        while time.monotonic() < stop_at:
            base = web[(n + step) % 2]  # alternate between the web processes
            step += 1
            roll = rng.random()
            try:
                if roll < 0.3 and len(client.posts) < MAX_POSTS_PER_CLIENT:
                    r = session.post(f"{base}/api/v1/statuses", timeout=30,
                                     json={"status": f"{client.name} says {step}"})
                    if r.status_code == 200:
                        with lock:
                            client.posts.append(int(r.json()["id"]))
                            known_posts.append(int(r.json()["id"]))
                    else:
                        client.errors.append(f"post {r.status_code} {r.text[:200]}")
                elif roll < 0.45:
                    target = rng.choice([c for c in clients if c is not client])
                    r = session.post(f"{base}/api/v1/accounts/{target.account_id}/follow",
                                     timeout=30)
                    if r.status_code != 200:
                        client.errors.append(f"follow {r.status_code} {r.text[:200]}")
                elif roll < 0.7:
                    with lock:
                        choice = rng.choice(known_posts) if known_posts else None
                    if choice is not None:
                        r = session.post(f"{base}/api/v1/statuses/{choice}/favourite",
                                         timeout=30)
                        if r.status_code != 200:
                            client.errors.append(f"favourite {r.status_code} {r.text[:200]}")
                else:
                    r = session.get(f"{base}/api/v1/timelines/home", timeout=30)
                    if r.status_code != 200:
                        client.errors.append(f"home {r.status_code} {r.text[:200]}")
            except requests.RequestException as exc:
                client.errors.append(f"{base} step {step} roll {roll:.2f}: "
                                     f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=act, args=(n, c)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e for c in clients for e in c.errors] == []
    assert len(known_posts) > CLIENTS  # the load did happen
    cluster.wait_until_idle()

    # Every acknowledged post exists.
    acknowledged = [p for c in clients for p in c.posts]
    stored = {r[0] for r in cluster.query(
        "SELECT id FROM statuses_status WHERE id = ANY(%s)", acknowledged)}
    assert stored == set(acknowledged)

    # Every counter equals a recount from the rows.
    ids = [c.account_id for c in clients]
    mismatched = cluster.query("""
        SELECT a.id, a.statuses_count, a.followers_count, a.following_count,
               (SELECT count(*) FROM statuses_status s WHERE s.account_id = a.id),
               (SELECT count(*) FROM graph_follow f WHERE f.target_id = a.id),
               (SELECT count(*) FROM graph_follow f WHERE f.account_id = a.id)
        FROM accounts_account a WHERE a.id = ANY(%s)
          AND (a.statuses_count <> (SELECT count(*) FROM statuses_status s WHERE s.account_id = a.id)
            OR a.followers_count <> (SELECT count(*) FROM graph_follow f WHERE f.target_id = a.id)
            OR a.following_count <> (SELECT count(*) FROM graph_follow f WHERE f.account_id = a.id))
    """, ids)
    assert mismatched == []
    favourites = cluster.query("""
        SELECT s.id, s.favourites_count, (SELECT count(*) FROM statuses_favourite f
                                          WHERE f.status_id = s.id)
        FROM statuses_status s WHERE s.account_id = ANY(%s)
          AND s.favourites_count <> (SELECT count(*) FROM statuses_favourite f
                                     WHERE f.status_id = s.id)
    """, ids)
    assert favourites == []
    assert cluster.query("SELECT count(*) FROM statuses_favourite")[0][0] > 0

    # Every home feed holds exactly the posts it should: its own and those of the
    # accounts it follows (each wrote fewer than the 40 a follow brings in).
    follows = cluster.query("SELECT account_id, target_id FROM graph_follow "
                            "WHERE account_id = ANY(%s)", ids)
    assert follows, "nobody followed anybody"
    posts_by = {c.account_id: set(c.posts) for c in clients}
    for n, client in enumerate(clients):
        expected = set(posts_by[client.account_id])
        for follower, target in follows:
            if follower == client.account_id:
                expected |= posts_by[target]
        home = _home(web[n % 2], client.token)
        assert len(home) == len(set(home)), f"{client.name}'s feed repeats a post"
        assert home == sorted(home, reverse=True)
        assert set(home) == expected, client.name
    cluster.stop_all()


FOLLOWERS = 20_000

BULK_FOLLOWERS = f"""
from datetime import timedelta
from django.db.models import F
from django.utils import timezone
from tribune.accounts.models import Account
from tribune.graph.models import Follow
star = Account.objects.get(username="star")
now = timezone.now()
base = (int(now.timestamp() * 1000) - 600_000) << 16
Account.objects.bulk_create([
    Account(id=base + n, username=f"fan{{n}}", domain="", created_at=now, active_at=now)
    for n in range({FOLLOWERS})], batch_size=5000)
Follow.objects.bulk_create([
    Follow(id=base + {FOLLOWERS} + n, account_id=base + n, target_id=star.pk, created_at=now)
    for n in range({FOLLOWERS})], batch_size=5000)
Account.objects.filter(pk=star.pk).update(followers_count=F("followers_count") + {FOLLOWERS})
Account.objects.filter(pk__gte=base, pk__lt=base + {FOLLOWERS}).update(following_count=1)
print(base)
"""


def test_a_fanout_killed_midway_is_completed_once_by_another_worker(cluster):
    web = cluster.start_web()
    token = _sign_up(web, "star")
    base = int(cluster.python(BULK_FOLLOWERS).strip())
    fans = [f"feed:{base + n}".encode() for n in range(FOLLOWERS)]
    client = cluster.redis()
    sample = random.Random(7).sample(fans, 300)

    def delivered(keys, member: str) -> int:
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.zscore(key, member)
        return sum(score is not None for score in pipe.execute())

    killed = False
    for attempt in range(3):
        # No worker runs: the post's fan-out waits in the queue.
        response = requests.post(f"{web}/api/v1/statuses", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"},
                                 json={"status": f"Hello @fan0, and all my fans ({attempt})"})
        assert response.status_code == 200, response.text
        member = response.json()["id"]
        deadline = time.monotonic() + 120
        while client.llen("rq:queue:timelines") == 0:
            queues = {k.decode(): client.llen(k) for k in client.keys("rq:queue:*")
                      if client.type(k) == b"list"}
            assert time.monotonic() < deadline, f"the fan-out was never queued: {queues}"
            time.sleep(0.05)
        worker = cluster.start_worker()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = delivered(sample, member)
            if 0 < done < len(sample):
                cluster.kill(worker)  # the worker and its work-horse, mid-fan-out
                killed = True
                break
            if done == len(sample):
                break  # too quick to catch; post again
            time.sleep(0.005)
        if killed:
            break
        print(f"attempt {attempt}: the fan-out finished before the kill")
        cluster.kill(worker, signal.SIGTERM)
        cluster.wait_until_idle()
    assert killed, "every fan-out finished before the worker could be killed"
    partial = delivered(fans, member)
    assert 0 < partial < FOLLOWERS

    # Another worker finds the job abandoned (its heartbeat lapsed) and runs it again.
    cluster.start_worker()
    deadline = time.monotonic() + 240
    while delivered(fans, member) < FOLLOWERS:
        assert time.monotonic() < deadline, "the fan-out was not completed"
        time.sleep(2)
    cluster.wait_until_idle()
    # Nothing twice: one entry per feed (the post's own member), one mention notice.
    pipe = client.pipeline(transaction=False)
    for key in sample:
        pipe.zrangebyscore(key, float(member) - 1e6, float(member) + 1e6)
    for entries in pipe.execute():
        assert entries == [member.encode()]
    notices = cluster.query(
        "SELECT count(*) FROM notifications_notification n JOIN accounts_account a "
        "ON a.id = n.account_id WHERE a.username = 'fan0' AND n.status_id = %s",
        int(member))
    assert notices == [(1,)]
    cluster.stop_all()
