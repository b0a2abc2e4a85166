"""Outbox, followers, following and featured collections (ActivityPub §5;
AS2 §5.3; Mastodon's layout and page size)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tribune.accounts.models import Account
from tribune.core.urls import absolute
from tribune.federation.serializers import CONTEXT
from tribune.graph.services import follow_create
from tribune.statuses.services import pin_create, reblog_create, status_create

OUTBOX = "/users/alice/outbox"


def outbox_url(**params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return absolute(f"{OUTBOX}?{query}")


def activity_ids(page: dict) -> list[str]:
    return [item["id"] for item in page["orderedItems"]]


def activity_id(status) -> str:
    return absolute(f"/users/{status.account.username}/statuses/{status.pk}/activity")


def test_outbox_counts_public_and_unlisted_posts_only(peer, alice, bob):
    status_create(account=alice, text="open")
    status_create(account=alice, text="quiet", visibility="unlisted")
    status_create(account=alice, text="friends", visibility="private")
    status_create(account=alice, text="@bob psst", visibility="direct")
    response = peer.get(OUTBOX)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/activity+json"
    assert response.json() == {
        "@context": CONTEXT, "id": absolute(OUTBOX), "type": "OrderedCollection",
        "totalItems": 2, "first": outbox_url(page="true"),
        "last": outbox_url(min_id=0, page="true")}


def test_outbox_page_holds_creates_and_announces_never_private_posts(peer, alice, bob):
    public = status_create(account=alice, text="open")
    status_create(account=alice, text="friends", visibility="private")
    unlisted = status_create(account=alice, text="quiet", visibility="unlisted")
    status_create(account=alice, text="@bob psst", visibility="direct")
    boosted = status_create(account=bob, text="bob's")
    boost = reblog_create(account=alice, status=boosted)
    bobs_private = status_create(account=bob, text="bob friends", visibility="private")
    assert bobs_private.pk  # alice cannot boost it, so it cannot be in her outbox
    body = peer.get(OUTBOX, {"page": "true"}).json()
    assert body["type"] == "OrderedCollectionPage" and body["partOf"] == absolute(OUTBOX)
    assert activity_ids(body) == [activity_id(boost), activity_id(unlisted), activity_id(public)]
    assert [item["type"] for item in body["orderedItems"]] == ["Announce", "Create", "Create"]
    text = str(body)
    assert "friends" not in text and "psst" not in text


def test_outbox_pages_by_max_id_and_min_id(peer, alice):
    posts = [status_create(account=alice, text=f"post {n}") for n in range(25)]
    newest_first = posts[::-1]
    first = peer.get(OUTBOX, {"page": "true"}).json()
    assert first["id"] == outbox_url(page="true")
    assert activity_ids(first) == [activity_id(s) for s in newest_first[:20]]
    assert first["next"] == outbox_url(max_id=newest_first[19].pk, page="true")
    assert first["prev"] == outbox_url(min_id=newest_first[0].pk, page="true")
    second = peer.get(OUTBOX, {"page": "true", "max_id": newest_first[19].pk}).json()
    assert second["id"] == outbox_url(max_id=newest_first[19].pk, page="true")
    assert activity_ids(second) == [activity_id(s) for s in newest_first[20:]]
    back = peer.get(OUTBOX, {"page": "true", "min_id": newest_first[22].pk}).json()
    assert activity_ids(back) == [activity_id(s) for s in newest_first[2:22]]
    last = peer.get(OUTBOX, {"page": "true", "min_id": 0}).json()
    assert activity_ids(last) == [activity_id(s) for s in newest_first[5:]]
    empty = peer.get(OUTBOX, {"page": "true", "max_id": posts[0].pk}).json()
    assert empty["orderedItems"] == [] and "next" not in empty and "prev" not in empty


@pytest.mark.parametrize("params", [{"max_id": "x"}, {"min_id": "-5"}, {"max_id": "1e9"}])
def test_outbox_refuses_malformed_cursors(peer, alice, params):
    assert peer.get(OUTBOX, {"page": "true", **params}).status_code == 400


def test_outbox_page_takes_the_same_queries_for_1_and_20_posts(peer, alice, bob, make_account):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert peer.get(OUTBOX, {"page": "true"}).status_code == 200
        return len(captured)

    status_create(account=alice, text="one")
    few = queries()
    for n in range(12):
        status_create(account=alice, text=f"@bob #tag{n} more {n}")
    others = [status_create(account=make_account(), text=f"other {n}") for n in range(4)]
    for other in others:
        reblog_create(account=alice, status=other)
    reply_to = status_create(account=bob, text="ask me")
    status_create(account=alice, text="@bob answer", in_reply_to_id=reply_to.pk)
    assert queries() == few


def test_followers_and_following(peer, alice, bob, carol, make_account):
    follow_create(account=bob, target=alice)
    follow_create(account=carol, target=alice)
    follow_create(account=alice, target=carol)
    gone = make_account("gone")
    follow_create(account=gone, target=alice)
    Account.objects.filter(pk=gone.pk).update(suspended_at=timezone.now())
    followers = absolute("/users/alice/followers")
    response = peer.get("/users/alice/followers")
    assert response["Content-Type"] == "application/activity+json"
    assert response.json() == {"@context": CONTEXT, "id": followers,
                               "type": "OrderedCollection", "totalItems": 2,
                               "first": f"{followers}?page=1"}
    page = peer.get("/users/alice/followers", {"page": 1}).json()
    assert page["type"] == "OrderedCollectionPage" and page["partOf"] == followers
    assert page["orderedItems"] == [absolute("/users/carol"), absolute("/users/bob")]
    assert "next" not in page and "prev" not in page
    following = peer.get("/users/alice/following", {"page": 1}).json()
    assert following["totalItems"] == 1
    assert following["orderedItems"] == [absolute("/users/carol")]


def test_follows_pages_of_twenty(peer, alice, make_account):
    fans = [make_account(f"fan{n}") for n in range(23)]
    for fan in fans:
        follow_create(account=fan, target=alice)

    def count_queries(page: int) -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as captured:
            body = peer.get("/users/alice/followers", {"page": page}).json()
        return len(captured), body

    first_queries, first = count_queries(1)
    second_queries, second = count_queries(2)
    assert first["orderedItems"] == [absolute(f"/users/fan{n}") for n in range(22, 2, -1)]
    assert first["next"] == absolute("/users/alice/followers?page=2")
    assert second["orderedItems"] == [absolute(f"/users/fan{n}") for n in range(2, -1, -1)]
    assert second["prev"] == absolute("/users/alice/followers?page=1")
    assert first_queries == second_queries


@pytest.mark.parametrize("page", ["0", "-1", "x", "10001"])
def test_follows_refuse_bad_pages(peer, alice, page):
    assert peer.get("/users/alice/followers", {"page": page}).status_code == 400


def test_featured_holds_pinned_public_and_unlisted_notes(peer, alice):
    older = status_create(account=alice, text="pinned first")
    newer = status_create(account=alice, text="pinned second", visibility="unlisted")
    secret = status_create(account=alice, text="pinned friends", visibility="private")
    status_create(account=alice, text="not pinned")
    for status in (older, newer, secret):
        pin_create(account=alice, status=status)
    featured = absolute("/users/alice/collections/featured")
    body = peer.get("/users/alice/collections/featured").json()
    assert (body["id"], body["type"], body["totalItems"]) == (featured, "OrderedCollection", 2)
    assert [(n["type"], n["id"]) for n in body["orderedItems"]] == [
        ("Note", absolute(f"/users/alice/statuses/{newer.pk}")),
        ("Note", absolute(f"/users/alice/statuses/{older.pk}"))]


@pytest.mark.parametrize("path", ["outbox", "followers", "following", "collections/featured"])
def test_collections_of_hidden_accounts_are_404(peer, alice, path):
    Account.objects.filter(pk=alice.pk).update(suspended_at=timezone.now())
    assert peer.get(f"/users/alice/{path}").status_code == 404
    assert peer.get(f"/users/nobody/{path}").status_code == 404
