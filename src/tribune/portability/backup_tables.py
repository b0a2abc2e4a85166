"""Which tables an instance backup holds, and their values in a database-neutral form.

Every concrete, managed model of every installed app is a table of the archive
(``apps.get_models(include_auto_created=True)``: many-to-many tables, content types,
permissions and OAuth tokens, stored hashed, included), except the few in ``SKIPPED``,
which hold derived or passing state that the restore rebuilds or that the new
instance makes itself.

A value is written as JSON, by the column's *kind* (from its Django field), the
same whether it was read from SQLite or PostgreSQL:

========  ===================================================================
kind      archive form
========  ===================================================================
int       a JSON number (64-bit ids are exact)
float     a JSON number (Python's shortest round-tripping repr)
bool      true / false
str       a JSON string (file fields hold the storage name)
datetime  ISO 8601 in UTC with offset: ``2025-01-31T12:00:00.123456+00:00``
date      ``2025-01-31``; time: ``12:00:00.123456``
duration  an integer number of microseconds
decimal   a string (``"12.50"``), never a float
uuid      the hyphenated form
bytes     base64
json      the JSON document as a string (so JSON ``null`` and SQL NULL differ)
========  ===================================================================

SQL NULL is JSON ``null`` in every kind.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Tables left out of a backup, and why (written into the archive's manifest).
SKIPPED = {
    "timelines_feedentry": "home feeds are derived from follows and statuses; the "
                           "restore rebuilds those of recently active accounts",
    "timelines_feedstorestamp": "names the store that held the home feeds; the restore "
                                "records the one it rebuilds them into",
    "django_session": "a session key is a bearer credential kept in clear: whoever "
                      "holds the archive could sign in as its owner; people sign in "
                      "again after a restore",
    "accounts_loginsession": "which sessions are signed in, by session key (a bearer "
                             "credential); the sessions themselves are left out",
    "federation_actorkey": "the actors' private signing keys would be in clear among "
                           "the rows; each account gets a new key pair the first time "
                           "one is needed after the restore (docs/adr/0022)",
    "federation_instanceactorkey": "the instance actor's private signing key would be in "
                                   "clear among the rows; a new pair is made the first "
                                   "time one is needed after the restore (docs/adr/0029)",
    "django_tasks_database_dbtaskresult": "the task queue is passing state of the "
                                          "running instance (with Redis it is not in "
                                          "the database at all)",
    "streaming_streamevent": "live updates of the last minute on their way to the "
                             "connected apps (docs/adr/0032); nobody is connected to "
                             "a restored instance",
}

KINDS = {
    "AutoField": "int", "BigAutoField": "int", "SmallAutoField": "int",
    "IntegerField": "int", "BigIntegerField": "int", "SmallIntegerField": "int",
    "PositiveIntegerField": "int", "PositiveBigIntegerField": "int",
    "PositiveSmallIntegerField": "int",
    "CharField": "str", "TextField": "str", "SlugField": "str", "EmailField": "str",
    "URLField": "str", "FilePathField": "str", "FileField": "str", "ImageField": "str",
    "GenericIPAddressField": "str", "IPAddressField": "str",
    "BooleanField": "bool", "NullBooleanField": "bool",
    "DateTimeField": "datetime", "DateField": "date", "TimeField": "time",
    "DurationField": "duration", "FloatField": "float", "DecimalField": "decimal",
    "UUIDField": "uuid", "BinaryField": "bytes", "JSONField": "json",
}


class UnsupportedField(Exception):
    """A model has a field whose values this format cannot carry yet."""


@dataclass(frozen=True)
class TableSpec:
    """One table of the archive: ``columns`` in the order of each row, their
    ``kinds``, the primary key column rows are ordered by, and which columns name
    media files in the default storage."""

    table: str
    model: str  # "app_label.ModelName", for messages
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    pk: str
    file_columns: tuple[str, ...] = ()

    def as_json(self) -> dict:
        return {"model": self.model, "columns": list(self.columns), "kinds": list(self.kinds),
                "pk": self.pk, "file_columns": list(self.file_columns)}

    @classmethod
    def from_json(cls, table: str, data: dict) -> TableSpec:
        return cls(table=table, model=data["model"], columns=tuple(data["columns"]),
                   kinds=tuple(data["kinds"]), pk=data["pk"],
                   file_columns=tuple(data.get("file_columns", ())))


def _kind(field) -> str:
    while field.is_relation:
        field = field.target_field
    internal = field.get_internal_type()
    if internal not in KINDS:
        raise UnsupportedField(
            f"{field.model._meta.label}.{field.name} is a {internal}, which the backup "
            f"format does not carry")
    return KINDS[internal]


def table_specs() -> list[TableSpec]:
    """The tables of the installed apps, in the order a backup writes them (by
    table name), without ``SKIPPED``. Raises UnsupportedField for a field of an
    unknown type, so a new kind of field is noticed before anyone relies on it."""
    from django.apps import apps
    from django.db.models import FileField

    specs = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in SKIPPED:
            continue
        fields = meta.local_concrete_fields
        specs[meta.db_table] = TableSpec(
            table=meta.db_table, model=meta.label,
            columns=tuple(f.column for f in fields), kinds=tuple(_kind(f) for f in fields),
            pk=meta.pk.column,
            file_columns=tuple(f.column for f in fields if isinstance(f, FileField)))
    return [specs[name] for name in sorted(specs)]


# --- reading: a database's value -> the archive's ------------------------------------

def _datetime_out(value) -> str:
    if isinstance(value, str):  # SQLite: Django writes naive UTC, "2025-01-31 12:00:00[.ffffff]"
        if len(value) in (19, 26) and value[10] == " ":
            return f"{value[:10]}T{value[11:]}+00:00"  # the common case, without parsing
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC).isoformat()
    return value.astimezone(UTC).isoformat()


def _isoformat(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _duration_out(value) -> int:
    if isinstance(value, timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    return int(value)


_READERS = {
    "int": None, "float": None, "str": str, "json": str,
    "bool": bool,
    "datetime": _datetime_out,
    "date": _isoformat, "time": _isoformat,
    "duration": _duration_out,
    "decimal": str,
    "uuid": lambda v: str(v if isinstance(v, uuid.UUID) else uuid.UUID(v)),
    "bytes": lambda v: base64.b64encode(bytes(v)).decode("ascii"),
}


def row_reader(spec: TableSpec, *, vendor: str):
    """A function turning one row as ``vendor``'s driver returns it into the list
    the archive holds. ``str`` is applied to strings only where a driver may return
    another type (PostgreSQL's inet, json)."""
    converters = [(i, _READERS[kind]) for i, kind in enumerate(spec.kinds)
                  if _READERS[kind] is not None
                  and not (kind in ("str", "json") and vendor == "sqlite")]
    if not converters:
        return list

    def read(row) -> list:
        values = list(row)
        for i, convert in converters:
            value = values[i]
            if value is not None:
                values[i] = convert(value)
        return values

    return read


# --- writing: the archive's value -> a parameter for the target database ------------

def _sqlite_datetime(value: str) -> str:
    # What Django's SQLite backend writes: str() of the naive UTC datetime.
    if value.endswith("+00:00"):
        return value[:-6].replace("T", " ", 1)
    return str(datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None))


_SQLITE_WRITERS = {
    "datetime": _sqlite_datetime,
    "uuid": lambda v: v.replace("-", ""),  # Django's char(32) form
    "bytes": base64.b64decode,
}
_POSTGRES_WRITERS = {
    "duration": lambda v: timedelta(microseconds=v),
    "bytes": base64.b64decode,
}


def row_writer(spec: TableSpec, *, vendor: str):
    """A function turning an archive row (a list, changed in place) into the
    parameters for ``vendor``; ``None`` when the values need no change."""
    writers = _SQLITE_WRITERS if vendor == "sqlite" else _POSTGRES_WRITERS
    converters = [(i, writers[kind]) for i, kind in enumerate(spec.kinds) if kind in writers]
    if not converters:
        return None

    def write(values: list) -> list:
        for i, convert in converters:
            value = values[i]
            if value is not None:
                values[i] = convert(value)
        return values

    return write
