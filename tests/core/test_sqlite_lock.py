"""The embedded default's SQLite connections take the write lock by polling with
SQLite's busy handler off (tribune.core.sqlite): a write transaction and a write
in autocommit mode both wait while another connection writes, then go ahead; past
the timeout they fail with "database is locked", as the busy handler would."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from tribune.core import sqlite as polling
from tribune.core.conf import database_settings


def _wrapper(path, timeout: float):
    config = database_settings(f"sqlite:///{path}", default_path=path)
    config["OPTIONS"]["timeout"] = timeout
    handler = ConnectionHandler({"default": config})
    wrapper = handler["default"]
    wrapper.ensure_connection()
    return wrapper


@pytest.fixture
def database(tmp_path, django_db_blocker):
    """A WAL database outside the test database, and a plain second connection to
    it (the "other process") that holds the lock when told to."""
    path = tmp_path / "lock.sqlite3"
    with sqlite3.connect(path) as made:
        made.execute("PRAGMA journal_mode=WAL")
        made.execute("CREATE TABLE t (x INTEGER)")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    with django_db_blocker.unblock():
        yield path, holder
    holder.close()


def _values(holder) -> list[int]:
    return [r[0] for r in holder.execute("SELECT x FROM t ORDER BY x")]


def test_connections_poll_instead_of_the_busy_handler(database):
    path, _ = database
    wrapper = _wrapper(path, timeout=20)
    with wrapper.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 0
    assert wrapper.execute_wrappers.count(polling.retry_busy) == 1
    wrapper.close()
    wrapper.ensure_connection()  # a new connection to the same wrapper: still once
    assert wrapper.execute_wrappers.count(polling.retry_busy) == 1
    wrapper.close()


def _hold_then_commit(holder, seconds: float) -> threading.Timer:
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    release = threading.Timer(seconds, lambda: holder.execute("COMMIT"))
    release.start()
    return release


def test_a_write_transaction_waits_for_the_lock(database):
    path, holder = database
    wrapper = _wrapper(path, timeout=20)
    release = _hold_then_commit(holder, 0.3)
    began = time.monotonic()
    with _atomic(wrapper), wrapper.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (2)")
    waited = time.monotonic() - began
    release.join()
    assert _values(holder) == [1, 2]
    assert 0.25 < waited < 5
    wrapper.close()


def test_a_write_in_autocommit_mode_waits_for_the_lock(database):
    """The case the first version missed: a statement outside a transaction (as
    django-tasks-db's enqueue in an on-commit hook) polls too."""
    path, holder = database
    wrapper = _wrapper(path, timeout=20)
    release = _hold_then_commit(holder, 0.3)
    with wrapper.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (2)")
    release.join()
    assert _values(holder) == [1, 2]
    wrapper.close()


@pytest.mark.parametrize("in_transaction", [False, True])
def test_a_lock_held_past_the_timeout_is_database_is_locked(database, in_transaction):
    path, holder = database
    wrapper = _wrapper(path, timeout=0.3)
    holder.execute("BEGIN IMMEDIATE")
    began = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        if in_transaction:
            with _atomic(wrapper):
                pass
        else:
            with wrapper.cursor() as cursor:
                cursor.execute("INSERT INTO t VALUES (2)")
    assert time.monotonic() - began >= 0.3
    holder.execute("ROLLBACK")
    assert _values(holder) == []
    wrapper.close()


class _atomic:
    """``transaction.atomic`` on a wrapper that is not in ``connections``."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def __enter__(self):
        self.wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.wrapper.commit()
        else:
            self.wrapper.rollback()
        self.wrapper.set_autocommit(True)
