"""Visibility rules through every read endpoint.

A private post is seen only by the author and accepted followers; a direct post only
by the author and the mentioned accounts; blocked accounts see nothing of each other.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def _all_status_ids(api, account_ids: list[int], status_id: str, tag: str) -> set[str]:
    """Every status id ``api`` can reach through the read endpoints."""
    seen: set[str] = set()

    def collect(items):
        for item in items:
            if not isinstance(item, dict):
                continue
            for key in ("id",):
                if "content" in item:
                    seen.add(item[key])
            if item.get("reblog"):
                seen.add(item["reblog"]["id"])
            if item.get("status"):
                seen.add(item["status"]["id"])
                if item["status"].get("reblog"):
                    seen.add(item["status"]["reblog"]["id"])

    paths = ["/api/v1/timelines/home", "/api/v1/timelines/public", f"/api/v1/timelines/tag/{tag}",
             "/api/v1/favourites", "/api/v1/bookmarks", "/api/v1/notifications"]
    paths += [f"/api/v1/accounts/{a}/statuses" for a in account_ids]
    for path in paths:
        r = api.get(path)
        if r.status_code == 200:
            collect(r.json())
    one = api.get(f"/api/v1/statuses/{status_id}")
    if one.status_code == 200:
        seen.add(one.json()["id"])
    for sub in ("context", "favourited_by", "reblogged_by", "history"):
        r = api.get(f"/api/v1/statuses/{status_id}/{sub}")
        if r.status_code == 200:
            seen.add(status_id)
    return seen


def test_private_post_only_reaches_followers(alice, bob, carol, api_as, make_account):
    from tribune.graph.services import follow_create

    follow_create(account=bob, target=alice)  # bob follows; carol does not
    a = api_as(alice)
    root = a.post("/api/v1/statuses", json={"status": "public root #sekrit"}).json()["id"]
    private = a.post("/api/v1/statuses", json={
        "status": "@carol followers only #sekrit", "visibility": "private", "in_reply_to_id": root,
    }).json()["id"]
    api_as(bob).post(f"/api/v1/statuses/{private}/favourite")
    ids = [alice.pk, bob.pk, carol.pk]
    assert private in _all_status_ids(api_as(bob), ids, private, "sekrit")
    # Carol does not follow but is mentioned: the mention grants her the post
    # (Mastodon's StatusPolicy#private?).
    assert private in _all_status_ids(api_as(carol), ids, private, "sekrit")
    dave = make_account("dave")
    hidden = _all_status_ids(api_as(dave), ids, private, "sekrit")
    assert private not in hidden
    assert private not in _all_status_ids(api_as(None), ids, private, "sekrit")
    ctx = api_as(dave).get(f"/api/v1/statuses/{root}/context").json()
    assert ctx["descendants"] == []
    assert api_as(dave).get(f"/api/v1/statuses/{private}/favourited_by").status_code == 404


def test_direct_post_only_reaches_mentioned(alice, bob, carol, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=carol, target=alice)  # a follower who is not mentioned
    sid = api_as(alice).post("/api/v1/statuses", json={
        "status": "@bob just us #dm", "visibility": "direct"}).json()["id"]
    ids = [alice.pk, bob.pk, carol.pk]
    assert sid in _all_status_ids(api_as(bob), ids, sid, "dm")
    assert sid not in _all_status_ids(api_as(carol), ids, sid, "dm")
    assert sid not in _all_status_ids(api_as(None), ids, sid, "dm")
    notes = api_as(bob).get("/api/v1/notifications")
    if notes.status_code == 200:
        assert [n["status"]["id"] for n in notes.json() if n["type"] == "mention"] == [sid]


def test_blocked_accounts_see_nothing_of_each_other(alice, bob, api_as):
    from tribune.graph.services import block_create, follow_create

    follow_create(account=bob, target=alice)
    a, b = api_as(alice), api_as(bob)
    from_alice = a.post("/api/v1/statuses", json={"status": "by alice #blk"}).json()["id"]
    from_bob = b.post("/api/v1/statuses", json={"status": "by bob #blk"}).json()["id"]
    block_create(account=alice, target=bob)
    ids = [alice.pk, bob.pk]
    assert from_alice not in _all_status_ids(b, ids, from_alice, "blk")
    assert from_bob not in _all_status_ids(a, ids, from_bob, "blk")
    # Interactions are refused too.
    assert b.post(f"/api/v1/statuses/{from_alice}/favourite").status_code == 404
    assert b.post("/api/v1/statuses", json={"status": "x", "in_reply_to_id": from_alice}).status_code == 404


def test_reblog_of_blocked_author_is_hidden(alice, bob, carol, api_as):
    from tribune.graph.services import block_create, follow_create

    follow_create(account=alice, target=bob)
    sid = api_as(carol).post("/api/v1/statuses", json={"status": "carol"}).json()["id"]
    api_as(bob).post(f"/api/v1/statuses/{sid}/reblog")
    block_create(account=alice, target=carol)
    home = api_as(alice).get("/api/v1/timelines/home").json()
    assert all((s.get("reblog") or {}).get("id") != sid for s in home)
