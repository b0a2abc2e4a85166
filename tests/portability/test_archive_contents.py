"""What else an archive brings besides posts: the profile of actor.json, the CSV
files of Tribune's own archive read back with it, posts of other actors left
out, and archives that are damaged or nested too deeply refused with a reason."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.media import images
from tests.portability import files
from tests.portability.files import OLD, note_item, upload
from tribune.graph.models import Block, Follow, Mute
from tribune.graph.services import block_create, follow_create, mute_create
from tribune.lists.models import ListAccount
from tribune.lists.services import list_accounts_add, list_create
from tribune.portability.exports import archive_write
from tribune.portability.imports import import_create, import_run
from tribune.portability.models import ImportRow, JobState
from tribune.statuses.models import Bookmark, Status
from tribune.statuses.services import bookmark_create, status_create

pytestmark = pytest.mark.django_db


def run(account, kind: str, data: bytes):
    batch = import_create(account=account, kind=kind, mode="merge",
                          upload=upload(data, "archive.zip"), enqueue=False)
    return import_run(import_id=batch.pk)


def rows_by_item(batch) -> dict[str, tuple[str, str]]:
    return {r.item: (r.result, r.reason) for r in ImportRow.objects.filter(batch=batch)}


def actor(**fields) -> bytes:
    return json.dumps({"id": f"{OLD}/users/alice", "type": "Person",
                       "preferredUsername": "alice",
                       "followers": f"{OLD}/users/alice/followers", **fields}).encode()


BIO = ('<p>Birds and bikes. <a href="https://birds.example/kites" rel="nofollow noopener" '
       'target="_blank"><span class="invisible">https://</span><span class="">birds.example/'
       'kites</span><span class="invisible"></span></a></p><p>Say hi!</p>')
FIELDS = [{"type": "PropertyValue", "name": "Website", "value": "birds.example"},
          {"type": "PropertyValue", "name": "Pronouns", "value": "she/her"}]


def test_the_profile_of_actor_json_comes_back(make_account):
    newbie = make_account("newbie")
    members = files.mastodon_members(outbox_items=[], extra={
        "actor.json": actor(name="Alice Example", summary=BIO, attachment=FIELDS,
                            icon={"type": "Image", "mediaType": "image/png", "url": "avatar.png"},
                            image={"type": "Image", "mediaType": "image/jpeg",
                                   "url": "header.jpg"}),
        "avatar.png": images.png((120, 80)), "header.jpg": images.jpeg((600, 200))})
    batch = run(newbie, "mastodon-archive", files.zip_bytes(members))
    assert batch.state == JobState.FINISHED, batch.error
    result = rows_by_item(batch)
    assert result["actor.json: display name and bio"] == (
        "imported", "2 profile fields are not imported: profiles here have no fields yet.")
    assert result["avatar.png"] == ("imported", "") and result["header.jpg"] == ("imported", "")
    newbie.refresh_from_db()
    assert newbie.display_name == "Alice Example"
    assert newbie.note == "Birds and bikes. https://birds.example/kites\n\nSay hi!"
    assert 'href="https://birds.example/kites"' in newbie.note_html
    with newbie.avatar.open("rb") as avatar, Image.open(avatar) as picture:
        assert picture.size == (400, 400) and picture.format == "PNG"  # it has transparency
    with newbie.header.open("rb") as header, Image.open(header) as picture:
        assert picture.size == (1500, 500) and picture.format == "JPEG"

    avatar_file = newbie.avatar.name
    again = rows_by_item(run(newbie, "mastodon-archive", files.zip_bytes(members)))
    assert again["actor.json: display name and bio"][0] == "skipped"
    assert again["avatar.png"] == ("skipped", "Your avatar here is kept.")
    newbie.refresh_from_db()
    assert newbie.avatar.name == avatar_file


def test_what_the_account_has_set_already_is_kept(alice):
    members = files.mastodon_members(outbox_items=[], extra={
        "actor.json": actor(name="Alice From Before", summary="<p>Old bio</p>",
                            icon={"type": "Image", "url": "avatar.png"}),
        "avatar.png": b"\x89PNG\r\n\x1a\n" + b"not really a picture"})
    result = rows_by_item(run(alice, "mastodon-archive", files.zip_bytes(members)))
    assert result["actor.json: display name and bio"] == (
        "imported", "Your display name here is kept.")
    assert result["avatar.png"][0] == "failed"
    assert result["avatar.png"][1].startswith("The picture avatar.png was refused:")
    alice.refresh_from_db()
    assert (alice.display_name, alice.note) == ("Alice", "Old bio")
    assert not alice.avatar


def test_a_picture_the_archive_lacks_is_said_to_be_missing(make_account):
    newbie = make_account("newbie")
    members = files.mastodon_members(outbox_items=[], extra={
        "actor.json": actor(image={"type": "Image", "url": "header.png"})})
    result = rows_by_item(run(newbie, "mastodon-archive", files.zip_bytes(members)))
    assert result == {"header.png": ("skipped", "The header is not in the archive.")}


def test_our_own_archive_brings_follows_blocks_mutes_bookmarks_and_lists(
        alice, bob, carol, make_account, tmp_path):
    dave, erin = make_account("dave"), make_account("erin")
    follow_create(account=alice, target=bob, show_reblogs=False)
    follow_create(account=alice, target=erin)
    follow_create(account=dave, target=alice)
    block_create(account=alice, target=carol)
    mute_create(account=alice, target=dave, notifications=False)
    kept = status_create(account=bob, text="worth keeping")
    bookmark_create(account=alice, status=kept)
    friends = list_create(account=alice, title="Friends")
    list_accounts_add(account=alice, list_id=friends.pk, members=[bob, erin])
    status_create(account=alice, text="my own post")
    path = tmp_path / "archive.zip"
    archive_write(account=alice, path=path)

    newcomer = make_account("newcomer")
    batch = import_create(account=newcomer, kind="mastodon-archive", mode="merge",
                          upload=SimpleUploadedFile("a.zip", path.read_bytes()), enqueue=False)
    batch = import_run(import_id=batch.pk)
    assert batch.state == JobState.FINISHED, batch.error
    assert batch.failed == 0, rows_by_item(batch)
    assert {(f.target.username, f.show_reblogs)
            for f in Follow.objects.filter(account=newcomer)} == {("bob", False), ("erin", True)}
    assert set(Block.objects.filter(account=newcomer).values_list(
        "target__username", flat=True)) == {"carol"}
    mute = Mute.objects.get(account=newcomer)
    assert (mute.target.username, mute.hide_notifications) == ("dave", False)
    assert list(Bookmark.objects.filter(account=newcomer).values_list(
        "status_id", flat=True)) == [kept.pk]
    assert set(ListAccount.objects.filter(list__account=newcomer, list__title="Friends")
               .values_list("account__username", flat=True)) == {"bob", "erin"}
    assert list(Status.objects.filter(account=newcomer).values_list("text", flat=True)) == [
        "my own post"]
    items = rows_by_item(batch)
    assert items["follower_accounts.csv"] == (
        "skipped", "Followers are not imported: each of them chooses to follow you.")
    assert any(item.startswith("lists.csv: Friends: bob@") for item in items)
    # The bookmark is in bookmarks.json and bookmarks.csv: one row, not two.
    assert not any(item.startswith("bookmarks.csv") for item in items)

    again = import_create(account=newcomer, kind="mastodon-archive", mode="merge",
                          upload=SimpleUploadedFile("a.zip", path.read_bytes()), enqueue=False)
    again = import_run(import_id=again.pk)
    assert again.imported == 0 and again.failed == 0


def test_an_unreadable_csv_in_an_archive_fails_only_its_row(alice, bob):
    members = files.mastodon_members(outbox_items=[note_item(1, published="2024-01-01T00:00:00Z")],
                                     extra={"blocked_accounts.csv": b"\xff\xfebob",
                                            "muted_accounts.csv": b"bob\n"})
    batch = run(alice, "mastodon-archive", files.zip_bytes(members))
    result = rows_by_item(batch)
    assert result["blocked_accounts.csv"] == ("failed", "The file is not UTF-8 text.")
    assert result["muted_accounts.csv: bob"] == ("imported", "")
    assert batch.imported == 2


def test_a_post_of_another_actor_is_skipped(alice):
    theirs = note_item(2, text="Not mine", published="2024-01-02T00:00:00Z")
    theirs["object"]["attributedTo"] = "https://other.example/users/bob"
    listed = note_item(3, text="Mine, as an object", published="2024-01-03T00:00:00Z")
    listed["object"]["attributedTo"] = {"type": "Person", "id": f"{OLD}/users/alice"}
    outbox = [note_item(1, text="Mine", published="2024-01-01T00:00:00Z"), theirs, listed]
    batch = run(alice, "mastodon-archive", files.zip_bytes(
        files.mastodon_members(outbox_items=outbox)))
    reasons = {r.number: (r.result, r.reason) for r in ImportRow.objects.filter(batch=batch)}
    assert reasons[2] == ("skipped", "This post is by another account "
                                     "(https://other.example/users/bob); only your own posts "
                                     "are imported.")
    assert sorted(Status.objects.filter(account=alice).values_list("text", flat=True)) == [
        "Mine", "Mine, as an object"]


@pytest.mark.parametrize(("kind", "members", "message"), [
    ("mastodon-archive",
     {"outbox.json": b'{"orderedItems": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"},
     "outbox.json in the archive is nested too deeply to be read."),
    ("mastodon-archive",
     {"outbox.json": b'{"orderedItems": []}',
      "actor.json": b'{"name": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"}"},
     "actor.json in the archive is nested too deeply to be read."),
    ("x-archive",
     {"data/tweets.js": b"window.YTD.tweets.part0 = " + b"[" * 100_000 + b"]" * 100_000},
     "data/tweets.js in the archive is nested too deeply to be read."),
])
def test_json_nested_too_deeply_fails_the_import_with_the_reason(alice, kind, members, message):
    batch = run(alice, kind, files.zip_bytes(members))
    assert batch.state == JobState.FAILED
    assert batch.error == message


def test_a_damaged_media_file_fails_its_post_in_plain_words(alice):
    path = "media_attachments/files/1/original/kite.jpg"
    picture = files.jpeg()
    outbox = [note_item(1, published="2024-01-01T00:00:00Z",
                        attachment=[{"type": "Document", "url": path}]),
              note_item(2, published="2024-01-02T00:00:00Z")]
    members = files.mastodon_members(outbox_items=outbox)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in {**members, path: picture}.items():
            archive.writestr(name, data)
    data = bytearray(out.getvalue())
    at = data.index(picture) + len(picture) // 2
    data[at] ^= 0xFF  # its checksum no longer matches
    batch = run(alice, "mastodon-archive", bytes(data))
    result = {r.number: (r.result, r.reason) for r in ImportRow.objects.filter(batch=batch)}
    assert result[1] == ("failed", f"{path} in the archive is damaged and cannot be read.")
    assert result[2][0] == "imported"
