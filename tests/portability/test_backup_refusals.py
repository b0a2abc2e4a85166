"""A damaged, truncated, incomplete or too new archive, a wrong passphrase and a
target that is not empty are each refused with one line on stderr, before the
target is touched."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sqlite3
import subprocess
import tarfile

import pytest

from tests.portability.conftest import TRIBUNE, Target, copy_instance

# The instances are its own (SQLite, or PostgreSQL databases it makes), whatever
# the run's database: CI runs it once.
pytestmark = pytest.mark.own_instances


def _rewrite(source, target, change) -> None:
    """Copy the tar ``source`` to ``target`` member by member through ``change(info,
    data)``, which returns the new data or None to leave the member out."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for info in old:
            data = change(info, old.extractfile(info).read())
            if data is not None:
                info.size = len(data)
                new.addfile(info, io.BytesIO(data))


def _flip_in_statuses(source, target) -> None:
    with tarfile.open(source) as tar:
        member = next(m for m in tar if m.name.startswith("tables/statuses_status/"))
    data = bytearray(source.read_bytes())
    data[member.offset_data + member.size // 2] ^= 0x01
    target.write_bytes(bytes(data))


def _flip_gzip(source, target) -> None:
    data = bytearray(gzip.compress(source.read_bytes(), compresslevel=1))
    data[len(data) // 2] ^= 0x40
    target.write_bytes(bytes(data))


def _cut_gzip_trailer(source, target) -> None:
    """Every member whole; only the gzip stream's end (its checksum and length,
    and the tar's closing blocks) cut off."""
    target.write_bytes(gzip.compress(source.read_bytes(), compresslevel=1)[:-30])


def _truncate(source, target) -> None:
    target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])


def _drop_member(source, target) -> None:
    _rewrite(source, target, lambda info, data: None
             if info.name.startswith("tables/graph_follow/") else data)


def _with_format(number: int, version: str):
    """The archive as if written in backup format ``number`` by Tribune
    ``version``: header and manifest changed alike, the manifest re-checksummed."""
    def damage(source, target) -> None:
        def change(info, data):
            if info.name in ("tribune-backup.json", "manifest.json"):
                document = json.loads(data)
                document["format"] = number
                document["tribune_version"] = version
                return json.dumps(document).encode()
            return data
        _rewrite(source, target, _resummed(change))
    return damage


def _resummed(change):
    """``change``, followed by a new ``manifest.sha256`` for the manifest it wrote."""
    written = {}

    def resum(info, data):
        data = change(info, data)
        if info.name == "manifest.json":
            written["sum"] = hashlib.sha256(data).hexdigest()
        if info.name == "manifest.sha256":
            return f"{written['sum']}\n".encode()
        return data
    return resum


def _with_migrations(app: str, *names: str):
    """The archive as if its instance had also applied ``app``'s migrations
    ``names``: header and manifest changed alike, the manifest re-checksummed."""
    def change(source, target) -> None:
        header = {}

        def edit(info, data):
            if info.name in ("tribune-backup.json", "manifest.json"):
                document = json.loads(data)
                document["migrations"].setdefault(app, []).extend(names)
                if info.name == "manifest.json":  # the header's new size and sum
                    entry = next(m for m in document["members"]
                                 if m["name"] == "tribune-backup.json")
                    entry.update(header)
                data = json.dumps(document).encode()
                if info.name == "tribune-backup.json":
                    header.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
            return data
        _rewrite(source, target, _resummed(edit))
    return change


_newer_format = _with_format(99, "9.0.0")
# Format 1 is the first this Tribune writes and the oldest it reads: nothing ever
# wrote format 0.
_older_format = _with_format(0, "0.1.0")


@pytest.mark.parametrize("damage, words", [
    (_flip_in_statuses, "does not match its checksum"),
    (_flip_gzip, "damaged or truncated"),
    (_truncate, "damaged or truncated"),
    (_cut_gzip_trailer, "damaged or truncated"),
    (_drop_member, "member 'tables/graph_follow/000000.jsonl' is missing"),
    (_newer_format, "backup format 99 (Tribune 9.0.0), newer than this Tribune reads"),
    (_older_format, "backup format 0, older than any this Tribune reads (formats 1 to 1)"),
])
def test_a_bad_archive_is_refused_and_nothing_is_touched(
        damage, words, plain_archive, passphrase_file, tmp_path):
    bad = tmp_path / "bad.tar"
    damage(plain_archive, bad)
    target = Target(tmp_path / "target")
    # --verify reads the archive as the restore's first pass does; both are asked
    # where the damage is in the container itself.
    commands = [["restore"]]
    if damage in (_flip_in_statuses, _truncate, _cut_gzip_trailer, _older_format):
        commands.insert(0, ["backup", "--verify"])
    for command in commands:
        done = target.tribune(*command, str(bad), "--passphrase-file", str(passphrase_file))
        assert done.returncode == 1, done.stdout
        lines = [line for line in done.stderr.splitlines() if not line.startswith(
            ("verify:", "restore:"))]
        assert len(lines) == 1 and words in lines[0], done.stderr
        assert lines[0].startswith(f"tribune {command[0]}: error: ")
    assert target.untouched()


def test_a_bad_archive_leaves_a_postgresql_target_untouched(
        plain_archive, passphrase_file, tmp_path, postgres_server):
    """The PostgreSQL target is migrated while the archive is verified; a damage
    found late in the verification takes the migration away again."""
    bad = tmp_path / "bad.tar"
    _flip_in_statuses(plain_archive, bad)
    target = Target(tmp_path / "target", database_url=postgres_server())
    done = target.tribune("restore", str(bad), "--passphrase-file", str(passphrase_file),
                          "--quiet")
    assert done.returncode == 1
    assert "does not match its checksum" in done.stderr
    assert target.untouched()


def test_an_archive_from_a_newer_tribune_is_intact_but_not_restored(
        plain_archive, passphrase_file, tmp_path):
    newer = tmp_path / "newer.tar"
    _with_migrations("statuses", "9999_from_the_future")(plain_archive, newer)
    target = Target(tmp_path / "target")
    checked = target.tribune("backup", "--verify", str(newer), "--quiet")
    assert checked.returncode == 1
    assert "is intact" in checked.stdout
    refused = target.tribune("restore", str(newer), "--passphrase-file", str(passphrase_file),
                             "--quiet")
    assert refused.returncode == 1
    message = ("The archive comes from a newer Tribune: this one lacks its migrations "
               "statuses.9999_from_the_future; upgrade Tribune first.")
    assert checked.stderr.strip() == message
    assert refused.stderr.strip() == f"tribune restore: error: {message}"
    assert target.untouched()


def test_an_archive_from_an_instance_with_redis_restores_where_there_is_none(
        plain_archive, passphrase_file, tmp_path):
    """With Redis, Tribune also installs django_rq, whose migrations make no
    table; an instance without Redis has not got them, and needs none."""
    archive = tmp_path / "from-redis.tar"
    _with_migrations("django_rq", "0001_initial", "0002_delete_queue_create_dashboard",
                     "0003_alter_dashboard_permission_names")(plain_archive, archive)
    target = Target(tmp_path / "target")
    assert target.tribune("backup", "--verify", str(archive), "--quiet").returncode == 0
    done = target.tribune("restore", str(archive), "--passphrase-file", str(passphrase_file),
                          "--quiet")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(target.sqlite) as db:
        assert db.execute("SELECT count(*) FROM accounts_account").fetchone()[0] > 0
        assert db.execute("SELECT count(*) FROM django_migrations WHERE app = 'django_rq'"
                          ).fetchone() == (0,)


def test_a_wrong_passphrase_is_refused(plain_archive, tmp_path):
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    target = Target(tmp_path / "target")
    done = target.tribune("restore", str(plain_archive), "--passphrase-file", str(wrong),
                          "--quiet")
    assert done.returncode == 1
    assert done.stderr.strip() == ("tribune restore: error: The passphrase is wrong, or the "
                                   "archive's secrets are damaged.")
    assert target.untouched()
    # Not even a data directory, a secret key or a static folder is left behind.
    assert not target.data_dir.exists()


def test_checking_an_archive_leaves_the_data_directory_as_it_was(plain_archive, tmp_path):
    fresh = Target(tmp_path / "new" / "data")
    assert fresh.tribune("backup", "--verify", str(plain_archive), "--quiet").returncode == 0
    assert list(tmp_path.iterdir()) == []
    empty = Target(tmp_path / "empty")
    empty.data_dir.mkdir()
    assert empty.tribune("backup", "--verify", str(plain_archive), "--quiet").returncode == 0
    assert list(empty.data_dir.iterdir()) == []


def test_a_backup_of_an_unused_data_directory_says_so_and_leaves_nothing(
        passphrase_file, tmp_path):
    unused = Target(tmp_path / "never" / "used")
    done = unused.tribune("backup", str(tmp_path / "instance.tar"), "--passphrase-file",
                          str(passphrase_file))
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert "migrations to apply" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_target_that_is_not_empty_is_refused(seeded, plain_archive, passphrase_file,
                                               tmp_path):
    target = copy_instance(seeded, tmp_path / "busy")
    before = _fingerprint(target)
    done = target.tribune("restore", str(plain_archive), "--passphrase-file",
                          str(passphrase_file), "--quiet")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "tribune restore: error: The target instance is not empty (it has users or "
        "accounts); restore into a new, empty instance.")
    assert _fingerprint(target) == before


def _fingerprint(target: Target) -> dict[str, int]:
    """Every table's row count and the schema's version."""
    with sqlite3.connect(target.sqlite) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        counts["schema"] = db.execute("PRAGMA schema_version").fetchone()[0]
    return counts


def test_a_backup_never_overwrites_a_file(seeded, plain_archive, passphrase_file):
    size = plain_archive.stat().st_size
    done = seeded.tribune("backup", str(plain_archive), "--passphrase-file",
                          str(passphrase_file))
    assert done.returncode == 1
    assert "exists already" in done.stderr
    assert plain_archive.stat().st_size == size


def test_a_backup_into_a_missing_folder_says_so_in_one_line(seeded, passphrase_file, tmp_path):
    target = tmp_path / "no-such-folder" / "instance.tar.gz"
    done = seeded.tribune("backup", str(target), "--passphrase-file", str(passphrase_file))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"tribune backup: error: The folder {target.parent} does not exist; create it first."]
    assert not target.parent.exists()


def test_a_backup_refuses_a_short_passphrase(seeded, tmp_path):
    short = tmp_path / "short"
    short.write_text("x\n")
    path = tmp_path / "instance.tar"
    done = seeded.tribune("backup", str(path), "--passphrase-file", str(short))
    assert done.returncode == 1
    assert done.stderr.strip() == ("tribune backup: error: The passphrase is too short: a "
                                   "backup needs one of at least 8 characters.")
    assert list(tmp_path.iterdir()) == [short]


def test_another_configured_secret_key_is_refused(plain_archive, passphrase_file, tmp_path):
    """TRIBUNE_SECRET_KEY would override the archived key and sign everything
    differently; the operator must unset it or set the old one."""
    target = Target(tmp_path / "target")
    done = subprocess.run([TRIBUNE, "restore", str(plain_archive), "--passphrase-file",
                           str(passphrase_file), "--quiet"],
                          env={**target.env, "TRIBUNE_SECRET_KEY": "another key"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip().startswith(
        "tribune restore: error: TRIBUNE_SECRET_KEY is set to another key than the "
        "archived instance's")
    assert target.untouched()
