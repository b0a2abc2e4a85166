"""SQLite's write lock taken by quick polling, for every statement alike.

SQLite has one write lock per database. A connection that finds it taken waits in
SQLite's busy handler, which sleeps 1, 2, 5 and 10 ms and then 15 to 25 ms between
tries (``sqliteDefaultBusyCallback`` in SQLite's main.c). A web request that wants
to write while a fan-out holds the lock for a few milliseconds therefore waits up
to 25 ms longer than it needs to, and may miss the gaps the fan-out leaves between
its transactions altogether (``timelines.feeds.DatabaseFeedStore``).

So on the embedded default every Django connection to SQLite runs with the busy
handler off (``PRAGMA busy_timeout = 0``), and :func:`retry_busy`, an execute
wrapper (Django's "database instrumentation"), runs again every statement that
failed with ``SQLITE_BUSY`` outside a transaction: every ``POLL_SECONDS`` for the
first ``QUICK_POLLS_FOR`` seconds, then every ``SLOW_POLL_SECONDS``, until the
connection's ``timeout`` option has passed, when the error is raised as the busy
handler would have raised it. That covers ``BEGIN IMMEDIATE``, with which every
write transaction here begins (settings: ``transaction_mode``), and the writes
made in autocommit mode alike: a rule for some writers only lets the quick ones
take every gap from the others (docs/adr/0021-cpu-for-what-people-wait-for.md).

Inside a transaction nothing is retried: it began with ``BEGIN IMMEDIATE`` and
holds the write lock, and in WAL mode neither its statements nor its commit wait
for another connection.
"""

from __future__ import annotations

import sqlite3
import time

from django.db import OperationalError

POLL_SECONDS = 0.001
SLOW_POLL_SECONDS = 0.005
QUICK_POLLS_FOR = 0.1  # seconds of quick polls before the slower ones


def _busy(exc: OperationalError) -> bool:
    code = getattr(exc.__cause__, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) == sqlite3.SQLITE_BUSY


def retry_busy(execute, sql, params, many, context):
    """Django execute wrapper: run ``execute(sql, params, many, context)``, and run
    it again while it fails with SQLITE_BUSY outside a transaction, for at most the
    connection's ``OPTIONS["timeout"]`` seconds (default 5, as Python's sqlite3).
    Raises Django's OperationalError ("database is locked") after that, and any
    other error at once."""
    wrapper = context["connection"]
    if wrapper.connection is not None and wrapper.connection.in_transaction:
        return execute(sql, params, many, context)
    began = None
    while True:
        try:
            return execute(sql, params, many, context)
        except OperationalError as exc:
            if not _busy(exc):
                raise
            now = time.monotonic()
            if began is None:
                began = now
            waited = now - began
            if waited >= _timeout(wrapper):
                raise
        time.sleep(POLL_SECONDS if waited < QUICK_POLLS_FOR else SLOW_POLL_SECONDS)


def _timeout(wrapper) -> float:
    return float(wrapper.settings_dict.get("OPTIONS", {}).get("timeout", 5))


def install(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: on a SQLite connection that begins its
    write transactions with ``BEGIN IMMEDIATE`` (the embedded default's settings,
    core.conf.database_settings), turn SQLite's busy handler off and poll instead
    (:func:`retry_busy`). Other connections are left as they are."""
    if connection.vendor != "sqlite" or connection.transaction_mode != "IMMEDIATE":
        return
    connection.connection.execute("PRAGMA busy_timeout = 0")
    if retry_busy not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, retry_busy)
