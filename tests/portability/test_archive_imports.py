"""Mastodon archives (zip and tar.gz) and X archives (``tweets`` and the older
``tweet`` naming) imported through the services, and malformed archives refused:
bad JSON, missing members, unsafe names, too large, zip bombs."""

from __future__ import annotations

import io
import warnings
import zipfile
from datetime import UTC, datetime

import pytest

from tests.portability import files
from tests.portability.files import OLD, note_item, upload
from tribune.core.errors import ValidationFailed
from tribune.core.pagination import Cursor
from tribune.graph.services import follow_create
from tribune.media.models import MediaAttachment
from tribune.notifications.models import Notification
from tribune.portability import archive_reader
from tribune.portability.imports import import_create, import_run
from tribune.portability.models import ImportRow, JobState
from tribune.statuses.models import Bookmark, Status
from tribune.statuses.services import status_create
from tribune.timelines.selectors import home_timeline_ids

pytestmark = pytest.mark.django_db


def run(account, kind: str, data: bytes, name: str = "archive.zip"):
    batch = import_create(account=account, kind=kind, mode="merge", upload=upload(data, name),
                          enqueue=False)
    return import_run(import_id=batch.pk)


def rows(batch) -> dict[int, tuple[str, str, str]]:
    return {r.number: (r.item, r.result, r.reason)
            for r in ImportRow.objects.filter(batch=batch)}


def posts(account) -> list[Status]:
    return list(Status.objects.filter(account=account).order_by("id"))


def test_a_mastodon_zip_comes_back_with_dates_threads_and_media(
        alice, bob, settings, django_capture_on_commit_callbacks):
    follow_create(account=bob, target=alice)
    picture = files.jpeg()
    media_path = "media_attachments/files/110/000/000/000/000/001/original/kite.jpg"
    outbox = [
        note_item(1, text="x", published="2024-03-05T14:02:11Z",
                  content=('<p>Kite season <a href="https://old.example/tags/birds" '
                           'class="mention hashtag" rel="tag">#<span>birds</span></a> with '
                           '<span class="h-card"><a href="https://old.example/@carol" '
                           'class="u-url mention">@<span>carol</span></a></span> and '
                           '<span class="h-card"><a href="https://other.example/@bob" '
                           'class="u-url mention">@<span>bob</span></a></span><br>'
                           '<a href="https://birds.example/kites" rel="nofollow">'
                           '<span class="invisible">https://</span><span class="">'
                           'birds.example/kites</span><span class="invisible"></span></a></p>'
                           '<p>&lt;3</p>'),
                  tags=[{"type": "Mention", "href": "https://old.example/users/carol",
                         "name": "@carol"},
                        {"type": "Mention", "href": "https://other.example/users/bob",
                         "name": "@bob@other.example"}],
                  attachment=[{"type": "Document", "mediaType": "image/jpeg", "url": media_path,
                               "name": "A red kite", "focalPoint": [0.5, -0.25]}]),
        note_item(2, text="Replying to myself", published="2024-03-05T15:00:00Z",
                  reply_to=f"{OLD}/users/alice/statuses/1", visibility="unlisted"),
        note_item(3, published="2024-03-06T08:00:00+01:00", visibility="private",
                  summary="food", language="fr", content="<p>Une tarte</p>"),
        note_item(4, text="Just for you", published="2024-03-06T09:00:00Z", visibility="direct"),
        note_item(5, text="Which?", published="2024-03-07T09:00:00Z", note_type="Question"),
        {"id": f"{OLD}/users/alice/statuses/6/activity", "type": "Announce",
         "actor": f"{OLD}/users/alice", "published": "2024-03-06T09:00:00Z",
         "to": [files.PUBLIC], "cc": [], "object": "https://other.example/users/bob/statuses/9"},
        note_item(7, text="Answering someone", published="2024-03-08T09:00:00Z",
                  reply_to="https://other.example/users/bob/statuses/9"),
    ]
    theirs = status_create(account=bob, text="worth keeping")
    members = files.mastodon_members(
        outbox_items=outbox, media={media_path: picture},
        likes=["https://other.example/users/bob/statuses/9"],
        bookmarks=[f"{settings.TRIBUNE_BASE_URL}/users/bob/statuses/{theirs.pk}",
                   f"{OLD}/users/alice/statuses/2", "https://other.example/users/bob/statuses/9"])
    with django_capture_on_commit_callbacks(execute=True):
        batch = run(alice, "mastodon-archive", files.zip_bytes(members))
    assert batch.state == JobState.FINISHED, batch.error
    result = rows(batch)
    assert [result[n][1] for n in sorted(result)] == [
        "imported", "imported", "imported", "imported", "failed", "skipped", "imported",
        "imported", "imported", "failed", "skipped"]
    assert "not on this server" in result[7][2]
    assert "poll" in result[5][2] and "Boosts" in result[6][2]
    assert result[11][0] == "likes.json" and "1 favourite is not imported" in result[11][2]

    first, reply, tart, direct, answer = posts(alice)
    assert first.created_at == datetime(2024, 3, 5, 14, 2, 11, tzinfo=UTC)
    assert tart.created_at == datetime(2024, 3, 6, 7, 0, tzinfo=UTC)
    assert first.text == ("Kite season #birds with @carol@old.example and @bob@other.example\n"
                          "https://birds.example/kites\n\n<3")
    assert first.tags.get().name == "birds" and not first.mentions.exists()
    assert (first.visibility, reply.visibility, tart.visibility, direct.visibility) == (
        "public", "unlisted", "private", "direct")
    assert reply.in_reply_to_id == first.pk and reply.thread_id == first.pk
    assert answer.in_reply_to_id is None
    assert (tart.spoiler_text, tart.sensitive, tart.language) == ("food", True, "fr")
    media = MediaAttachment.objects.get(status=first)
    assert (media.description, media.focus_x, media.focus_y) == ("A red kite", 0.5, -0.25)
    assert media.file and media.state == "done"
    alice.refresh_from_db()
    assert alice.statuses_count == 5
    # Old posts notify no one and reach no home feed.
    assert not Notification.objects.exists()
    assert home_timeline_ids(viewer=bob, cursor=Cursor(limit=20)).items == []
    assert set(Bookmark.objects.filter(account=alice).values_list("status_id", flat=True)) == {
        theirs.pk, reply.pk}

    again = run(alice, "mastodon-archive", files.zip_bytes(members))
    assert (again.imported, again.skipped) == (0, 9)
    assert len(posts(alice)) == 5 and MediaAttachment.objects.count() == 1


def test_an_older_tar_gz_archive(alice):
    batch = run(alice, "mastodon-archive", files.targz_bytes(files.mastodon_members()),
                name="archive.tar.gz")
    assert batch.imported == 3 and len(posts(alice)) == 3


def test_a_refused_media_file_fails_only_its_post(alice):
    path = "media_attachments/files/1/original/broken.jpg"
    outbox = [note_item(1, published="2024-01-01T00:00:00Z",
                        attachment=[{"type": "Document", "url": path}]),
              note_item(2, published="2024-01-02T00:00:00Z")]
    batch = run(alice, "mastodon-archive", files.zip_bytes(files.mastodon_members(
        outbox_items=outbox, media={path: b"\xff\xd8\xff" + b"not a picture" * 10})))
    result = rows(batch)
    assert result[1][1] == "failed" and "broken.jpg" in result[1][2]
    assert result[2][1] == "imported"
    assert len(posts(alice)) == 1 and not MediaAttachment.objects.exists()


def test_an_x_archive_with_media_replies_hashtags_and_links(alice):
    picture = files.jpeg()
    tweets = [
        files.tweet("1700000000000000101", "@river_otter agreed &amp; saw two today #birds "
                    "https://t.co/AbCdEf1234 https://t.co/Media1",
                    created_at="Tue Mar 05 14:02:11 +0000 2024", reply_to="1700000000000000055",
                    hashtags=["birds"],
                    urls=[{"url": "https://t.co/AbCdEf1234",
                           "expanded_url": "https://birds.example/kites"}],
                    media=[{"type": "photo", "url": "https://t.co/Media1",
                            "media_url_https": "https://pbs.twimg.com/media/kite.jpg"}]),
        files.tweet("1700000000000000055", "Kites are back", created_at="Mon Mar 04 10:00:00 +0000 2024"),
        files.tweet("1700000000000000200", "RT @someone: a truncated retw…"),
        files.tweet("1700000000000000300", "@river_otter thanks",
                    created_at="Wed Mar 06 10:00:00 +0000 2024", reply_to="1600000000000000000"),
    ]
    members = files.x_members(tweets, media={"1700000000000000101-kite.jpg": picture})
    batch = run(alice, "x-archive", files.zip_bytes(members))
    assert batch.state == JobState.FINISHED, batch.error
    result = rows(batch)
    assert [result[n][1] for n in (1, 2, 3, 4)] == ["imported", "imported", "skipped", "imported"]
    assert "Retweets" in result[3][2] and "not on this server" in result[4][2]
    kites, agreed, thanks = posts(alice)
    assert agreed.text == "agreed & saw two today #birds https://birds.example/kites"
    assert agreed.in_reply_to_id == kites.pk
    assert agreed.created_at == datetime(2024, 3, 5, 14, 2, 11, tzinfo=UTC)
    assert agreed.tags.get().name == "birds"
    assert agreed.media_attachments.count() == 1
    assert thanks.text == "thanks" and thanks.in_reply_to_id is None
    assert not agreed.mentions.exists()
    assert run(alice, "x-archive", files.zip_bytes(members)).skipped == 4


def test_the_older_tweet_naming_unwrapped_records_and_parts(alice, make_account):
    make_account("river_otter")  # an X handle is never linked to an account here
    members = files.x_members(
        [files.tweet("10", "@river_otter hello")], naming="tweet", wrap=False,
        media={"10-pic.jpg": files.jpeg()},
        parts=[[files.tweet("11", "from the second part", created_at="Wed Mar 06 10:00:00 +0000 2024")]])
    batch = run(alice, "x-archive", files.zip_bytes(members))
    assert batch.imported == 2, rows(batch)
    hello, second = posts(alice)
    assert hello.text == "@river_otter hello" and not hello.mentions.exists()
    assert "href" not in hello.content  # plain text, not a link to the local river_otter
    assert hello.media_attachments.count() == 1 and second.text == "from the second part"


def test_missing_media_are_said_to_be_left_out(alice):
    members = files.x_members([files.tweet("12", "look", media=[
        {"type": "photo", "url": "https://t.co/x", "media_url": "http://pbs.twimg.com/m/a.jpg"}])])
    batch = run(alice, "x-archive", files.zip_bytes(members))
    assert "1 media file was left out" in rows(batch)[1][2]


def _zip_with_names(names: list[str]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as archive:
        warnings.simplefilter("ignore")  # a duplicate name is what is tested
        for name in names:
            info = zipfile.ZipInfo("placeholder")
            info.filename = name
            archive.writestr(info, b"{}")
    return out.getvalue()


@pytest.mark.parametrize(("kind", "data", "message"), [
    ("mastodon-archive", b"just some text", "not a zip"),
    ("mastodon-archive", b"PK\x03\x04broken", "cannot be read"),
    ("mastodon-archive", files.zip_bytes({"actor.json": b"{}"}), "no outbox.json"),
    ("x-archive", files.zip_bytes({"outbox.json": b"{}"}), "no data/tweets.js"),
    ("mastodon-archive", _zip_with_names(["outbox.json", "../../etc/passwd"]), "not allowed"),
    ("mastodon-archive", _zip_with_names(["outbox.json", "/etc/passwd"]), "not allowed"),
    ("mastodon-archive", _zip_with_names(["outbox.json", "media\\..\\x"]), "not allowed"),
    ("mastodon-archive", _zip_with_names(["outbox.json", "outbox.json"]), "twice"),
])
def test_malformed_archives_are_refused_at_once(alice, kind, data, message):
    with pytest.raises(ValidationFailed, match=message):
        import_create(account=alice, kind=kind, mode="merge", upload=upload(data, "a.zip"),
                      enqueue=False)


def test_a_zip_bomb_and_too_many_members_are_refused(alice, settings, monkeypatch):
    settings.TRIBUNE_IMPORT_MAX_ARCHIVE_BYTES = 1024 * 1024  # unpacks to 4 MiB at most
    bomb = files.zip_bytes({"outbox.json": b"{}", "media/zeros": bytes(8 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(ValidationFailed, match="unpack to more than"):
        import_create(account=alice, kind="mastodon-archive", mode="merge",
                      upload=upload(bomb, "a.zip"), enqueue=False)
    monkeypatch.setattr(archive_reader, "MAX_MEMBERS", 3)
    many = files.zip_bytes({f"m{i}": b"" for i in range(4)} | {"outbox.json": b"{}"})
    with pytest.raises(ValidationFailed, match="more than 3 files"):
        import_create(account=alice, kind="mastodon-archive", mode="merge",
                      upload=upload(many, "a.zip"), enqueue=False)
    settings.TRIBUNE_IMPORT_MAX_ARCHIVE_BYTES = 100
    with pytest.raises(ValidationFailed, match="larger than"):
        import_create(account=alice, kind="mastodon-archive", mode="merge",
                      upload=upload(files.zip_bytes(files.mastodon_members()), "a.zip"),
                      enqueue=False)


@pytest.mark.parametrize(("kind", "members", "message"), [
    ("mastodon-archive", {"outbox.json": b"{not json"}, "not valid JSON"),
    ("mastodon-archive", {"outbox.json": b'{"orderedItems": 3}'}, "no list of items"),
    ("x-archive", {"data/tweets.js": b"window.YTD.tweets.part0 = [ {"}, "cannot be read"),
    ("x-archive", {"data/tweets.js": b"no assignment here"}, "cannot be read"),
    ("x-archive", {"data/tweets.js": b'window.YTD.tweets.part0 = {"a": 1}'}, "no list"),
])
def test_unreadable_data_fails_the_import_with_the_reason(alice, kind, members, message):
    batch = run(alice, kind, files.zip_bytes(members))
    assert batch.state == JobState.FAILED and message in batch.error
    assert not posts(alice)


def test_malformed_entries_fail_their_own_row(alice):
    outbox = [{"type": "Create", "object": {"type": "Note", "id": f"{OLD}/1",
                                            "published": "yesterday", "content": "x"}},
              {"type": "Create", "object": {"type": "Note", "published": "2024-01-01T00:00:00Z"}},
              "just a string",
              note_item(4, published="2999-01-01T00:00:00Z"),
              note_item(5, published="2024-01-01T00:00:00Z")]
    batch = run(alice, "mastodon-archive", files.zip_bytes(files.mastodon_members(outbox_items=outbox)))
    result = rows(batch)
    assert [result[n][1] for n in range(1, 6)] == ["failed", "failed", "skipped", "failed", "imported"]
    assert "cannot be read" in result[1][2] and "no id" in result[2][2]
    assert "past date" in result[4][2]


def test_posts_over_the_limit_fail_the_import(alice, settings):
    settings.TRIBUNE_IMPORT_MAX_POSTS = 2
    batch = run(alice, "mastodon-archive", files.zip_bytes(files.mastodon_members()))
    assert batch.state == JobState.FAILED and "more than 2 posts" in batch.error


def test_an_archive_re_packed_under_one_folder(alice):
    members = files.x_members([files.tweet("20", "hello", media=[{"url": "https://t.co/m"}])],
                              media={"20-a.jpg": files.jpeg()})
    packed = {f"twitter-2025-01-22-0f1e/{name}": data for name, data in members.items()}
    batch = run(alice, "x-archive", files.zip_bytes(packed))
    assert batch.imported == 1 and posts(alice)[0].media_attachments.count() == 1
