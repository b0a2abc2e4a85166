"""Tasks abandoned by a dead worker, on the database task backend (the embedded
default).

django-tasks-db marks a task RUNNING when a worker claims it and has no recovery of
its own: a worker killed in the middle of a task (SIGKILL, a crash, the power) would
leave it RUNNING for ever. A worker's id is ``{hostname}-{pid}-{random}``
(``tribune.cli.worker``), so a worker can tell that the process that claimed a task
on its own machine is gone, and put the task back to READY for the next free worker,
as RQ's recovery does at scale (``tribune.core.tasks``). Tasks are idempotent, so
running one again completes it without doing anything twice (ARCHITECTURE.md).

Tasks claimed on another machine are left alone: only that machine can tell whether
their worker lives. A pid reused by another process keeps its task RUNNING (the safe
mistake) until that process ends.
"""

from __future__ import annotations

import os
from pathlib import Path

from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

# How often a database worker looks for abandoned tasks (seconds).
RECOVERY_INTERVAL = 15


def worker_id(*, hostname: str, pid: int, suffix: str) -> str:
    """The id a worker claims tasks under: ``{hostname}-{pid}-{suffix}``; the host
    name is cut to 40 characters, and ``suffix`` must not contain ``-``."""
    return f"{hostname[:40]}-{pid}-{suffix}"


def _claimant(worker: str) -> tuple[str, int] | None:
    """``(hostname, pid)`` of a worker id made by :func:`worker_id`; None for any
    other shape."""
    parts = worker.rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine and is not a zombie (a killed
    child its parent has not reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    stat = Path(f"/proc/{pid}/stat")
    try:
        # "pid (comm) state ...": the state follows the last ")".
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc: kill(0) is all there is to go on


def tasks_recover_abandoned(*, hostname: str, backend: str = "default") -> int:
    """Put back to READY every RUNNING task of ``backend`` whose worker ran on
    ``hostname`` (cut as :func:`worker_id` does) and is no longer alive; returns how
    many. The worker's id stays in the task's ``worker_ids``, as a record of the
    attempt. Each task is updated only if still RUNNING since the same claim, so two
    workers recovering at once put it back once."""
    hostname = hostname[:40]
    recovered = 0
    running = (DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING,
                                           backend_name=backend)
               .values_list("pk", "worker_ids", "started_at"))
    for pk, workers, started_at in running:
        claimant = _claimant(workers[-1]) if workers else None
        if claimant is None or claimant[0] != hostname or process_alive(claimant[1]):
            continue
        recovered += DBTaskResult.objects.filter(
            pk=pk, status=TaskResultStatus.RUNNING, started_at=started_at,
        ).update(status=TaskResultStatus.READY, started_at=None)
    return recovered
