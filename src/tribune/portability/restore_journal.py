"""The journal of a restore in progress, kept in the target database itself so that
it commits with the rows: ``tribune_restore_state`` (key, value: the backup id,
the archive's path, what the target was before, the dropped foreign keys, whether
the tables were prepared) and ``tribune_restore_done`` (every member loaded).

While it exists the database is half-restored: ``restore_unfinished`` tells the
other commands so, and they refuse to run (``tribune.cli``).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import connection, transaction

STATE = "tribune_restore_state"
DONE = "tribune_restore_done"


def database_exists() -> bool:
    """Whether the target database exists (a SQLite file is not created by asking)."""
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        return name != ":memory:" and Path(name).exists()
    return True


def journal_exists() -> bool:
    return database_exists() and STATE in connection.introspection.table_names()


def journal_begin(*, backup_id: str, archive: Path, before: dict) -> None:
    """Create the journal of a restore of ``backup_id`` from ``archive``;
    ``before`` says what the target held (``journal_get("before")``)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {STATE} (key VARCHAR(100) PRIMARY KEY, value TEXT NOT NULL)")
        cursor.execute(f"CREATE TABLE {DONE} (member VARCHAR(1200) PRIMARY KEY)")
        for key, value in (("backup_id", backup_id), ("archive", str(archive)),
                           ("before", json.dumps(before))):
            cursor.execute(f"INSERT INTO {STATE} (key, value) VALUES (%s, %s)", [key, value])


def journal_get(key: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {STATE} WHERE key = %s", [key])
        row = cursor.fetchone()
    return row[0] if row else None


def journal_set(key: str, value: str) -> None:
    """Record ``key`` (in the caller's transaction, if any)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {STATE} WHERE key = %s", [key])
        cursor.execute(f"INSERT INTO {STATE} (key, value) VALUES (%s, %s)", [key, value])


def journal_done() -> set[str]:
    """The members loaded so far."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT member FROM {DONE}")
        return {row[0] for row in cursor.fetchall()}


def journal_mark(member: str) -> None:
    """Record ``member`` as loaded (in the caller's transaction, with its rows)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {DONE} (member) VALUES (%s)", [member])


def journal_drop() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {DONE}")
        cursor.execute(f"DROP TABLE IF EXISTS {STATE}")


def restore_unfinished() -> str | None:
    """The archive (its path, as the restore was given it, made absolute) of a
    restore that began in this database and has not finished; None when there is
    none. Opens no SQLite file that does not exist."""
    if not journal_exists():
        return None
    return journal_get("archive") or f"the archive of backup {journal_get('backup_id')}"
