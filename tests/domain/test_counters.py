"""Writes that race: fan-out tolerates a status deleted between its read and its
write.

``interleaved`` reproduces the race the real server saw: two requests read the same
rows, then both write. The body runs here; when it opens its first transaction, the
other request runs to completion in a second thread (with its own connection), and
only then does the body's transaction begin. Two threads never use the database at
once, which the in-memory test database (shared cache, table locks) could not take.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction

from tribune.graph.services import follow_create
from tribune.statuses.models import Status
from tribune.statuses.services import (
    reblog_create,
    reblog_delete,
    status_create,
    status_delete,
)
from tribune.timelines.feeds import feed_store
from tribune.timelines.models import FeedEntry
from tribune.timelines.services import (
    fanout_status,
    feed_add_status,
    feed_merge_author,
    unfanout_status,
)

pytestmark = pytest.mark.django_db(transaction=True)


class Outcome:
    """What the other request returned or raised."""

    value: Any = None
    error: BaseException | None = None


def _run_in_thread(other: Callable[[], Any]) -> Outcome:
    outcome = Outcome()

    def run() -> None:
        try:
            outcome.value = other()
        except BaseException as exc:
            outcome.error = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the other request did not finish"
    return outcome


@contextmanager
def interleaved(other: Callable[[], Any]) -> Iterator[Outcome]:
    """Run ``other`` to completion just before the body's first BEGIN."""
    outcome = Outcome()
    ran = False

    def wrapper(execute, sql, params, many, context):
        nonlocal ran
        if not ran and sql.startswith("BEGIN"):
            ran = True
            done = _run_in_thread(other)
            outcome.value, outcome.error = done.value, done.error
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield outcome
    assert ran, "the body never opened a transaction"


# --- fan-out of a status deleted meanwhile --------------------------------------------


def test_fanout_of_a_status_deleted_before_its_entries_are_written(alice, bob, carol):
    follow_create(account=carol, target=bob)  # the original is on nobody's feed but alice's
    original = status_create(account=alice, text="original")
    reblog = reblog_create(account=bob, status=original)
    unfanout_status(status_id=reblog.pk)  # as before its fan-out ran
    assert not FeedEntry.objects.filter(status_id=reblog.pk).exists()

    # The fan-out job has read the reblog and its audience when the unreblog commits.
    with interleaved(lambda: reblog_delete(account=bob, status=original)) as other:
        reached = fanout_status(status_id=reblog.pk)

    assert other.error is None
    assert reached == 0
    assert not Status.objects.filter(pk=reblog.pk).exists()
    assert not FeedEntry.objects.filter(status_id=reblog.pk).exists()


def test_feed_add_status_skips_only_a_deleted_status(alice, bob):
    gone = status_create(account=alice, text="gone")
    gone_id = gone.pk
    kept = status_create(account=alice, text="kept")
    status_delete(account=alice, status=gone)

    # What fan-out used to do: the entries fail at commit.
    with pytest.raises(IntegrityError), transaction.atomic():
        feed_store().add(status_id=gone_id, reblog_of_id=None, account_ids=[bob.pk])
    assert feed_add_status(status_id=gone_id, reblog_of_id=None, account_ids=[bob.pk]) is False
    assert not FeedEntry.objects.filter(status_id=gone_id).exists()

    # Another broken reference is still an error.
    with pytest.raises(IntegrityError):
        feed_add_status(status_id=kept.pk, reblog_of_id=None, account_ids=[2**62])
    assert feed_add_status(status_id=kept.pk, reblog_of_id=None, account_ids=[bob.pk]) is True
    assert FeedEntry.objects.filter(account=bob, status=kept).exists()


def test_feed_merge_skips_a_status_deleted_meanwhile(alice, bob):
    older = status_create(account=alice, text="older")
    newer = status_create(account=alice, text="newer")

    # The merge has listed alice's statuses when the newest one is deleted.
    with interleaved(lambda: status_delete(account=alice, status=newer)) as other:
        feed_merge_author(feed_account_id=bob.pk, author_id=alice.pk)

    assert other.error is None
    assert list(FeedEntry.objects.filter(account=bob).values_list("status_id", flat=True)) == [older.pk]
