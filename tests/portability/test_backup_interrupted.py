"""Ctrl-C during a restore or a backup, and what a half-finished restore means for
the other commands: each refuses in one line until the restore is run again."""

from __future__ import annotations

import shlex
import signal
import sqlite3
import tarfile
import time

import pytest

from tests.portability.conftest import Target, copy_instance

# The instances are its own (SQLite, or PostgreSQL databases it makes), whatever
# the run's database: CI runs it once.
pytestmark = pytest.mark.own_instances


@pytest.fixture(scope="module")
def bulky(seeded, tmp_path_factory) -> Target:
    """The seeded instance with 60,000 more hashtags, so that a backup or a
    restore takes seconds."""
    source = copy_instance(seeded, tmp_path_factory.mktemp("bulky") / "data")
    with sqlite3.connect(source.sqlite) as db:
        db.execute("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
            INSERT INTO statuses_tag (name, display_name, created_at)
            SELECT 'bulk' || i, 'Bulk' || i, '2025-01-31 12:00:00' FROM n""")
    return source


@pytest.fixture(scope="module")
def small_chunks(bulky, passphrase_file, tmp_path_factory):
    """``bulky`` in chunks of 4 KB, so a restore commits thousands of times."""
    path = tmp_path_factory.mktemp("archive") / "small-chunks.tar"
    done = bulky.tribune("backup", str(path), "--passphrase-file", str(passphrase_file),
                         "--compress", "none", "--chunk-bytes", "4096", "--quiet")
    assert done.returncode == 0, done.stderr
    return path


def _loaded(target: Target) -> int:
    try:
        with sqlite3.connect(target.sqlite) as db:
            return db.execute("SELECT count(*) FROM tribune_restore_done").fetchone()[0]
    except sqlite3.Error:  # no journal yet
        return 0


def _members(path) -> list[str]:
    with tarfile.open(path) as tar:
        return tar.getnames()


def _phases(stderr: str) -> set[str]:
    """The phases the progress lines name (``verify:  ...``)."""
    return {line.split(":", 1)[0] for line in stderr.splitlines() if ":  " in line}


def test_ctrl_c_stops_a_restore_that_blocks_the_other_commands_until_resumed(
        seeded, bulky, small_chunks, passphrase_file, tmp_path):
    target = Target(tmp_path / "restored")
    process = target.popen("restore", str(small_chunks), "--passphrase-file",
                           str(passphrase_file))
    try:
        seen = ""
        while not seen.startswith("restore:"):  # the rows are being loaded
            seen = process.stderr.readline()
            assert seen, process.communicate()
        deadline = time.monotonic() + 120
        while _loaded(target) < 40:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.005)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    archive = shlex.quote(str(small_chunks.resolve()))
    lines = [line for line in err.splitlines() if ":  " not in line]
    # The command to run again is the one that was run, passphrase file included.
    assert lines == [f"tribune restore: interrupted; run `tribune restore {small_chunks} "
                     f"--passphrase-file {passphrase_file}` again to finish it (it resumes "
                     f"where it stopped)"]
    assert 40 <= _loaded(target) < len(_members(small_chunks))

    unfinished = (f"a restore of {small_chunks.resolve()} is unfinished: run "
                  f"`tribune restore {archive}` again to finish it")
    commands = {
        "serve": ["serve", "--port", "1"], "demo": ["demo", "--port", "1"],
        "worker": ["worker"], "migrate": ["migrate"],
        "createuser": ["createuser", "erin", "--email", "erin@example.test",
                       "--password", "a-long-test-passphrase"],
        "import": ["import", "alice", "blocks", str(tmp_path / "blocks.csv")],
        "export": ["export", "alice", "--output", str(tmp_path / "alice.zip")],
        "backup": ["backup", str(tmp_path / "again.tar"), "--passphrase-file",
                   str(passphrase_file)],
        "token": ["token", "alice"],
    }
    running = {name: target.popen(*argv) for name, argv in commands.items()}
    for name, process in running.items():
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 1, (name, err)
        assert err.strip() == f"tribune {name}: error: {unfinished}", err
    assert not (tmp_path / "again.tar").exists()
    # Checking an archive does not touch the database; another archive is refused.
    assert target.tribune("backup", "--verify", str(small_chunks), "--quiet").returncode == 0
    plain = tmp_path / "other.tar"
    assert seeded.tribune("backup", str(plain), "--passphrase-file", str(passphrase_file),
                          "--compress", "none", "--quiet").returncode == 0
    other = target.tribune("restore", str(plain), "--passphrase-file", str(passphrase_file),
                           "--quiet")
    assert other.returncode == 1
    assert other.stderr.strip() == (
        f"tribune restore: error: This database holds an unfinished restore of another "
        f"archive ({small_chunks.resolve()}); run `tribune restore "
        f"{small_chunks.resolve()}` again to finish it, or restore into a new, empty "
        f"database.")

    again = target.tribune("restore", str(small_chunks), "--passphrase-file",
                           str(passphrase_file))
    assert again.returncode == 0, again.stderr
    assert "Resumed the interrupted restore." in again.stdout
    # Each phase showed its progress (the migrations ran before the interruption).
    assert _phases(again.stderr) == {"verify", "restore", "finish", "rebuild"}
    assert target.dump()["tables"] == bulky.dump()["tables"]
    assert target.tribune("migrate").returncode == 0


def test_ctrl_c_during_a_backup_removes_the_unfinished_archive(bulky, passphrase_file,
                                                               tmp_path):
    path = tmp_path / "instance.tar"
    process = bulky.popen("backup", str(path), "--passphrase-file", str(passphrase_file),
                           "--chunk-bytes", "1")
    try:
        first = process.stderr.readline()  # the backup has begun writing
        assert first.startswith("backup:"), first
        time.sleep(0.5)
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    lines = [line for line in err.splitlines() if ":  " not in line]
    assert lines == [f"tribune backup: interrupted; the unfinished archive was removed "
                     f"(nothing was written to {path})"]
    assert list(tmp_path.iterdir()) == []
