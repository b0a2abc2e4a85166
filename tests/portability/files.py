"""Archives and CSV files in the formats people bring, generated for the tests
(invented accounts, domains and posts)."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

from django.core.files.base import ContentFile

from tests.media import images

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
OLD = "https://old.example"


def upload(data: bytes, name: str) -> ContentFile:
    return ContentFile(data, name=name)


def note_item(number: int, *, text: str = "Kite season again", published: str,
              visibility: str = "public", reply_to: str | None = None,
              attachment: list | None = None, tags: list | None = None,
              summary: str | None = None, language: str = "en",
              note_type: str = "Note", content: str | None = None) -> dict:
    """One ``Create`` of the outbox, addressed as Mastodon addresses ``visibility``."""
    uri = f"{OLD}/users/alice/statuses/{number}"
    followers = f"{OLD}/users/alice/followers"
    to, cc = {"public": ([PUBLIC], [followers]), "unlisted": ([followers], [PUBLIC]),
              "private": ([followers], []), "direct": ([], [])}[visibility]
    html = content if content is not None else f"<p>{text}</p>"
    return {
        "id": f"{uri}/activity", "type": "Create", "actor": f"{OLD}/users/alice",
        "published": published, "to": to, "cc": cc,
        "object": {
            "id": uri, "type": note_type, "summary": summary, "inReplyTo": reply_to,
            "published": published, "url": f"{OLD}/@alice/{number}",
            "attributedTo": f"{OLD}/users/alice", "to": to, "cc": cc,
            "sensitive": bool(summary), "content": html, "contentMap": {language: html},
            "attachment": attachment or [], "tag": tags or [],
        },
    }


def mastodon_members(*, outbox_items: list | None = None, bookmarks: list | None = None,
                     likes: list | None = None, media: dict[str, bytes] | None = None,
                     extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """The members of a Mastodon archive (BackupService's layout)."""
    if outbox_items is None:
        outbox_items = [
            note_item(1, text="First post #birds", published="2024-03-05T14:02:11Z",
                      tags=[{"type": "Hashtag", "name": "#birds",
                             "href": f"{OLD}/tags/birds"}]),
            note_item(2, text="Replying to myself", published="2024-03-05T15:00:00Z",
                      reply_to=f"{OLD}/users/alice/statuses/1", visibility="unlisted"),
            note_item(3, published="2024-03-06T08:00:00Z", visibility="private",
                      summary="food", language="fr", content="<p>Une tarte</p>"),
            {"id": f"{OLD}/users/alice/statuses/4/activity", "type": "Announce",
             "actor": f"{OLD}/users/alice", "published": "2024-03-06T09:00:00Z",
             "to": [PUBLIC], "cc": [], "object": "https://other.example/users/bob/statuses/9"},
        ]
    members = {
        "outbox.json": json.dumps({"@context": "https://www.w3.org/ns/activitystreams",
                                   "id": "outbox.json", "type": "OrderedCollection",
                                   "totalItems": len(outbox_items),
                                   "orderedItems": outbox_items}).encode(),
        "actor.json": json.dumps({"id": f"{OLD}/users/alice", "type": "Person",
                                  "preferredUsername": "alice",
                                  "followers": f"{OLD}/users/alice/followers",
                                  "outbox": "outbox.json"}).encode(),
        "likes.json": json.dumps({"id": "likes.json", "type": "OrderedCollection",
                                  "orderedItems": likes or []}).encode(),
        "bookmarks.json": json.dumps({"id": "bookmarks.json", "type": "OrderedCollection",
                                      "orderedItems": bookmarks or []}).encode(),
    }
    members.update(media or {})
    members.update(extra or {})
    return members


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def targz_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def tweet(tweet_id: str, text: str, *, created_at: str = "Tue Mar 05 14:02:11 +0000 2024",
          reply_to: str | None = None, hashtags: list[str] = (), urls: list | None = None,
          media: list | None = None) -> dict:
    data = {
        "id_str": tweet_id, "id": tweet_id, "created_at": created_at, "full_text": text,
        "lang": "en", "favorite_count": "0", "retweet_count": "0",
        "entities": {"hashtags": [{"text": h, "indices": ["0", "1"]} for h in hashtags],
                     "user_mentions": [], "urls": urls or [], "symbols": []},
        "display_text_range": ["0", str(len(text))],
    }
    if reply_to:
        data.update(in_reply_to_status_id_str=reply_to, in_reply_to_status_id=reply_to,
                    in_reply_to_user_id_str="222000111", in_reply_to_screen_name="river_otter")
    if media:
        data["extended_entities"] = {"media": media}
        data["entities"]["media"] = media
    return data


def x_members(tweets: list[dict], *, naming: str = "tweets", wrap: bool = True,
              media: dict[str, bytes] | None = None, parts: list[list[dict]] = ()) -> dict[str, bytes]:
    """The ``data/`` of an X archive: ``tweets.js`` or, with ``naming="tweet"``,
    the 2019-2022 ``tweet.js`` and ``tweet_media/``."""
    def js(part: int, records: list[dict]) -> bytes:
        body = json.dumps([{"tweet": t} if wrap else t for t in records], indent=2)
        return f"window.YTD.{naming}.part{part} = {body}".encode()

    members = {f"data/{naming}.js": js(0, tweets),
               "data/manifest.js": b'window.__THAR_CONFIG = {"dataTypes": {}}',
               "data/account.js": b'window.YTD.account.part0 = [ {"account": {"username": "alice_example"}} ]',
               "Your archive.html": b"<html></html>"}
    for index, records in enumerate(parts, start=1):
        members[f"data/{naming}-part{index}.js"] = js(index, records)
    folder = "tweets_media" if naming == "tweets" else "tweet_media"
    for name, data in (media or {}).items():
        members[f"data/{folder}/{name}"] = data
    return members


def jpeg() -> bytes:
    return images.jpeg((32, 24))


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path
