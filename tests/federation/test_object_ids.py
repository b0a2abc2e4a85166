"""An object fetched from another server is the one its ``id`` names only when it
is served at that very address (../shared/cases FED-02): a redirect to an upload,
or another path of the same host, must not pass for it; a second fetch of the
``id`` settles it, as Mastodon's FetchResourceService does."""

from __future__ import annotations

import pytest

from tribune.federation.notes import NoteRefused, note_fetch
from tribune.statuses.models import Status

ZED = "https://remote.test/users/zed"


def note(number: int) -> dict:
    uri = f"{ZED}/statuses/{number}"
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": uri, "type": "Note",
            "attributedTo": ZED, "content": "<p>Hello</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "published": "2026-11-30T10:00:00Z"}


def test_a_redirect_to_an_upload_claiming_another_id_is_refused(zed, db):
    forged = {**note(999), "content": "<p>forged</p>"}
    zed.routes["/notes/redir"] = (302, {"Location": "https://remote.test/uploads/abc"}, b"")
    zed.json("/uploads/abc", forged)  # and /users/zed/statuses/999 answers 404
    with pytest.raises(NoteRefused):
        note_fetch("https://remote.test/notes/redir")
    assert not Status.objects.filter(uri=forged["id"]).exists()


def test_another_path_of_the_host_claiming_an_id_it_does_not_serve_is_refused(zed, db):
    zed.json("/notes/diffpath", note(7))  # /users/zed/statuses/7 answers 404
    with pytest.raises(NoteRefused):
        note_fetch("https://remote.test/notes/diffpath")
    assert not Status.objects.filter(uri=f"{ZED}/statuses/7").exists()


def test_an_alias_address_is_followed_to_the_object_at_its_own_id(zed, db):
    zed.json("/@zed/8", note(8))
    zed.json("/users/zed/statuses/8", note(8))
    stored = note_fetch("https://remote.test/@zed/8")
    assert stored.uri == f"{ZED}/statuses/8"
    assert [r.path for r in zed.received if r.path.startswith(("/@zed", "/users/zed/statuses"))] \
        == ["/@zed/8", "/users/zed/statuses/8"]
