"""The account archive in Mastodon's layout, read back as another server would and
imported again; archive requests once a week; the CSV files."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.media import images
from tribune.core.errors import ValidationFailed
from tribune.federation.serializers import PUBLIC
from tribune.graph.services import block_create, follow_create, mute_create
from tribune.media.account_images import account_profile_update
from tribune.media.services import media_create
from tribune.portability.exports import archive_write, export_csv, export_request
from tribune.portability.imports import import_create, import_run
from tribune.portability.models import Export, JobState
from tribune.statuses.models import Status
from tribune.statuses.services import (
    bookmark_create,
    favourite_create,
    reblog_create,
    status_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(alice, bob, make_account):
    """alice's posts of every visibility, a reply, a boost, a favourite, a bookmark,
    a picture, an avatar, follows, a block and a mute."""
    carol = make_account("carol")
    account_profile_update(account=alice, avatar=SimpleUploadedFile("me.jpg", images.jpeg()))
    picture = media_create(account=alice, upload=SimpleUploadedFile("kite.jpg", images.jpeg()),
                           description="A kite", process_now=True)
    theirs = status_create(account=bob, text="Bob's post")
    posts = {
        "public": status_create(account=alice, text="Hello #birds", media_ids=[picture.pk],
                                language="en"),
        "unlisted": status_create(account=alice, text="Quietly", visibility="unlisted"),
        "private": status_create(account=alice, text="Friends only", visibility="private",
                                 spoiler_text="cw"),
        "direct": status_create(account=alice, text="@bob just you", visibility="direct"),
    }
    posts["reply"] = status_create(account=alice, text="And more", in_reply_to_id=posts["public"].pk)
    removed = status_create(account=alice, text="Taken down")
    Status.objects.filter(pk=removed.pk).update(removed_at=timezone.now())
    reblog_create(account=alice, status=theirs)
    favourite_create(account=alice, status=theirs)
    bookmark_create(account=alice, status=theirs)
    follow_create(account=alice, target=bob)
    follow_create(account=carol, target=alice)
    block_create(account=alice, target=carol)
    mute_create(account=alice, target=bob, notifications=False)
    return {"posts": posts, "theirs": theirs, "removed": removed}


def read_archive(account, tmp_path) -> zipfile.ZipFile:
    path = tmp_path / "archive.zip"
    archive_write(account=account, path=path)
    return zipfile.ZipFile(path)


def test_the_archive_in_mastodon_layout(alice, bob, history, tmp_path, settings):
    base = settings.TRIBUNE_BASE_URL
    with read_archive(alice, tmp_path) as archive:
        names = set(archive.namelist())
        actor = json.loads(archive.read("actor.json"))
        outbox = json.loads(archive.read("outbox.json"))
        likes = json.loads(archive.read("likes.json"))
        bookmarks = json.loads(archive.read("bookmarks.json"))
        following = archive.read("following_accounts.csv").decode()
        mutes = archive.read("muted_accounts.csv").decode()
        blocks = archive.read("blocked_accounts.csv").decode()
        followers = archive.read("follower_accounts.csv").decode()
        media_names = [n for n in names if n.startswith("media_attachments/")]
        avatar = archive.read(actor["icon"]["url"])
    assert {"actor.json", "outbox.json", "likes.json", "bookmarks.json", "avatar.jpg",
            "lists.csv", "bookmarks.csv"} <= names and "move.json" not in names
    assert actor["id"] == f"{base}/users/alice" and actor["type"] == "Person"
    assert actor["outbox"] == "outbox.json" and actor["likes"] == "likes.json"
    assert actor["preferredUsername"] == "alice" and actor["published"].endswith("T00:00:00Z")
    assert avatar[:3] == b"\xff\xd8\xff"
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 6
    items = outbox["orderedItems"]
    assert [i["type"] for i in items] == ["Create"] * 5 + ["Announce"]
    by_text = {i["object"]["content"]: i for i in items if i["type"] == "Create"}
    public = next(i for c, i in by_text.items() if "Hello" in c)
    followers_uri = f"{base}/users/alice/followers"
    assert (public["to"], public["cc"]) == ([PUBLIC], [followers_uri])
    note = public["object"]
    assert note["id"] == f"{base}/users/alice/statuses/{history['posts']['public'].pk}"
    assert note["id"] + "/activity" == public["id"]
    assert note["contentMap"] == {"en": note["content"]}
    assert note["tag"] == [{"type": "Hashtag", "href": f"{base}/tags/birds", "name": "#birds"}]
    [document] = note["attachment"]
    assert document["type"] == "Document" and document["name"] == "A kite"
    assert document["url"] in media_names and document["mediaType"] == "image/jpeg"
    audiences = {i["object"]["content"]: (i["to"], i["cc"]) for i in items if i["type"] == "Create"}
    assert audiences["<p>Quietly</p>"] == ([followers_uri], [PUBLIC])
    assert audiences["<p>Friends only</p>"] == ([followers_uri], [])
    direct = next(v for k, v in audiences.items() if "just you" in k)
    assert direct == ([f"{base}/users/bob"], [])
    reply = next(i["object"] for i in items if "And more" in i["object"].get("content", ""))
    assert reply["inReplyTo"] == note["id"]
    private = next(i["object"] for i in items if "Friends" in i["object"].get("content", ""))
    assert private["summary"] == "cw" and private["sensitive"] is True
    theirs_uri = f"{base}/users/bob/statuses/{history['theirs'].pk}"
    assert items[-1]["object"] == theirs_uri and f"{base}/users/bob" in items[-1]["cc"]
    assert not any("Taken down" in i["object"].get("content", "") for i in items
                   if i["type"] == "Create")
    assert likes["orderedItems"] == [theirs_uri] and bookmarks["orderedItems"] == [theirs_uri]
    domain = settings.TRIBUNE_DOMAIN
    assert following.splitlines() == ["Account address,Show boosts,Notify on new posts,Languages",
                                      f"bob@{domain},true,false,"]
    assert mutes.splitlines() == ["Account address,Hide notifications", f"bob@{domain},false"]
    assert blocks.splitlines() == [f"carol@{domain}"] and followers.strip() == ""


def test_every_member_is_dated_when_the_archive_was_made(alice, history, tmp_path):
    """A member opened by name alone is dated 1 January 1980 (outbox.json was)."""
    from datetime import datetime

    before = datetime.now().replace(microsecond=0) - timedelta(seconds=2)
    with read_archive(alice, tmp_path) as archive:
        dated = {info.filename: datetime(*info.date_time) for info in archive.infolist()}
    after = datetime.now() + timedelta(seconds=2)
    assert "outbox.json" in dated and "avatar.jpg" in dated
    assert {name for name, when in dated.items() if not before <= when <= after} == set()


def test_the_csv_files_read_back_with_the_csv_importer(alice, bob, history):
    rows = list(csv.reader(io.StringIO(export_csv(account=alice, name="bookmarks.csv").decode())))
    assert len(rows) == 1 and rows[0][0].endswith(f"/statuses/{history['theirs'].pk}")
    with pytest.raises(KeyError):
        export_csv(account=alice, name="secrets.csv")


def test_an_archive_imported_again_brings_the_posts_back(alice, history, make_account, tmp_path):
    path = tmp_path / "archive.zip"
    archive_write(account=alice, path=path)
    newcomer = make_account("alice2")
    batch = import_create(account=newcomer, kind="mastodon-archive", mode="merge",
                          upload=SimpleUploadedFile("archive.zip", path.read_bytes()),
                          enqueue=False)
    batch = import_run(import_id=batch.pk)
    assert batch.state == JobState.FINISHED, batch.error
    copies = {s.text: s for s in Status.objects.filter(account=newcomer)}
    originals = history["posts"]
    assert set(copies) == {s.text for s in originals.values()}
    for original in originals.values():
        copy = copies[original.text]
        assert (copy.visibility, copy.created_at, copy.spoiler_text) == (
            original.visibility, original.created_at.replace(microsecond=0),
            original.spoiler_text)
    assert copies["And more"].in_reply_to_id == copies["Hello #birds"].pk
    assert copies["Hello #birds"].media_attachments.get().description == "A kite"
    # The bookmark of bob's post is a post of this server: bookmarked again.
    assert newcomer.bookmarks.filter(status=history["theirs"]).exists()


def test_an_archive_a_week(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(account=alice)
    export.refresh_from_db()
    assert export.state == JobState.FINISHED and export.file_size > 0
    assert default_storage.exists(export.file.name)
    assert export.file.name.startswith("exports/archive-")
    with pytest.raises(ValidationFailed, match="once every 7 days") as refused:
        export_request(account=alice)
    # English dates end in "a.m." or "p.m.": the message adds no second full stop.
    assert ".." not in str(refused.value)
    Export.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(days=8))
    with django_capture_on_commit_callbacks(execute=True):
        newer = export_request(account=alice)
    newer.refresh_from_db()
    assert newer.state == JobState.FINISHED
    assert not default_storage.exists(export.file.name)  # the older archive is gone
    assert Export.objects.get(pk=export.pk).file.name == ""
