"""Written-out SQL for the few queries on every request's path.

Compiling a query through the ORM costs more than running it when the query is an
indexed lookup of a few rows; the hottest reads (the token behind each API call, a
home timeline page's ids and versions) are therefore written out. This module
turns such rows back into model instances exactly as the ORM would: each field's
database converters (e.g. SQLite's datetimes, booleans) and then
``Model.from_db`` (Django docs: "Customizing model loading").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Model


@cache
def _fields(model: type[Model]) -> tuple[tuple[str, ...], tuple[tuple[Any, list], ...]]:
    fields = model._meta.concrete_fields
    attnames = tuple(f.attname for f in fields)
    converters = []
    for f in fields:
        col = f.get_col(model._meta.db_table)
        converters.append((col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
    return attnames, tuple(converters)


def columns(model: type[Model], alias: str) -> str:
    """The select list of every concrete column of ``model`` under table alias
    ``alias``, in field order (what :func:`instance` reads)."""
    return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    """How many columns :func:`columns` selects for ``model``."""
    return len(model._meta.concrete_fields)


def instance(model: type[Model], values: Sequence[Any]) -> Model | None:
    """A ``model`` instance from one row's :func:`columns` values, or None when
    the primary key is NULL (a LEFT JOIN that found nothing)."""
    attnames, converters = _fields(model)
    if values[attnames.index(model._meta.pk.attname)] is None:
        return None
    converted = []
    for value, (col, funcs) in zip(values, converters, strict=True):
        for func in funcs:
            value = func(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, list(attnames), converted)
