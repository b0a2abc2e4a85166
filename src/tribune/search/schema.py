"""The status index's SQL for each database (docs/adr/0020): made by the migration,
and made again by ``index.status_index_rebuild``.

The index is one table named ``search_status`` whose rows are the ids of
statuses with text of their own (reblogs have none) and the indexed document:

* SQLite: an FTS5 table over ``statuses_status``'s own columns (external content:
  the text is not stored twice), tokenizer ``unicode61 remove_diacritics 2``, so
  case and accents are folded in French and English alike; the author's id is
  indexed as a token of its own column, so ``from:`` is one more term FTS5
  intersects instead of a filter on every match of a common word;
* PostgreSQL: ``rowid`` and a ``tsvector`` of the text folded by
  ``tribune_search_fold`` (``folding``: no extension needed) under the ``simple``
  configuration (no stemming, no stop words: one index for every language), with
  a GIN index.

Triggers on ``statuses_status`` keep it in step with every write in the writing
transaction: posts, edits, deletions, cascades (a deleted account) and the
restore's bulk load alike.
"""

from __future__ import annotations

from tribune.search.folding import FOLD_FROM, FOLD_TO

TABLE = "search_status"

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_status_insert",
    "DROP TRIGGER IF EXISTS search_status_delete",
    "DROP TRIGGER IF EXISTS search_status_update",
    "DROP TABLE IF EXISTS search_status",
]

SQLITE_CREATE = [
    """CREATE VIRTUAL TABLE search_status USING fts5(
        spoiler_text, text, account_id, content='statuses_status', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    # External content: a row leaves the index with the values it was indexed with.
    """CREATE TRIGGER search_status_insert AFTER INSERT ON statuses_status
       WHEN new.reblog_of_id IS NULL BEGIN
         INSERT INTO search_status (rowid, spoiler_text, text, account_id)
         VALUES (new.id, new.spoiler_text, new.text, new.account_id);
       END""",
    """CREATE TRIGGER search_status_delete AFTER DELETE ON statuses_status
       WHEN old.reblog_of_id IS NULL BEGIN
         INSERT INTO search_status (search_status, rowid, spoiler_text, text, account_id)
         VALUES ('delete', old.id, old.spoiler_text, old.text, old.account_id);
       END""",
    # Counter and version updates touch other columns: only an edit re-indexes.
    """CREATE TRIGGER search_status_update AFTER UPDATE OF text, spoiler_text
       ON statuses_status
       WHEN old.reblog_of_id IS NULL
        AND (old.text IS NOT new.text OR old.spoiler_text IS NOT new.spoiler_text) BEGIN
         INSERT INTO search_status (search_status, rowid, spoiler_text, text, account_id)
         VALUES ('delete', old.id, old.spoiler_text, old.text, old.account_id);
         INSERT INTO search_status (rowid, spoiler_text, text, account_id)
         VALUES (new.id, new.spoiler_text, new.text, new.account_id);
       END""",
]

SQLITE_FILL = """INSERT INTO search_status (rowid, spoiler_text, text, account_id)
                 SELECT id, spoiler_text, text, account_id FROM statuses_status
                 WHERE reblog_of_id IS NULL"""

_FROM = FOLD_FROM.replace("'", "''")
_TO = FOLD_TO.replace("'", "''")

POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS search_status_write ON statuses_status",
    "DROP TABLE IF EXISTS search_status",
    "DROP FUNCTION IF EXISTS tribune_search_index()",
    "DROP FUNCTION IF EXISTS tribune_search_document(text, text)",
    "DROP FUNCTION IF EXISTS tribune_search_fold(text)",
]

POSTGRES_CREATE = [
    f"""CREATE FUNCTION tribune_search_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT lower(translate(value, '{_FROM}', '{_TO}')) $$""",
    """CREATE FUNCTION tribune_search_document(spoiler_text text, body text)
        RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT to_tsvector('simple'::regconfig,
                  tribune_search_fold(coalesce(spoiler_text, '') || ' ' || coalesce(body, ''))) $$""",
    """CREATE TABLE search_status (
        rowid bigint PRIMARY KEY,
        search_status tsvector NOT NULL)""",
    "CREATE INDEX search_status_document ON search_status USING gin (search_status)",
    """CREATE FUNCTION tribune_search_index() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' THEN
           DELETE FROM search_status WHERE rowid = OLD.id;
           RETURN OLD;
         END IF;
         IF NEW.reblog_of_id IS NOT NULL THEN
           RETURN NEW;
         END IF;
         IF TG_OP = 'UPDATE' AND NEW.text IS NOT DISTINCT FROM OLD.text
            AND NEW.spoiler_text IS NOT DISTINCT FROM OLD.spoiler_text THEN
           RETURN NEW;
         END IF;
         INSERT INTO search_status (rowid, search_status)
         VALUES (NEW.id, tribune_search_document(NEW.spoiler_text, NEW.text))
         ON CONFLICT (rowid) DO UPDATE SET search_status = EXCLUDED.search_status;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER search_status_write
       AFTER INSERT OR DELETE OR UPDATE OF text, spoiler_text ON statuses_status
       FOR EACH ROW EXECUTE FUNCTION tribune_search_index()""",
]

POSTGRES_FILL = """INSERT INTO search_status (rowid, search_status)
                   SELECT id, tribune_search_document(spoiler_text, text)
                   FROM statuses_status WHERE reblog_of_id IS NULL"""


def rebuild_statements(vendor: str) -> list[str]:
    """The statements that (re)make the index on ``vendor`` ("sqlite" or
    "postgresql") and fill it from the statuses, dropping any earlier one first;
    PostgreSQL's GIN index is built after the rows are in (one sort, not a
    million insertions). Run them in one transaction."""
    if vendor == "postgresql":
        table, index, function, trigger = POSTGRES_CREATE[2:6]
        return [*POSTGRES_DROP, *POSTGRES_CREATE[:2], table, POSTGRES_FILL, index,
                function, trigger]
    return [*SQLITE_DROP, SQLITE_CREATE[0], SQLITE_FILL, *SQLITE_CREATE[1:]]


def drop_statements(vendor: str) -> list[str]:
    """The statements that remove the index, its triggers and functions."""
    return POSTGRES_DROP if vendor == "postgresql" else SQLITE_DROP


SQLITE_TRIGGERS = ("search_status_insert", "search_status_delete", "search_status_update")


def triggers_missing(connection) -> bool:
    """Whether the index exists but a trigger that keeps it in step does not.

    On SQLite, a later migration of ``statuses`` that remakes ``statuses_status``
    (Django copies the table to add some columns or constraints) drops the
    triggers with the old table; PostgreSQL keeps them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass('search_status') IS NOT NULL, EXISTS "
                           "(SELECT 1 FROM pg_trigger WHERE tgname = 'search_status_write')")
            table, trigger = cursor.fetchone()
            return bool(table) and not trigger
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
                       "AND name LIKE 'search_status%%'")
        names = {row[0] for row in cursor.fetchall()}
    return TABLE in names and not set(SQLITE_TRIGGERS) <= names
