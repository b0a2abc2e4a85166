"""Actor documents at ``/users/NAME`` by content negotiation (ActivityPub §3.2,
§4.1; Mastodon's spec/activitypub.md)."""

from __future__ import annotations

from datetime import UTC

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.utils import timezone

from tests.federation.conftest import AS, LD
from tribune.accounts.models import Account
from tribune.core.urls import absolute
from tribune.federation.models import ActorKey
from tribune.federation.negotiation import wants_activitystreams
from tribune.federation.serializers import CONTEXT


@pytest.mark.parametrize(("accept", "activitystreams"), [
    (AS, True),
    (LD, True),
    ("application/ld+json", True),
    ('application/ld+json; profile="https://example.test/other"', False),
    (f"{AS}; q=0.9, text/html; q=0.8", True),
    (f"text/html, {AS}; q=0.5", False),
    (f"{AS}, text/html", True),
    (f"text/html;q=0.9, {LD};q=1.0", True),
    (f"{AS};q=0", False),
    (f"{AS};q=bogus", False),
    ("application/json", False),
    ("*/*", False),
    (f"*/*, {AS}", True),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
    ("", False),
    (None, False),
    (";;;,,,", False),
])
def test_negotiation_matrix(accept, activitystreams):
    assert wants_activitystreams(accept) is activitystreams


def test_actor_document(peer, make_account):
    alice = make_account("alice", display_name="Alice", note="Sails *boats*", locked=True)
    response = peer.get("/users/alice", HTTP_ACCEPT=AS)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/activity+json"
    assert "Accept" in response["Vary"]
    body = response.json()
    actor = absolute("/users/alice")
    key = ActorKey.objects.get(account=alice)
    assert body["@context"] == CONTEXT
    assert {k: body[k] for k in ("id", "type", "preferredUsername", "name", "inbox", "outbox",
                                 "followers", "following", "featured", "url",
                                 "manuallyApprovesFollowers", "discoverable", "indexable",
                                 "endpoints", "publicKey")} == {
        "id": actor, "type": "Person", "preferredUsername": "alice", "name": "Alice",
        "inbox": f"{actor}/inbox", "outbox": f"{actor}/outbox",
        "followers": f"{actor}/followers", "following": f"{actor}/following",
        "featured": f"{actor}/collections/featured", "url": absolute("/@alice"),
        "manuallyApprovesFollowers": True, "discoverable": alice.discoverable,
        "indexable": alice.indexable, "endpoints": {"sharedInbox": absolute("/inbox")},
        "publicKey": {"id": f"{actor}#main-key", "owner": actor,
                      "publicKeyPem": key.public_key_pem},
    }
    assert body["published"] == alice.created_at.astimezone(UTC).strftime(
        "%Y-%m-%dT00:00:00Z")
    assert "boats" in body["summary"]


def test_the_served_key_verifies_what_the_stored_private_key_signs(peer, alice):
    pem = peer.get("/users/alice", HTTP_ACCEPT=LD).json()["publicKey"]["publicKeyPem"]
    public = serialization.load_pem_public_key(pem.encode())
    private = serialization.load_pem_private_key(
        ActorKey.objects.get(account=alice).private_key_pem.encode(), password=None)
    message = b"(request-target): post /inbox\nhost: remote.example"
    public.verify(private.sign(message, padding.PKCS1v15(), hashes.SHA256()), message,
                  padding.PKCS1v15(), hashes.SHA256())


def test_the_key_stays_the_same_across_fetches(peer, alice):
    first = peer.get("/users/alice", HTTP_ACCEPT=AS).json()["publicKey"]
    assert peer.get("/users/ALICE", HTTP_ACCEPT=AS).json()["publicKey"] == first
    assert ActorKey.objects.count() == 1


def test_moved_account_names_its_new_home_and_aliases(peer, alice):
    from tribune.accounts.services import account_aliases_set, account_moved_to_set

    account_aliases_set(account=alice, aliases=["https://old.example/users/alice"])
    account_moved_to_set(account=alice, uri="https://new.example/users/alice")
    body = peer.get("/users/alice", HTTP_ACCEPT=AS).json()
    assert body["alsoKnownAs"] == ["https://old.example/users/alice"]
    assert body["movedTo"] == "https://new.example/users/alice"


@pytest.mark.parametrize("accept", [None, "text/html", "*/*", "application/json",
                                    "text/html,application/xhtml+xml,*/*;q=0.8"])
def test_browsers_are_sent_to_the_profile(peer, alice, accept):
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    response = peer.get("/users/Alice", **headers)
    assert (response.status_code, response["Location"]) == (302, "/@alice")
    assert "Accept" in response["Vary"]
    assert not ActorKey.objects.exists()  # a page view makes no key


@pytest.mark.parametrize("accept", [AS, "text/html"])
def test_unknown_suspended_and_pending_actors_are_404(peer, make_account, accept):
    from tribune.accounts.instance import registration_mode_set
    from tribune.accounts.registrations import account_sign_up

    sam = make_account("sam")
    Account.objects.filter(pk=sam.pk).update(suspended_at=timezone.now())
    registration_mode_set(mode="approval")
    account_sign_up(username="penny", email="penny@example.test",
                    password="a-long-test-passphrase", agreement=True, reason="hello")
    for name in ("nobody", "sam", "penny", "bad%20name", "a" * 40):
        assert peer.get(f"/users/{name}", HTTP_ACCEPT=accept).status_code == 404
    assert not ActorKey.objects.exists()


def test_posts_to_the_actor_are_refused(peer, alice):
    assert peer.post("/users/alice", HTTP_ACCEPT=AS).status_code == 405
