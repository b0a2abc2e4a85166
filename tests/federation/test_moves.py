"""Account moves over federation: a Move from another server is taken only
from the old account itself and only to an account that names it in
``alsoKnownAs`` (fetched from its origin); a local account's move goes out to
its followers' servers; followers here follow the new account."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from tests.federation.peers import actor_document, key_pair
from tests.federation.test_inbox import ZED, post
from tribune.accounts.models import Account
from tribune.core.errors import ValidationFailed
from tribune.federation.actors import remote_actor_fetch
from tribune.federation.moves import account_move
from tribune.graph.models import Follow, FollowRequest
from tribune.graph.services import follow_create, follow_request_authorize

YAN = "https://remote.test/users/yan"
ALICE = f"{settings.TRIBUNE_BASE_URL}/users/alice"


def move(old: str, target: str, *, actor: str | None = None) -> dict:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{old}#moves/1",
        "type": "Move",
        "actor": actor or old,
        "object": old,
        "target": target,
    }


def posted(peer):
    return [(r.path, json.loads(r.body)) for r in peer.received if r.method == "POST"]


@pytest.fixture
def yan_keys():
    return key_pair()


def serve_yan(zed, yan_keys, **extra):
    zed.json("/users/yan", actor_document("yan", yan_keys[1], **extra))
    zed.routes["/users/yan/inbox"] = (202, {}, b"")
    zed.routes["/inbox"] = (202, {}, b"")


@pytest.fixture
def bob_follows_zed(zed, bob, db):
    """bob (local) follows zed@remote.test, accepted."""
    zed_account = remote_actor_fetch(ZED).account
    follow_create(account=bob, target=zed_account)
    follow_request_authorize(account=zed_account, requester=bob)
    zed.received.clear()
    return zed_account


def test_a_move_to_an_account_that_names_the_old_one_moves_the_followers(
    zed, zed_keys, yan_keys, bob, bob_follows_zed, django_capture_on_commit_callbacks
):
    serve_yan(zed, yan_keys, alsoKnownAs=[ZED])
    with django_capture_on_commit_callbacks(execute=True):
        response = post("/inbox", move(ZED, YAN), private_pem=zed_keys[0])
    assert response.status_code == 202, response.content
    bob_follows_zed.refresh_from_db()
    assert bob_follows_zed.moved_to_uri == YAN
    yan = Account.objects.get(uri=YAN)
    # bob asked to follow yan (a remote account answers with an Accept) and left zed
    assert FollowRequest.objects.filter(account=bob, target=yan).exists()
    assert not Follow.objects.filter(account=bob, target=bob_follows_zed).exists()
    sent = {(path, doc["type"], json.dumps(doc["object"])) for path, doc in posted(zed)}
    assert ("/users/yan/inbox", "Follow", json.dumps(YAN)) in sent
    assert any(kind == "Undo" and path == "/users/zed/inbox" for path, kind, _o in sent)
    # yan's document was fetched from its origin to check the alias
    assert [r.path for r in zed.received if r.method == "GET"].count("/users/yan") >= 1


def test_a_move_to_an_account_that_does_not_name_the_old_one_is_refused(
    zed, zed_keys, yan_keys, bob, bob_follows_zed, django_capture_on_commit_callbacks
):
    serve_yan(zed, yan_keys)  # no alsoKnownAs
    with django_capture_on_commit_callbacks(execute=True):
        response = post("/inbox", move(ZED, YAN), private_pem=zed_keys[0])
    assert response.status_code == 202
    bob_follows_zed.refresh_from_db()
    assert bob_follows_zed.moved_to_uri == ""
    assert Follow.objects.filter(account=bob, target=bob_follows_zed).exists()
    assert posted(zed) == []


def test_the_target_is_fetched_anew_not_taken_from_what_was_stored(
    zed, zed_keys, yan_keys, bob, bob_follows_zed, django_capture_on_commit_callbacks
):
    serve_yan(zed, yan_keys, alsoKnownAs=[ZED])
    remote_actor_fetch(YAN)  # known here while it named zed
    serve_yan(zed, yan_keys, alsoKnownAs=[])  # and no longer does
    with django_capture_on_commit_callbacks(execute=True):
        post("/inbox", move(ZED, YAN), private_pem=zed_keys[0])
    bob_follows_zed.refresh_from_db()
    assert bob_follows_zed.moved_to_uri == ""


def test_a_move_of_another_account_than_the_signers_is_refused(
    zed, zed_keys, yan_keys, bob, bob_follows_zed, django_capture_on_commit_callbacks
):
    # yan says zed moved to yan: yan names zed, but zed did not say so
    serve_yan(zed, yan_keys, alsoKnownAs=[ZED])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            "/inbox",
            move(ZED, YAN, actor=YAN),
            private_pem=yan_keys[0],
            key_id=f"{YAN}#main-key",
        )
    assert response.status_code == 202
    bob_follows_zed.refresh_from_db()
    assert bob_follows_zed.moved_to_uri == ""
    assert Follow.objects.filter(account=bob, target=bob_follows_zed).exists()
    # signed by zed's key but claiming yan as the actor: refused at the door
    response = post("/inbox", move(ZED, YAN, actor=YAN), private_pem=zed_keys[0])
    assert response.status_code == 401


def test_a_move_to_a_local_account_that_names_the_old_one(
    zed, zed_keys, alice, bob, bob_follows_zed, django_capture_on_commit_callbacks
):
    from tribune.accounts.services import account_aliases_set

    account_aliases_set(account=alice, aliases=[ZED])
    with django_capture_on_commit_callbacks(execute=True):
        post("/inbox", move(ZED, ALICE), private_pem=zed_keys[0])
    assert Follow.objects.filter(account=bob, target=alice).exists()
    assert not Follow.objects.filter(account=bob, target=bob_follows_zed).exists()


@pytest.fixture
def remote_followers(zed, yan_keys, alice, db):
    """zed and yan on remote.test (one shared inbox) follow alice."""
    serve_yan(zed, yan_keys)
    for uri in (ZED, YAN):
        follow_create(account=remote_actor_fetch(uri).account, target=alice)
    zed.received.clear()


def test_moving_out_sends_move_once_per_shared_inbox_and_shows_moved_to(
    zed, remote_followers, alice, carol, peer, django_capture_on_commit_callbacks
):
    xan = "https://remote.test/users/xan"
    zed.json("/users/xan", actor_document("xan", key_pair()[1], alsoKnownAs=[ALICE]))
    zed.routes["/users/xan/inbox"] = (202, {}, b"")
    follow_create(account=carol, target=alice)
    with django_capture_on_commit_callbacks(execute=True):
        account_move(account=alice, target_uri=xan)
    moves = [(path, doc) for path, doc in posted(zed) if doc["type"] == "Move"]
    assert moves == [
        (
            "/inbox",
            {
                "@context": moves[0][1]["@context"],
                "id": moves[0][1]["id"],
                "type": "Move",
                "actor": ALICE,
                "object": ALICE,
                "target": xan,
            },
        )
    ]
    assert moves[0][1]["id"].startswith(f"{ALICE}#moves/")
    # carol, who followed alice here, asked to follow xan
    assert FollowRequest.objects.filter(account=carol, target__uri=xan).exists()
    assert not Follow.objects.filter(account=carol, target=alice).exists()
    document = peer.get("/users/alice", HTTP_ACCEPT="application/activity+json").json()
    assert document["movedTo"] == xan


def test_moving_out_is_refused_until_the_target_names_the_account(
    zed, remote_followers, alice, django_capture_on_commit_callbacks
):
    xan = "https://remote.test/users/xan"
    zed.json("/users/xan", actor_document("xan", key_pair()[1]))
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationFailed),
    ):
        account_move(account=alice, target_uri=xan)
    alice.refresh_from_db()
    assert alice.moved_to_uri == ""
    assert posted(zed) == []


def test_a_move_between_two_local_accounts_moves_the_followers(
    alice, bob, carol, django_capture_on_commit_callbacks
):
    from tribune.accounts.services import account_aliases_set

    follow_create(account=carol, target=alice)
    account_aliases_set(account=bob, aliases=[ALICE])
    with django_capture_on_commit_callbacks(execute=True):
        account_move(account=alice, target_uri=f"{settings.TRIBUNE_BASE_URL}/users/bob")
    assert Follow.objects.filter(account=carol, target=bob).exists()
    assert not Follow.objects.filter(account=carol, target=alice).exists()
    bob.refresh_from_db()
    assert bob.followers_count == 1


def test_aliases_and_a_move_may_name_accounts_by_handle(
    zed, remote_followers, alice, bob, django_capture_on_commit_callbacks
):
    from tests.federation.test_follow_remote import serve_webfinger
    from tribune.federation.moves import account_aliases_name

    xan = "https://remote.test/users/xan"
    zed.json("/users/xan", actor_document("xan", key_pair()[1], alsoKnownAs=[ALICE]))
    zed.routes["/users/xan/inbox"] = (202, {}, b"")
    serve_webfinger(zed, "xan", xan)
    # Handles of this server and of another, as Mastodon's forms take them.
    account_aliases_name(account=alice, aliases=["@bob", "@xan@remote.test", "xan@remote.test"])
    alice.refresh_from_db()
    assert alice.also_known_as == [f"{settings.TRIBUNE_BASE_URL}/users/bob", xan]
    with pytest.raises(ValidationFailed, match=r"@nobody@remote\.test names no account"):
        account_aliases_name(account=alice, aliases=["@nobody@remote.test"])
    alice.refresh_from_db()
    assert len(alice.also_known_as) == 2  # a refused list changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        account_move(account=alice, target_uri="@xan@remote.test")
    alice.refresh_from_db()
    assert alice.moved_to_uri == xan
