"""``instance_restore``: an instance backup onto a new, empty instance, SQLite or
PostgreSQL, whichever it is configured with.

1. The header is checked first (format, migrations, an empty target), then the
   whole archive is verified (``archive_verify``: checksums, and every row against
   the schema it will be loaded into): nothing is written before it passed and
   the passphrase opened the secrets.
2. A journal is created in the target (``restore_journal``: the backup id, the
   archive's path, what the target held before); from then on the other
   ``tribune`` commands refuse to run until the restore is finished. The target
   is migrated to the archive's migrations, and in one transaction the rows that
   ``migrate`` put in the archive's tables (content types, permissions) are
   deleted and the secondary indexes dropped, with, on PostgreSQL, the unique
   constraints and foreign keys (their definitions kept in the journal), as
   pg_restore loads data before indexes and constraints.
3. Each table chunk is loaded in one transaction that also records it in the
   journal (SQLite: ``executemany``; PostgreSQL: ``COPY``), so a restore killed at
   any point and run again skips what was committed and never duplicates a row.
   Media files are written to the default storage, then recorded.
4. The indexes are built again, foreign keys are checked (SQLite) or put back
   (PostgreSQL, which validates them), sequences are reset, the planner's statistics are gathered
   (``ANALYZE``), the remaining migrations run, the secret key is
   written to the data dir, derived state is rebuilt (``derived``), and the
   journal is dropped.

An interruption (Ctrl-C, a killed process, a lost connection) leaves the journal:
the same command resumes. But rows the database refuses in steps 2 to 4 (what the
verification cannot see: a unique or CHECK constraint, a table the target lacks)
would be refused again on every run, so the restore then removes what it wrote
(``_undo``) and the target is as before: no database or tables where there were
none, an empty migrated one where there was one, no media files.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import json
import os
import signal
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from django.db import DataError, IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from tribune.core.errors import ValidationFailed
from tribune.portability.backup_archive import (
    BLOCK,
    DAMAGE,
    MEDIA,
    TABLES,
    ArchiveReader,
    ArchiveRefused,
    Progress,
    ProgressCallback,
    _damaged,
    _no_progress,
)
from tribune.portability.backup_rows import migrations_here, newer_tribune, parsed_rows
from tribune.portability.backup_tables import TableSpec, row_writer
from tribune.portability.backup_verify import archive_verify
from tribune.portability.derived import (
    DERIVED_TABLES,
    DerivedResult,
    derived_state_rebuild,
)
from tribune.portability.restore_journal import (
    DONE,
    STATE,
    database_exists,
    journal_begin,
    journal_done,
    journal_drop,
    journal_exists,
    journal_get,
    journal_mark,
    journal_set,
    restore_unfinished,
)


class RestoreRefused(ValidationFailed):
    """The target cannot take this archive (not empty, unknown migrations, a
    different secret key configured). ``str()`` is one line."""


@dataclass
class RestoreResult:
    """What a restore did; ``seconds`` per step: verify (the first pass), migrate
    (to the archive's migrations), load (rows and files), finish (constraints,
    sequences, the other migrations) and rebuild (derived state)."""

    rows: int
    media_files: int
    resumed: bool
    derived: DerivedResult
    seconds: dict[str, float]


def instance_restore(*, path: Path, passphrase: str,
                     on_progress: ProgressCallback = _no_progress) -> RestoreResult:
    """Restore the archive at ``path`` into this instance's database and media
    storage. The target must be empty (no users, no accounts), or hold an
    interrupted restore of the same archive, which is then resumed.
    ``on_progress`` hears of each phase: verify, migrate, restore (the rows and
    files), finish and rebuild.

    Raises ArchiveRefused for a damaged, truncated, too new or unloadable archive
    and RestoreRefused for a target that cannot take it: before writing anything,
    or, when the database refuses rows while they are loaded, after removing what
    the restore wrote. ValidationFailed for a wrong passphrase. An interruption
    (KeyboardInterrupt) leaves the journal for the next run to resume from.
    """
    path = Path(path)
    resumed = False
    before: dict = {}
    premigration: _Premigration | None = None

    def check(header: dict) -> None:
        nonlocal resumed, before, premigration
        here, unknown = migrations_here(header.get("migrations", {}), header.get("tables", {}))
        if unknown:
            raise RestoreRefused(newer_tribune(unknown))
        resumed = _target_state(header.get("backup_id"))
        if not resumed:
            before = _target_before()
            if hasattr(os, "fork"):
                premigration = _Premigration.start(here, before)

    clock = [time.monotonic()]
    seconds: dict[str, float] = {}

    def lap(step: str) -> None:
        clock.append(time.monotonic())
        seconds[step] = clock[-1] - clock[-2]

    try:
        verified = archive_verify(path=path, passphrase=passphrase, on_header=check,
                                  on_progress=on_progress)
        lap("verify")
        manifest, secrets = verified.manifest, verified.secrets or {}
        _check_secret_key(secrets)
        if premigration is not None:
            premigration.install(on_progress)
    except BaseException:
        if premigration is not None:
            premigration.abandon()
        raise
    specs = {table: TableSpec.from_json(table, data)
             for table, data in manifest["tables"].items()}
    if not resumed:
        journal_begin(backup_id=manifest["backup_id"], archive=path.resolve(), before=before)
    try:
        prepared = journal_get("prepared") is not None
        if not prepared and premigration is None:
            _migrate_to(migrations_here(manifest["migrations"], manifest["tables"])[0],
                        on_progress)
        # SQLite's foreign keys off for the load (after migrating: its schema editor
        # turns them back on); PostgreSQL drops them instead (``_prepare``).
        connection.disable_constraint_checking()
        if not prepared:
            _check_columns(specs)
            _prepare(specs)
        lap("migrate")
        media_files = _load(path, manifest, specs, total_rows=verified.total_rows,
                            on_progress=on_progress)
        lap("load")
        finish = Progress(phase="finish", total_steps=6)
        _constraints(specs, finish, on_progress)
    except (ArchiveRefused, RestoreRefused) as exc:
        media = [m["name"][len(MEDIA):] for m in manifest["members"]
                 if str(m.get("name", "")).startswith(MEDIA)]
        raise _undone(exc, specs, media) from None
    _finish(specs, secrets, finish, on_progress)
    lap("finish")
    derived = _rebuild(on_progress)
    journal_drop()
    lap("rebuild")
    return RestoreResult(rows=verified.total_rows, media_files=media_files,
                         resumed=resumed, derived=derived, seconds=seconds)


# --- checks, before anything is written ----------------------------------------------

def _target_state(backup_id: str | None) -> bool:
    """True when this database holds an interrupted restore of ``backup_id``;
    False when it is empty. Raises RestoreRefused otherwise. Opens no SQLite file
    that does not exist yet."""
    if not database_exists():
        return False
    if journal_exists():
        if journal_get("backup_id") == backup_id:
            return True
        archive = restore_unfinished()
        raise RestoreRefused(
            _("This database holds an unfinished restore of another archive (%(archive)s); "
              "run `tribune restore %(archive)s` again to finish it, or restore into a "
              "new, empty database.") % {"archive": archive})
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in ("auth_user", "accounts_account"):
            if table in tables:
                cursor.execute(f'SELECT count(*) FROM "{table}"')
                if cursor.fetchone()[0]:
                    raise RestoreRefused(
                        _("The target instance is not empty (it has users or accounts); "
                          "restore into a new, empty instance."))
    return False


def _target_before() -> dict:
    """What the empty target holds before a restore writes to it, for ``_undo``:
    whether its SQLite file exists, and its tables."""
    if not database_exists():
        return {"database": False, "tables": []}
    return {"database": True, "tables": sorted(connection.introspection.table_names())}


def _check_secret_key(secrets: dict) -> None:
    configured = os.environ.get("TRIBUNE_SECRET_KEY")
    archived = secrets.get("secret_key")
    if configured and archived and configured != archived:
        raise RestoreRefused(
            _("TRIBUNE_SECRET_KEY is set to another key than the archived instance's; "
              "unset it (the archived key is then written to the data directory) or set "
              "it to the old instance's key."))


def _check_columns(specs: dict[str, TableSpec]) -> None:
    """Every table and column of the archive exists in the migrated target (names
    from an archive are used in SQL only after this check)."""
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table, spec in specs.items():
            if table not in tables:
                raise RestoreRefused(_("The archive has a table %(table)s that this "
                                       "Tribune does not.") % {"table": table})
            present = {c.name for c in connection.introspection.get_table_description(
                cursor, table)}
            if missing := [c for c in spec.columns if c not in present]:
                raise RestoreRefused(
                    _("The archive's table %(table)s has columns this Tribune does not: "
                      "%(columns)s.") % {"table": table, "columns": ", ".join(missing)})


# --- writing ---------------------------------------------------------------------------

def _migrate_to(migrations: dict[str, list[str]], on_progress: ProgressCallback) -> None:
    """Migrate the target to exactly the archive's migrations, so its tables have
    the archive's columns; the rest runs after the rows are in."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    targets = []
    for app, names in migrations.items():
        last = max(names, key=lambda n: len(graph.forwards_plan((app, n))))
        targets.append((app, last))
    targets += [(app, None) for app in executor.loader.migrated_apps if app not in migrations]
    executor.loader.check_consistent_history(connection)
    plan = executor.migration_plan(targets)
    progress = Progress(phase="migrate", total_steps=len(plan))
    on_progress(progress)

    def count(action: str, migration=None, fake: bool = False) -> None:
        if action in ("apply_start", "unapply_start"):
            progress.step = f"{migration.app_label}.{migration.name}"
        elif action in ("apply_success", "unapply_success"):
            progress.steps += 1
        on_progress(progress)

    executor.progress_callback = count
    executor.migrate(targets, plan=plan)


class _Premigration:
    """The target migrated to the archive's migrations (``_migrate_to``) in a
    forked child while this process verifies the archive (the set-up's slowest
    part: Django renders the model states of some ninety migrations).

    SQLite: the child migrates a copy of the target beside it
    (``<name>.restoring``), which replaces the target once the archive passed
    (``install``) or is removed (``abandon``). PostgreSQL: the child migrates the
    target itself, and ``abandon`` takes away what it made (``_unmigrate``). Either
    way a refused archive leaves the target as it was."""

    def __init__(self, pid: int, errors: int, before: dict, copy: Path | None = None,
                 target: Path | None = None) -> None:
        self.pid, self.errors, self.before = pid, errors, before
        self.copy, self.target = copy, target
        self.child = pid

    @classmethod
    def start(cls, migrations: dict[str, list[str]], before: dict) -> _Premigration:
        copy = target = None
        if connection.vendor == "sqlite":
            target = Path(connection.settings_dict["NAME"])
            copy = target.with_name(target.name + ".restoring")
            _remove_sqlite(copy)
            if target.exists():  # an empty instance, migrated or not: its tables too
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                source, destination = sqlite3.connect(target), sqlite3.connect(copy)
                try:
                    source.backup(destination)
                finally:
                    source.close()
                    destination.close()
        connection.close()  # the child opens its own
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: migrate, say why it failed, exit
            os.close(read)
            code = 1
            try:
                if copy is not None:
                    connection.settings_dict["NAME"] = str(copy)
                else:
                    # A connection of its own, not one of the parent's pool (whose
                    # sockets the fork shares), named so that ``abandon`` can find it.
                    connection.settings_dict["OPTIONS"] = {
                        **connection.settings_dict.get("OPTIONS", {}), "pool": False,
                        "application_name": cls.session_name(os.getpid())}
                _migrate_to(migrations, _no_progress)
                connection.close()  # SQLite: the last connection folds its WAL in
                code = 0
            except BaseException as exc:
                with contextlib.suppress(BaseException):  # the parent may be gone
                    os.write(write, _first_line(exc).encode("utf-8")[:4000])
            finally:
                os._exit(code)  # never the parent's code: its handlers, its cleanup
        os.close(write)
        return cls(pid, read, before, copy, target)

    def install(self, on_progress: ProgressCallback) -> None:
        """Wait for the migration; on SQLite, put the migrated copy in the target's
        place. Raises RestoreRefused when the migration failed; the caller then
        calls ``abandon``, as after any other failure."""
        progress = Progress(phase="migrate", total_steps=1,
                            step=_("migrations, begun during the verification"))
        on_progress(progress)
        with os.fdopen(self.errors, "rb") as pipe:
            self.errors = -1
            reason = pipe.read().decode("utf-8", "replace")
        status = os.waitpid(self.pid, 0)[1]
        self.pid = 0
        if status != 0:  # the caller abandons, which takes away what it made
            raise RestoreRefused(_("Migrating the target failed: %(reason)s")
                                 % {"reason": reason or f"status {status}"})
        if self.copy is not None:
            connection.close()
            _remove_sqlite(self.target, main=False)
            os.replace(self.copy, self.target)
        progress.steps = 1
        on_progress(progress)

    def abandon(self) -> None:
        """Stop the migration (if it still runs) and take away what it made."""
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
        if self.errors >= 0:
            os.close(self.errors)
            self.errors = -1
        if self.copy is not None:
            _remove_sqlite(self.copy)
            return
        # The killed child's session may still be running a statement, or have a
        # COMMIT yet to read: end it before looking at what it made.
        name = self.session_name(self.child)
        with connection.cursor() as cursor:
            for _attempt in range(600):
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = %s", [name])
                if not cursor.fetchall():
                    break
                time.sleep(0.05)
        _unmigrate(self.before, set())

    @staticmethod
    def session_name(pid: int) -> str:
        return f"tribune restore migration {pid}"


def _remove_sqlite(path: Path, main: bool = True) -> None:
    """Remove the SQLite database at ``path`` and its WAL, shared-memory and
    rollback journal files; with ``main=False`` only those three."""
    for suffix in ("", "-wal", "-shm", "-journal")[0 if main else 1:]:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _prepare(specs: dict[str, TableSpec]) -> None:
    """Empty the archive's tables and drop their secondary indexes and foreign
    keys (``_drop_indexes``), keeping their definitions in the journal, in one
    transaction that marks the journal prepared. The rows then go into tables
    with a primary key only, and each index is built once from the loaded rows
    (``_indexes``), as pg_restore does: a sort instead of a million insertions
    into a B-tree."""
    from tribune.search.index import status_index_drop

    with transaction.atomic(), connection.cursor() as cursor:
        # The status search index is derived, in no archive, and made once from
        # the loaded statuses (``derived.search_index_rebuild``) rather than by its
        # triggers, a row at a time.
        status_index_drop()
        indexes, keys = _drop_indexes(cursor, set(specs))
        journal_set("indexes", json.dumps(indexes))
        journal_set("foreign_keys", json.dumps(keys))
        for table in specs:
            cursor.execute(f'DELETE FROM "{table}"')
        journal_set("prepared", "1")


def _drop_indexes(cursor, tables: set[str]) -> tuple[list, list]:
    """Drop the secondary indexes of ``tables`` (SQLite: those made by ``CREATE
    INDEX``; PostgreSQL: every index but the primary key's, unique constraints
    included) and, on PostgreSQL, their foreign keys. Returns their definitions,
    ``[table, name, SQL]`` each, for ``_indexes`` and ``_foreign_keys``."""
    keys = []
    if connection.vendor == "postgresql":
        cursor.execute("""
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c WHERE c.contype = 'f'
              AND c.connamespace = current_schema()::regnamespace""")
        keys = [row for row in cursor.fetchall() if row[0].strip('"') in tables]
        for table, name, _definition in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        # Unique constraints (after the foreign keys that may lean on them), then
        # the indexes no constraint owns.
        cursor.execute("""
            SELECT c.conrelid::regclass::text, c.conname,
                   'ALTER TABLE ' || c.conrelid::regclass::text || ' ADD CONSTRAINT '
                   || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
            FROM pg_constraint c WHERE c.contype = 'u'
              AND c.connamespace = current_schema()::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_constraint f  -- another table's key
                              WHERE f.contype = 'f' AND f.conindid = c.conindid)
            UNION ALL
            SELECT i.indrelid::regclass::text, x.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
            WHERE x.relnamespace = current_schema()::regnamespace AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""")
    else:
        cursor.execute("SELECT tbl_name, name, sql FROM sqlite_master "
                       "WHERE type = 'index' AND sql IS NOT NULL")
    indexes = [row for row in cursor.fetchall() if row[0].strip('"') in tables]
    for table, name, definition in indexes:
        if definition.startswith("ALTER TABLE"):
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        else:
            cursor.execute(f'DROP INDEX "{name}"')
    return indexes, keys


def _load(path: Path, manifest: dict, specs: dict[str, TableSpec], *, total_rows: int,
          on_progress: ProgressCallback) -> int:
    """Load the archive's rows and media files (those the journal does not list as
    done); returns the media files. The archive is read, checked against the
    verification's checksums and its rows parsed and converted by ``_members`` in a
    child process (``_ReaderProcess``) while this one inserts: both cores work."""
    progress = Progress(phase="restore", total_rows=total_rows)
    media_files = 0
    reader = ArchiveReader(path)
    progress.total_bytes = reader.size
    reader.close()
    members = _members(path, manifest["members"], specs, journal_done())
    with _ReaderProcess(members) if hasattr(os, "fork") else nullcontext(members) as read:
        for kind, key, table, rows, row_count, bytes_read in read:
            if kind == "table" and rows is not None:
                _insert(specs[table], rows, key)
            elif kind == "media":
                media_files += 1
                if rows is not None:  # written now (None: by an earlier run)
                    journal_mark(key)
            progress.rows += row_count
            progress.bytes = bytes_read
            on_progress(progress)
    return media_files


def _members(path: Path, expected: list[dict], specs: dict[str, TableSpec],
             done: set[str]) -> Iterator[tuple]:
    """Read the archive's members up to the manifest, each checked against the
    verified manifest's name, size and checksum. Yields, per member, (kind "table"
    or "media", journal key, table, the converted rows or None when the journal
    has the chunk, rows in the chunk, archive bytes read so far); a media file not
    done yet is written to the storage (True in place of rows). Raises
    ArchiveRefused."""
    reader = ArchiveReader(path)
    try:
        for index, (info, handle) in enumerate(reader.members()):
            if index == len(expected):  # the manifest, read by the verification
                break
            want = expected[index]
            if info.name != want.get("name") or info.size != want.get("size"):
                raise _damaged(f"member {info.name!r} differs from the verified archive")
            key = f"{index:07d} {info.name}"
            if info.name.startswith(TABLES):
                table = info.name[len(TABLES):].rsplit("/", 1)[0]
                rows = None
                if key not in done:
                    data = ArchiveReader.read_all(info, handle)
                    _check_sum(info.name, data, want)
                    rows = _converted(specs[table], data, key)
                yield "table", key, table, rows, want.get("rows") or 0, reader.bytes_read
            elif info.name.startswith(MEDIA):
                written = None
                if key not in done:
                    _write_media(info, handle, want)
                    written = True
                yield "media", key, "", written, 0, reader.bytes_read
    except DAMAGE as exc:
        raise _damaged(" ".join(str(exc).split()) or type(exc).__name__) from None
    finally:
        reader.close()


class _ReaderProcess:
    """Runs an iterator of picklable messages in a forked child and yields them
    here, one at a time: the pipe's buffer bounds what is in flight. An exception
    in the child is raised here (as RuntimeError when it cannot be pickled); the
    child is stopped when the parent leaves early. The child uses no database
    connection and exits with ``os._exit``, so it closes none of the parent's."""

    def __init__(self, messages: Iterator) -> None:
        self.messages = messages
        self.pid = 0

    def __enter__(self) -> Iterator:
        from multiprocessing.connection import Pipe

        receiving, sending = Pipe(duplex=False)
        self.pid = os.fork()
        if self.pid == 0:
            receiving.close()
            code = 1
            try:
                for message in self.messages:
                    sending.send(("message", message))
                sending.send(("end", None))
                code = 0
            except (KeyboardInterrupt, BrokenPipeError):
                pass  # interrupted, or the parent is gone: nobody to tell
            except BaseException as exc:
                try:
                    sending.send(("raise", exc))
                except Exception:
                    with contextlib.suppress(BaseException):
                        sending.send(("raise", RuntimeError(_first_line(exc))))
            finally:
                os._exit(code)  # never the parent's code: its handlers, its cleanup
        sending.close()
        self.receiving = receiving
        return self._received()

    def _received(self) -> Iterator:
        while True:
            try:
                kind, payload = self.receiving.recv()
            except EOFError:
                raise RuntimeError("the archive's reading process stopped") from None
            if kind == "end":
                return
            if kind == "raise":
                raise payload
            yield payload

    def __exit__(self, *exc_info) -> None:
        self.receiving.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def _check_sum(name: str, data: bytes, want: dict) -> None:
    if hashlib.sha256(data).hexdigest() != want.get("sha256"):
        raise _damaged(f"member {name!r} changed since it was verified")


def _converted(spec: TableSpec, data: bytes, key: str) -> list:
    """The chunk's rows, parsed and converted for this database. Raises
    ArchiveRefused for a value the conversion refuses."""
    convert = row_writer(spec, vendor=connection.vendor)
    try:
        rows = parsed_rows(data)
        return list(rows if convert is None else map(convert, rows))
    except _refused_rows() as exc:
        raise _refusal(key, exc) from None


def _refusal(key: str, exc: BaseException) -> ArchiveRefused:
    return ArchiveRefused(
        _("The database refused the rows of %(member)s: %(reason)s.")
        % {"member": key.split(" ", 1)[1], "reason": _first_line(exc)})


def _refused_rows() -> tuple[type[BaseException], ...]:
    """What a database (or a value's conversion) raises for rows it refuses, as
    against a lost connection or a full disk, which a new run may get past."""
    errors: tuple[type[BaseException], ...] = (
        IntegrityError, DataError, ValueError, TypeError, binascii.Error,
        sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError,
        sqlite3.ProgrammingError)
    if connection.vendor == "postgresql":
        import psycopg

        errors += (psycopg.IntegrityError, psycopg.DataError)
    return errors


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return " ".join(text.splitlines()[0].split()) if text else type(exc).__name__


def _insert(spec: TableSpec, rows: list, key: str) -> None:
    """Insert one chunk's converted ``rows`` and mark it done, in one transaction.
    Raises ArchiveRefused for rows the database refuses."""
    columns = ", ".join(f'"{c}"' for c in spec.columns)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                marks = ", ".join("?" * len(spec.columns))
                connection.connection.executemany(
                    f'INSERT INTO "{spec.table}" ({columns}) VALUES ({marks})', rows)
            else:
                with cursor.cursor.copy(f'COPY "{spec.table}" ({columns}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            journal_mark(key)
    except _refused_rows() as exc:
        raise _refusal(key, exc) from None


def _write_media(info, handle, want: dict) -> None:
    """Write one media file to the default storage under its own name (replacing
    a file a killed restore left), after checking its checksum."""
    from django.core.files import File
    from django.core.files.storage import default_storage

    name = info.name[len(MEDIA):]
    if not name or name.startswith("/") or ".." in name.split("/"):
        raise _damaged(f"media name {name!r} is not a relative path")
    digest = hashlib.sha256()
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        while block := handle.read(BLOCK):
            spool.write(block)
            digest.update(block)
        if digest.hexdigest() != want.get("sha256"):
            raise _damaged(f"member {info.name!r} changed since it was verified")
        spool.seek(0)
        if default_storage.exists(name):
            default_storage.delete(name)
        saved = default_storage.save(name, File(spool, name=name))
    if saved != name:
        default_storage.delete(saved)
        raise ArchiveRefused(_("The media storage renamed %(name)s to %(saved)s.")
                             % {"name": name, "saved": saved})


def _constraints(specs: dict[str, TableSpec], progress: Progress,
                 on_progress: ProgressCallback) -> None:
    """Build the indexes ``_prepare`` dropped, then check the foreign keys (SQLite)
    or put them back (PostgreSQL, which checks them as it does). Raises
    ArchiveRefused for rows that break a unique index or a foreign key."""
    progress.step = _("indexes")
    on_progress(progress)
    _indexes(json.loads(journal_get("indexes") or "[]"))
    progress.steps += 1
    progress.step = _("foreign keys")
    on_progress(progress)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_key_check")
            broken = cursor.fetchall()
        if broken:
            table, rowid, parent, _fk = broken[0]
            raise ArchiveRefused(
                _("The archive's rows break %(n)s foreign keys (first: %(table)s row "
                  "%(rowid)s refers to a missing %(parent)s row).")
                % {"n": len(broken), "table": table, "rowid": rowid, "parent": parent})
        connection.enable_constraint_checking()
    else:
        _foreign_keys(json.loads(journal_get("foreign_keys") or "[]"))
    progress.steps += 1
    on_progress(progress)


def _indexes(indexes: list) -> None:
    """Create each index (and PostgreSQL unique constraint) of ``indexes``
    (``_drop_indexes``) that does not exist yet: one transaction each, so a
    restore interrupted here goes on from the next one. Raises ArchiveRefused
    for rows that break a unique one."""
    if connection.vendor == "postgresql":
        present_sql = ("SELECT relname FROM pg_class WHERE relkind = 'i' "
                       "AND relnamespace = current_schema()::regnamespace")
    else:
        present_sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    with connection.cursor() as cursor:
        cursor.execute(present_sql)
        present = {row[0] for row in cursor.fetchall()}
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '256MB'")
        for _table, name, definition in indexes:
            if name in present:
                continue
            try:
                with transaction.atomic():
                    cursor.execute(definition)
            except _refused_rows() as exc:
                raise ArchiveRefused(
                    _("The archive's rows break the unique index %(name)s: %(reason)s.")
                    % {"name": name, "reason": _first_line(exc)}) from None


def _foreign_keys(keys: list) -> None:
    """Put back each PostgreSQL foreign key of ``keys`` (``_drop_indexes``) that
    is not there, which checks every row. Raises ArchiveRefused for a row that
    breaks one."""
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, conname FROM pg_constraint "
                       "WHERE contype = 'f'")
        present = {tuple(row) for row in cursor.fetchall()}
        for table, name, definition in keys:
            if (table, name) not in present:
                try:
                    with transaction.atomic():
                        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                except IntegrityError as exc:
                    raise ArchiveRefused(
                        _("The archive's rows break a foreign key: %(reason)s.")
                        % {"reason": _first_line(exc)}) from None


def _rebuild(on_progress: ProgressCallback) -> DerivedResult:
    """Rebuild the derived state (``derived``) into tables whose indexes and
    foreign keys are dropped first and built after, as for the rows: nothing else
    writes while a restore is unfinished. May run again after an interruption."""
    labels = {"counters": _("counters"), "home feeds": _("home feeds")}
    progress = Progress(phase="rebuild")

    def on_step(what: str, done: int, total: int) -> None:
        progress.step, progress.steps, progress.total_steps = labels[what], done, total or None
        on_progress(progress)

    if journal_get("derived_indexes") is None:
        with transaction.atomic(), connection.cursor() as cursor:
            indexes, keys = _drop_indexes(cursor, set(DERIVED_TABLES))
            journal_set("derived_indexes", json.dumps(indexes))
            journal_set("derived_keys", json.dumps(keys))
    derived = derived_state_rebuild(on_step)
    progress.step, progress.steps, progress.total_steps = _("indexes"), 0, 1
    on_progress(progress)
    _indexes(json.loads(journal_get("derived_indexes") or "[]"))
    _foreign_keys(json.loads(journal_get("derived_keys") or "[]"))
    progress.steps = 1
    on_progress(progress)
    return derived


def _finish(specs: dict[str, TableSpec], secrets: dict, progress: Progress,
            on_progress: ProgressCallback) -> None:
    """Sequences, statistics, the remaining migrations and the secret key (after
    ``_constraints``); each step may run again after an interruption."""
    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db.migrations.executor import MigrationExecutor

    def step(label: str) -> None:
        progress.step = label
        on_progress(progress)

    with connection.cursor() as cursor:
        step(_("sequences"))
        if connection.vendor == "postgresql":
            models = [m for m in apps.get_models(include_auto_created=True)
                      if m._meta.db_table in specs]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
        progress.steps += 1
        # The planner's statistics, as after any bulk load: without them SQLite
        # picks poor indexes (a home feed rebuild scanned every status).
        step(_("statistics"))
        if connection.vendor == "sqlite":
            # A sample of each index, as PostgreSQL's ANALYZE takes, not every row
            # (https://sqlite.org/lang_analyze.html#approx).
            cursor.execute("PRAGMA analysis_limit = 1000")
        cursor.execute("ANALYZE")
        progress.steps += 1
    step(_("migrations"))
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    progress.steps += 1
    step(_("secret key"))
    if secrets.get("secret_key"):
        _write_secret_key(secrets["secret_key"])
    progress.steps += 1
    on_progress(progress)


# --- a restore the database refused: back to the target as it was ----------------------

def _undone(exc: ValidationFailed, specs: dict[str, TableSpec],
            media: list[str]) -> ArchiveRefused:
    """Undo what the restore wrote (``_undo``) after ``exc``; the error to raise,
    ``exc``'s line with what became of the target."""
    try:
        _undo(specs, media)
    except Exception as failure:  # the original error matters most; say both
        return ArchiveRefused(
            _("%(error)s Removing what the restore wrote failed too (%(reason)s): "
              "restore into a new, empty database.")
            % {"error": exc, "reason": _first_line(failure)})
    return ArchiveRefused(
        _("%(error)s The restore removed what it had written; the target is as it "
          "was.") % {"error": exc})


def _undo(specs: dict[str, TableSpec], media: list[str]) -> None:
    """Remove the archive's ``media`` files (the reading process may have written
    some that the journal does not list yet; an empty target has no files of its
    own) with the folders left empty, then the restore's tables (``_unmigrate``)."""
    from django.core.files.storage import default_storage

    before = json.loads(journal_get("before") or '{"database": true, "tables": []}')
    for name in media:
        default_storage.delete(name)
    root = getattr(default_storage, "location", None)  # a folder: FileSystemStorage
    if root and Path(root).is_dir():
        folders = [*Path(root).rglob("*"), Path(root)]  # the folder itself last
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    _unmigrate(before, set(specs))


def _unmigrate(before: dict, tables: set[str]) -> None:
    """Take the target back to what ``before`` (``_target_before``) says it held:
    no SQLite file where there was none; else Tribune's tables (and ``tables``)
    dropped, and a target that had them before migrated again, empty, as
    ``tribune migrate`` leaves it. Tables that were there and are not Tribune's
    stay."""
    from django.conf import settings
    from django.core.management import call_command

    from tribune.search.index import status_index_drop

    if connection.vendor == "sqlite" and not before["database"]:
        name = Path(connection.settings_dict["NAME"])
        connection.close()
        _remove_sqlite(name)
        return
    existing = set(before["tables"])
    caches = {c["LOCATION"] for c in settings.CACHES.values()
              if c["BACKEND"].endswith("DatabaseCache")}
    ours = (set(connection.introspection.django_table_names()) | tables | caches
            | {"django_migrations", STATE, DONE})
    drop = [t for t in connection.introspection.table_names()
            if t not in existing or t in ours]
    cascade = " CASCADE" if connection.vendor == "postgresql" else ""
    connection.disable_constraint_checking()
    with transaction.atomic(), connection.cursor() as cursor:
        # The search index first: not a model's table, and on PostgreSQL it has
        # functions of its own.
        status_index_drop()
        for table in drop:
            cursor.execute(f'DROP TABLE IF EXISTS "{table}"{cascade}')
    connection.enable_constraint_checking()
    if "django_migrations" in existing:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)


def _write_secret_key(key: str) -> None:
    """The archived secret key into ``TRIBUNE_DATA_DIR/secret_key`` (mode 0600),
    atomically; the instance uses it from its next start."""
    from django.conf import settings

    target = Path(settings.DATA_DIR) / "secret_key"
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".secret_key.")
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    os.chmod(temporary, 0o600)
    os.replace(temporary, target)
