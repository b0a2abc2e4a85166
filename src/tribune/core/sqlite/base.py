"""Django's SQLite backend, with the write lock taken by quick polling.

SQLite has one write lock per database. A writer that finds it taken waits in
SQLite's busy handler, which sleeps 1, 2, 5 and 10 ms and then 15 to 25 ms between
tries (sqliteDefaultBusyCallback in SQLite's main.c). A web request that wants to
write while a fan-out holds the lock for a few milliseconds therefore waits up to
25 ms longer than it needs to, and may miss the gap the fan-out leaves between its
transactions altogether (timelines.feeds.DatabaseFeedStore).

Every write transaction here begins with ``BEGIN IMMEDIATE`` (settings:
``transaction_mode``), which takes the lock at once or fails. This backend tries it
with the busy handler off and, while the lock is taken, tries again every
``POLL_SECONDS`` for the connection's ``timeout``, then raises Django's
OperationalError ("database is locked") as the busy handler would. Statements
outside such a transaction keep the busy handler.
"""

from __future__ import annotations

import sqlite3
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

POLL_SECONDS = 0.001  # the first 100 ms
SLOW_POLL_SECONDS = 0.005  # after that, up to the timeout
QUICK_POLLS_FOR = 0.1


class DatabaseWrapper(base.DatabaseWrapper):
    """``django.db.backends.sqlite3`` with ``BEGIN IMMEDIATE`` retried quickly."""

    def _start_transaction_under_autocommit(self) -> None:
        if self.transaction_mode != "IMMEDIATE":
            super()._start_transaction_under_autocommit()
            return
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        # The pragmas on the driver's connection; BEGIN through Django's cursor, as
        # Django's own backend runs it, so execute wrappers and query logs see it.
        with self.wrap_database_errors:
            self.connection.execute("PRAGMA busy_timeout = 0")
        try:
            began = time.monotonic()
            while True:
                try:
                    self.cursor().execute("BEGIN IMMEDIATE")
                    return
                except OperationalError as exc:
                    code = getattr(exc.__cause__, "sqlite_errorcode", None)
                    waited = time.monotonic() - began
                    if code is None or (code & 0xFF) != sqlite3.SQLITE_BUSY or waited >= timeout:
                        raise
                time.sleep(POLL_SECONDS if waited < QUICK_POLLS_FOR else SLOW_POLL_SECONDS)
        finally:
            with self.wrap_database_errors:
                self.connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
