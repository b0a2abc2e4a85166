"""Tasks abandoned by a dead worker on the database task backend (the embedded
default) are run again: put back to READY by a living worker on the same machine.

The end-to-end test always runs on SQLite with the database backend, whatever the
run's database: that is the configuration it is about (with Redis, RQ recovers its
own jobs: tests/e2e/test_scale_out.py)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tribune.core.db_tasks import process_alive, tasks_recover_abandoned, worker_id

TRIBUNE = [sys.executable, "-m", "tribune.cli"]
HOST = socket.gethostname()


def _dead_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _running(worker: str, **extra) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING, args_kwargs={"args": ["0"], "kwargs": {}},
        task_path="tribune.moderation.tasks.lift_decision", queue_name="default",
        backend_name="default", run_after=now - timedelta(minutes=1), started_at=now,
        worker_ids=[worker], **extra)


@pytest.mark.django_db
def test_only_tasks_of_dead_workers_on_this_machine_are_put_back():
    dead, alive = _dead_pid(), os.getpid()
    assert not process_alive(dead) and process_alive(alive)
    abandoned = _running(worker_id(hostname=HOST, pid=dead, suffix="a1"))
    living = _running(worker_id(hostname=HOST, pid=alive, suffix="b2"))
    elsewhere = _running(worker_id(hostname=f"not-{HOST}", pid=dead, suffix="c3"))
    strange = _running("a worker id of another shape")
    done = _running(worker_id(hostname=HOST, pid=dead, suffix="d4"))
    DBTaskResult.objects.filter(pk=done.pk).update(status=TaskResultStatus.SUCCESSFUL)

    assert tasks_recover_abandoned(hostname=HOST) == 1
    states = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert states == {abandoned.pk: "READY", living.pk: "RUNNING", elsewhere.pk: "RUNNING",
                      strange.pk: "RUNNING", done.pk: "SUCCESSFUL"}
    back = DBTaskResult.objects.get(pk=abandoned.pk)
    assert back.started_at is None
    assert back.worker_ids == [worker_id(hostname=HOST, pid=dead, suffix="a1")]
    assert DBTaskResult.objects.ready().filter(pk=abandoned.pk).exists()
    assert tasks_recover_abandoned(hostname=HOST) == 0  # once


def test_a_zombie_counts_as_dead():
    process = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while process_alive(process.pid):  # ended, not yet reaped: a zombie
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert os.path.exists(f"/proc/{process.pid}")
    process.wait()


FOLLOWERS = 3000

SET_UP = f"""
import django; django.setup()
from django.utils import timezone
from tribune.accounts.models import Account
from tribune.accounts.services import account_create
from tribune.graph.models import Follow
from tribune.statuses.services import status_create
star = account_create(username="star", email="star@example.test", password="a-long-passphrase")
now = timezone.now()
base = (int(now.timestamp() * 1000) - 600_000) << 16
Account.objects.bulk_create([
    Account(id=base + n, username=f"fan{{n}}", domain="", created_at=now, active_at=now)
    for n in range({FOLLOWERS})], batch_size=1000)
Follow.objects.bulk_create([
    Follow(id=base + {FOLLOWERS} + n, account_id=base + n, target_id=star.pk, created_at=now)
    for n in range({FOLLOWERS})], batch_size=1000)
print(status_create(account=star, text="Hello, all my fans").pk)
"""


@pytest.mark.own_instances  # the same in either run: it runs once (.ci/run)
def test_a_fanout_killed_midway_is_completed_once_after_a_worker_restarts(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("TRIBUNE_DATABASE_URL", "TRIBUNE_REDIS_URL", "DJANGO_SETTINGS_MODULE",
                        "TRIBUNE_DOMAIN")}
    env.update({"TRIBUNE_DATA_DIR": str(tmp_path), "TRIBUNE_LINK_PREVIEWS": "off",
                "DJANGO_SETTINGS_MODULE": "tribune.settings", "PYTHONUNBUFFERED": "1"})
    subprocess.run([*TRIBUNE, "migrate"], env=env, check=True, capture_output=True,
                   timeout=120)
    made = subprocess.run([sys.executable, "-c", SET_UP], env=env, capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    status_id = int(made.stdout.strip())
    db = sqlite3.connect(tmp_path / "tribune.sqlite3", timeout=30)

    def delivered() -> int:
        return db.execute("SELECT count(*) FROM timelines_feedentry WHERE status_id = ?",
                          (status_id,)).fetchone()[0]

    def fanout_state() -> str | None:
        row = db.execute("SELECT status FROM django_tasks_database_dbtaskresult "
                         "WHERE queue_name = 'timelines'").fetchone()
        return row[0] if row else None

    def start_worker() -> subprocess.Popen:
        return subprocess.Popen([*TRIBUNE, "worker", "--interval", "0.1"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)

    worker = start_worker()
    try:
        deadline = time.monotonic() + 90
        while not 0 < delivered() < FOLLOWERS:
            assert delivered() < FOLLOWERS, "the fan-out ended before it could be killed"
            assert time.monotonic() < deadline, "the fan-out did not start"
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    partial = delivered()
    assert 0 < partial < FOLLOWERS and fanout_state() == "RUNNING"

    again = start_worker()
    try:
        deadline = time.monotonic() + 120
        while fanout_state() != "SUCCESSFUL":
            assert again.poll() is None, again.stderr.read()
            assert time.monotonic() < deadline, f"{delivered()} feeds; {fanout_state()}"
            time.sleep(0.2)
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=30)
    # The star's own feed, and each follower's, hold the post exactly once.
    rows = db.execute("SELECT account_id, count(*) FROM timelines_feedentry "
                      "WHERE status_id = ? GROUP BY account_id", (status_id,)).fetchall()
    assert len(rows) == FOLLOWERS + 1 and {count for _, count in rows} == {1}
    assert "abandoned" in again.stderr.read()
