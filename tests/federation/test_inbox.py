"""The inboxes: signed activities from a remote server on loopback, whose actor
document (and key) the instance fetches from it, and to whose inbox it delivers."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from tests.federation.peers import actor_document, key_pair
from tribune.federation.actors import remote_actor_fetch
from tribune.federation.keys import actor_key_get_or_create
from tribune.federation.signatures import sign_request, verify_request
from tribune.graph.models import Follow, FollowRequest

ZED = "https://remote.test/users/zed"
KEY_ID = f"{ZED}#main-key"
HOST = urlsplit(settings.TRIBUNE_BASE_URL).netloc


def post(path: str, activity, *, private_pem: str, key_id: str = KEY_ID,
         body: bytes | None = None, tamper: bytes | None = None):
    """POST ``activity`` to ``path`` signed with ``private_pem``; ``tamper``
    replaces the body after signing."""
    body = body if body is not None else json.dumps(activity).encode()
    headers = sign_request(method="POST", url=f"{settings.TRIBUNE_BASE_URL}{path}",
                           body=body, key_id=key_id, private_key_pem=private_pem,
                           headers={"Content-Type": "application/activity+json"})
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value
             for name, value in headers.items() if name not in ("Content-Type", "Host")}
    return Client(HTTP_HOST=HOST).post(path, tamper if tamper is not None else body,
                                       content_type="application/activity+json", **extra)


def follow(target: str, *, follow_id: str = "https://remote.test/follows/1") -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": follow_id,
            "type": "Follow", "actor": ZED, "object": f"{settings.TRIBUNE_BASE_URL}{target}"}


def test_a_follow_is_made_and_accepted_to_the_followers_inbox(
        zed, zed_keys, alice, django_capture_on_commit_callbacks):
    private, _public = zed_keys
    with django_capture_on_commit_callbacks(execute=True):
        response = post("/users/alice/inbox", follow("/users/alice"), private_pem=private)
    assert response.status_code == 202, response.content
    assert Follow.objects.filter(account__uri=ZED, target=alice).exists()
    alice.refresh_from_db()
    assert alice.followers_count == 1
    (delivery,) = [r for r in zed.received if r.method == "POST"]
    assert delivery.path == "/users/zed/inbox"
    accept = json.loads(delivery.body)
    alice_uri = f"{settings.TRIBUNE_BASE_URL}/users/alice"
    assert accept["type"] == "Accept" and accept["actor"] == alice_uri
    assert accept["object"] == {"id": "https://remote.test/follows/1", "type": "Follow",
                                "actor": ZED, "object": alice_uri}
    params = verify_request(method="POST", target="/users/zed/inbox", headers=delivery.headers,
                            body=delivery.body,
                            public_key_pem=actor_key_get_or_create(account=alice).public_key_pem)
    assert params.key_id == f"{alice_uri}#main-key"


def test_a_remote_follower_gets_no_home_feed_here(zed, zed_keys, alice,
                                                  django_capture_on_commit_callbacks):
    from tribune.accounts.models import Account
    from tribune.statuses.services import status_create
    from tribune.timelines.feeds import feed_store

    private, _public = zed_keys
    with django_capture_on_commit_callbacks(execute=True):
        status_create(account=alice, text="before the follow")
    with django_capture_on_commit_callbacks(execute=True):
        post("/users/alice/inbox", follow("/users/alice"), private_pem=private)
    assert feed_store().entries(account_id=Account.objects.get(uri=ZED).pk) == []


def test_the_shared_inbox_takes_a_follow_too(zed, zed_keys, alice,
                                             django_capture_on_commit_callbacks):
    private, _public = zed_keys
    with django_capture_on_commit_callbacks(execute=True):
        assert post("/inbox", follow("/users/alice"), private_pem=private).status_code == 202
    assert Follow.objects.filter(account__uri=ZED, target=alice).exists()


def test_a_follow_of_a_locked_account_waits_and_nothing_is_delivered(
        zed, zed_keys, make_account, django_capture_on_commit_callbacks):
    private, _public = zed_keys
    locked = make_account("lou", locked=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert post("/users/lou/inbox", follow("/users/lou"), private_pem=private).status_code == 202
    assert FollowRequest.objects.filter(account__uri=ZED, target=locked).exists()
    assert not Follow.objects.exists()
    # zed's actor, then its collections for its counts; nothing posted (no Accept).
    assert [r.path for r in zed.received] == ["/users/zed", "/users/zed/outbox",
                                              "/users/zed/followers"]
    assert {r.method for r in zed.received} == {"GET"}


def test_accepting_the_request_later_delivers_the_accept(
        zed, zed_keys, make_account, django_capture_on_commit_callbacks):
    from tribune.accounts.models import Account
    from tribune.graph.services import follow_request_authorize

    private, _public = zed_keys
    locked = make_account("lou", locked=True)
    with django_capture_on_commit_callbacks(execute=True):
        post("/users/lou/inbox", follow("/users/lou"), private_pem=private)
    with django_capture_on_commit_callbacks(execute=True):
        follow_request_authorize(account=locked, requester=Account.objects.get(uri=ZED))
    (delivery,) = [r for r in zed.received if r.method == "POST"]
    lou_uri = f"{settings.TRIBUNE_BASE_URL}/users/lou"
    assert json.loads(delivery.body)["object"] == {"type": "Follow", "actor": ZED,
                                                   "object": lou_uri}
    assert Follow.objects.filter(account__uri=ZED, target=locked).exists()


def test_rejecting_the_request_or_removing_the_follower_delivers_a_reject(
        zed, zed_keys, make_account, django_capture_on_commit_callbacks):
    """A remote follower's server is told when its follow is turned down (a request
    rejected, a follower removed), else it shows the follow pending or made for
    ever (Mastodon's RejectFollowService and RemoveFromFollowersService)."""
    from tribune.accounts.models import Account
    from tribune.graph.services import (
        follow_request_authorize,
        follow_request_reject,
        follower_remove,
    )

    private, _public = zed_keys
    locked = make_account("lou", locked=True)
    lou_uri = f"{settings.TRIBUNE_BASE_URL}/users/lou"
    for turn_down in ("reject", "remove"):
        zed.received.clear()
        with django_capture_on_commit_callbacks(execute=True):
            post("/users/lou/inbox", follow("/users/lou"), private_pem=private)
        zed_account = Account.objects.get(uri=ZED)
        with django_capture_on_commit_callbacks(execute=True):
            if turn_down == "reject":
                follow_request_reject(account=locked, requester=zed_account)
            else:
                follow_request_authorize(account=locked, requester=zed_account)
                follower_remove(account=locked, follower=zed_account)
        sent = [json.loads(r.body) for r in zed.received if r.method == "POST"]
        assert sent[-1]["type"] == "Reject" and sent[-1]["actor"] == lou_uri
        assert sent[-1]["object"] == {"type": "Follow", "actor": ZED, "object": lou_uri}
        assert not Follow.objects.filter(account__uri=ZED, target=locked).exists()
        assert not FollowRequest.objects.filter(account__uri=ZED, target=locked).exists()


def test_undo_ends_the_follow(zed, zed_keys, alice, django_capture_on_commit_callbacks):
    private, _public = zed_keys
    with django_capture_on_commit_callbacks(execute=True):
        post("/users/alice/inbox", follow("/users/alice"), private_pem=private)
        undo = {"id": "https://remote.test/follows/1/undo", "type": "Undo", "actor": ZED,
                "object": follow("/users/alice")}
        assert post("/users/alice/inbox", undo, private_pem=private).status_code == 202
    assert not Follow.objects.exists()
    alice.refresh_from_db()
    assert alice.followers_count == 0


def test_an_unsigned_post_is_401_and_fetches_nothing(zed, alice):
    response = Client(HTTP_HOST=HOST).post("/users/alice/inbox",
                                           json.dumps(follow("/users/alice")),
                                           content_type="application/activity+json")
    assert response.status_code == 401
    assert "not signed" in response.json()["error"]
    assert zed.received == [] and not Follow.objects.exists()


def test_a_body_changed_after_signing_is_401(zed, zed_keys, alice):
    private, _public = zed_keys
    activity = follow("/users/alice")
    tampered = json.dumps({**activity, "object": f"{settings.TRIBUNE_BASE_URL}/users/bob"})
    response = post("/users/alice/inbox", activity, private_pem=private,
                    tamper=tampered.encode())
    assert response.status_code == 401
    assert response.json() == {"error": "the Digest header does not match the body"}
    assert not Follow.objects.exists()


def test_a_key_that_is_not_the_actors_is_401(zed, zed_keys, alice):
    private, _public = zed_keys
    forged = {**follow("/users/alice"), "actor": "https://remote.test/users/bob"}
    response = post("/users/alice/inbox", forged, private_pem=private)
    assert response.status_code == 401
    assert response.json() == {"error": "the signing key does not belong to the activity's actor"}
    assert not Follow.objects.exists()


def test_another_private_key_is_401(zed, alice):
    other_private, _other_public = key_pair()
    response = post("/users/alice/inbox", follow("/users/alice"), private_pem=other_private)
    assert response.status_code == 401
    assert response.json() == {"error": "the signature does not match the key"}
    # the stored key did not verify, so the actor was fetched once more
    assert [r.path for r in zed.received] == ["/users/zed", "/users/zed"]


def test_a_changed_key_is_fetched_again_once(zed, alice, django_capture_on_commit_callbacks):
    remote_actor_fetch(ZED)  # the key of the zed fixture is stored
    new_private, new_public = key_pair()
    zed.json("/users/zed", actor_document("zed", new_public))
    with django_capture_on_commit_callbacks(execute=True):
        response = post("/users/alice/inbox", follow("/users/alice"), private_pem=new_private)
    assert response.status_code == 202
    assert Follow.objects.filter(account__uri=ZED, target=alice).exists()


# Nested deeper than Python's parser follows: a RecursionError once made it a 500.
DEEP = b'{"a":' * 20_000 + b"1" + b"}" * 20_000


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"no": "type"}', DEEP])
def test_a_signed_body_that_is_not_an_activity_is_400(zed, zed_keys, alice, body):
    private, _public = zed_keys
    response = post("/users/alice/inbox", None, private_pem=private, body=body)
    assert response.status_code == 400
    assert "error" in response.json()


def test_other_types_are_accepted_and_ignored(zed, zed_keys, alice):
    private, _public = zed_keys
    like = {"id": "https://remote.test/likes/1", "type": "Like", "actor": ZED,
            "object": f"{settings.TRIBUNE_BASE_URL}/users/alice/statuses/1"}
    assert post("/inbox", like, private_pem=private).status_code == 202
    strange = {"type": "Undo", "actor": ZED, "object": "https://remote.test/follows/1"}
    assert post("/inbox", strange, private_pem=private).status_code == 202
    nobody = follow("/users/nobody")
    assert post("/inbox", nobody, private_pem=private).status_code == 202
    assert not Follow.objects.exists()


def test_an_undo_of_someone_elses_follow_changes_nothing(
        zed, zed_keys, alice, django_capture_on_commit_callbacks):
    private, _public = zed_keys
    with django_capture_on_commit_callbacks(execute=True):
        post("/users/alice/inbox", follow("/users/alice"), private_pem=private)
        undo = {"type": "Undo", "actor": ZED,
                "object": {**follow("/users/alice"), "actor": "https://remote.test/users/al"}}
        assert post("/inbox", undo, private_pem=private).status_code == 202
    assert Follow.objects.filter(account__uri=ZED).exists()


def test_a_body_over_one_mebibyte_is_413(zed, zed_keys, alice):
    private, _public = zed_keys
    body = json.dumps({**follow("/users/alice"), "pad": "x" * (1024 * 1024)}).encode()
    response = post("/users/alice/inbox", None, private_pem=private, body=body)
    assert response.status_code == 413
    assert zed.received == []


def test_a_key_server_that_cannot_answer_now_is_503(remote, zed_keys, alice):
    private, _public = zed_keys
    remote.json("/users/zed", {"error": "busy"}, status=503)
    response = post("/users/alice/inbox", follow("/users/alice"), private_pem=private)
    assert response.status_code == 503
    assert "cannot be fetched now" in response.json()["error"]


def test_the_inbox_of_an_unknown_account_is_404_and_get_is_405(zed, zed_keys, db):
    private, _public = zed_keys
    assert post("/users/nobody/inbox", follow("/users/nobody"),
                private_pem=private).status_code == 404
    assert Client(HTTP_HOST=HOST).get("/inbox").status_code == 405
