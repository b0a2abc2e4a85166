"""How the tests run deferred work (tests/conftest.py): after commit, through Tasks'
immediate backend on the embedded default, and through RQ when Redis is configured,
so that the run on PostgreSQL and Redis exercises the queue production uses."""

from __future__ import annotations

import pytest
from django.db import transaction

from tribune.graph.services import follow_create
from tribune.statuses.services import status_create
from tribune.timelines.feeds import feed_store

pytestmark = pytest.mark.django_db(transaction=True)


def _home(account) -> list[int]:
    return feed_store().page(account_id=account.pk, max_id=None, since_id=None, min_id=None,
                             limit=20, exclude_authors=set())


def test_published_work_runs_after_commit(alice, bob):
    follow_create(account=bob, target=alice)
    with transaction.atomic():
        status = status_create(account=alice, text="after commit")
        assert status.pk not in _home(bob)  # the fan-out waits for the commit
    assert status.pk in _home(bob)


def test_with_redis_the_work_goes_through_rq(settings, alice):
    from django_tasks import task_backends
    from django_tasks.backends.immediate import ImmediateBackend

    backend = task_backends["default"]
    if not settings.TRIBUNE_REDIS_URL:
        assert isinstance(backend, ImmediateBackend)
        return
    import django_rq
    from rq.registry import FinishedJobRegistry

    from tribune.core.tasks import RetryingRQBackend

    assert isinstance(backend, RetryingRQBackend)
    status = status_create(account=alice, text="through RQ")
    queue = django_rq.get_queue("timelines")
    jobs = [queue.fetch_job(i) for i in FinishedJobRegistry(queue=queue).get_job_ids()]
    assert [(j.func_name, list(j.args)) for j in jobs] == [
        ("tribune.effects.tasks.handle_event", ["StatusCreated", {"status_id": status.pk}])]
