"""Instance backup and restore (docs/adr/0014-instance-backup.md), each beside its
floor measured in the same run.

    uv run python bench/backup/run.py [--quick] [--sqlite-only] [--pg-prefix NAME] [--keep]

An instance is generated once into bench/.data/backup-<size>/source (SQLite;
bench/backup/generate.py; full size: 10,000 accounts, 1,000,000 statuses,
1,000,000 follows and 1,000,000 favourites; ``--quick``: 1,000 / 50,000 / 50,000 /
50,000) and reused. Then, through the ``tribune`` command as an operator runs it:

1. ``backup`` of the SQLite instance (gzip), beside the floor ``sqlite3 .dump``;
2. ``restore`` of that archive into a new SQLite instance, beside the floor: the
   same rows into a freshly migrated database by SQLite's own bulk insert
   (``INSERT INTO ... SELECT ... WHERE 1`` from the attached source, one
   transaction per table, row by row with every index);
3. ``restore`` of the same archive into a new PostgreSQL database, beside the floor:
   the same rows (dumped beforehand by ``COPY TO``) loaded by ``COPY FROM`` into a
   freshly migrated database, foreign keys dropped before and added after, as
   pg_restore does;
4. ``backup`` of that PostgreSQL instance, beside the floor ``pg_dump -Fc -Z1
   --data-only``.

Each command's wall time and peak resident memory (the child's ru_maxrss) are
printed and written to bench/.data/backup-<size>/results.json. The PostgreSQL
databases are ``<pg-prefix>_target`` and ``<pg-prefix>_floor`` on
127.0.0.1:5432, dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / ".data"
TRIBUNE = str(Path(sys.executable).with_name("tribune"))
PG = "postgres://postgres@127.0.0.1:5432"
SIZES = {"full": (10_000, 1_000_000, 1_000_000, 1_000_000),
         "quick": (1_000, 50_000, 50_000, 50_000)}
SKIPPED = ("timelines_feedentry", "django_tasks_database_dbtaskresult")


def env_for(data_dir: Path, database: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TRIBUNE_") or k == "TRIBUNE_DEBUG"}
    env.update({"TRIBUNE_DATA_DIR": str(data_dir), "TRIBUNE_RATE_LIMITS": "off",
                "DJANGO_SETTINGS_MODULE": "tribune.settings"})
    if database:
        env["TRIBUNE_DATABASE_URL"] = f"{PG}/{database}"
    return env


def timed(args: list[str], env: dict | None = None, stdout=None) -> tuple[float, int, str]:
    """Run ``args``; (seconds, the child's peak resident KiB, its stdout). Stops
    the benchmark with the child's stderr when it fails."""
    started = time.monotonic()
    process = subprocess.Popen(args, env=env, stdout=stdout or subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    out = process.stdout.read() if stdout is None else ""
    err = process.stderr.read()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(args)} failed:\n{err}")
    return seconds, usage.ru_maxrss, out


def tribune(*args: str, env: dict) -> tuple[float, int, str]:
    return timed([TRIBUNE, *args], env=env)


def pg_admin(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
                   check=True, capture_output=True)


def archived_tables(db: Path) -> list[str]:
    from contextlib import closing

    with closing(sqlite3.connect(db)) as source:
        names = [r[0] for r in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT IN ('django_migrations', 'tribune_cache')")]
    return [n for n in names if n not in SKIPPED]


def sqlite_floor(source: Path, root: Path) -> float:
    """SQLite's own bulk insert of the source's rows into a freshly migrated
    database (the migration untimed)."""
    target = root / "sqlite-floor"
    shutil.rmtree(target, ignore_errors=True)
    tribune("migrate", env=env_for(target))
    tables = archived_tables(source)
    db = sqlite3.connect(target / "tribune.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=OFF")
    db.execute(f"ATTACH DATABASE '{source}' AS source")
    started = time.monotonic()
    for table in tables:
        db.execute("BEGIN")
        db.execute(f'DELETE FROM main."{table}"')
        # WHERE 1 keeps SQLite from copying the table's pages whole (its transfer
        # optimisation): the rows are inserted one by one, indexes and all.
        db.execute(f'INSERT INTO main."{table}" SELECT * FROM source."{table}" WHERE 1')
        db.execute("COMMIT")
    seconds = time.monotonic() - started
    db.close()
    shutil.rmtree(target, ignore_errors=True)
    return seconds


def postgres_floor(restored: str, floor: str, root: Path) -> float:
    """COPY FROM of every table of ``restored`` (dumped by COPY TO, untimed) into
    the freshly migrated ``floor``, foreign keys dropped before and added after."""
    import psycopg

    dumps = root / "copy"
    shutil.rmtree(dumps, ignore_errors=True)
    dumps.mkdir()
    tribune("migrate", env=env_for(root / "pg-floor", floor))
    with psycopg.connect(f"{PG}/{restored}") as source:
        tables = [r[0] for r in source.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN "
            "('django_migrations', 'tribune_cache')") if r[0] not in SKIPPED]
        for table in tables:
            with (dumps / table).open("wb") as out, source.cursor().copy(
                    f'COPY "{table}" TO STDOUT') as copy:
                for block in copy:
                    out.write(block)
    with psycopg.connect(f"{PG}/{floor}") as db:
        started = time.monotonic()
        keys = db.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                          "FROM pg_constraint WHERE contype = 'f'").fetchall()
        for table, name, _ in keys:
            db.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for table in tables:
            db.execute(f'DELETE FROM "{table}"')
            with (dumps / table).open("rb") as data, db.cursor().copy(
                    f'COPY "{table}" FROM STDIN') as copy:
                while block := data.read(1 << 20):
                    copy.write(block)
        db.commit()
        for table, name, definition in keys:
            db.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        db.commit()
        seconds = time.monotonic() - started
    shutil.rmtree(dumps, ignore_errors=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg-prefix", default="tribune_backup_bench")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--sqlite-only", action="store_true",
                        help="stop after the SQLite backup and restore")
    args = parser.parse_args()
    size = "quick" if args.quick else "full"
    root = DATA / f"backup-{size}"
    root.mkdir(parents=True, exist_ok=True)
    source = root / "source"
    if not (source / "generated").exists():
        shutil.rmtree(source, ignore_errors=True)
        done = subprocess.run([sys.executable, str(HERE / "generate.py"),
                               *map(str, SIZES[size])], env=env_for(source), text=True)
        if done.returncode:
            raise SystemExit("generation failed")
        (source / "generated").write_text(json.dumps(SIZES[size]))
    passphrase = root / "passphrase"
    passphrase.write_text("bench passphrase, not a secret\n")
    results: dict = {"size": size, "counts": dict(zip(
        ("accounts", "statuses", "follows", "favourites"), SIZES[size], strict=True)),
        "machine": f"{os.cpu_count()} CPUs, {platform.python_version()}, "
                   f"SQLite {sqlite3.sqlite_version}", "when": time.strftime("%Y-%m-%d")}

    def record(name: str, seconds: float, memory_kib: int = 0, floor: float | None = None,
               **extra) -> None:
        results[name] = {"seconds": round(seconds, 1), "peak_mib": round(memory_kib / 1024),
                         "floor_seconds": None if floor is None else round(floor, 1),
                         "ratio": None if not floor else round(seconds / floor, 2), **extra}
        ratio = f"  {seconds / floor:.2f}x the floor ({floor:.1f} s)" if floor else ""
        print(f"{name:<18} {seconds:7.1f} s  {memory_kib / 1024:6.0f} MiB{ratio}", flush=True)

    tribune("migrate", env=env_for(source))  # a reused instance may predate a migration
    archive = root / "sqlite.tar.gz"
    archive.unlink(missing_ok=True)
    seconds, memory, _ = tribune("backup", str(archive), "--passphrase-file", str(passphrase),
                                 "--quiet", env=env_for(source))
    with (root / "dump.sql").open("w") as out:
        floor, _, _ = timed(["sqlite3", str(source / "tribune.sqlite3"), ".dump"], stdout=out)
    (root / "dump.sql").unlink()
    record("backup sqlite", seconds, memory, floor, archive_bytes=archive.stat().st_size)

    target = root / "sqlite-target"
    shutil.rmtree(target, ignore_errors=True)
    seconds, memory, out = tribune("restore", str(archive), "--passphrase-file",
                                   str(passphrase), env=env_for(target))
    record("restore sqlite", seconds, memory, sqlite_floor(source / "tribune.sqlite3", root),
           output=out.strip())
    shutil.rmtree(target, ignore_errors=True)
    if args.sqlite_only:
        (root / "results.json").write_text(json.dumps(results, indent=1))
        return

    restored, floor_db = f"{args.pg_prefix}_target", f"{args.pg_prefix}_floor"
    for name in (restored, floor_db):
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{name}"')
    pg_dir = root / "pg-target"
    shutil.rmtree(pg_dir, ignore_errors=True)
    seconds, memory, out = tribune("restore", str(archive), "--passphrase-file",
                                   str(passphrase), env=env_for(pg_dir, restored))
    record("restore postgres", seconds, memory, postgres_floor(restored, floor_db, root),
           output=out.strip())

    pg_archive = root / "postgres.tar.gz"
    pg_archive.unlink(missing_ok=True)
    seconds, memory, _ = tribune("backup", str(pg_archive), "--passphrase-file",
                                 str(passphrase), "--quiet", env=env_for(pg_dir, restored))
    floor, _, _ = timed(["pg_dump", "-Fc", "-Z1", "--data-only", "-f", str(root / "pg.dump"),
                         f"{PG}/{restored}"])
    (root / "pg.dump").unlink()
    record("backup postgres", seconds, memory, floor, archive_bytes=pg_archive.stat().st_size)

    if not args.keep:
        for name in (restored, floor_db):
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(pg_dir, ignore_errors=True)
        shutil.rmtree(root / "pg-floor", ignore_errors=True)
    (root / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
