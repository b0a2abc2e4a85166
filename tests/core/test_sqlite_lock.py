"""The embedded default's SQLite backend (tribune.core.sqlite) takes the write lock
by polling with SQLite's busy handler off: it waits while another connection
writes, raises Django's "database is locked" once the timeout has passed, and
leaves the connection's busy timeout as it found it."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from tribune.core.conf import database_settings


def _wrapper(path, timeout: float):
    config = database_settings(f"sqlite:///{path}", default_path=path)
    config["OPTIONS"]["timeout"] = timeout
    wrapper = ConnectionHandler({"default": config})["default"]
    wrapper.ensure_connection()  # as atomic() does before it begins
    return wrapper


def _busy_timeout(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        return cursor.fetchone()[0]


@pytest.fixture
def database(tmp_path, django_db_blocker):
    """A WAL database outside the test database (pytest-django lets tests open
    connections only where they unblock it), and a second connection to it."""
    path = tmp_path / "lock.sqlite3"
    with sqlite3.connect(path) as made:
        made.execute("PRAGMA journal_mode=WAL")
        made.execute("CREATE TABLE t (x INTEGER)")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    with django_db_blocker.unblock():
        yield path, holder
    holder.close()


def test_the_embedded_default_uses_it(tmp_path):
    assert database_settings("", default_path=tmp_path / "x.sqlite3")["ENGINE"] == (
        "tribune.core.sqlite")


def test_a_lock_held_past_the_timeout_is_database_is_locked(database):
    path, holder = database
    wrapper = _wrapper(path, timeout=0.3)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="database is locked"):
        wrapper._start_transaction_under_autocommit()
    assert _busy_timeout(wrapper) == 300
    holder.execute("ROLLBACK")
    wrapper.close()


def test_a_writer_waits_for_the_lock_and_then_writes(database):
    path, holder = database
    wrapper = _wrapper(path, timeout=20)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    wrapper._start_transaction_under_autocommit()  # returns once the holder committed
    with wrapper.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (2)")
        cursor.execute("COMMIT")
    release.join()
    assert [r[0] for r in holder.execute("SELECT x FROM t ORDER BY x")] == [1, 2]
    assert _busy_timeout(wrapper) == 20000
    wrapper.close()
