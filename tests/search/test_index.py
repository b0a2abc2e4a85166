"""The status index as derived data: filled by its migration, rebuilt by the
restore's hook, never in a backup."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tribune.portability.backup_tables import table_specs
from tribune.portability.derived import search_index_rebuild
from tribune.search.selectors import status_search
from tribune.statuses.services import reblog_create, status_create


def test_rebuild_indexes_every_status_with_text_and_search_still_works(alice, bob):
    first = status_create(account=alice, text="a curlew at dawn")
    second = status_create(account=bob, text="a curlew at dusk", visibility="private")
    reblog_create(account=bob, status=first)  # no text of its own: not indexed
    assert search_index_rebuild() == 2
    assert search_index_rebuild() == 2  # again: the same index, not twice the rows
    assert [s.pk for s in status_search(viewer=alice, query="curlew")] == [first.pk]
    assert [s.pk for s in status_search(viewer=bob, query="curlew")] == [second.pk, first.pk]
    # Writes after a rebuild are indexed by the triggers it made again.
    third = status_create(account=alice, text="curlew again, curlew")
    assert [s.pk for s in status_search(viewer=alice, query="curlew")] == [third.pk, first.pk]


def test_the_index_is_in_no_backup(db):
    tables = set(connection.introspection.table_names())
    index_tables = {t for t in tables if t.startswith("search_")}
    assert "search_status" in index_tables  # present, so leaving it out means something
    if connection.vendor == "sqlite":  # FTS5's shadow tables are there too
        assert {"search_status_data", "search_status_idx", "search_status_docsize",
                "search_status_config"} <= index_tables
    archived = {spec.table for spec in table_specs()}
    assert "statuses_status" in archived
    assert archived.isdisjoint(index_tables)


@pytest.mark.django_db(transaction=True)
def test_the_migration_indexes_the_statuses_already_there(alice):
    executor = MigrationExecutor(connection)
    executor.migrate([("search", None)])  # an instance from before search
    try:
        assert "search_status" not in connection.introspection.table_names()
        before = status_create(account=alice, text="a dipper by the stream")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    after = status_create(account=alice, text="another dipper")
    found = status_search(viewer=alice, query="dipper")
    assert sorted(s.pk for s in found) == sorted([before.pk, after.pk])
