"""An archive whose rows were changed and whose checksums were then made to match
again: ``tribune backup --verify`` and the restore's first pass refuse the rows a
database would refuse (wrong kind, NULL where the column forbids it, a reference
to a row the archive lacks, a repeated primary key), and a media file the rows
name must be in the archive. What only the database can see (a CHECK constraint)
fails the restore in one line, and the restore removes what it wrote."""

from __future__ import annotations

import json
import sqlite3
import tarfile

import pytest

from tests.portability.archives import header_of, resealed, rows_changed, set_value
from tests.portability.conftest import Target
from tribune.portability.backup_archive import ArchiveRefused
from tribune.portability.backup_verify import archive_verify

# The instances are its own (SQLite, or PostgreSQL databases it makes), whatever
# the run's database: CI runs it once.
pytestmark = pytest.mark.own_instances


def _rows(path, table: str) -> list[dict]:
    columns = header_of(path)["tables"][table]["columns"]
    with tarfile.open(path) as tar:
        return [dict(zip(columns, json.loads(line), strict=True))
                for member in tar if member.name.startswith(f"tables/{table}/")
                for line in tar.extractfile(member).read().splitlines()]


def _one_error(done) -> str:
    lines = [line for line in done.stderr.splitlines() if ":  " not in line]
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def _refused_both_ways(bad, passphrase_file, tmp_path) -> str:
    """The one line ``backup --verify`` and ``restore`` both give for ``bad``;
    the restore's target is left untouched."""
    target = Target(tmp_path / "target")
    verify = _one_error(target.tribune("backup", "--verify", str(bad), "--quiet"))
    restore = _one_error(target.tribune("restore", str(bad), "--passphrase-file",
                                        str(passphrase_file), "--quiet"))
    assert verify.removeprefix("tribune backup: error: ") == restore.removeprefix(
        "tribune restore: error: ")
    assert target.untouched()
    return restore.removeprefix("tribune restore: error: ")


def _refused(bad) -> str:
    """What verifying ``bad`` says (``backup --verify`` and the restore's first
    pass run this very function)."""
    with pytest.raises(ArchiveRefused) as refused:
        archive_verify(path=bad)
    return str(refused.value)


REFUSED = "The archive holds a row that a database would refuse: "


def test_a_value_of_the_wrong_kind(plain_archive, passphrase_file, tmp_path):
    status = _rows(plain_archive, "statuses_status")[0]
    bad = tmp_path / "bad.tar"
    resealed(plain_archive, bad,
             set_value(plain_archive, "statuses_status", "created_at", "yesterday"))
    assert _refused_both_ways(bad, passphrase_file, tmp_path) == (
        f"{REFUSED}statuses_status row id {status['id']}: created_at 'yesterday' is not a "
        f"datetime with its offset.")


def test_null_in_a_column_that_forbids_it(plain_archive, tmp_path):
    status = _rows(plain_archive, "statuses_status")[0]
    bad = tmp_path / "bad.tar"
    resealed(plain_archive, bad,
             set_value(plain_archive, "statuses_status", "account_id", None))
    assert _refused(bad) == (
        f"{REFUSED}statuses_status row id {status['id']}: account_id is null, which the "
        f"column does not allow.")


def test_a_reference_to_a_table_read_before(plain_archive, tmp_path):
    """accounts_account comes before graph_follow: checked as the row is read."""
    follow = _rows(plain_archive, "graph_follow")[0]
    accounts = {a["id"] for a in _rows(plain_archive, "accounts_account")}
    assert 42 not in accounts
    bad = tmp_path / "bad.tar"
    resealed(plain_archive, bad, set_value(plain_archive, "graph_follow", "target_id", 42))
    assert _refused(bad) == (
        f"{REFUSED}graph_follow row id {follow['id']}: target_id names accounts_account "
        f"row 42, which the archive does not hold.")


def test_a_reference_to_a_table_read_after(plain_archive, tmp_path):
    """statuses_status comes after statuses_favourite: checked once it is read."""
    bad = tmp_path / "bad.tar"
    resealed(plain_archive, bad,
             set_value(plain_archive, "statuses_favourite", "status_id", 42))
    assert _refused(bad) == (
        f"{REFUSED}statuses_favourite.status_id names statuses_status row 42, which the "
        f"archive does not hold.")


def test_a_repeated_primary_key(plain_archive, tmp_path):
    tag = _rows(plain_archive, "statuses_tag")[0]
    bad = tmp_path / "bad.tar"
    resealed(plain_archive, bad,
             rows_changed(plain_archive, "statuses_tag", lambda columns, rows: [rows[0], *rows]))
    assert _refused(bad) == (
        f"{REFUSED}statuses_tag row id {tag['id']} comes after id {tag['id']}: the primary "
        f"keys repeat or are out of order.")


def test_text_longer_than_its_column(plain_archive, tmp_path):
    """SQLite would take it; PostgreSQL's varchar(30) would not, so no archive may
    hold it."""
    account = _rows(plain_archive, "accounts_account")[0]
    bad = tmp_path / "bad.tar"
    resealed(plain_archive, bad,
             set_value(plain_archive, "accounts_account", "username", "x" * 31))
    assert _refused(bad) == (
        f"{REFUSED}accounts_account row id {account['id']}: username is 31 characters "
        f"long, more than its 30.")


def _first_media_name(path) -> str:
    with tarfile.open(path) as tar:
        return next(m.name for m in tar if m.name.startswith("media/"))


def test_a_media_file_missing_from_the_archive(plain_archive, tmp_path):
    """Left out and its manifest entry with it: the rows still name the file."""
    media = _first_media_name(plain_archive)
    bad = tmp_path / "bad.tar"
    resealed(plain_archive, bad, lambda name, data: None if name == media else data)
    assert _refused(bad) == (
        f"The archive is incomplete: the media file {media.removeprefix('media/')} is "
        f"missing from it.")


def test_a_media_file_missing_but_listed_in_the_manifest(plain_archive, tmp_path):
    media = _first_media_name(plain_archive)
    bad = tmp_path / "bad.tar"
    with tarfile.open(plain_archive) as old, tarfile.open(bad, "w") as new:
        for info in old:
            if info.name != media:
                new.addfile(info, old.extractfile(info))
    assert _refused(bad) == (
        f"The archive is incomplete: the media file {media.removeprefix('media/')} is "
        f"missing from it.")


def _swap_columns(manifest: dict) -> None:
    """The manifest's statuses_status with two text columns swapped: its rows
    would be loaded by these columns, checked by the header's."""
    columns = manifest["tables"]["statuses_status"]["columns"]
    a, b = columns.index("text"), columns.index("uri")
    columns[a], columns[b] = columns[b], columns[a]


@pytest.mark.parametrize("change", [
    lambda manifest: manifest.update(backup_id="another"), _swap_columns])
def test_a_manifest_of_another_backup(plain_archive, tmp_path, change):
    bad = tmp_path / "bad.tar"
    resealed(plain_archive, bad, lambda name, data: data, change)
    assert _refused(bad) == (
        "The archive is damaged or truncated: the manifest belongs to another backup than "
        "its header.")


def _self_follow(columns, rows):
    account, target = columns.index("account_id"), columns.index("target_id")
    rows[0][target] = rows[0][account]
    return rows


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "sqlite, migrated"])
def test_rows_only_the_database_refuses_leave_the_target_as_it_was(
        database, plain_archive, passphrase_file, tmp_path, request):
    """A follow of oneself breaks a CHECK constraint, which verification does not
    evaluate: the load fails half-way, and the restore removes what it wrote."""
    bad = tmp_path / "bad.tar"
    resealed(plain_archive, bad, rows_changed(plain_archive, "graph_follow", _self_follow))
    url = request.getfixturevalue("postgres_server")() if database == "postgresql" else None
    target = Target(tmp_path / "target", database_url=url)
    if database == "sqlite, migrated":
        assert target.tribune("migrate").returncode == 0
    assert archive_verify(path=bad).total_rows > 0  # the checks before loading pass
    done = target.tribune("restore", str(bad), "--passphrase-file", str(passphrase_file),
                          "--quiet")
    line = _one_error(done)
    assert line.startswith("tribune restore: error: The database refused the rows of "
                           "tables/graph_follow/000000.jsonl: ")
    assert "follow_not_self" in line
    assert line.endswith("The restore removed what it had written; the target is as it was.")
    if database != "sqlite, migrated":
        assert target.untouched()
        # Not even an empty media folder: the data directory is gone, as it was.
        assert not target.data_dir.exists()
        return
    # An instance migrated before is again an empty migrated instance, and no
    # journal holds the other commands back.
    assert not list((target.data_dir / "media").rglob("*.*"))
    with sqlite3.connect(target.sqlite) as db:
        assert not db.execute("SELECT name FROM sqlite_master "
                              "WHERE name LIKE 'tribune_restore%'").fetchall()
        assert db.execute("SELECT count(*) FROM graph_follow").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM django_content_type").fetchone()[0] > 0
    made = target.tribune("createuser", "erin", "--email", "erin@example.test",
                          "--password", "a-long-test-passphrase")
    assert made.returncode == 0, made.stderr
