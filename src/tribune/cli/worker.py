"""Background task workers: django-tasks-db's worker loop on the embedded default,
an RQ worker when ``TRIBUNE_REDIS_URL`` is set (docs/adr/0011-scale-out.md)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.utils.crypto import get_random_string

from tribune.cli.errors import CliError

# How often an RQ worker looks for jobs abandoned by a dead worker (seconds). RQ
# declares a job abandoned once its execution's heartbeat lapses (about 65 s with
# the monitoring interval below), then retries it (tribune.core.tasks). An idle
# worker wakes from waiting for jobs every RQ_WORKER_TTL - 15 seconds, so that is
# also how often it can do this maintenance.
RQ_MAINTENANCE_SECONDS = 20
RQ_MONITORING_SECONDS = 5
RQ_WORKER_TTL = 35


def _queue_names(queues: list[str]) -> list[str]:
    """``["*"]`` means every configured queue; unknown names are a CliError."""
    known = list(settings.TASK_QUEUES)
    if queues == ["*"]:
        return known
    unknown = [q for q in queues if q not in known]
    if unknown:
        raise CliError(f"unknown queue {unknown[0]!r}; the queues are {', '.join(known)}")
    return queues


def run_worker(*, queues: list[str], interval: float, quiet: bool = False) -> int:
    """Process tasks from ``queues`` (``["*"]``: all) until SIGINT or SIGTERM.

    A task that fails is logged with its traceback; successful tasks are not logged.
    The current task is finished before the worker stops. Any number of workers, on
    any number of machines, may share one database (embedded) or one Redis.
    """
    names = _queue_names(queues)
    from tribune.core.capacity import TASK_NICENESS, lower_process_priority
    from tribune.core.db_tasks import worker_id as make_worker_id

    # Background work gives way to requests (docs/adr/0021).
    lower_process_priority(TASK_NICENESS)

    worker_id = make_worker_id(hostname=socket.gethostname(), pid=os.getpid(),
                               suffix=get_random_string(8))
    if not quiet:
        print(f"Task worker processing {', '.join(names)} (Ctrl-C to stop)", flush=True)
    if settings.TRIBUNE_REDIS_URL:
        return _run_rq_worker(names, worker_id=worker_id, quiet=quiet)
    from django_tasks_db.management.commands.db_worker import Worker

    # The backend logs every task start and finish at INFO; failures are ERROR.
    logging.getLogger("django_tasks").setLevel(logging.WARNING)
    logging.getLogger("django_tasks_db").setLevel(logging.ERROR)
    worker = Worker(
        queue_names=names, interval=interval, batch=False, backend_name="default",
        startup_delay=False, max_tasks=None, excluded_queue_names=[], worker_id=worker_id,
    )
    worker.configure_signals()
    threading.Thread(target=_recover_abandoned, name="task-recovery", daemon=True).start()
    worker.run()
    return 0


def _recover_abandoned() -> None:
    """Every RECOVERY_INTERVAL seconds, from start, put back the tasks that a dead
    worker on this machine left RUNNING (tribune.core.db_tasks). A failure (the
    database busy or away) is logged and tried again at the next round."""
    from django.db import connection

    from tribune.core.db_tasks import RECOVERY_INTERVAL, tasks_recover_abandoned

    log = logging.getLogger("tribune.tasks")
    while True:
        try:
            count = tasks_recover_abandoned(hostname=socket.gethostname())
            if count:
                log.warning("Put back %d task(s) abandoned by a dead worker", count)
        except Exception:
            log.exception("Looking for abandoned tasks failed")
        finally:
            connection.close()  # this thread's own connection
        time.sleep(RECOVERY_INTERVAL)


def _preload() -> None:
    """Import every task module and the services tasks call, once, in the worker:
    each job runs in a fork of this process, so what is imported here is not
    imported again (and compiled, without a bytecode cache) for every job."""
    import importlib

    from django.apps import apps

    importlib.import_module("tribune.urls")  # the interfaces import every service
    importlib.import_module("tribune.effects")
    # Imported when a status is first scanned; the image matcher brings numpy.
    importlib.import_module("tribune.moderation.detectors")
    for app in apps.get_app_configs():
        if not app.name.startswith("tribune."):
            continue
        for module in ("tasks", "services"):
            name = f"{app.name}.{module}"
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise


def _run_rq_worker(names: list[str], *, worker_id: str, quiet: bool) -> int:
    """An RQ worker (a work-horse process per job, so a job that hangs or crashes
    cannot take the worker with it) with the scheduler for delayed tasks."""
    import django_rq
    from django.db import connections
    from django_tasks_rq import Job
    from rq import Worker

    _preload()
    # The horse is forked from this process: it must not share our connections.
    connections.close_all()
    rq_queues = [django_rq.get_queue(name, job_class=Job) for name in names]
    worker = Worker(
        rq_queues, connection=rq_queues[0].connection, job_class=Job, name=worker_id,
        maintenance_interval=RQ_MAINTENANCE_SECONDS,
        job_monitoring_interval=RQ_MONITORING_SECONDS, worker_ttl=RQ_WORKER_TTL,
    )
    worker.work(with_scheduler=True, logging_level="WARNING" if quiet else "INFO")
    return 0
