"""Mastodon's CSV files imported through the services: headers or not, byte-order
mark, CRLF, extra columns, merge and overwrite, per-row results, limits, and
running the same file again (lists: test_lists.py)."""

from __future__ import annotations

import pytest

from tests.portability.files import upload
from tribune.core.errors import ValidationFailed
from tribune.graph.models import Block, Follow, FollowRequest, Mute
from tribune.graph.services import block_create, follow_create, mute_create
from tribune.portability.imports import import_create, import_run
from tribune.portability.models import ImportRow, JobState
from tribune.statuses.models import Bookmark
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db


def run(account, kind: str, data: bytes, *, mode: str = "merge", name: str = "file.csv"):
    batch = import_create(account=account, kind=kind, mode=mode, upload=upload(data, name),
                          enqueue=False)
    return import_run(import_id=batch.pk)


def results(batch) -> list[tuple[int, str, str, str]]:
    return [(r.number, r.item, r.result, r.reason)
            for r in ImportRow.objects.filter(batch=batch).order_by("number")]


def following(account) -> set[str]:
    return set(Follow.objects.filter(account=account).values_list("target__username", flat=True))


def test_following_with_header_bom_crlf_and_extra_columns(alice, bob, make_account, settings):
    carol = make_account("carol", locked=True)
    make_account("dave")
    data = ("\ufeffAccount address,Show boosts,Notify on new posts,Languages,Extra\r\n"
            f"@bob@{settings.TRIBUNE_DOMAIN},false,true,\"en, de\",x\r\n"
            "carol,true,false,,\r\n"
            "\r\n"
            "zed@other.example,true,false,,\r\n"
            "nobody,true,false,,\r\n"
            "alice,true,false,,\r\n").encode()
    batch = run(alice, "following", data)
    assert batch.state == JobState.FINISHED and batch.file.name == ""
    assert (batch.total, batch.imported, batch.skipped, batch.failed) == (5, 2, 0, 3)
    rows = results(batch)
    assert [r[0] for r in rows] == [2, 3, 5, 6, 7]  # line numbers in the file
    assert rows[0][2] == "imported"
    assert "approves its followers" in rows[1][3]
    assert "another server" in rows[2][3] and rows[2][2] == "failed"
    assert "no account nobody" in rows[3][3]
    assert "yourself" in rows[4][3]
    follow = Follow.objects.get(account=alice, target=bob)
    assert (follow.show_reblogs, follow.notify) == (False, True)
    assert FollowRequest.objects.filter(account=alice, target=carol).exists()

    again = run(alice, "following", data)
    assert (again.imported, again.skipped, again.failed) == (0, 2, 3)
    assert Follow.objects.filter(account=alice).count() == 1


def test_following_without_header(alice, bob):
    batch = run(alice, "following", b"bob,true,false\n")
    assert batch.imported == 1 and following(alice) == {"bob"}


def test_overwrite_removes_what_the_file_does_not_name(alice, bob, make_account):
    carol, dave = make_account("carol"), make_account("dave")
    follow_create(account=alice, target=carol)
    follow_create(account=alice, target=dave)
    batch = run(alice, "following", b"Account address\nbob\ncarol\n", mode="overwrite")
    assert following(alice) == {"bob", "carol"}
    assert batch.removed == 1 and batch.imported == 1 and batch.skipped == 1

    block_create(account=alice, target=dave)
    batch = run(alice, "blocks", b"bob\n", mode="overwrite")
    assert set(Block.objects.filter(account=alice).values_list("target__username", flat=True)) == {"bob"}
    assert batch.removed == 1


def test_blocks_and_mutes(alice, bob, make_account):
    carol = make_account("carol")
    mute_create(account=alice, target=carol, notifications=True)
    batch = run(alice, "blocks", b"bob\r\nbob@elsewhere.example\r\n")
    assert Block.objects.filter(account=alice, target=bob).exists()
    assert [r[2] for r in results(batch)] == ["imported", "failed"]
    batch = run(alice, "mutes", b"Account address,Hide notifications\nbob,false\ncarol,true\n")
    assert Mute.objects.get(account=alice, target=bob).hide_notifications is False
    assert [r[2] for r in results(batch)] == ["imported", "skipped"]


def test_a_refused_row_changes_nothing(alice, bob):
    block_create(account=bob, target=alice)
    batch = run(alice, "following", b"bob\n")
    assert results(batch)[0][2] == "failed"
    assert not Follow.objects.exists() and not FollowRequest.objects.exists()


def test_bookmarks_by_local_uri_and_page(alice, bob, settings):
    first = status_create(account=bob, text="one")
    second = status_create(account=bob, text="two")
    base = settings.TRIBUNE_BASE_URL
    data = (f"{base}/users/bob/statuses/{first.pk}\n{base}/@bob/{second.pk}\n"
            f"{base}/users/alice/statuses/{first.pk}\n"
            "https://other.example/users/bob/statuses/1\n").encode()
    batch = run(alice, "bookmarks", data)
    assert set(Bookmark.objects.filter(account=alice).values_list("status_id", flat=True)) == {
        first.pk, second.pk}
    assert [r[2] for r in results(batch)] == ["imported", "imported", "failed", "failed"]
    assert "not on this server" in results(batch)[3][3]


def test_an_interrupted_import_resumes_after_its_last_row(alice, bob, make_account):
    make_account("carol")
    batch = import_create(account=alice, kind="following", mode="merge",
                          upload=upload(b"bob\ncarol\n", "f.csv"), enqueue=False)
    # A first run recorded line 1 and then stopped (its worker was killed).
    ImportRow.objects.create(batch=batch, number=1, item="bob", result="imported")
    finished = import_run(import_id=batch.pk)
    assert following(alice) == {"carol"}  # line 1 is not applied twice
    assert finished.imported == 2
    assert import_run(import_id=batch.pk).state == JobState.FINISHED


@pytest.mark.parametrize(("data", "message"), [
    (b"\xff\xfe\x00b\x00o\x00b", "not UTF-8"),
    (b"bob\x00\n", "not a CSV"),
    (b"a\nb\nc\nd\n", "more than 3 rows"),
    (b"bob\n\"carol,x\ndave\n", "a quoted field on line 2 is never closed"),
    (b"bob\n\"carol\"x\n", "',' expected after '\"' on line 2"),
])
def test_bad_files_are_refused_at_once(alice, settings, data, message):
    settings.TRIBUNE_IMPORT_MAX_ROWS = 3
    with pytest.raises(ValidationFailed, match=message):
        import_create(account=alice, kind="blocks", mode="merge", upload=upload(data, "b.csv"),
                      enqueue=False)


@pytest.mark.parametrize(("kind", "data", "found"), [
    ("blocks", b"Account address,Show boosts,Notify on new posts,Languages\nbob,true,false,\n",
     "Following list"),
    ("following", b"Account address,Hide notifications\nbob,true\n", "Muted accounts"),
    ("mutes", b"#uri\nhttps://example.com/statuses/1\n", "Bookmarks"),
    ("blocks", "\ufeffList name,Account address\nFriends,bob\n".encode(), "Lists"),
])
def test_a_file_of_another_kind_is_refused(alice, bob, kind, data, found):
    """A following list given as blocks would block everyone it follows."""
    with pytest.raises(ValidationFailed, match=f"those of {found}, not of "):
        import_create(account=alice, kind=kind, mode="merge", upload=upload(data, "f.csv"),
                      enqueue=False)
    assert not Block.objects.exists() and not Follow.objects.filter(account=alice).exists()


def test_a_header_shared_by_several_kinds_is_read_as_the_chosen_one(alice, bob):
    batch = run(alice, "blocks", b"Account address\nbob\n")
    assert (batch.imported, batch.failed) == (1, 0)
    assert Block.objects.filter(account=alice, target=bob).exists()


def test_a_limit_of_one_row_is_said_in_the_singular(alice, settings):
    settings.TRIBUNE_IMPORT_MAX_ROWS = 1
    with pytest.raises(ValidationFailed, match=r"more than 1 row; split"):
        import_create(account=alice, kind="blocks", mode="merge",
                      upload=upload(b"a\nb\n", "b.csv"), enqueue=False)


def test_size_kind_and_mode_are_checked(alice, settings):
    settings.TRIBUNE_IMPORT_MAX_CSV_BYTES = 10
    with pytest.raises(ValidationFailed, match="larger than"):
        import_create(account=alice, kind="blocks", mode="merge",
                      upload=upload(b"x" * 11, "b.csv"), enqueue=False)
    for kind, mode in (("friends", "merge"), ("blocks", "replace"),
                       ("mastodon-archive", "overwrite")):
        with pytest.raises(ValidationFailed):
            import_create(account=alice, kind=kind, mode=mode, upload=upload(b"bob", "b.csv"),
                          enqueue=False)


def test_one_import_at_a_time(alice, bob):
    import_create(account=alice, kind="blocks", mode="merge", upload=upload(b"bob", "b.csv"),
                  enqueue=False)
    with pytest.raises(ValidationFailed, match="in progress"):
        import_create(account=alice, kind="blocks", mode="merge",
                      upload=upload(b"bob", "b.csv"), enqueue=False)


def test_repeated_lines_are_skipped_not_applied_or_failed_twice(alice, bob, settings):
    domain = settings.TRIBUNE_DOMAIN
    data = (f"bob\n@bob@{domain}\nBOB\nzed@other.example\nzed@other.example\n"
            "bob,false\n").encode()
    batch = run(alice, "following", data)
    assert [r[2:] for r in results(batch)] == [
        ("imported", ""), ("skipped", "The same as line 1."), ("skipped", "The same as line 1."),
        ("failed", "zed@other.example is on another server; accounts on other servers cannot "
                   "be reached until this server federates."),
        ("skipped", "The same as line 4."),
        ("imported", "")]  # not a repeat: it changes whether boosts are shown
    assert (batch.imported, batch.skipped, batch.failed) == (2, 3, 1)
    assert Follow.objects.get(account=alice, target=bob).show_reblogs is False

    uri = "https://other.example/users/bob/statuses/1"
    batch = run(alice, "bookmarks", f"{uri}\n{uri}\n".encode())
    assert [r[2] for r in results(batch)] == ["failed", "skipped"]
    batch = run(alice, "mutes", b"bob,true\nbob,true\nbob,false\n")
    assert [r[2] for r in results(batch)] == ["imported", "skipped", "imported"]
    assert Mute.objects.get(account=alice, target=bob).hide_notifications is False


def test_the_languages_column_is_read_and_said_to_be_left_aside(alice, bob, make_account):
    make_account("carol")
    data = (b"Account address,Show boosts,Notify on new posts,Languages\n"
            b"bob,true,false,\"en, de\"\ncarol,true,false,\n")
    batch = run(alice, "following", data)
    assert [r[2:] for r in results(batch)] == [
        ("imported", "Following here shows posts in every language; the languages chosen "
                     "(en, de) are not kept."),
        ("imported", "")]
    assert following(alice) == {"bob", "carol"}


def test_reasons_say_what_is_wrong(alice, bob, make_account):
    carol = make_account("carol")
    block_create(account=bob, target=alice)
    block_create(account=alice, target=carol)
    batch = run(alice, "following", b"bob\ncarol\nalice\n")
    assert [r[2:] for r in results(batch)] == [
        ("failed", "You cannot follow bob: one of you blocks the other."),
        ("failed", "You cannot follow carol: one of you blocks the other."),
        ("failed", "This is your own account: you cannot follow yourself.")]
    batch = run(alice, "blocks", b"alice\n")
    assert results(batch)[0][3] == "This is your own account: you cannot block yourself."
    batch = run(alice, "mutes", b"@alice\n")
    assert results(batch)[0][3] == "This is your own account: you cannot mute yourself."
    assert not Follow.objects.filter(account=alice).exists()
