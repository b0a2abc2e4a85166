"""Mastodon's lists.csv both ways: imported row by row (lists made by title,
accounts followed first, other servers' accounts refused with the reason), merge
and overwrite, running the same file again, and the export read back into a new
account."""

from __future__ import annotations

import pytest

from tests.portability.files import upload
from tribune.graph.models import Follow, FollowRequest
from tribune.graph.services import follow_create
from tribune.lists.models import List, ListAccount
from tribune.lists.services import list_accounts_add, list_create
from tribune.portability.exports import export_csv
from tribune.portability.imports import import_create, import_run
from tribune.portability.models import ImportRow

pytestmark = pytest.mark.django_db


def run(account, data: bytes, *, mode: str = "merge"):
    batch = import_create(account=account, kind="lists", mode=mode,
                          upload=upload(data, "lists.csv"), enqueue=False)
    return import_run(import_id=batch.pk)


def results(batch) -> list[tuple[str, str, str]]:
    return [(r.item, r.result, r.reason)
            for r in ImportRow.objects.filter(batch=batch).order_by("number")]


def lists(account) -> dict[str, set[str]]:
    """Each list's title with the usernames in it."""
    out: dict[str, set[str]] = {lst.title: set()
                                for lst in List.objects.filter(account=account)}
    for title, username in ListAccount.objects.filter(list__account=account).values_list(
            "list__title", "account__username"):
        out[title].add(username)
    return out


@pytest.mark.parametrize("encoding", ["plain", "bom-crlf", "header"])
def test_import_follows_first_and_adds(alice, bob, carol, make_account, settings, encoding):
    make_account("dave", locked=True)
    follow_create(account=alice, target=bob)
    domain = settings.TRIBUNE_DOMAIN
    lines = [f"Friends,bob@{domain}", "Friends,@carol", "Friends,alice",
             "News,newsdesk@press.example", "News,dave", "Friends,nobody"]
    if encoding == "header":
        lines.insert(0, "List name,Account address")
    text = ("\r\n" if encoding == "bom-crlf" else "\n").join(lines) + "\n"
    data = (("\ufeff" if encoding == "bom-crlf" else "") + text).encode()

    batch = run(alice, data)
    assert (batch.total, batch.imported, batch.skipped, batch.failed) == (6, 3, 0, 3)
    rows = results(batch)
    assert rows[0] == (f"Friends: bob@{domain}", "imported", "")
    assert rows[1] == ("Friends: carol", "imported", "Followed, then added to the list.")
    assert rows[2][1] == "imported"  # one may put oneself in one's list, as in Mastodon
    assert rows[3][1] == "failed" and "another server" in rows[3][2]
    assert rows[4][1] == "failed" and "Follow request sent" in rows[4][2]
    assert rows[5][1] == "failed" and "no account nobody" in rows[5][2]
    # None of News's rows could be added: no list is left behind for them.
    assert lists(alice) == {"Friends": {"bob", "carol", "alice"}}
    assert Follow.objects.filter(account=alice, target=carol).exists()
    assert FollowRequest.objects.filter(account=alice, target__username="dave").exists()

    again = run(alice, data)  # nothing twice
    assert (again.imported, again.skipped, again.failed) == (0, 3, 3)
    assert "still waiting" in results(again)[4][2]
    assert List.objects.filter(account=alice).count() == 1
    assert ListAccount.objects.filter(list__account=alice).count() == 3


def test_overwrite_keeps_only_what_the_file_names(alice, bob, carol, make_account):
    dave = make_account("dave")
    for target in (bob, carol, dave):
        follow_create(account=alice, target=target)
    friends = list_create(account=alice, title="Friends")
    old = list_create(account=alice, title="Old")
    list_accounts_add(account=alice, list_id=friends.pk, members=[bob, dave])
    list_accounts_add(account=alice, list_id=old.pk, members=[carol])

    merged = run(alice, b"Friends,carol\n")
    assert lists(alice) == {"Friends": {"bob", "carol", "dave"}, "Old": {"carol"}}
    assert merged.removed == 0

    batch = run(alice, b"Friends,carol\nFriends,bob\nNew,dave\nNew,zed@other.example\n",
                mode="overwrite")
    assert lists(alice) == {"Friends": {"bob", "carol"}, "New": {"dave"}}
    assert batch.removed == 2  # the list Old, and dave from Friends
    assert Follow.objects.filter(account=alice).count() == 3  # nobody is unfollowed
    assert List.objects.get(account=alice, title="Friends").pk == friends.pk


def test_refused_titles_fail_their_rows(alice, bob):
    follow_create(account=alice, target=bob)
    List.objects.bulk_create([List(account=alice, title=f"l{i}") for i in range(50)])
    batch = run(alice, ("l3,bob\nOne too many,bob\n," + "bob\n").encode())
    assert [r[1] for r in results(batch)] == ["imported", "failed", "failed"]
    assert "maximum number of lists" in results(batch)[1][2]
    assert results(batch)[2][2] == "The line has no list name."
    assert not List.objects.filter(account=alice, title="One too many").exists()


def test_a_failed_row_leaves_no_list_and_no_follow(alice, bob, make_account):
    """A row is applied whole or not at all: the list is made with its first
    member, never before the member is known and added."""
    make_account("dave", locked=True)
    batch = run(alice, b"Ghosts,nobody\nFar,zed@other.example\nLocked,dave\n")
    assert [r[1] for r in results(batch)] == ["failed", "failed", "failed"]
    assert lists(alice) == {}
    # The list limit refuses the list: the follow the row made first is undone too.
    List.objects.bulk_create([List(account=alice, title=f"l{i}") for i in range(50)])
    batch = run(alice, b"One too many,bob\n")
    assert results(batch)[0][1] == "failed"
    assert not Follow.objects.filter(account=alice, target=bob).exists()


def test_repeated_lines_are_skipped_once_applied(alice, bob, settings):
    follow_create(account=alice, target=bob)
    domain = settings.TRIBUNE_DOMAIN
    data = f"Friends,bob\nFriends,@bob@{domain}\nFriends,nobody\nFriends,NOBODY\n".encode()
    batch = run(alice, data)
    assert [r[1:] for r in results(batch)] == [
        ("imported", ""), ("skipped", "The same as line 1."),
        ("failed", "There is no account nobody on this server."),
        ("skipped", "The same as line 3.")]
    assert (batch.imported, batch.skipped, batch.failed) == (1, 2, 1)
    assert lists(alice) == {"Friends": {"bob"}}


def test_export_then_import_on_a_fresh_account(alice, bob, carol, make_account, settings):
    for target in (bob, carol):
        follow_create(account=alice, target=target)
    friends = list_create(account=alice, title="Friends, close")  # a comma: quoted
    news = list_create(account=alice, title="News")
    list_create(account=alice, title="Empty")
    list_accounts_add(account=alice, list_id=friends.pk, members=[bob, carol])
    list_accounts_add(account=alice, list_id=news.pk, members=[carol, alice])

    exported = export_csv(account=alice, name="lists.csv")
    domain = settings.TRIBUNE_DOMAIN
    assert exported.decode().splitlines() == [
        f'"Friends, close",bob@{domain}', f'"Friends, close",carol@{domain}',
        f"News,carol@{domain}", f"News,alice@{domain}"]

    newcomer = make_account("alice2")
    batch = run(newcomer, exported)
    assert batch.imported == 4 and batch.failed == 0
    assert lists(newcomer) == {"Friends, close": {"bob", "carol"}, "News": {"carol", "alice"}}
    assert set(Follow.objects.filter(account=newcomer).values_list(
        "target__username", flat=True)) == {"bob", "carol", "alice"}
    assert export_csv(account=make_account("nobody_yet"), name="lists.csv") == b""
