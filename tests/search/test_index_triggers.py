"""The status index's triggers survive migrations: a later ``statuses`` migration
that remakes ``statuses_status`` on SQLite dropped them (statuses 0007), and
nothing posted afterwards could be found."""

from __future__ import annotations

import pytest
from django.db import connection

from tribune.search.apps import _index_repaired
from tribune.search.schema import triggers_missing
from tribune.search.selectors import status_search
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_migrated_database_has_the_index_triggers():
    assert triggers_missing(connection) is False


def test_triggers_dropped_by_a_migration_are_made_again_after_migrate(alice):
    before = status_create(account=alice, text="lanterns over the harbour")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER search_status_write ON statuses_status")
        else:
            cursor.execute("DROP TRIGGER search_status_insert")
    assert triggers_missing(connection) is True
    _index_repaired(sender=None)
    assert triggers_missing(connection) is False
    after = status_create(account=alice, text="lanterns along the quay")
    found = status_search(query="lanterns", viewer=alice, limit=10, offset=0)
    assert {s.pk for s in found} == {before.pk, after.pk}
