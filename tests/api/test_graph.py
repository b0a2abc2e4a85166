"""The social graph through the client API: follow, follow requests, block, mute,
relationships, followers/following pages and the blocks/mutes lists."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

NOT_FOUND = {"error": "Record not found"}
OUT_OF_SCOPE = {"error": "This action is outside the authorized scopes"}
NOBODY = {"following": False, "showing_reblogs": False, "notifying": False,
          "languages": None, "followed_by": False, "blocking": False, "blocked_by": False,
          "muting": False, "muting_notifications": False, "requested": False,
          "requested_by": False, "domain_blocking": False, "endorsed": False, "note": ""}


def rel(account, **changes) -> dict:
    """The Relationship entity towards ``account`` with ``changes`` from nothing at all."""
    return {"id": str(account.pk), **NOBODY, **changes}


def counts(api, account) -> tuple[int, int]:
    data = api.get(f"/api/v1/accounts/{account.pk}").json()
    return data["followers_count"], data["following_count"]


def links(response) -> dict[str, dict[str, str]]:
    return {rel: {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
            for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.get("Link", ""))}


def walk(api, path: str, params: dict) -> list[list[str]]:
    """Follow ``rel="next"`` from ``path`` to the end; the ids of each page."""
    pages = []
    while True:
        r = api.get(path, params)
        assert r.status_code == 200, r.content
        ids = [a["id"] for a in r.json()]
        if not ids:
            assert "next" not in links(r)
            return pages
        pages.append(ids)
        params = links(r)["next"]


# --- follow, unfollow, follow requests ------------------------------------------------


def test_follow_an_unlocked_account(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    r = a.post(f"/api/v1/accounts/{bob.pk}/follow")
    assert r.status_code == 200
    assert r.json() == rel(bob, following=True, showing_reblogs=True)
    assert counts(a, bob) == (1, 0)
    assert counts(a, alice) == (0, 1)
    assert b.get("/api/v1/accounts/relationships", {"id[]": [alice.pk]}).json() == [
        rel(alice, followed_by=True)]
    # Following again changes nothing.
    assert a.post(f"/api/v1/accounts/{bob.pk}/follow").json()["following"] is True
    assert counts(a, bob) == (1, 0)


def test_follow_options_from_a_form_and_json(alice, bob, api_as):
    a = api_as(alice)
    r = a.post(f"/api/v1/accounts/{bob.pk}/follow", data={"reblogs": "false", "notify": "true"})
    assert r.json() == rel(bob, following=True, showing_reblogs=False, notifying=True)
    r = a.post(f"/api/v1/accounts/{bob.pk}/follow", json={"reblogs": True})
    assert r.json() == rel(bob, following=True, showing_reblogs=True, notifying=True)


def test_unfollow(alice, bob, api_as):
    a = api_as(alice)
    a.post(f"/api/v1/accounts/{bob.pk}/follow")
    r = a.post(f"/api/v1/accounts/{bob.pk}/unfollow")
    assert (r.status_code, r.json()) == (200, rel(bob))
    assert counts(a, bob) == (0, 0) and counts(a, alice) == (0, 0)
    assert a.post(f"/api/v1/accounts/{bob.pk}/unfollow/").json() == rel(bob)  # idempotent


def test_locked_account_gets_a_request_then_authorizes_it(alice, make_account, api_as):
    lock = make_account("lock", locked=True)
    a, lk = api_as(alice), api_as(lock)
    r = a.post(f"/api/v1/accounts/{lock.pk}/follow")
    assert r.json() == rel(lock, requested=True, showing_reblogs=True)
    assert counts(a, lock) == (0, 0)
    assert [x["id"] for x in lk.get("/api/v1/follow_requests").json()] == [str(alice.pk)]
    assert lk.get("/api/v1/accounts/verify_credentials").json()["source"]["follow_requests_count"] == 1
    assert lk.get("/api/v1/accounts/relationships", {"id[]": [alice.pk]}).json() == [
        rel(alice, requested_by=True)]
    r = lk.post(f"/api/v1/follow_requests/{alice.pk}/authorize")
    assert (r.status_code, r.json()) == (200, rel(alice, followed_by=True))
    assert a.get("/api/v1/accounts/relationships", {"id[]": [lock.pk]}).json() == [
        rel(lock, following=True, showing_reblogs=True)]
    assert counts(a, lock) == (1, 0)
    assert lk.get("/api/v1/follow_requests").json() == []
    assert lk.get("/api/v1/accounts/verify_credentials").json()["source"]["follow_requests_count"] == 0


def test_reject_a_follow_request(alice, make_account, api_as):
    lock = make_account("lock", locked=True)
    api_as(alice).post(f"/api/v1/accounts/{lock.pk}/follow")
    lk = api_as(lock)
    r = lk.post(f"/api/v1/follow_requests/{alice.pk}/reject")
    assert (r.status_code, r.json()) == (200, rel(alice))
    assert lk.get("/api/v1/follow_requests").json() == []
    assert api_as(alice).get(f"/api/v1/accounts/{lock.pk}").json()["followers_count"] == 0
    # There is nothing left to answer.
    r = lk.post(f"/api/v1/follow_requests/{alice.pk}/reject")
    assert (r.status_code, r.json()) == (404, NOT_FOUND)
    assert lk.post("/api/v1/follow_requests/notanumber/authorize").status_code == 404


def test_withdraw_a_follow_request(alice, make_account, api_as):
    lock = make_account("lock", locked=True)
    a = api_as(alice)
    a.post(f"/api/v1/accounts/{lock.pk}/follow")
    assert a.post(f"/api/v1/accounts/{lock.pk}/unfollow").json() == rel(lock)
    assert api_as(lock).get("/api/v1/follow_requests").json() == []


def test_follow_requests_page_with_link_headers(make_account, api_as):
    from tribune.graph.services import follow_create

    lock = make_account("lock", locked=True)
    askers = [make_account(f"asker{i}") for i in range(3)]
    for asker in askers:
        follow_create(account=asker, target=lock)
    pages = walk(api_as(lock), "/api/v1/follow_requests", {"limit": "2"})
    assert pages == [[str(askers[2].pk), str(askers[1].pk)], [str(askers[0].pk)]]


def test_remove_from_followers(alice, bob, api_as):
    api_as(alice).post(f"/api/v1/accounts/{bob.pk}/follow")
    b = api_as(bob)
    r = b.post(f"/api/v1/accounts/{alice.pk}/remove_from_followers")
    assert (r.status_code, r.json()) == (200, rel(alice))
    assert counts(b, bob) == (0, 0)


def test_cannot_follow_oneself(alice, api_as):
    r = api_as(alice).post(f"/api/v1/accounts/{alice.pk}/follow")
    assert r.status_code == 422
    assert r.json()["error"] == "Validation failed: You cannot follow yourself"


# --- block and mute -----------------------------------------------------------------------


def test_block_ends_follows_both_ways(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    a.post(f"/api/v1/accounts/{bob.pk}/follow")
    b.post(f"/api/v1/accounts/{alice.pk}/follow")
    assert counts(a, alice) == (1, 1)
    r = a.post(f"/api/v1/accounts/{bob.pk}/block")
    assert (r.status_code, r.json()) == (200, rel(bob, blocking=True))
    assert b.get("/api/v1/accounts/relationships", {"id[]": [alice.pk]}).json() == [
        rel(alice, blocked_by=True)]
    assert counts(a, alice) == (0, 0) and counts(a, bob) == (0, 0)
    assert [x["id"] for x in a.get("/api/v1/blocks").json()] == [str(bob.pk)]
    # The blocked account cannot follow back.
    r = b.post(f"/api/v1/accounts/{alice.pk}/follow")
    assert r.status_code == 403 and "error" in r.json()
    assert a.post(f"/api/v1/accounts/{bob.pk}/unblock").json() == rel(bob)
    assert a.get("/api/v1/blocks").json() == []


def test_block_hides_posts_both_ways(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    b.post(f"/api/v1/accounts/{alice.pk}/follow")
    sid = a.post("/api/v1/statuses", json={"status": "before the block"}).json()["id"]
    assert [s["id"] for s in b.get("/api/v1/timelines/home").json()] == [sid]
    a.post(f"/api/v1/accounts/{bob.pk}/block")
    assert b.get("/api/v1/timelines/home").json() == []
    assert b.get(f"/api/v1/statuses/{sid}").status_code == 404


def test_mute_hides_statuses_from_home_but_keeps_the_follow(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    a.post(f"/api/v1/accounts/{bob.pk}/follow")
    sid = b.post("/api/v1/statuses", json={"status": "muted soon"}).json()["id"]
    assert [s["id"] for s in a.get("/api/v1/timelines/home").json()] == [sid]
    r = a.post(f"/api/v1/accounts/{bob.pk}/mute", json={"notifications": False})
    assert r.json() == rel(bob, following=True, showing_reblogs=True, muting=True)
    assert a.get("/api/v1/timelines/home").json() == []
    assert counts(a, bob) == (1, 0)
    muted = a.get("/api/v1/mutes").json()
    assert [(m["id"], m["mute_expires_at"]) for m in muted] == [(str(bob.pk), None)]
    r = a.post(f"/api/v1/accounts/{bob.pk}/unmute")
    assert r.json() == rel(bob, following=True, showing_reblogs=True)
    assert [s["id"] for s in a.get("/api/v1/timelines/home").json()] == [sid]
    assert a.get("/api/v1/mutes").json() == []


def test_mute_with_duration_and_notifications(alice, bob, api_as):
    from datetime import datetime, timedelta

    from django.utils import timezone

    a = api_as(alice)
    before = timezone.now()
    r = a.post(f"/api/v1/accounts/{bob.pk}/mute", data={"duration": "3600"})
    assert r.json() == rel(bob, muting=True, muting_notifications=True)
    [muted] = a.get("/api/v1/mutes").json()
    ends = datetime.fromisoformat(muted["mute_expires_at"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=3599) <= ends <= timezone.now() + timedelta(seconds=3601)
    r = a.post(f"/api/v1/accounts/{bob.pk}/mute", json={"duration": -1})
    assert r.status_code == 422
    r = a.post(f"/api/v1/accounts/{bob.pk}/mute", json={"duration": "soon"})
    assert r.status_code == 422


def test_expired_mute_is_gone(alice, bob, api_as):
    from datetime import timedelta

    from django.utils import timezone

    from tribune.graph.models import Mute
    from tribune.graph.services import mute_create

    mute_create(account=alice, target=bob, duration=60)
    Mute.objects.filter(account=alice).update(expires_at=timezone.now() - timedelta(seconds=1))
    a = api_as(alice)
    assert a.get("/api/v1/mutes").json() == []
    assert a.get("/api/v1/accounts/relationships", {"id": bob.pk}).json() == [rel(bob)]


def test_blocks_and_mutes_page_with_link_headers(alice, make_account, api_as):
    from tribune.graph.services import block_create, mute_create

    others = [make_account(f"other{i}") for i in range(3)]
    for other in others:
        block_create(account=alice, target=other)
        mute_create(account=alice, target=other)
    newest_first = [str(o.pk) for o in reversed(others)]
    a = api_as(alice)
    assert walk(a, "/api/v1/blocks", {"limit": "2"}) == [newest_first[:2], newest_first[2:]]
    assert walk(a, "/api/v1/mutes", {"limit": "2"}) == [newest_first[:2], newest_first[2:]]


# --- relationships ----------------------------------------------------------------------------


def test_relationships_for_several_ids_in_order(alice, bob, carol, api_as):
    a = api_as(alice)
    a.post(f"/api/v1/accounts/{carol.pk}/follow")
    r = a.client.get(f"/api/v1/accounts/relationships?id[]={carol.pk}&id[]={bob.pk}"
                     f"&id[]=notanumber&id[]=12345&id[]={carol.pk}", **a.headers)
    assert r.status_code == 200
    assert r.json() == [rel(carol, following=True, showing_reblogs=True), rel(bob)]
    # A single id without brackets counts too; no id gives an empty list.
    assert a.get("/api/v1/accounts/relationships", {"id": bob.pk}).json() == [rel(bob)]
    assert a.get("/api/v1/accounts/relationships").json() == []


# --- followers and following ----------------------------------------------------------------


def test_followers_and_following_pages_by_link_header(alice, make_account, api_as):
    from tribune.graph.services import follow_create

    fans = [make_account(f"fan{i}") for i in range(5)]
    for fan in fans:
        follow_create(account=fan, target=alice)
        follow_create(account=alice, target=fan)
    expected = [str(f.pk) for f in reversed(fans)]  # most recent follow first
    visitor = api_as(None)
    for path in (f"/api/v1/accounts/{alice.pk}/followers", f"/api/v1/accounts/{alice.pk}/following"):
        assert walk(visitor, path, {"limit": "2"}) == [expected[:2], expected[2:4], expected[4:]]
        first = visitor.get(path, {"limit": "2"})
        assert links(first)["next"]["limit"] == "2"
        # prev from the second page comes back to the first, without repeating.
        second = visitor.get(path, links(first)["next"])
        back = visitor.get(path, links(second)["prev"])
        assert [x["id"] for x in back.json()] == expected[:2]
    assert [x["id"] for x in visitor.get(f"/api/v1/accounts/{alice.pk}/followers").json()] == expected


def test_followers_default_and_maximum_page_sizes(alice, make_account, api_as):
    from tribune.graph.services import follow_create

    for i in range(41):
        follow_create(account=make_account(f"many{i}"), target=alice)
    path = f"/api/v1/accounts/{alice.pk}/followers"
    api = api_as(alice)
    assert len(api.get(path).json()) == 40
    assert len(api.get(path, {"limit": "1000"}).json()) == 41
    assert api.get(path, {"limit": "abc"}).status_code == 422
    assert api.get(path, {"max_id": "abc"}).status_code == 422


def test_followers_hide_accounts_blocked_either_way(alice, bob, carol, make_account, api_as):
    from tribune.graph.services import block_create, follow_create

    dave = make_account("dave")
    for fan in (bob, carol, dave):
        follow_create(account=fan, target=alice)
    block_create(account=dave, target=bob)  # dave blocks bob
    path = f"/api/v1/accounts/{alice.pk}/followers"
    assert [x["acct"] for x in api_as(bob).get(path).json()] == ["carol", "bob"]
    assert [x["acct"] for x in api_as(carol).get(path).json()] == ["dave", "carol", "bob"]


# --- scopes and errors --------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["follow", "unfollow", "block", "unblock", "mute", "unmute",
                                    "remove_from_followers"])
def test_actions_need_write_scopes_and_a_token(alice, bob, api_as, action):
    r = api_as(alice, scopes="read").post(f"/api/v1/accounts/{bob.pk}/{action}")
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)
    r = api_as(None).post(f"/api/v1/accounts/{bob.pk}/{action}")
    assert (r.status_code, r.json()) == (401, {"error": "The access token is invalid"})
    r = api_as(alice).post(f"/api/v1/accounts/notanumber/{action}")
    assert (r.status_code, r.json()) == (404, NOT_FOUND)
    r = api_as(alice).post(f"/api/v1/accounts/12345/{action}")
    assert (r.status_code, r.json()) == (404, NOT_FOUND)


def test_the_follow_scope_grants_follows_blocks_and_mutes_only(alice, bob, api_as):
    api = api_as(alice, scopes="follow")
    assert api.post(f"/api/v1/accounts/{bob.pk}/follow").status_code == 200
    assert api.post(f"/api/v1/accounts/{bob.pk}/mute").status_code == 200
    assert api.post(f"/api/v1/accounts/{bob.pk}/block").status_code == 200
    for path in ("/api/v1/blocks", "/api/v1/mutes", "/api/v1/follow_requests"):
        assert api.get(path).status_code == 200, path
    r = api.post("/api/v1/statuses", json={"status": "nope"})
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)


@pytest.mark.parametrize("path, scope", [
    ("/api/v1/blocks", "read:mutes"), ("/api/v1/mutes", "read:blocks"),
    ("/api/v1/follow_requests", "read:blocks"), ("/api/v1/accounts/relationships", "read:accounts"),
])
def test_lists_need_their_own_read_scope(alice, api_as, path, scope):
    r = api_as(alice, scopes=scope).get(path)
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)
    assert api_as(None).get(path).status_code == 401
