"""Following a remote account: the Follow goes out signed to its inbox and the
follow stays requested until its server accepts; Reject and Undo; and
``@user@domain`` resolved through WebFinger, checked against the actor."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from tests.federation.peers import actor_document
from tests.federation.test_inbox import ZED, post
from tribune.accounts.models import Account
from tribune.federation.actors import remote_actor_fetch
from tribune.federation.keys import actor_key_get_or_create
from tribune.federation.signatures import verify_request
from tribune.graph.models import Follow, FollowRequest
from tribune.graph.services import follow_create, follow_delete

ALICE = f"{settings.TRIBUNE_BASE_URL}/users/alice"


def deliveries(peer, path="/users/zed/inbox"):
    return [json.loads(r.body) for r in peer.received if r.method == "POST" and r.path == path]


@pytest.fixture
def zed_account(zed, db):
    return remote_actor_fetch(ZED).account


def test_following_a_remote_account_sends_a_signed_follow_and_waits(
        zed, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    api = api_as(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/accounts/{zed_account.pk}/follow")
    assert response.status_code == 200, response.content
    assert response.json()["requested"] is True and response.json()["following"] is False
    assert FollowRequest.objects.filter(account=alice, target=zed_account).exists()
    (request,) = [r for r in zed.received if r.method == "POST"]
    follow = json.loads(request.body)
    assert follow["type"] == "Follow" and follow["actor"] == ALICE and follow["object"] == ZED
    assert follow["id"] == f"{ALICE}#follows/{zed_account.pk}"
    params = verify_request(method="POST", target="/users/zed/inbox", headers=request.headers,
                            body=request.body,
                            public_key_pem=actor_key_get_or_create(account=alice).public_key_pem)
    assert params.key_id == f"{ALICE}#main-key"
    # no notification for the remote account: its server has its own
    from tribune.notifications.models import Notification
    assert not Notification.objects.exists()


def _accept(zed_account, obj):
    return {"id": "https://remote.test/accepts/1", "type": "Accept", "actor": ZED, "object": obj}


@pytest.mark.parametrize("shape", ["restated", "by id"])
def test_an_accept_makes_the_follow(zed, zed_keys, zed_account, alice, shape,
                                    django_capture_on_commit_callbacks):
    private, _public = zed_keys
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=zed_account)
    sent = deliveries(zed)[0]
    obj = {"id": sent["id"], "type": "Follow", "actor": ALICE, "object": ZED} \
        if shape == "restated" else sent["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = post("/users/alice/inbox", _accept(zed_account, obj), private_pem=private)
    assert response.status_code == 202
    assert Follow.objects.filter(account=alice, target=zed_account).exists()
    assert not FollowRequest.objects.exists()
    alice.refresh_from_db()
    zed_account.refresh_from_db()
    assert (alice.following_count, zed_account.followers_count) == (1, 1)


def test_an_accept_of_a_follow_of_someone_else_changes_nothing(
        zed, zed_keys, zed_account, alice, make_account,
        django_capture_on_commit_callbacks):
    other = Account.objects.create(uri="https://remote.test/users/yan", username="yan",
                                   domain="remote.test", created_at=zed_account.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=other)
    # zed accepts alice's request to follow yan: not zed's to accept
    forged = {"type": "Follow", "actor": ALICE, "object": other.uri}
    assert post("/users/alice/inbox", _accept(zed_account, forged),
                private_pem=zed_keys[0]).status_code == 202
    forged_id = f"{ALICE}#follows/{other.pk}"
    assert post("/users/alice/inbox", _accept(zed_account, forged_id),
                private_pem=zed_keys[0]).status_code == 202
    assert not Follow.objects.exists()
    assert FollowRequest.objects.filter(account=alice, target=other).exists()


def test_a_reject_ends_the_request_and_the_follow(zed, zed_keys, zed_account, alice,
                                                  django_capture_on_commit_callbacks):
    private, _public = zed_keys
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=zed_account)
    reject = {"id": "https://remote.test/rejects/1", "type": "Reject", "actor": ZED,
              "object": {"type": "Follow", "actor": ALICE, "object": ZED}}
    with django_capture_on_commit_callbacks(execute=True):
        assert post("/users/alice/inbox", reject, private_pem=private).status_code == 202
    assert not FollowRequest.objects.exists() and not Follow.objects.exists()
    # accepted, then rejected: the follow ends and the counters go back
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=zed_account)
        post("/users/alice/inbox", _accept(zed_account, f"{ALICE}#follows/{zed_account.pk}"),
             private_pem=private)
    assert Follow.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        post("/users/alice/inbox", reject, private_pem=private)
    assert not Follow.objects.exists()
    alice.refresh_from_db()
    assert alice.following_count == 0


def test_unfollowing_sends_undo(zed, zed_keys, zed_account, alice,
                                django_capture_on_commit_callbacks):
    private, _public = zed_keys
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=zed_account)
    with django_capture_on_commit_callbacks(execute=True):
        post("/users/alice/inbox", _accept(zed_account, f"{ALICE}#follows/{zed_account.pk}"),
             private_pem=private)
    with django_capture_on_commit_callbacks(execute=True):
        follow_delete(account=alice, target=zed_account)
    follow, undo = deliveries(zed)
    assert undo["type"] == "Undo" and undo["actor"] == ALICE
    assert undo["object"]["id"] == follow["id"] and undo["object"]["type"] == "Follow"
    assert undo["object"]["object"] == ZED


def test_withdrawing_a_request_sends_undo(zed, zed_account, alice,
                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=zed_account)
    with django_capture_on_commit_callbacks(execute=True):
        follow_delete(account=alice, target=zed_account)
    assert [d["type"] for d in deliveries(zed)] == ["Follow", "Undo"]


# --- resolving @user@domain -----------------------------------------------------------


def jrd(username, href, *, host="remote.test"):
    return {"subject": f"acct:{username}@{host}",
            "links": [{"rel": "self", "type": "application/activity+json", "href": href}]}


def serve_webfinger(peer, username, href, *, host="remote.test"):
    peer.json(f"/.well-known/webfinger?resource=acct:{username}@{host}", jrd(username, href,
              host=host), content_type="application/jrd+json")


def test_lookup_resolves_a_remote_handle_through_webfinger(zed, alice, api_as):
    serve_webfinger(zed, "zed", ZED)
    response = api_as(alice).get("/api/v1/accounts/lookup", {"acct": "@zed@remote.test"})
    assert response.status_code == 200, response.content
    assert response.json()["acct"] == "zed@remote.test"
    assert response.json()["url"] == "https://remote.test/@zed"
    assert Account.objects.get(uri=ZED).remote_actor.inbox == f"{ZED}/inbox"


def test_search_with_resolve_finds_the_remote_account(zed, alice, api_as):
    serve_webfinger(zed, "zed", ZED)
    api = api_as(alice)
    assert api.get("/api/v2/search", {"q": "@zed@remote.test"}).json()["accounts"] == []
    found = api.get("/api/v2/search", {"q": "@zed@remote.test", "resolve": "true"}).json()
    assert [a["acct"] for a in found["accounts"]] == ["zed@remote.test"]


def test_a_webfinger_answer_naming_another_account_is_refused(zed, alice, api_as):
    # mallory's WebFinger names zed's actor, and zed's handle does not confirm it
    serve_webfinger(zed, "mallory", ZED)
    response = api_as(alice).get("/api/v1/accounts/lookup", {"acct": "mallory@remote.test"})
    assert response.status_code == 404
    assert not Account.objects.filter(uri=ZED).exists()


def test_an_actor_on_another_host_must_be_confirmed_by_its_own_webfinger(
        zed, zed_keys, alice, api_as, settings):
    # remote.test's WebFinger sends to an actor served by other.test (the same peer
    # under a second name), whose own WebFinger does not know it
    settings.TRIBUNE_DEV_PEERS = {**settings.TRIBUNE_DEV_PEERS,
                                  "other.test": (zed.address, zed.port)}
    other = "https://other.test/users/zed"
    zed.json("/users/zed", actor_document("zed", zed_keys[1], host="other.test"))
    serve_webfinger(zed, "zed", other)
    assert api_as(alice).get("/api/v1/accounts/lookup",
                             {"acct": "zed@remote.test"}).status_code == 404
    serve_webfinger(zed, "zed", other, host="other.test")
    response = api_as(alice).get("/api/v1/accounts/lookup", {"acct": "zed@remote.test"})
    assert response.status_code == 200
    assert response.json()["acct"] == "zed@other.test"


def test_an_unknown_handle_is_404(zed, alice, api_as):
    assert api_as(alice).get("/api/v1/accounts/lookup",
                             {"acct": "nobody@remote.test"}).status_code == 404


def test_a_visitor_lookup_does_not_fetch(zed, api_as, db):
    serve_webfinger(zed, "zed", ZED)
    assert api_as().get("/api/v1/accounts/lookup", {"acct": "zed@remote.test"}).status_code == 404
    assert zed.received == []
