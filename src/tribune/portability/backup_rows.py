"""An instance backup's rows checked against the schema they will be loaded into,
while the archive is verified (``backup_verify``): an archive whose rows a
database would refuse is refused before a restore writes anything.

The schema is the one a restore migrates the target to: the models' state at the
archive's own migrations (``MigrationLoader.project_state``), not this Tribune's
current models, nor the manifest's word. Each value must have its kind's archive
form (``backup_tables``); be NULL only where the column allows it; an integer
within its column's range (positive fields not negative); text within its
``max_length`` and without NUL characters (PostgreSQL refuses them); a datetime
with its offset; a date, time, UUID, decimal, base64 or JSON text that parses; an
IP address where the column is one. Primary keys must ascend, as a backup writes
them, so a duplicate is found. Every foreign key that has a database constraint
must name a row of the archive.

References are checked in a stream. A backup writes its tables one after the
other in the header's order, so a reference to a table already read is looked up
at once; one to a table still to come (or to its own table) waits until that
table has been read. The primary keys of every referenced table are kept as
8-byte integers (1 million statuses: 8 MB), and so are the waiting references.
What a stream cannot check (unique constraints besides the primary key, the
models' CHECK constraints) the database checks as the rows are loaded; a restore
that fails there removes what it wrote (``restore``).

An archive whose migrations this Tribune does not know has no schema here: only
its values' kinds are checked (a restore refuses such an archive anyway).
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import json
import operator
import uuid
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from itertools import islice
from typing import NoReturn

import orjson
from django.utils.translation import gettext as _

from tribune.portability.backup_archive import ArchiveRefused, _damaged
from tribune.portability.backup_tables import TableSpec, UnsupportedField, _kind

# Rows parsed per json.loads call (one JSON array of many lines is much faster
# than a call per line; a JSON line never holds a raw newline).
PARSE_ROWS = 1000
BIGINT = (-(2**63), 2**63 - 1)

Check = Callable[[object], "str | None"]  # a value's problem, or None when it is fine
Fast = Callable[[list, set], bool]  # whether all of a column's non-null values are fine


def _refused(reason: str) -> ArchiveRefused:
    return ArchiveRefused(_("The archive holds a row that a database would refuse: "
                            "%(reason)s.") % {"reason": reason})


def parsed_rows(data: bytes):
    """The rows of a table chunk, parsed ``PARSE_ROWS`` lines at a time. Raises
    ValueError for bytes that are not UTF-8 or a line that is not JSON.

    orjson parses (three times as fast as the standard library, on bytes); what it
    refuses goes to the standard parser, which wrote the lines (``json.dumps``) and
    so decides: NaN and lone surrogate escapes come back as a backup wrote them.
    An integer beyond 64 bits comes back a float from orjson, which no column
    takes in place of an integer, so it is refused either way."""
    lines = data.split(b"\n")
    for start in range(0, len(lines), PARSE_ROWS):
        batch = b",".join(line for line in lines[start:start + PARSE_ROWS] if line)
        if batch:
            text = b"[" + batch + b"]"
            try:
                rows = orjson.loads(text)
            except orjson.JSONDecodeError:
                rows = json.loads(text.decode("utf-8"))
            yield from rows


# --- one value of each kind ---------------------------------------------------------
#
# Each column has two checks: ``fast(values, types)`` over a chunk's non-null values
# of the column at once (their set of types given), C loops wherever it can; and
# ``check(value)``, which names one value's problem and runs only to explain a
# chunk that ``fast`` refused.

def _integer(low: int, high: int) -> tuple[Check, Fast]:
    def check(value) -> str | None:
        if type(value) is not int:
            return "is not an integer"
        if not low <= value <= high:
            return f"{value} is outside the column's range ({low} to {high})"
        return None

    def fast(values, types) -> bool:
        return types <= {int} and (not values or (low <= min(values) and max(values) <= high))
    return check, fast


def _text(max_length: int | None, ip: bool) -> tuple[Check, Fast]:
    def check(value) -> str | None:
        if type(value) is not str:
            return "is not text"
        if "\x00" in value:
            return "holds a NUL character"
        if max_length is not None and len(value) > max_length:
            return f"is {len(value)} characters long, more than its {max_length}"
        if ip:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                return f"{value!r} is not an IP address"
        return None

    def fast(values, types) -> bool:
        if not types <= {str}:
            return False
        if not values:
            return True
        if max_length is not None and max(map(len, values)) > max_length:
            return False
        if "\x00" in "".join(values):
            return False
        return not ip or all(check(value) is None for value in values)
    return check, fast


_FAILED = (ValueError, TypeError, ArithmeticError, binascii.Error)


def _parsing(parse: Callable[[str], object], what: str) -> tuple[Check, Fast]:
    def check(value) -> str | None:
        if type(value) is not str:
            return f"is not {what}"
        try:
            parse(value)
        except _FAILED:
            return f"{value[:40]!r} is not {what}"
        return None

    def fast(values, types) -> bool:
        if not types <= {str}:
            return False
        try:
            deque(map(parse, values), maxlen=0)
        except _FAILED:
            return False
        return True
    return check, fast


def _datetime(value: str) -> None:
    if datetime.fromisoformat(value).tzinfo is None:
        raise ValueError("no offset")


def _decimal(value: str) -> None:
    if not Decimal(value).is_finite():
        raise ValueError("not finite")


def _base64(value: str) -> None:
    base64.b64decode(value, validate=True)


def _json(value: str) -> None:
    if "\\u0000" in value:  # PostgreSQL's jsonb has no NUL character
        raise ValueError("NUL")
    json.loads(value)


def _typed(allowed: set[type], what: str) -> tuple[Check, Fast]:
    def check(value) -> str | None:
        return None if type(value) in allowed else f"is not {what}"

    def fast(values, types) -> bool:
        return types <= allowed
    return check, fast


_BY_KIND: dict[str, tuple[Check, Fast]] = {
    "bool": _typed({bool}, "true or false"),
    "float": _typed({int, float}, "a number"),
    "datetime": _parsing(_datetime, "a datetime with its offset"),
    "date": _parsing(date.fromisoformat, "a date"),
    "time": _parsing(time.fromisoformat, "a time"),
    "duration": _integer(*BIGINT),
    "decimal": _parsing(_decimal, "a decimal number"),
    "uuid": _parsing(uuid.UUID, "a UUID"),
    "bytes": _parsing(_base64, "base64"),
    "json": _parsing(_json, "JSON text"),
}


def _value_check(kind: str, model_field=None) -> tuple[Check, Fast]:
    """How a value of ``kind`` is checked, narrowed by the column's
    ``model_field`` when the schema is known."""
    target = model_field
    while target is not None and target.is_relation:
        target = target.target_field
    if kind == "int":
        from django.db.backends.base.operations import BaseDatabaseOperations

        ranges = BaseDatabaseOperations.integer_field_ranges
        return _integer(*ranges.get(target.get_internal_type(), BIGINT) if target else BIGINT)
    if kind == "str":
        return _text(getattr(target, "max_length", None),
                     ip=target is not None and target.get_internal_type() in (
                         "GenericIPAddressField", "IPAddressField"))
    return _BY_KIND[kind]


# --- the schema at the archive's migrations --------------------------------------------

@functools.cache
def migration_loader():
    """This Tribune's migrations as read from its code (a ``MigrationLoader``
    without a connection), read once per process: the restore asks it three
    times, and reading them takes a noticeable part of a second."""
    from django.db.migrations.loader import MigrationLoader

    return MigrationLoader(None, ignore_no_migrations=True)


def migrations_here(migrations: dict, tables) -> tuple[dict[str, list[str]], list[str]]:
    """Split an archive's applied ``migrations`` (names by app label) into those
    of the apps this Tribune has, and the ``app.name``s it lacks.

    An app this configuration does not install and whose label begins none of the
    archive's ``tables`` (django_rq, installed only with Redis, makes no table) is
    left out: an archive from a Redis instance restores where there is none.
    Anything else this Tribune lacks is unknown: the archive is from a newer one.
    """
    from django.apps import apps

    known = migration_loader().graph.nodes
    labels = {config.label for config in apps.get_app_configs()}
    here: dict[str, list[str]] = {}
    unknown: list[str] = []
    for app, names in migrations.items():
        if app not in labels and not any(str(t).startswith(f"{app}_") for t in tables):
            continue
        here[app] = names
        unknown += [f"{app}.{name}" for name in names if (app, name) not in known]
    return here, unknown


def newer_tribune(unknown: list[str]) -> str:
    """The one line saying this Tribune lacks the archive's ``unknown`` migrations."""
    more = _(" and %(n)s more") % {"n": len(unknown) - 3} if len(unknown) > 3 else ""
    return (_("The archive comes from a newer Tribune: this one lacks its migrations "
              "%(names)s%(more)s; upgrade Tribune first.")
            % {"names": ", ".join(unknown[:3]), "more": more})


def archive_models(migrations: dict) -> dict | None:
    """The models (by table) of the state the archive's ``migrations`` (applied
    names per app, as ``migrations_here`` keeps them) lead to, or None when this
    Tribune lacks some of them."""
    loader = migration_loader()
    graph = loader.graph
    try:
        nodes = [(app, max(names, key=lambda n: len(graph.forwards_plan((app, n)))))
                 for app, names in migrations.items() if names]
        state = loader.project_state(nodes, at_end=True)
    except (KeyError, LookupError, ValueError, TypeError):  # NodeNotFoundError is a LookupError
        return None
    return {model._meta.db_table: model
            for model in state.apps.get_models(include_auto_created=True)}


@dataclass
class _Table:
    spec: TableSpec
    checks: list[tuple[int, str, bool, Check, Fast]]  # index, column, null allowed, checks
    references: list[tuple[int, str, str, int]]  # index, column, referenced table, its position
    files: list[int]
    int_pk: bool
    pk_index: int
    keys: array | set | None = None  # the primary keys, when another row refers to them
    last_pk: int | None = None
    rows: int = 0


@dataclass
class RowChecker:
    """Checks an archive's table chunks in archive order (``chunk``), then the
    references still waiting (``finish``). Raises ArchiveRefused, one line."""

    tables: dict[str, _Table]
    order: list[str]
    position: int = -1
    # References to tables not read yet: by table, then by (table, column) naming it.
    waiting: dict[str, dict[tuple[str, str], array | list]] = field(default_factory=dict)

    @classmethod
    def for_header(cls, header: dict) -> RowChecker:
        tables, migrations = header.get("tables"), header.get("migrations")
        if not isinstance(tables, dict) or not isinstance(migrations, dict):
            raise _damaged("the header lists no tables or no migrations")
        models = archive_models(migrations_here(migrations, tables)[0])
        made = {}
        for name, data in tables.items():
            try:
                spec = TableSpec.from_json(name, data)
            except (KeyError, TypeError, ValueError):
                raise _damaged(f"the header's table {name} is malformed") from None
            made[name] = _table(spec, None if models is None else models.get(name, False))
        positions = {name: n for n, name in enumerate(made)}
        for table in made.values():
            # A table the archive leaves out (home feeds...) is not checked into.
            table.references = [(index, column, target, positions[target])
                                for index, column, target, _ in table.references
                                if target in positions]
            for _index, _column, target, _position in table.references:
                if made[target].keys is None:
                    made[target].keys = array("q") if made[target].int_pk else set()
        return cls(tables=made, order=list(made))

    def chunk(self, member: str, table: str, data: bytes) -> list[str]:
        """Check the rows of ``member``, a chunk of ``table``; the media names they
        hold, each once, in order."""
        if table not in self.tables:
            raise _damaged(f"member {member!r} is of a table the header does not list")
        position = self.order.index(table)  # a few dozen tables
        if position < self.position:
            raise _damaged(f"member {member!r} comes after the chunks of a later table")
        while self.position < position:
            if self.position >= 0:
                self._settle(self.order[self.position])
            self.position += 1
        try:
            rows = list(parsed_rows(data))
        except ValueError:
            raise _damaged(f"member {member!r} holds a line that is not JSON") from None
        return self._rows(self.tables[table], rows)

    def finish(self) -> None:
        """Check the references that waited for tables read since (or for tables
        without rows)."""
        while self.position < len(self.order):
            if self.position >= 0:
                self._settle(self.order[self.position])
            self.position += 1

    def _rows(self, table: _Table, rows: list) -> list[str]:
        """Check a chunk's ``rows`` column by column; the media names they hold."""
        width = len(table.spec.columns)
        if not rows:
            return []
        if set(map(type, rows)) != {list} or set(map(len, rows)) != {width}:
            self._explain(table, rows)
        columns = list(zip(*rows, strict=True))
        for index, _column, null, _check, fast in table.checks:
            values = columns[index]
            types = set(map(type, values))
            if type(None) in types:
                if not null:
                    self._explain(table, rows)
                types.discard(type(None))
                values = list(filter(_not_none, values))
            if not fast(values, types):
                self._explain(table, rows)
        pks = columns[table.pk_index]
        if table.int_pk:
            if ((table.last_pk is not None and pks[0] <= table.last_pk)
                    or not all(map(operator.lt, pks, islice(pks, 1, None)))):
                self._explain(table, rows)
            table.last_pk = pks[-1]
        if isinstance(table.keys, set):
            if len(set(pks)) != len(pks) or not table.keys.isdisjoint(pks):
                self._explain(table, rows)
            table.keys.update(pks)
        elif table.keys is not None:
            table.keys.extend(pks)
        table.rows += len(rows)
        for index, column, target, position in table.references:
            values = list(filter(_not_none, columns[index]))
            if position < self.position:
                missing = _missing(self.tables[target].keys, values)
                if missing is not None:
                    row = next(r for r in rows if r[index] == missing)
                    raise _refused(f"{_where(table, row)}: {column} names {target} row "
                                   f"{missing}, which the archive does not hold")
            else:
                self._wait(table.spec.table, column, target, values)
        # Row by row, each row's file columns in order: the order a backup copies
        # the files in (``backup._chunks``).
        names: dict[str, None] = {}
        if table.files:
            for values in zip(*(columns[index] for index in table.files), strict=True):
                names.update(dict.fromkeys(filter(None, values)))
        return list(names)

    def _explain(self, table: _Table, rows: list) -> NoReturn:
        """Raise the problem of the first row of ``rows`` that has one, value by
        value: a column check found one in this chunk."""
        spec, width = table.spec, len(table.spec.columns)
        last_pk, seen = table.last_pk, set()
        for number, row in enumerate(rows, start=table.rows + 1):
            if type(row) is not list or len(row) != width:
                raise _refused(f"row {number} of {spec.table} is not a list of {width} values")
            for _index, column, null, check, _fast in table.checks:
                value = row[_index]
                if value is None:
                    if not null:
                        raise _refused(f"{_where(table, row)}: {column} is null, which the "
                                       f"column does not allow")
                elif (problem := check(value)) is not None:
                    raise _refused(f"{_where(table, row)}: {column} {problem}")
            pk = row[table.pk_index]
            if table.int_pk:
                if last_pk is not None and pk <= last_pk:
                    raise _refused(f"{_where(table, row)} comes after {spec.pk} {last_pk}: "
                                   f"the primary keys repeat or are out of order")
                last_pk = pk
            elif pk in seen or (isinstance(table.keys, set) and pk in table.keys):
                raise _refused(f"{_where(table, row)} repeats its primary key")
            seen.add(pk)
        raise _refused(f"a row of {spec.table} holds a value its column does not allow")

    def _wait(self, source: str, column: str, target: str, values: list) -> None:
        queues = self.waiting.setdefault(target, {})
        waiting = queues.get((source, column))
        if waiting is None:
            waiting = queues[source, column] = (
                array("q") if isinstance(self.tables[target].keys, array) else [])
        waiting.extend(values)

    def _settle(self, target: str) -> None:
        keys = self.tables[target].keys
        for (source, column), values in self.waiting.pop(target, {}).items():
            missing = _missing(keys, values)
            if missing is not None:
                raise _refused(f"{source}.{column} names {target} row {missing}, which "
                               f"the archive does not hold")


_not_none = partial(operator.is_not, None)


def _missing(keys, values, step: int = 65_536):
    """The smallest of ``values`` not among ``keys`` (a sorted array or a set), or
    None when all are. ``step`` values at a time: a million waiting references
    never become a million Python integers at once."""
    smallest = None
    for start in range(0, len(values), step):
        part = set(values[start : start + step])
        if isinstance(keys, set):
            absent = part - keys
        else:
            absent = [v for v in part if not _holds(keys, v)]
        if absent:
            low = min(absent)
            smallest = low if smallest is None else min(smallest, low)
    return smallest


def _holds(keys: array, value: int) -> bool:
    at = bisect_left(keys, value)
    return at < len(keys) and keys[at] == value


def _where(table: _Table, row: list) -> str:
    return f"{table.spec.table} row {table.spec.pk} {row[table.pk_index]!r}"


def _table(spec: TableSpec, model) -> _Table:
    """How the rows of ``spec`` are checked: against ``model`` (the archive's
    schema), or by kind alone when ``model`` is None (no schema known). ``False``
    is a table the archive's migrations do not make."""
    if len(spec.kinds) != len(spec.columns) or spec.pk not in spec.columns:
        raise _damaged(f"the header's table {spec.table} is malformed")
    if model is False:
        raise _damaged(f"table {spec.table} is not one the archive's migrations make")
    fields = {f.column: f for f in model._meta.local_concrete_fields} if model else {}
    checks, references = [], []
    for index, (column, kind) in enumerate(zip(spec.columns, spec.kinds, strict=True)):
        model_field = fields.get(column)
        if model is not None:
            if model_field is None:
                raise _damaged(f"table {spec.table} has a column {column} that the archive's "
                               f"migrations do not make")
            try:
                expected = _kind(model_field)
            except UnsupportedField:
                expected = None
            if expected != kind:
                raise _damaged(f"column {spec.table}.{column} holds {kind} values, but the "
                               f"archive's migrations make it {expected}")
        elif kind not in _BY_KIND and kind not in ("int", "str"):
            raise _damaged(f"column {spec.table}.{column} has an unknown kind {kind!r}")
        null = column != spec.pk and (model_field is None or model_field.null)
        checks.append((index, column, null, *_value_check(kind, model_field)))
        if model_field is not None and model_field.is_relation and model_field.db_constraint:
            target = model_field.target_field
            if target.column == target.model._meta.pk.column:
                references.append((index, column, target.model._meta.db_table, -1))
    if model is not None:
        from django.db.models import NOT_PROVIDED

        for column, model_field in fields.items():
            if (column not in spec.columns and not model_field.null
                    and model_field.db_default is NOT_PROVIDED):
                raise _damaged(f"table {spec.table} lacks the column {column}, which may "
                               f"not be null")
    pk_index = spec.columns.index(spec.pk)
    return _Table(spec=spec, checks=checks, references=references,
                  files=[spec.columns.index(c) for c in spec.file_columns
                         if c in spec.columns],
                  int_pk=spec.kinds[pk_index] == "int", pk_index=pk_index)
