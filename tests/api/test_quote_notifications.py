"""The notifications of quote posts (Mastodon 4.5): ``quote`` to the quoted post's
author, ``quoted_update`` to those quoting a post that is edited."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_quote_and_quoted_update_notifications(alice, bob, carol, api_as):
    a, b, c = api_as(alice), api_as(bob), api_as(carol)
    original = b.post("/api/v1/statuses", json={"status": "to be quoted"}).json()
    quoting = a.post(
        "/api/v1/statuses",
        json={"status": "quoting", "quoted_status_id": original["id"]},
    ).json()
    notes = b.get("/api/v1/notifications").json()
    assert [(n["type"], n["account"]["acct"], n["status"]["id"]) for n in notes] == [
        ("quote", "alice", quoting["id"])
    ]
    assert notes[0]["status"]["quote"]["quoted_status"]["id"] == original["id"]
    # Quoting one's own post notifies nobody.
    b.post(
        "/api/v1/statuses", json={"status": "me", "quoted_status_id": original["id"]}
    )
    assert len(b.get("/api/v1/notifications").json()) == 1

    b.put(f"/api/v1/statuses/{original['id']}", json={"status": "to be quoted, edited"})
    notes = a.get("/api/v1/notifications").json()
    assert [(n["type"], n["account"]["acct"], n["status"]["id"]) for n in notes] == [
        ("quoted_update", "bob", quoting["id"])
    ]
    assert "edited" in notes[0]["status"]["quote"]["quoted_status"]["content"]
    assert c.get("/api/v1/notifications").json() == []

    # A revoked quote hears of no more edits.
    b.post(f"/api/v1/statuses/{original['id']}/quotes/{quoting['id']}/revoke")
    b.put(f"/api/v1/statuses/{original['id']}", json={"status": "edited twice"})
    assert len(a.get("/api/v1/notifications").json()) == 1
