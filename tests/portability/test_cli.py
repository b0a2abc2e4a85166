"""``tribune export`` and ``tribune import`` through the command's entry point, in
this process on the test database: what an operator sees, and one line for bad
input."""

from __future__ import annotations

import zipfile

import pytest

from tests.portability import files
from tribune.cli import main
from tribune.graph.models import Block, Follow
from tribune.statuses.models import Status
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def domain(monkeypatch, settings):
    """The instance's domain, given as an operator gives it."""
    monkeypatch.setenv("TRIBUNE_DOMAIN", settings.TRIBUNE_DOMAIN)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def test_export_then_import(alice, bob, make_account, tmp_path, capsys):
    status_create(account=alice, text="Hello from the old place")
    target = tmp_path / "alice.zip"
    assert main(["export", "alice", "--output", str(target)]) == 0
    assert "Wrote the archive of alice" in capsys.readouterr().out
    assert "outbox.json" in zipfile.ZipFile(target).namelist()

    make_account("alice2")
    assert main(["import", "alice2", "mastodon-archive", str(target)]) == 0
    # The post, and the profile's display name
    assert capsys.readouterr().out.strip().endswith("imported 2, skipped 0, failed 0 of 2")
    assert Status.objects.filter(account__username="alice2").count() == 1

    csv = files.write(tmp_path, "following_accounts.csv", b"Account address\nbob\nghost@far.example\n")
    assert main(["import", "alice", "following", str(csv)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("3: failed: ghost@far.example: ghost@far.example is on another server")
    assert out[-1] == "imported 1, skipped 0, failed 1 of 2"
    assert Follow.objects.filter(account=alice, target=bob).exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["export", "nobody", "--output", "{tmp}/x.zip"], "no local account named 'nobody'"),
    (["export", "alice", "--output", "{tmp}/missing/x.zip"], "cannot write"),
    (["import", "nobody", "blocks", "{tmp}/b.csv"], "no local account named 'nobody'"),
    (["import", "alice", "blocks", "{tmp}/absent.csv"], "cannot read"),
    (["import", "alice", "mastodon-archive", "{tmp}/b.csv"], "not a zip or tar.gz"),
    (["import", "alice", "blocks", "{tmp}/big.csv"], "larger than"),
])
def test_bad_input_is_one_line(alice, tmp_path, capsys, settings, argv, message):
    settings.TRIBUNE_IMPORT_MAX_CSV_BYTES = 100
    files.write(tmp_path, "b.csv", b"bob\n")
    files.write(tmp_path, "big.csv", b"bob\n" * 100)
    assert main([arg.format(tmp=tmp_path) for arg in argv]) == 1
    captured = capsys.readouterr()
    assert message in one_line(captured.err)


def test_an_unknown_kind_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["import", "alice", "friends", str(tmp_path / "x.csv")])
    assert exit_info.value.code == 2
    assert "invalid choice" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("argv", [
    ["export", "alice", "--output", "{tmp}/alice.zip"],
    ["import", "alice", "blocks", "{tmp}/b.csv"],
])
def test_without_tribune_domain_export_and_import_refuse(alice, bob, tmp_path, capsys,
                                                         monkeypatch, argv):
    """Unset, the domain would be the default 127.0.0.1:8000, whatever address the
    instance is served at: every id of an export would name it, and an import
    would take bob@ this instance for someone elsewhere."""
    monkeypatch.delenv("TRIBUNE_DOMAIN")
    files.write(tmp_path, "b.csv", b"bob\n")
    assert main([arg.format(tmp=tmp_path) for arg in argv]) == 1
    assert one_line(capsys.readouterr().err) == (
        f"tribune {argv[0]}: error: TRIBUNE_DOMAIN is not set: set it to the instance's "
        "public host[:port] (the one `tribune serve` is reached at, e.g. social.example, "
        "or 127.0.0.1:8000 for a local instance served with the defaults); the archive's "
        "ids and links name it, and imports tell this instance's accounts by it")
    assert not (tmp_path / "alice.zip").exists()
    assert not Block.objects.filter(account=alice).exists()
