"""Background task workers: django-tasks-db's worker loop, with our logging."""

from __future__ import annotations

import logging
import os
import socket

from django.utils.crypto import get_random_string


def run_worker(*, queues: list[str], interval: float, quiet: bool = False) -> int:
    """Process tasks from ``queues`` (``["*"]``: all) until SIGINT or SIGTERM.

    A task that fails is logged with its traceback; successful tasks are not logged.
    The current task is finished before the worker stops.
    """
    from django_tasks_db.management.commands.db_worker import Worker

    # The backend logs every task start and finish at INFO; failures are ERROR.
    logging.getLogger("django_tasks").setLevel(logging.WARNING)
    logging.getLogger("django_tasks_db").setLevel(logging.ERROR)
    worker = Worker(
        queue_names=queues, interval=interval, batch=False, backend_name="default",
        startup_delay=False, max_tasks=None, excluded_queue_names=[],
        worker_id=f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}",
    )
    if not quiet:
        print(f"Task worker processing {', '.join(queues)} (Ctrl-C to stop)", flush=True)
    worker.configure_signals()
    worker.run()
    return 0
