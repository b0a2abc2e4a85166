"""``instance_backup``: the whole instance in one archive, while it keeps serving.

Consistency: every table is read inside one read-only transaction on a connection
of its own, so the archive is one snapshot of the database, never a torn copy. On
SQLite that is a deferred read transaction (WAL lets writers go on; the snapshot
holds back checkpoints, so the WAL file grows for as long as the backup runs); on
PostgreSQL a REPEATABLE READ READ ONLY transaction, as pg_dump takes. Media files
are not transactional: each file named by a row of the snapshot is copied right
after that row's chunk; one deleted in the meantime (its post deleted after the
snapshot began) is listed in the manifest as missing rather than failing the
backup.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.utils.translation import gettext as _

import tribune
from tribune.core.errors import ValidationFailed
from tribune.portability.backup_archive import (
    BLOCK,
    FORMAT,
    HEADER,
    MEDIA,
    SECRETS,
    TABLES,
    ArchiveWriter,
    Progress,
    ProgressCallback,
    _no_progress,
)
from tribune.portability.backup_secrets import passphrase_check, secrets_seal
from tribune.portability.backup_tables import (
    SKIPPED,
    TableSpec,
    row_reader,
    table_specs,
)

# A table chunk is written once it holds this much JSON (rows are never split).
CHUNK_BYTES = 8 * 1024 * 1024
# Rows fetched per round trip from PostgreSQL's server-side cursor.
FETCH_ROWS = 5000


@dataclass
class BackupResult:
    path: Path
    tables: int
    rows: int
    media_files: int
    media_bytes: int
    media_missing: list[str]
    archive_bytes: int


def instance_secrets() -> dict:
    """The secrets a restored instance needs to be the same instance: Django's
    secret key (signed sessions, password-reset links). The actors' signing keys
    are not kept yet: a restored instance makes new ones (docs/adr/0022)."""
    from django.conf import settings

    return {"secret_key": settings.SECRET_KEY}


def instance_backup(*, path: Path, passphrase: str, compress: str = "gzip",
                    chunk_bytes: int = CHUNK_BYTES,
                    on_progress: ProgressCallback = _no_progress) -> BackupResult:
    """Write the instance to a new archive at ``path`` (refused if it exists):
    every table of ``backup_tables.table_specs()`` from one snapshot, the media files its
    rows name, and the secrets sealed with ``passphrase``. Memory stays flat: rows
    stream from a server-side cursor into chunks of ``chunk_bytes``.

    Raises ValidationFailed for an existing ``path``, a missing folder, or a
    passphrase shorter than ``backup_secrets.MIN_PASSPHRASE`` characters, before
    writing anything; an
    interrupted backup leaves only ``path.partial`` behind, never ``path``.
    """
    path = Path(path)
    if path.exists():
        raise ValidationFailed(_("%(path)s exists already; choose a new file name.")
                               % {"path": path})
    if not path.parent.is_dir():
        raise ValidationFailed(_("The folder %(folder)s does not exist; create it first.")
                               % {"folder": path.parent})
    passphrase_check(passphrase)
    specs = table_specs()
    sealed = secrets_seal(secrets=instance_secrets(), passphrase=passphrase)
    writer = ArchiveWriter(path, compress=compress)
    try:
        with _snapshot() as snapshot:
            result = _write(writer, snapshot, specs, sealed, chunk_bytes, on_progress)
    except BaseException:
        writer.abort()
        raise
    return result


def _write(writer: ArchiveWriter, snapshot: _Snapshot, specs: list[TableSpec],
           sealed: bytes, chunk_bytes: int, on_progress: ProgressCallback) -> BackupResult:
    from django.core.files.storage import default_storage

    header = {
        "format": FORMAT, "tribune_version": tribune.__version__,
        "backup_id": str(uuid.uuid4()), "created_at": datetime.now(UTC).isoformat(),
        "source": {"vendor": snapshot.vendor},
        "migrations": snapshot.migrations(),
        "tables": {spec.table: spec.as_json() for spec in specs},
        "skipped_tables": SKIPPED,
    }
    writer.add_bytes(HEADER, json.dumps(header, indent=1, sort_keys=True).encode("utf-8"))
    writer.add_bytes(SECRETS, sealed)
    progress = Progress(phase="backup")
    on_progress(progress)  # counting the rows of a large instance takes a while
    progress.total_rows = sum(snapshot.count(spec) for spec in specs)
    on_progress(progress)
    tables: dict[str, dict] = {}
    media_sum, media_files, media_bytes, missing = hashlib.sha256(), 0, 0, []
    for spec in specs:
        digest, rows = hashlib.sha256(), 0
        file_indexes = [spec.columns.index(c) for c in spec.file_columns]
        for number, (data, chunk_rows, names) in enumerate(
                _chunks(snapshot, spec, chunk_bytes, file_indexes)):
            writer.add_bytes(f"{TABLES}{spec.table}/{number:06d}.jsonl", data, rows=chunk_rows)
            digest.update(data)
            rows += chunk_rows
            progress.rows += chunk_rows
            for name in names:
                copied = _copy_file(writer, default_storage, name, media_sum)
                if copied is None:
                    missing.append(name)
                else:
                    media_files += 1
                    media_bytes += copied
                    progress.bytes = writer.bytes_written
                    on_progress(progress)
            progress.bytes = writer.bytes_written
            on_progress(progress)
        tables[spec.table] = {**spec.as_json(), "rows": rows, "sha256": digest.hexdigest()}
    manifest = {**header, "tables": tables,
                "media": {"files": media_files, "bytes": media_bytes,
                          "sha256": media_sum.hexdigest(), "missing": missing}}
    writer.close(manifest)
    progress.bytes = writer.bytes_written
    on_progress(progress)
    return BackupResult(path=writer.path, tables=len(specs), rows=progress.rows,
                        media_files=media_files, media_bytes=media_bytes,
                        media_missing=missing, archive_bytes=writer.bytes_written)


def _chunks(snapshot: _Snapshot, spec: TableSpec, chunk_bytes: int,
            file_indexes: list[int]) -> Iterator[tuple[bytes, int, list[str]]]:
    """``spec``'s rows as JSON lines, in chunks of about ``chunk_bytes``: (data,
    rows, the media names the rows hold, each once)."""
    read = row_reader(spec, vendor=snapshot.vendor)
    dumps = _line_encoder()
    lines: list[str] = []
    size = 0
    names: dict[str, None] = {}
    for row in snapshot.rows(spec):
        line = dumps(read(row))
        lines.append(line)
        size += len(line) + 1
        for i in file_indexes:
            if row[i]:
                names[row[i]] = None
        if size >= chunk_bytes:
            yield ("\n".join(lines) + "\n").encode("utf-8"), len(lines), list(names)
            lines, size, names = [], 0, {}
    if lines:
        yield ("\n".join(lines) + "\n").encode("utf-8"), len(lines), list(names)


def _line_encoder():
    """One row (a list) as a compact JSON line: the json module's C encoder called
    directly, without the per-call wrappers of ``json.dumps`` (a third of the
    encoding time on millions of small rows)."""
    from json import encoder

    if encoder.c_make_encoder is None:  # pragma: no cover - CPython has it
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    chunks = encoder.c_make_encoder(None, None, encoder.encode_basestring, None, ":", ",",
                                    False, False, True)
    return lambda row: "".join(chunks(row, 0))


def _copy_file(writer: ArchiveWriter, storage, name: str, media_sum) -> int | None:
    """Copy the storage file ``name`` into the archive; its size, or None when it
    no longer exists. The file is spooled first (in memory up to 8 MiB), so its
    size and checksum are known before its tar header is written."""
    digest, size = hashlib.sha256(), 0
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        try:
            source = storage.open(name, "rb")
        except (FileNotFoundError, OSError):
            return None
        with source:
            while block := source.read(BLOCK):
                spool.write(block)
                digest.update(block)
                size += len(block)
        spool.seek(0)
        # The media checksum covers the files' bytes in archive order.
        while block := spool.read(BLOCK):
            media_sum.update(block)
        spool.seek(0)
        writer.add_file(f"{MEDIA}{name}", spool, size, digest.hexdigest())
    return size


class _Snapshot:
    """One read-only transaction on a connection of its own."""

    vendor: str

    def count(self, spec: TableSpec) -> int:
        return self._one(f'SELECT count(*) FROM "{spec.table}"')

    def migrations(self) -> dict[str, list[str]]:
        applied: dict[str, list[str]] = {}
        for app, name in self._all('SELECT app, name FROM "django_migrations" ORDER BY id'):
            applied.setdefault(app, []).append(name)
        return applied

    def select(self, spec: TableSpec) -> str:
        columns = ", ".join(f'"{c}"' for c in spec.columns)
        return f'SELECT {columns} FROM "{spec.table}" ORDER BY "{spec.pk}"'


class _SqliteSnapshot(_Snapshot):
    vendor = "sqlite"

    def __init__(self, path: str) -> None:
        import sqlite3

        self.db = sqlite3.connect(path, isolation_level=None, timeout=20)
        self.db.execute("PRAGMA query_only = ON")
        # A deferred read transaction: its first read fixes the snapshot (WAL).
        self.db.execute("BEGIN")
        self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def _one(self, sql: str):
        return self.db.execute(sql).fetchone()[0]

    def _all(self, sql: str) -> list:
        return self.db.execute(sql).fetchall()

    def rows(self, spec: TableSpec) -> Iterator[tuple]:
        return self.db.execute(self.select(spec))

    def close(self) -> None:
        self.db.execute("ROLLBACK")
        self.db.close()


class _PostgresSnapshot(_Snapshot):
    vendor = "postgresql"

    def __init__(self, params: dict) -> None:
        import psycopg
        from psycopg.types.string import TextLoader

        self.db = psycopg.connect(**params)
        # json/jsonb as their text, inet as text: the archive's forms.
        for name in ("json", "jsonb", "inet", "cidr"):
            self.db.adapters.register_loader(name, TextLoader)
        self.db.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.db.read_only = True
        self.cursors = 0

    def _one(self, sql: str):
        return self.db.execute(sql).fetchone()[0]

    def _all(self, sql: str) -> list:
        return self.db.execute(sql).fetchall()

    def rows(self, spec: TableSpec) -> Iterator[tuple]:
        self.cursors += 1
        with self.db.cursor(name=f"backup_{self.cursors}") as cursor:
            cursor.itersize = FETCH_ROWS
            cursor.execute(self.select(spec))
            yield from cursor

    def close(self) -> None:
        self.db.rollback()
        self.db.close()


def postgres_params(db: dict) -> dict:
    """psycopg's connection keywords for Django's database settings ``db``: a
    connection outside Django's pool, with the URL's libpq parameters."""
    params = {"dbname": db["NAME"], "user": db.get("USER"), "password": db.get("PASSWORD"),
              "host": db.get("HOST"), "port": str(db.get("PORT") or "")}
    libpq = {k: v for k, v in db.get("OPTIONS", {}).items() if k != "pool"}
    return {**libpq, **{k: v for k, v in params.items() if v}}


@contextlib.contextmanager
def _snapshot() -> Iterator[_Snapshot]:
    from django.db import connection

    if connection.vendor == "sqlite":
        snapshot: _Snapshot = _SqliteSnapshot(str(connection.settings_dict["NAME"]))
    else:
        snapshot = _PostgresSnapshot(postgres_params(connection.settings_dict))
    try:
        yield snapshot
    finally:
        snapshot.close()
