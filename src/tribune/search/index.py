"""Building the status index (``schema``): derived data, rebuilt from the statuses."""

from __future__ import annotations

from django.db import connection, transaction

from tribune.search.schema import TABLE, drop_statements, rebuild_statements


def status_index_rebuild() -> int:
    """Make the status index again from ``statuses_status`` (every status with
    text of its own, reblogs left out) in one transaction, with its triggers, and
    return the number of statuses indexed. Safe to run again; the instance may
    keep serving meanwhile (writers wait for the transaction)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in rebuild_statements(connection.vendor):
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT count(*) FROM {TABLE}")
        else:  # FTS5 counts its documents in the _docsize shadow table
            cursor.execute(f"SELECT count(*) FROM {TABLE}_docsize")
        return cursor.fetchone()[0]


def status_index_drop() -> None:
    """Remove the status index, its triggers and (PostgreSQL) functions, if there;
    a restore drops it before loading the statuses, which would otherwise be
    indexed one by one, and rebuilds it once afterwards."""
    with connection.cursor() as cursor:
        for statement in drop_statements(connection.vendor):
            cursor.execute(statement)
