"""``instance_restore``: an instance backup onto a new, empty instance, SQLite or
PostgreSQL, whichever it is configured with.

1. The header is checked first (format, migrations, an empty target), then the
   whole archive is verified (``archive_verify``): nothing is written before every
   checksum matched and the passphrase opened the secrets.
2. The target is migrated to the archive's migrations, and in one transaction a
   journal is created (two tables of its own, ``tribune_restore_state`` and
   ``tribune_restore_done``), the rows that ``migrate`` put in the archive's tables
   (content types, permissions) are deleted, and on PostgreSQL the foreign keys are
   dropped (their definitions kept in the journal), as pg_restore loads data before
   constraints.
3. Each table chunk is loaded in one transaction that also records it in the
   journal (SQLite: ``executemany``; PostgreSQL: ``COPY``), so a restore killed at
   any point and run again skips what was committed and never duplicates a row.
   Media files are written to the default storage, then recorded.
4. Foreign keys are checked (SQLite) or put back (PostgreSQL, which validates
   them), sequences are reset, the planner's statistics are gathered
   (``ANALYZE``), the remaining migrations run, the secret key is
   written to the data dir, derived state is rebuilt (``derived``), and the
   journal is dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
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
from tribune.portability.backup_tables import TableSpec, row_writer
from tribune.portability.backup_verify import archive_verify
from tribune.portability.derived import DerivedResult, derived_state_rebuild

STATE = "tribune_restore_state"
PARSE_ROWS = 1000
DONE = "tribune_restore_done"


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

    Raises ArchiveRefused for a damaged, truncated or too new archive and
    RestoreRefused for a target that cannot take it, in both cases before writing
    anything; ValidationFailed for a wrong passphrase.
    """
    path = Path(path)
    resumed = False

    def check(header: dict) -> None:
        nonlocal resumed
        _check_migrations(header.get("migrations", {}))
        resumed = _target_state(header.get("backup_id"))

    clock = [time.monotonic()]
    seconds: dict[str, float] = {}

    def lap(step: str) -> None:
        clock.append(time.monotonic())
        seconds[step] = clock[-1] - clock[-2]

    verified = archive_verify(path=path, passphrase=passphrase, on_header=check,
                              on_progress=on_progress)
    lap("verify")
    manifest, secrets = verified.manifest, verified.secrets or {}
    _check_secret_key(secrets)
    if not resumed:
        _migrate_to(manifest["migrations"])
    lap("migrate")
    specs = {table: TableSpec.from_json(table, data)
             for table, data in manifest["tables"].items()}
    _check_columns(specs)
    connection.disable_constraint_checking()  # SQLite; PostgreSQL drops its FKs instead
    if not resumed:
        _prepare(manifest["backup_id"], specs)
    media_files = _load(path, manifest, specs, total_rows=verified.total_rows,
                        on_progress=on_progress)
    lap("load")
    _finish(specs, secrets)
    lap("finish")
    derived = derived_state_rebuild()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {DONE}")
        cursor.execute(f"DROP TABLE {STATE}")
    lap("rebuild")
    return RestoreResult(rows=verified.total_rows, media_files=media_files,
                         resumed=resumed, derived=derived, seconds=seconds)


# --- checks, before anything is written ----------------------------------------------

def _check_migrations(migrations: dict) -> None:
    from django.db.migrations.loader import MigrationLoader

    known = MigrationLoader(None, ignore_no_migrations=True).graph.nodes
    unknown = [f"{app}.{name}" for app, names in migrations.items() for name in names
               if (app, name) not in known]
    if unknown:
        more = _(" and %(n)s more") % {"n": len(unknown) - 3} if len(unknown) > 3 else ""
        raise RestoreRefused(
            _("The archive comes from a newer Tribune: this one lacks its migrations "
              "%(names)s%(more)s; upgrade Tribune first.")
            % {"names": ", ".join(unknown[:3]), "more": more})


def _database_exists() -> bool:
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        return name != ":memory:" and Path(name).exists()
    return True


def _target_state(backup_id: str | None) -> bool:
    """True when this database holds an interrupted restore of ``backup_id``;
    False when it is empty. Raises RestoreRefused otherwise. Opens no SQLite file
    that does not exist yet."""
    if not _database_exists():
        return False
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        if STATE in tables:
            cursor.execute(f"SELECT value FROM {STATE} WHERE key = 'backup_id'")
            row = cursor.fetchone()
            if row and row[0] == backup_id:
                return True
            raise RestoreRefused(
                _("This database holds an unfinished restore of another archive (%(id)s); "
                  "run that restore again, or restore into a new, empty database.")
                % {"id": row[0] if row else "?"})
        for table in ("auth_user", "accounts_account"):
            if table in tables:
                cursor.execute(f'SELECT count(*) FROM "{table}"')
                if cursor.fetchone()[0]:
                    raise RestoreRefused(
                        _("The target instance is not empty (it has users or accounts); "
                          "restore into a new, empty instance."))
    return False


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

def _migrate_to(migrations: dict[str, list[str]]) -> None:
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
    executor.migrate(targets, plan=executor.migration_plan(targets))


def _prepare(backup_id: str, specs: dict[str, TableSpec]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {STATE} (key VARCHAR(100) PRIMARY KEY, value TEXT NOT NULL)")
        cursor.execute(f"CREATE TABLE {DONE} (member VARCHAR(1200) PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {STATE} (key, value) VALUES (%s, %s)",
                       ["backup_id", backup_id])
        if connection.vendor == "postgresql":
            cursor.execute("""
                SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
                FROM pg_constraint c WHERE c.contype = 'f'
                  AND c.connamespace = current_schema()::regnamespace""")
            keys = [row for row in cursor.fetchall() if row[0].strip('"') in specs]
            cursor.execute(f"INSERT INTO {STATE} (key, value) VALUES (%s, %s)",
                           ["foreign_keys", json.dumps(keys)])
            for table, name, _definition in keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for table in specs:
            cursor.execute(f'DELETE FROM "{table}"')


def _done_members() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT member FROM {DONE}")
        return {row[0] for row in cursor.fetchall()}


def _load(path: Path, manifest: dict, specs: dict[str, TableSpec], *, total_rows: int,
          on_progress: ProgressCallback) -> int:
    done = _done_members()
    expected = manifest["members"]
    progress = Progress(phase="restore", total_rows=total_rows)
    reader = ArchiveReader(path)
    media_files = 0
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
                if key not in done:
                    data = ArchiveReader.read_all(info, handle)
                    _check_sum(info.name, data, want)
                    _insert(specs[table], data, key)
                progress.rows += want.get("rows") or 0
            elif info.name.startswith(MEDIA):
                if key not in done:
                    _write_media(info, handle, want, key)
                media_files += 1
            progress.bytes = reader.bytes_read
            on_progress(progress)
    except DAMAGE as exc:
        raise _damaged(" ".join(str(exc).split()) or type(exc).__name__) from None
    finally:
        reader.close()
    return media_files


def _check_sum(name: str, data: bytes, want: dict) -> None:
    if hashlib.sha256(data).hexdigest() != want.get("sha256"):
        raise _damaged(f"member {name!r} changed since it was verified")


def _parsed(data: bytes):
    """The rows of a chunk, parsed a thousand lines at a time as one JSON array
    (a JSON line never holds a raw newline), which spares the per-call cost of
    ``json.loads`` on every row."""
    lines = data.decode("utf-8").split("\n")
    for start in range(0, len(lines), PARSE_ROWS):
        batch = [line for line in lines[start:start + PARSE_ROWS] if line]
        if batch:
            yield from json.loads("[" + ",".join(batch) + "]")


def _rows(data: bytes, spec: TableSpec):
    convert = row_writer(spec, vendor=connection.vendor)
    rows = _parsed(data)
    return rows if convert is None else map(convert, rows)


def _insert(spec: TableSpec, data: bytes, key: str) -> None:
    columns = ", ".join(f'"{c}"' for c in spec.columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join("?" * len(spec.columns))
            connection.connection.executemany(
                f'INSERT INTO "{spec.table}" ({columns}) VALUES ({marks})', _rows(data, spec))
        else:
            with cursor.cursor.copy(f'COPY "{spec.table}" ({columns}) FROM STDIN') as copy:
                for row in _rows(data, spec):
                    copy.write_row(row)
        cursor.execute(f"INSERT INTO {DONE} (member) VALUES (%s)", [key])


def _write_media(info, handle, want: dict, key: str) -> None:
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
        raise ArchiveRefused(_("The media storage renamed %(name)s to %(saved)s.")
                             % {"name": name, "saved": saved})
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {DONE} (member) VALUES (%s)", [key])


def _finish(specs: dict[str, TableSpec], secrets: dict) -> None:
    """Constraints, sequences, the remaining migrations and the secret key; each
    step may run again after an interruption."""
    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_key_check")
            broken = cursor.fetchall()
            connection.enable_constraint_checking()
            if broken:
                table, rowid, parent, _fk = broken[0]
                raise ArchiveRefused(
                    _("The archive's rows break %(n)s foreign keys (first: %(table)s row "
                      "%(rowid)s refers to a missing %(parent)s row).")
                    % {"n": len(broken), "table": table, "rowid": rowid, "parent": parent})
        else:
            cursor.execute("SELECT conrelid::regclass::text, conname FROM pg_constraint "
                           "WHERE contype = 'f'")
            present = {tuple(row) for row in cursor.fetchall()}
            cursor.execute(f"SELECT value FROM {STATE} WHERE key = 'foreign_keys'")
            for table, name, definition in json.loads(cursor.fetchone()[0]):
                if (table, name) not in present:
                    with transaction.atomic():
                        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            models = [m for m in apps.get_models(include_auto_created=True)
                      if m._meta.db_table in specs]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
        # The planner's statistics, as after any bulk load: without them SQLite
        # picks poor indexes (a home feed rebuild scanned every status).
        cursor.execute("ANALYZE")
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    if secrets.get("secret_key"):
        _write_secret_key(secrets["secret_key"])


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
