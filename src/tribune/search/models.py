"""The status index seen by the ORM: a table the migration makes per database
(``schema``), not a managed model, so it is in no backup and no flush."""

from __future__ import annotations

from django.db import models
from django.db.models import Func, Lookup

from tribune.search.query import SearchQuery, fts5_expression, tsquery_expression
from tribune.statuses.models import Status


class DocumentField(models.Field):
    """The indexed document: FTS5's hidden column named after its table
    (SQLite), a tsvector (PostgreSQL). Only ``matches`` and ``Score`` use it."""

    def db_type(self, connection):
        return None  # made by the migration's SQL, never by Django


@DocumentField.register_lookup
class Matches(Lookup):
    """``document__matches=SearchQuery``: the document holds every term and
    phrase of the query and no excluded one."""

    lookup_name = "matches"

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [expression(value, connection.vendor)])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return (f"{lhs} @@ to_tsquery('simple', tribune_search_fold({rhs}))",
                    [*lhs_params, *rhs_params])
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class Score(Func):
    """How well the document matches ``query``, higher is better: FTS5's bm25
    negated (SQLite), ``ts_rank`` normalised by the document's length
    (PostgreSQL)."""

    output_field = models.FloatField()

    def __init__(self, document: str, query: SearchQuery):
        super().__init__(models.F(document))
        self.query = query

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return (f"ts_rank({column}, to_tsquery('simple', tribune_search_fold(%s)), 1)",
                    [*params, expression(self.query, connection.vendor)])
        # bm25() takes FTS5's hidden column, the one named after the table.
        # The author column (from:) weighs nothing.
        return f"-bm25({column}, 1.0, 1.0, 0.0)", params


def expression(query: SearchQuery, vendor: str) -> str:
    """``query`` written in the index's syntax on ``vendor``."""
    return tsquery_expression(query) if vendor == "postgresql" else fts5_expression(query)


class StatusDocument(models.Model):
    """One indexed status (``rowid`` is the status id)."""

    status = models.OneToOneField(Status, primary_key=True, db_column="rowid",
                                  on_delete=models.DO_NOTHING, db_constraint=False,
                                  related_name="search_document")
    document = DocumentField(db_column="search_status")

    class Meta:
        managed = False
        db_table = "search_status"

    def __str__(self) -> str:
        return f"Index entry of {self.status_id}"
