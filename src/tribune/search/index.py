"""Building the status index (``schema``): derived data, rebuilt from the statuses."""

from __future__ import annotations

from django.db import connection, transaction

from tribune.search.schema import TABLE, rebuild_statements


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
