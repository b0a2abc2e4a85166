"""Writes that race: counters stay exact when the same write arrives twice, one after
the other or interleaved with another request, and fan-out tolerates a status
deleted between its read and its write.

A counter is only ever checked against the rows it counts. Each account or status
has other rows too, so a counter that moved twice would not be hidden by the
never-below-zero guard.

``interleaved`` reproduces the race the real server saw: two requests read the same
rows, then both write. The body runs here; when it opens its first transaction, the
other request runs to completion in a second thread (with its own connection), and
only then does the body's transaction begin. Two threads never use the database at
once, which the in-memory test database (shared cache, table locks) could not take.
SQLite's transaction begins with the BEGIN that Django sends; PostgreSQL's with the
first statement inside the atomic block (psycopg sends BEGIN with it, unseen here).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction

from tribune.accounts.models import Account
from tribune.accounts.services import account_update
from tribune.core.errors import NotFound
from tribune.graph.models import Block, Follow, FollowRequest
from tribune.graph.services import (
    block_create,
    follow_create,
    follow_delete,
    follow_request_authorize,
    follower_remove,
)
from tribune.statuses.models import Favourite, Status
from tribune.statuses.services import (
    favourite_create,
    favourite_delete,
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
    """Run ``other`` to completion just before the body's transaction begins."""
    outcome = Outcome()
    ran = False

    def wrapper(execute, sql, params, many, context):
        nonlocal ran
        if not ran and (sql.startswith("BEGIN") or connection.in_atomic_block):
            ran = True
            done = _run_in_thread(other)
            outcome.value, outcome.error = done.value, done.error
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield outcome
    assert ran, "the body never opened a transaction"


def assert_account_counters(*accounts: Account) -> None:
    for account in accounts:
        fresh = Account.objects.get(pk=account.pk)
        assert fresh.statuses_count == Status.objects.filter(account=account).count()
        assert fresh.following_count == Follow.objects.filter(account=account).count()
        assert fresh.followers_count == Follow.objects.filter(target=account).count()


def assert_status_counters(*statuses: Status) -> None:
    for status in statuses:
        fresh = Status.objects.get(pk=status.pk)
        assert fresh.reblogs_count == Status.objects.filter(reblog_of=status).count()
        assert fresh.favourites_count == Favourite.objects.filter(status=status).count()
        assert fresh.replies_count == Status.objects.filter(in_reply_to=status).count()


def _posts(account: Account, n: int) -> list[Status]:
    return [status_create(account=account, text=f"post {i}") for i in range(n)]


# --- deleting a status ----------------------------------------------------------------


def test_deleting_a_status_twice_counts_once(alice):
    _posts(alice, 3)
    doomed = status_create(account=alice, text="doomed")
    stale = Status.objects.get(pk=doomed.pk)  # read once, as a request reads it

    status_delete(account=alice, status=stale)
    with pytest.raises(NotFound, match="Record not found"):
        status_delete(account=alice, status=stale)

    assert Status.objects.filter(account=alice).count() == 3
    assert_account_counters(alice)


def test_concurrent_deletes_of_one_status_count_once(alice):
    _posts(alice, 3)
    stale = status_create(account=alice, text="doomed")

    with (interleaved(lambda: status_delete(account=alice, status=stale)) as other,
          pytest.raises(NotFound)):
        status_delete(account=alice, status=stale)

    assert other.error is None
    assert Status.objects.filter(account=alice).count() == 3
    assert_account_counters(alice)


def test_deleting_a_reply_twice_counts_the_reply_once(alice, bob):
    parent = status_create(account=alice, text="parent")
    status_create(account=bob, text="first reply", in_reply_to_id=parent.pk)
    reply = status_create(account=bob, text="second reply", in_reply_to_id=parent.pk)

    with (interleaved(lambda: status_delete(account=bob, status=reply)),
          pytest.raises(NotFound)):
        status_delete(account=bob, status=reply)

    assert Status.objects.filter(in_reply_to=parent).count() == 1
    assert_status_counters(parent)
    assert_account_counters(alice, bob)


def test_a_reply_to_a_status_deleted_meanwhile_is_not_made(alice, bob):
    parent = status_create(account=alice, text="parent")
    _posts(bob, 2)

    with (interleaved(lambda: status_delete(account=alice, status=parent)),
          pytest.raises(NotFound)):
        status_create(account=bob, text="too late", in_reply_to_id=parent.pk)

    assert not Status.objects.filter(text="too late").exists()
    assert_account_counters(alice, bob)


def test_deleting_a_reblogged_status_counts_each_reblogger_once(alice, bob, carol):
    _posts(alice, 2)
    _posts(bob, 2)
    original = status_create(account=alice, text="original")
    reblog_create(account=alice, status=original)  # a self-reblog: two rows of alice go
    reblog_create(account=bob, status=original)
    reblog_create(account=carol, status=original)

    # carol's unreblog lands while alice deletes the original
    with interleaved(lambda: reblog_delete(account=carol, status=original)) as other:
        status_delete(account=alice, status=original)

    assert other.error is None
    assert Status.objects.filter(account=alice).count() == 2
    assert Status.objects.filter(account=bob).count() == 2
    assert not Status.objects.filter(account=carol).exists()
    assert_account_counters(alice, bob, carol)


# --- reblogs --------------------------------------------------------------------------


def test_unreblogging_twice_counts_once(alice, bob, carol):
    _posts(bob, 2)
    original = status_create(account=alice, text="original")
    reblog_create(account=carol, status=original)
    reblog = reblog_create(account=bob, status=original)

    reblog_delete(account=bob, status=original)
    reblog_delete(account=bob, status=original)  # a no-op, as Mastodon's unreblog
    with pytest.raises(NotFound):
        status_delete(account=bob, status=reblog)  # the reblog object read before

    assert Status.objects.filter(reblog_of=original).count() == 1
    assert Status.objects.filter(account=bob).count() == 2
    assert_status_counters(original)
    assert_account_counters(bob, carol)


def test_concurrent_unreblogs_count_once(alice, bob, carol):
    _posts(bob, 2)
    original = status_create(account=alice, text="original")
    reblog_create(account=carol, status=original)
    reblog_create(account=bob, status=original)

    with interleaved(lambda: reblog_delete(account=bob, status=original)) as other:
        reblog_delete(account=bob, status=original)

    assert other.error is None
    assert Status.objects.filter(reblog_of=original).count() == 1
    assert_status_counters(original)
    assert_account_counters(bob, carol)


def test_concurrent_reblogs_count_once(alice, bob, carol):
    original = status_create(account=alice, text="original")
    reblog_create(account=carol, status=original)

    # Both requests find no reblog before either writes: the body's insert then
    # fails on reblog_once and returns the other request's reblog.
    with interleaved(lambda: reblog_create(account=bob, status=original)) as other:
        mine = reblog_create(account=bob, status=original)

    assert other.error is None
    assert mine.pk == other.value.pk
    assert Status.objects.filter(reblog_of=original).count() == 2
    assert_status_counters(original)
    assert_account_counters(bob, carol)


def test_a_reblog_of_a_status_deleted_meanwhile_is_not_made(alice, bob):
    _posts(bob, 2)
    original = status_create(account=alice, text="original")

    with (interleaved(lambda: status_delete(account=alice, status=original)),
          pytest.raises(NotFound)):
        reblog_create(account=bob, status=original)

    assert Status.objects.filter(account=bob).count() == 2
    assert_account_counters(alice, bob)


# --- favourites -----------------------------------------------------------------------


def test_unfavouriting_twice_counts_once(alice, bob, carol):
    status = status_create(account=alice, text="liked")
    favourite_create(account=carol, status=status)
    favourite_create(account=bob, status=status)
    stale = Status.objects.get(pk=status.pk)

    favourite_delete(account=bob, status=stale)
    favourite_delete(account=bob, status=stale)

    assert Favourite.objects.filter(status=status).count() == 1
    assert_status_counters(status)


def test_concurrent_unfavourites_count_once(alice, bob, carol):
    status = status_create(account=alice, text="liked")
    favourite_create(account=carol, status=status)
    favourite_create(account=bob, status=status)

    with interleaved(lambda: favourite_delete(account=bob, status=status)) as other:
        favourite_delete(account=bob, status=status)

    assert other.error is None
    assert Favourite.objects.filter(status=status).count() == 1
    assert_status_counters(status)


def test_concurrent_favourites_count_once(alice, bob, carol):
    status = status_create(account=alice, text="liked")
    favourite_create(account=carol, status=status)

    with interleaved(lambda: favourite_create(account=bob, status=status)) as other:
        mine = favourite_create(account=bob, status=status)

    assert other.error is None
    assert mine.pk == other.value.pk
    assert Favourite.objects.filter(status=status).count() == 2
    assert_status_counters(status)


def test_a_favourite_of_a_status_deleted_meanwhile_is_not_made(alice, bob):
    status = status_create(account=alice, text="liked")

    with (interleaved(lambda: status_delete(account=alice, status=status)),
          pytest.raises(NotFound)):
        favourite_create(account=bob, status=status)

    assert not Favourite.objects.filter(account=bob).exists()


# --- follows --------------------------------------------------------------------------


def test_concurrent_follows_count_once(alice, bob, carol):
    follow_create(account=carol, target=bob)

    with interleaved(lambda: follow_create(account=alice, target=bob)) as other:
        mine = follow_create(account=alice, target=bob)

    assert other.error is None
    assert mine.pk == other.value.pk
    assert Follow.objects.filter(target=bob).count() == 2
    assert_account_counters(alice, bob, carol)


@pytest.mark.parametrize("first", ["lower id follows higher", "higher id follows lower"])
def test_two_accounts_following_each_other_at_once_do_not_deadlock(alice, bob, first):
    """Found under load with two web processes on PostgreSQL: A following B while B
    follows A locked the two account rows in opposite orders, and PostgreSQL broke
    the deadlock by failing one request (a 500). Here the other request starts once
    this one has updated its first account row, and runs until it waits on a lock."""
    if connection.vendor != "postgresql":
        pytest.skip("row-lock order matters on PostgreSQL; SQLite has one writer at a time")
    low, high = sorted([alice, bob], key=lambda account: account.pk)
    me, them = (low, high) if first == "lower id follows higher" else (high, low)
    outcome = Outcome()
    started: list[threading.Thread] = []

    def other() -> None:
        try:
            outcome.value = follow_create(account=them, target=me)
        except BaseException as exc:
            outcome.error = exc
        finally:
            connections.close_all()

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not started and sql.startswith('UPDATE "accounts_account"'):
            started.append(threading.Thread(target=other))
            started[0].start()
            started[0].join(timeout=1.5)  # until it waits on this transaction's lock
        return result

    with connection.execute_wrapper(wrapper):
        follow_create(account=me, target=them)
    started[0].join(timeout=30)

    assert not started[0].is_alive()
    assert outcome.error is None
    assert Follow.objects.filter(account=me, target=them).exists()
    assert Follow.objects.filter(account=them, target=me).exists()
    assert_account_counters(alice, bob)


def test_unfollowing_twice_counts_once(alice, bob, carol):
    follow_create(account=carol, target=bob)
    follow_create(account=alice, target=carol)
    follow_create(account=alice, target=bob)

    with interleaved(lambda: follow_delete(account=alice, target=bob)) as other:
        follow_delete(account=alice, target=bob)
    follow_delete(account=alice, target=bob)

    assert other.error is None
    assert Follow.objects.filter(target=bob).count() == 1
    assert Follow.objects.filter(account=alice).count() == 1
    assert_account_counters(alice, bob, carol)


def test_removing_a_follower_twice_counts_once(alice, bob, carol):
    follow_create(account=carol, target=alice)
    follow_create(account=bob, target=carol)
    follow_create(account=bob, target=alice)

    with interleaved(lambda: follower_remove(account=alice, follower=bob)) as other:
        follower_remove(account=alice, follower=bob)

    assert other.error is None
    assert Follow.objects.filter(target=alice).count() == 1
    assert Follow.objects.filter(account=bob).count() == 1
    assert_account_counters(alice, bob, carol)


def test_blocking_twice_counts_once(alice, bob, carol):
    follow_create(account=carol, target=alice)
    follow_create(account=carol, target=bob)
    follow_create(account=alice, target=bob)
    follow_create(account=bob, target=alice)

    with interleaved(lambda: block_create(account=alice, target=bob)) as other:
        mine = block_create(account=alice, target=bob)

    assert other.error is None
    assert mine.pk == other.value.pk
    assert Block.objects.filter(account=alice, target=bob).count() == 1
    assert Follow.objects.filter(target=alice).count() == 1
    assert Follow.objects.filter(target=bob).count() == 1
    assert_account_counters(alice, bob, carol)


def test_authorizing_a_request_twice_counts_once(make_account, alice, bob):
    locked = make_account("locked", locked=True)
    follow_create(account=bob, target=locked)
    follow_create(account=alice, target=locked)

    def authorize():
        return follow_request_authorize(account=locked, requester=alice)

    with interleaved(authorize) as other:
        mine = authorize()

    assert other.error is None
    assert mine.pk == other.value.pk
    assert not FollowRequest.objects.filter(account=alice).exists()
    assert Follow.objects.filter(target=locked).count() == 1
    assert_account_counters(locked, alice, bob)


def test_authorizing_a_request_when_already_following(make_account, alice):
    account = make_account("unlocks", locked=True)
    follow_create(account=alice, target=account)  # a pending request
    account_update(account=account, locked=False)
    follow = follow_create(account=alice, target=Account.objects.get(pk=account.pk))

    assert follow_request_authorize(account=account, requester=alice).pk == follow.pk
    assert not FollowRequest.objects.filter(account=alice).exists()
    assert Follow.objects.filter(target=account).count() == 1
    assert_account_counters(account, alice)


# --- fan-out of a status deleted meanwhile --------------------------------------------


@pytest.fixture
def database_feeds(settings):
    """The database feed store, whose entries' foreign keys are checked at commit:
    it serves whenever Redis is not configured, on SQLite or PostgreSQL, and these
    tests run against it on either. (The Redis store: tests/timelines.)"""
    settings.TRIBUNE_REDIS_URL = ""


def test_fanout_of_a_status_deleted_before_its_entries_are_written(database_feeds, alice, bob,
                                                                   carol):
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


def test_feed_add_status_skips_only_a_deleted_status(database_feeds, alice, bob):
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


def test_feed_merge_skips_a_status_deleted_meanwhile(database_feeds, alice, bob):
    older = status_create(account=alice, text="older")
    newer = status_create(account=alice, text="newer")
    follow_create(account=bob, target=alice)  # the merge takes only what bob may see
    FeedEntry.objects.filter(account=bob).delete()  # as before the follow's merge ran

    # The merge has listed alice's statuses when the newest one is deleted.
    with interleaved(lambda: status_delete(account=alice, status=newer)) as other:
        feed_merge_author(feed_account_id=bob.pk, author_id=alice.pk)

    assert other.error is None
    assert list(FeedEntry.objects.filter(account=bob).values_list("status_id", flat=True)) == [older.pk]
