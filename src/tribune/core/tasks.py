"""The task queue at scale: django-tasks-rq's RQ backend, with retries of lost jobs.

With ``TRIBUNE_REDIS_URL`` set, ``settings.TASKS`` names ``RetryingRQBackend``. It
enqueues exactly as django-tasks-rq's ``RQBackend`` does, and gives every job
``MAX_RETRIES`` retries, so a job whose worker died (SIGKILL, a lost machine) is run
again by RQ's own recovery: the StartedJobRegistry cleanup that any worker runs
finds the job's execution expired and, since it has retries left, puts it back on
its queue (rq/registry.py, ``StartedJobRegistry.cleanup``). A job that raises is
retried the same way. Tasks are therefore written to be idempotent (fan-out inserts
ignore existing rows; ZADD of an existing member changes nothing).
"""

from __future__ import annotations

from typing import Any

import django_rq
from django_tasks.base import TASK_MAX_PRIORITY, Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq.backend import Job, RQBackend, failed_callback, success_callback
from rq import Retry
from rq.job import Callback, JobStatus

# Retries of a failed or abandoned job, and the seconds to wait before each.
MAX_RETRIES = 3
RETRY_INTERVALS = [10, 60, 300]


class RetryingRQBackend(RQBackend):
    """django-tasks-rq's backend whose jobs carry an RQ ``Retry``."""

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        """Enqueue ``task`` on the RQ queue of its ``queue_name`` (scheduled for
        ``run_after`` when set). Returns the READY TaskResult; raises what
        ``validate_task`` raises for a task this backend cannot run."""
        self.validate_task(task)
        task_result: TaskResult = TaskResult(
            task=task, id=get_random_id(), status=TaskResultStatus.READY,
            enqueued_at=None, started_at=None, last_attempted_at=None, finished_at=None,
            args=args, kwargs=kwargs, backend=self.alias, errors=[], worker_ids=[],
        )
        queue = django_rq.get_queue(task.queue_name, job_class=Job)
        job = queue.create_job(
            task.module_path, args=args, kwargs=kwargs, job_id=task_result.id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(failed_callback), on_success=Callback(success_callback),
            meta={"backend_name": self.alias},
            retry=Retry(max=MAX_RETRIES, interval=RETRY_INTERVALS),
        )
        if task.run_after is None:
            job = queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        else:
            job = queue.schedule_job(job, task.run_after)
        object.__setattr__(task_result, "enqueued_at", job.enqueued_at)
        task_enqueued.send(type(self), task_result=task_result)
        return task_result
