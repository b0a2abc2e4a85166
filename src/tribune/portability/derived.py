"""State derived from the rows, rebuilt after a restore: counters, home feeds and
the status search index. Each step may run again: a restore
interrupted here repeats it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The tables this module fills (besides the counters' columns): a restore drops
# their indexes while it does, and builds them after.
DERIVED_TABLES = ("timelines_feedentry",)

# (table, counter column, child table, child column): the counter is the number of
# child rows naming the row. Account counters are recounted for local accounts
# only: a remote account's figures are its own server's.
COUNTERS = [
    ("accounts_account", "statuses_count", "statuses_status", "account_id"),
    ("accounts_account", "followers_count", "graph_follow", "target_id"),
    ("accounts_account", "following_count", "graph_follow", "account_id"),
    ("statuses_status", "replies_count", "statuses_status", "in_reply_to_id"),
    ("statuses_status", "reblogs_count", "statuses_status", "reblog_of_id"),
    ("statuses_status", "favourites_count", "statuses_favourite", "status_id"),
]


@dataclass
class DerivedResult:
    counters_fixed: int
    feeds_rebuilt: int
    search_indexed: int


Step = Callable[[str, int, int], None]  # what is being done, how far, out of how much


def _no_step(what: str, done: int, total: int) -> None:
    pass


def derived_state_rebuild(on_step: Step = _no_step) -> DerivedResult:
    """Recount the counters, rebuild the home feeds of recently active accounts and
    the search index; ``on_step`` hears ("counters", counters done, of how many)
    and ("home feeds", feeds done, of how many) as they go."""
    return DerivedResult(counters_fixed=counters_recount(on_step),
                         feeds_rebuilt=home_feeds_rebuild(on_step),
                         search_indexed=search_index_rebuild())


def counters_recount(on_step: Step = _no_step) -> int:
    """Set every counter of ``COUNTERS`` to the count of its rows where they differ,
    giving each changed row a new version (its cached entity is then stale);
    returns the rows changed. One grouped query per counter, so it takes seconds
    on millions of rows (an UPDATE ... FROM: SQLite 3.33+, PostgreSQL)."""
    from django.db import connection, transaction

    from tribune.core.entity_cache import new_version

    changed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for done, (table, counter, child, column) in enumerate(COUNTERS):
            on_step("counters", done, len(COUNTERS))
            local = " AND t.domain = ''" if table == "accounts_account" else ""
            cursor.execute(f"""
                UPDATE "{table}" SET "{counter}" = c.n, "version" = %s
                FROM (SELECT t.id AS id, COALESCE(g.n, 0) AS n
                      FROM "{table}" t
                      LEFT JOIN (SELECT "{column}" AS k, count(*) AS n FROM "{child}"
                                 WHERE "{column}" IS NOT NULL GROUP BY "{column}") g
                        ON g.k = t.id
                      WHERE 1 = 1{local}) c
                WHERE c.id = "{table}".id AND "{table}"."{counter}" <> c.n""",
                [new_version()])
            changed += max(cursor.rowcount, 0)
    on_step("counters", len(COUNTERS), len(COUNTERS))
    return changed


def home_feeds_rebuild(on_step: Step = _no_step) -> int:
    """Fill the home feed of every local account active within
    ``TRIBUNE_FEED_ACTIVE_DAYS`` into the configured store, recorded as the one
    holding the current feeds (``timelines.services.active_feeds_rebuild``);
    returns how many."""
    from tribune.timelines.services import active_feeds_rebuild, feeds_restamp

    feeds_restamp()
    on_step("home feeds", 0, 0)
    return active_feeds_rebuild(on_batch=lambda done, total: on_step("home feeds", done, total))


def search_index_rebuild() -> int:
    """Rebuild the status search index from the statuses
    (``search.index.status_index_rebuild``; it is in no backup) and return the
    statuses indexed; the restore dropped it before loading them. Before the
    search migration has run (a restore of an older archive runs it after the
    rows are in, and it fills the index) there is no index to make: 0."""
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from tribune.search.index import status_index_rebuild

    if not any(app == "search" for app, _name in MigrationRecorder(connection).applied_migrations()):
        return 0
    return status_index_rebuild()
