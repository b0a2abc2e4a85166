"""Instance backup and restore through the ``tribune`` command, on real data
directories and real PostgreSQL databases: round trips that compare every row of
every table and every media file (SQLite to SQLite, SQLite to PostgreSQL,
PostgreSQL to SQLite), and a restore killed half-way and run again."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time

import pytest

from tests.portability.conftest import Target, copy_instance

# The instances are its own (SQLite, or PostgreSQL databases it makes), whatever
# the run's database: CI runs it once.
pytestmark = pytest.mark.own_instances


@pytest.fixture(scope="module")
def archive(seeded, passphrase_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("archive") / "instance.tar.gz"
    done = seeded.tribune("backup", str(path), "--passphrase-file", str(passphrase_file))
    assert done.returncode == 0, done.stderr
    assert "Backed up" in done.stdout and "5 media files" in done.stdout, done.stdout
    return path


@pytest.fixture(scope="module")
def seeded_dump(seeded):
    dump = seeded.dump()
    assert len(dump["files"]) == 5 and dump["tables"]["statuses_status"]
    return dump


def _restore(target: Target, archive, passphrase_file, *extra: str):
    done = target.tribune("restore", str(archive), "--passphrase-file", str(passphrase_file),
                          *extra)
    assert done.returncode == 0, done.stderr
    return done


def test_sqlite_round_trip_is_identical(seeded, seeded_dump, archive, passphrase_file,
                                        tmp_path):
    verified = seeded.tribune("backup", "--verify", str(archive),
                              "--passphrase-file", str(passphrase_file))
    assert verified.returncode == 0, verified.stderr
    assert "is intact" in verified.stdout and "secrets open" in verified.stdout

    target = Target(tmp_path / "restored")
    done = _restore(target, archive, passphrase_file)
    assert "Counters corrected: 0; home feeds rebuilt: 4." in done.stdout
    restored = target.dump()
    assert restored["tables"] == seeded_dump["tables"]
    assert restored["files"] == seeded_dump["files"]
    assert (target.data_dir / "secret_key").read_text() == (
        seeded.data_dir / "secret_key").read_text()
    # Derived state: the active account's home feed was rebuilt; no journal is left.
    assert restored["skipped"]["timelines_feedentry"] > 0
    with sqlite3.connect(target.sqlite) as db:
        assert not db.execute("SELECT name FROM sqlite_master "
                              "WHERE name LIKE 'tribune_restore%'").fetchall()
    # The moderation log's hash chain survived byte for byte, and the instance takes
    # new rows.
    assert target.tribune("moderation", "verify-log").returncode == 0
    assert target.tribune("token", "alice").returncode == 0


def test_sqlite_to_postgres_and_back(seeded_dump, archive, passphrase_file, tmp_path,
                                     postgres_server):
    on_postgres = Target(tmp_path / "pg", database_url=postgres_server())
    _restore(on_postgres, archive, passphrase_file, "--quiet")
    restored = on_postgres.dump()
    assert restored["tables"] == seeded_dump["tables"]
    assert restored["files"] == seeded_dump["files"]
    # Sequences were reset: new rows get new ids.
    made = on_postgres.tribune("token", "bob")
    assert made.returncode == 0, made.stderr
    expected = on_postgres.dump()

    second = tmp_path / "from-postgres.tar"
    done = on_postgres.tribune("backup", str(second), "--compress", "none",
                               "--passphrase-file", str(passphrase_file), "--quiet")
    assert done.returncode == 0, done.stderr
    on_sqlite = Target(tmp_path / "sqlite")
    _restore(on_sqlite, second, passphrase_file, "--quiet")
    back = on_sqlite.dump()
    assert back["tables"] == expected["tables"]
    assert back["files"] == expected["files"]


def _killed_half_way(target: Target, archive, passphrase_file, done_query) -> None:
    """Start a restore and SIGKILL it once it has committed some chunks but not
    all; asserts it was indeed killed half-way."""
    process = target.popen("restore", str(archive), "--passphrase-file",
                           str(passphrase_file), "--quiet")
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if done_query() >= 40:
                    break
            except Exception:  # the journal is not there yet
                pass
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read()
    assert done_query() >= 40


def _sqlite_done(target: Target):
    def count() -> int:
        with sqlite3.connect(target.sqlite) as db:
            return db.execute("SELECT count(*) FROM tribune_restore_done").fetchone()[0]
    return count


def _postgres_done(target: Target):
    from tests.instances import _connect

    def count() -> int:
        with _connect(target.database_url) as db:
            return db.execute("SELECT count(*) FROM tribune_restore_done").fetchone()[0]
    return count


@pytest.fixture(scope="module")
def small_chunks(seeded, passphrase_file, tmp_path_factory):
    """The seeded instance with one row per chunk, so a restore commits hundreds of
    times."""
    path = tmp_path_factory.mktemp("archive") / "small-chunks.tar"
    done = seeded.tribune("backup", str(path), "--passphrase-file", str(passphrase_file),
                          "--compress", "none", "--chunk-bytes", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_restore_killed_half_way_resumes_and_ends_identical(
        database, seeded_dump, small_chunks, passphrase_file, tmp_path, request):
    if database == "sqlite":
        target = Target(tmp_path / "restored")
        done = _sqlite_done(target)
    else:
        target = Target(tmp_path / "restored",
                        database_url=request.getfixturevalue("postgres_server")())
        done = _postgres_done(target)
    _killed_half_way(target, small_chunks, passphrase_file, done)
    again = _restore(target, small_chunks, passphrase_file)
    assert "Resumed the interrupted restore." in again.stdout
    restored = target.dump()
    assert restored["tables"] == seeded_dump["tables"]
    assert restored["files"] == seeded_dump["files"]


def test_a_backup_taken_while_writes_go_on_is_one_snapshot(seeded, passphrase_file,
                                                           tmp_path):
    """Posts are written while the backup runs; in the archive, the author's
    counter agrees with the author's rows (a torn copy would have posts without
    their counter or a counter without its posts)."""
    source = copy_instance(seeded, tmp_path / "busy")
    code = ("import django; django.setup()\n"
            "from tribune.accounts.models import Account\n"
            "from tribune.statuses.services import status_create\n"
            "bob = Account.objects.get(username='bob')\n"
            "for n in range(100000): status_create(account=bob, text=f'busy {n}')\n")
    writer = subprocess.Popen([sys.executable, "-c", code], env=source.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _count(source, "SELECT count(*) FROM statuses_status WHERE text LIKE 'busy%'") < 5:
            assert writer.poll() is None and time.monotonic() < deadline, writer.stderr.read()
            time.sleep(0.05)
        path = tmp_path / "busy.tar"
        done = source.tribune("backup", str(path), "--passphrase-file", str(passphrase_file),
                              "--compress", "none", "--chunk-bytes", "300", "--quiet")
        assert writer.poll() is None, writer.stderr.read()
        written = _count(source, "SELECT count(*) FROM statuses_status WHERE text LIKE 'busy%'")
    finally:
        writer.kill()
        writer.wait()
    assert done.returncode == 0, done.stderr
    rows = _archived_rows(path)
    bob = next(r for r in rows["accounts_account"] if r["username"] == "bob")
    archived = [r for r in rows["statuses_status"] if r["account_id"] == bob["id"]]
    busy = [r for r in archived if r["text"].startswith("busy")]
    assert 5 <= len(busy) < written  # the snapshot was taken while posts went on
    assert bob["statuses_count"] == len(archived)


def _count(target: Target, sql: str) -> int:
    with sqlite3.connect(target.sqlite) as db:
        return db.execute(sql).fetchone()[0]


def _archived_rows(path) -> dict[str, list[dict]]:
    """The rows of an archive's tables, as dicts, read straight from the tar."""
    rows: dict[str, list[dict]] = {}
    with tarfile.open(path) as tar:
        header = json.load(tar.extractfile("tribune-backup.json"))
        for member in tar:
            if member.name.startswith("tables/"):
                table = member.name.split("/")[1]
                columns = header["tables"][table]["columns"]
                for line in tar.extractfile(member).read().splitlines():
                    rows.setdefault(table, []).append(dict(zip(columns, json.loads(line),
                                                               strict=True)))
    return rows


def test_sessions_stay_out_and_the_archive_is_for_its_owner_only(seeded, passphrase_file,
                                                                 tmp_path):
    source = copy_instance(seeded, tmp_path / "source")
    with sqlite3.connect(source.sqlite) as db:  # someone signed in on the web
        db.execute("INSERT INTO django_session (session_key, session_data, expire_date) "
                   "VALUES ('a-signed-in-session-key', 'data', '2099-01-01 00:00:00')")
    path = tmp_path / "instance.tar.gz"
    done = source.tribune("backup", str(path), "--passphrase-file", str(passphrase_file))
    assert done.returncode == 0, done.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    with tarfile.open(path) as tar:
        names = tar.getnames()
        assert not [n for n in names if "django_session" in n]
        assert all(b"a-signed-in-session-key" not in tar.extractfile(m).read()
                   for m in tar.getmembers() if m.isfile())


def test_rows_naming_several_files_each_come_back(seeded, passphrase_file, tmp_path):
    """Two media rows, each with a file and a thumbnail, in one chunk: the backup
    copies the files row by row, and the verification expects them in that order
    (it once expected them column by column, and refused such an archive)."""
    source = copy_instance(seeded, tmp_path / "source")
    media = source.data_dir / "media"
    with sqlite3.connect(source.sqlite) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(media_mediaattachment)")]
        row = dict(zip(columns, db.execute("SELECT * FROM media_mediaattachment").fetchone(),
                       strict=True))
        for column in ("file", "thumbnail"):
            copy = row[column].replace(".", "-second.", 1)
            (media / copy).write_bytes((media / row[column]).read_bytes())
            row[column] = copy
        row["id"] += 1
        db.execute(f"INSERT INTO media_mediaattachment ({', '.join(columns)}) "
                   f"VALUES ({', '.join('?' * len(columns))})", list(row.values()))
    expected = source.dump()
    assert len(expected["files"]) == 7

    archive = tmp_path / "instance.tar"
    done = source.tribune("backup", str(archive), "--passphrase-file", str(passphrase_file),
                          "--compress", "none", "--quiet")
    assert done.returncode == 0, done.stderr
    verified = source.tribune("backup", "--verify", str(archive), "--quiet")
    assert verified.returncode == 0, verified.stderr
    target = Target(tmp_path / "restored")
    _restore(target, archive, passphrase_file, "--quiet")
    restored = target.dump()
    assert restored["tables"] == expected["tables"]
    assert restored["files"] == expected["files"]
