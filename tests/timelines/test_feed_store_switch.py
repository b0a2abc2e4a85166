"""The home feeds follow the instance to another feed store: after a switch
between the database and Redis, or a Redis that lost its data, ``tribune serve``'s
check (``feeds_check``) finds the configured store without the current feeds and
has them rebuilt; meanwhile home timelines answer 206."""

from __future__ import annotations

import pytest

from tests.timelines.test_fanout_rules import DUMMY_TASKS, in_store, make_inactive
from tribune.graph.services import follow_create
from tribune.statuses.services import status_create
from tribune.timelines.feeds import feed_store
from tribune.timelines.models import FeedEntry, FeedStoreStamp
from tribune.timelines.services import feeds_check

pytestmark = pytest.mark.django_db(transaction=True)


def _queued(name: str) -> list:
    from django_tasks import default_task_backend

    return [r for r in default_task_backend.results if r.task.name == name]


def test_feeds_kept_by_another_store_are_rebuilt_here(settings, alice, bob, carol, api_as):
    follow_create(account=alice, target=bob)
    follow_create(account=carol, target=bob)
    make_inactive(carol, days=30)  # rebuilt when she returns, not now
    first = status_create(account=bob, text="before the move").pk
    second = status_create(account=bob, text="after it").pk
    assert feeds_check() is True  # a new instance: nothing recorded yet
    settings.TASKS = DUMMY_TASKS
    # The feeds were kept by another store since: this one holds none, or old ones.
    FeedStoreStamp.objects.update(value="elsewhere")
    feed_store().clear(account_id=alice.pk)
    feed_store().add_many(account_id=alice.pk, entries=[(first, None)])
    assert feeds_check() is True
    assert _queued("rebuild_active_home_feeds") != []
    response = api_as(alice).get("/api/v1/timelines/home")
    assert response.status_code == 206
    # The store forgot what it held (the database's) or left it to the rebuild
    # (Redis's, which replaces each active feed whole).
    if not settings.TRIBUNE_REDIS_URL:
        assert not FeedEntry.objects.exists()
    for result in _queued("rebuild_active_home_feeds"):
        result.task.call()
    response = api_as(alice).get("/api/v1/timelines/home")
    assert response.status_code == 200
    assert [int(s["id"]) for s in response.json()] == [second, first]
    assert in_store(bob) == [second, first]
    assert in_store(carol) == []
    # Checked again (the next start): nothing to do.
    assert feeds_check() is False


def test_a_redis_that_lost_its_data_is_refilled(settings, alice, bob, api_as):
    if not settings.TRIBUNE_REDIS_URL:
        pytest.skip("the Redis feed store is configured by TRIBUNE_REDIS_URL")
    import redis

    follow_create(account=alice, target=bob)
    feeds_check()
    post = status_create(account=bob, text="kept in Redis").pk
    assert feeds_check() is False
    with redis.Redis.from_url(settings.TRIBUNE_REDIS_URL) as client:
        client.flushdb()  # a restart without persistence
    assert feeds_check() is True
    assert in_store(alice) == [post]  # the tasks ran at once
    assert api_as(alice).get("/api/v1/timelines/home").status_code == 200


def test_processes_starting_at_once_rebuild_once(settings, alice, bob):
    """Two ``tribune serve`` starting together after a switch: one restamps the
    store and queues the rebuild; the other finds the new stamp recorded."""
    import threading

    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers (the row lock is what PostgreSQL needs); "
                    "the in-memory test database's table locks ignore the busy timeout")
    follow_create(account=alice, target=bob)
    status_create(account=bob, text="before the move")
    assert feeds_check() is True
    settings.TASKS = DUMMY_TASKS
    FeedStoreStamp.objects.update(value="elsewhere")
    start, answers = threading.Barrier(2), []

    def check() -> None:
        try:
            start.wait(timeout=30)
            # (answer, rebuilds it queued: the task backend is each thread's own)
            answers.append((feeds_check(), len(_queued("rebuild_active_home_feeds"))))
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [(False, 0), (True, 1)]
    assert FeedStoreStamp.objects.get(pk=1).value == feed_store().stamp()
