"""Posts brought back from archives: one id each even when many share one
timestamp, dates ids cannot hold refused per row, replies threaded under their
parents whatever order the archive lists them in, X handles left as text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.portability import files
from tests.portability.files import OLD, note_item, upload
from tribune.core.ids import id_to_datetime
from tribune.portability.imports import import_create, import_run
from tribune.portability.models import ImportedItem, ImportRow, JobState
from tribune.statuses.models import Status

pytestmark = pytest.mark.django_db


def run(account, kind: str, data: bytes):
    batch = import_create(account=account, kind=kind, mode="merge",
                          upload=upload(data, "archive.zip"), enqueue=False)
    return import_run(import_id=batch.pk)


def rows(batch) -> dict[int, tuple[str, str, str]]:
    return {r.number: (r.item, r.result, r.reason)
            for r in ImportRow.objects.filter(batch=batch)}


def test_many_tweets_of_one_second_each_get_their_own_post(alice):
    """X dates tweets to the second. Ids carry the millisecond in their high bits,
    so 300 tweets of one second share them and must differ in the low bits: more
    than the 256 a random byte gives, so with it some were lost as "already
    imported"."""
    when = "Tue Mar 05 14:02:11 +0000 2024"
    tweets = [files.tweet(str(1700000000000000000 + n), f"tweet number {n}", created_at=when)
              for n in range(300)]
    members = files.x_members(tweets)
    batch = run(alice, "x-archive", files.zip_bytes(members))
    assert batch.state == JobState.FINISHED, batch.error
    assert (batch.imported, batch.skipped, batch.failed) == (300, 0, 0)
    made = Status.objects.filter(account=alice)
    assert sorted(made.values_list("text", flat=True)) == sorted(
        f"tweet number {n}" for n in range(300))
    moment = datetime(2024, 3, 5, 14, 2, 11, tzinfo=UTC)
    assert {id_to_datetime(pk) for pk in made.values_list("id", flat=True)} == {moment}

    # Running it again finds every tweet by its id on X, not by a clash of ids.
    again = run(alice, "x-archive", files.zip_bytes(members))
    assert (again.imported, again.skipped) == (0, 300)
    assert {r[2] for r in rows(again).values()} == {"Already imported."}
    assert made.count() == 300 and ImportedItem.objects.filter(account=alice).count() == 300


def test_posts_of_one_second_keep_the_order_of_the_archive(alice):
    """Mastodon's archive dates posts to the second; posts made within one second
    came back in an order of their own (ids from a hash of where each came from)."""
    items = [note_item(n, text=f"post {n} of the second", published="2024-03-05T14:02:11Z")
             for n in range(1, 8)]
    batch = run(alice, "mastodon-archive", files.zip_bytes(files.mastodon_members(outbox_items=items)))
    assert batch.state == JobState.FINISHED, batch.error
    assert batch.imported == 7
    in_id_order = list(Status.objects.filter(account=alice).order_by("id")
                       .values_list("text", flat=True))
    assert in_id_order == [f"post {n} of the second" for n in range(1, 8)]


def test_one_post_listed_twice_is_imported_once_and_twins_both(alice):
    same = note_item(1, text="Twice in the file", published="2024-03-05T14:02:11Z")
    twin = note_item(2, text="Twice in the file", published="2024-03-05T14:02:11Z")
    batch = run(alice, "mastodon-archive", files.zip_bytes(
        files.mastodon_members(outbox_items=[same, same, twin])))
    assert [rows(batch)[n][1] for n in (1, 2, 3)] == ["imported", "skipped", "imported"]
    assert Status.objects.filter(account=alice).count() == 2


@pytest.mark.parametrize(("published", "shown"), [
    ("1969-12-31T23:59:59Z", "1969-12-31 23:59"),
    ("1901-05-01T10:00:00+02:00", "1901-05-01 10:00"),
])
def test_a_post_dated_before_1970_fails_its_row(alice, published, shown):
    outbox = [note_item(1, text="Too old", published=published),
              note_item(2, text="The first instant", published="1970-01-01T00:00:00Z")]
    batch = run(alice, "mastodon-archive", files.zip_bytes(
        files.mastodon_members(outbox_items=outbox)))
    result = rows(batch)
    assert result[1][1] == "failed"
    assert result[1][2] == (f"The post is dated {shown}; posts dated before 1970 cannot be "
                            "kept here.")
    kept = Status.objects.get(account=alice)
    assert kept.text == "The first instant" and 0 <= kept.pk < 2**16


def test_a_tweet_dated_before_1970_fails_its_row(alice):
    tweets = [files.tweet("5", "moon landing", created_at="Sun Jul 20 20:17:40 +0000 1969")]
    batch = run(alice, "x-archive", files.zip_bytes(files.x_members(tweets)))
    assert rows(batch)[1][1:] == ("failed", "The post is dated 1969-07-20 20:17; posts "
                                  "dated before 1970 cannot be kept here.")
    assert not Status.objects.filter(account=alice).exists()


def test_x_replies_thread_under_parents_listed_after_them(alice):
    """The reply comes first in tweets.js and its id is lower than its parent's
    (ids out of time order): it is still applied after its parent, and threaded."""
    tweets = [
        files.tweet("300", "@alice_example and a reply to the reply",
                    created_at="Tue Mar 05 16:00:00 +0000 2024", reply_to="100"),
        files.tweet("100", "@alice_example a reply", created_at="Tue Mar 05 15:00:00 +0000 2024",
                    reply_to="900"),
        files.tweet("900", "The start", created_at="Tue Mar 05 14:00:00 +0000 2024"),
    ]
    batch = run(alice, "x-archive", files.zip_bytes(files.x_members(tweets)))
    assert batch.imported == 3, rows(batch)
    start = Status.objects.get(account=alice, text="The start")
    reply = Status.objects.get(account=alice, text="a reply")
    deeper = Status.objects.get(account=alice, text="and a reply to the reply")
    assert reply.in_reply_to_id == start.pk and deeper.in_reply_to_id == reply.pk
    assert reply.thread_id == deeper.thread_id == start.pk
    start.refresh_from_db()
    assert start.replies_count == 1


def test_x_reply_in_an_earlier_part_than_its_parent(alice):
    reply = files.tweet("1700000000000000200", "@river_otter me too",
                        created_at="Wed Mar 06 10:00:00 +0000 2024",
                        reply_to="1700000000000000100")
    parent = files.tweet("1700000000000000100", "Kites are back",
                         created_at="Tue Mar 05 10:00:00 +0000 2024")
    batch = run(alice, "x-archive", files.zip_bytes(files.x_members([reply], parts=[[parent]])))
    assert batch.imported == 2
    assert Status.objects.get(text="me too").in_reply_to_id == Status.objects.get(
        text="Kites are back").pk


def test_a_mastodon_reply_dated_before_its_parent_is_threaded(alice):
    """A server's clock was wrong: the reply is dated a minute before its parent."""
    outbox = [note_item(2, text="Reply", published="2024-03-05T13:59:00Z",
                        reply_to=f"{OLD}/users/alice/statuses/1"),
              note_item(1, text="Parent", published="2024-03-05T14:00:00Z")]
    batch = run(alice, "mastodon-archive", files.zip_bytes(
        files.mastodon_members(outbox_items=outbox)))
    assert batch.imported == 2 and not rows(batch)[1][2]
    parent = Status.objects.get(text="Parent")
    assert Status.objects.get(text="Reply").in_reply_to_id == parent.pk


def test_x_handles_stay_plain_text_anywhere_in_a_tweet(alice, make_account):
    make_account("river_otter")
    tweets = [files.tweet("40", "Thanks @river_otter and @someone, see you @ the lake")]
    batch = run(alice, "x-archive", files.zip_bytes(files.x_members(tweets)))
    assert batch.imported == 1
    post = Status.objects.get(account=alice)
    assert post.text == "Thanks @river_otter and @someone, see you @ the lake"
    assert "<a" not in post.content and "@river_otter" in post.content
    assert not post.mentions.exists()
