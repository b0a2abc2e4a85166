"""What goes out about local accounts: a Block and its Undo to the blocked
account, an Update of the actor to the followers when a profile changes, a
forwarded report as a Flag from the instance actor; and the instance actor
itself."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from tests.federation.test_inbox import HOST, ZED
from tribune.federation.actors import parse_actor, remote_actor_fetch
from tribune.federation.keys import actor_key_get_or_create
from tribune.federation.signatures import verify_request
from tribune.graph.services import block_create, block_delete, follow_create

ALICE = f"{settings.TRIBUNE_BASE_URL}/users/alice"
INSTANCE_ACTOR = f"{settings.TRIBUNE_BASE_URL}/actor"


def posted(peer):
    return [(r, json.loads(r.body)) for r in peer.received if r.method == "POST"]


@pytest.fixture
def zed_account(zed, db):
    zed.routes["/inbox"] = (202, {}, b"")
    account = remote_actor_fetch(ZED).account
    zed.received.clear()
    return account


def test_a_block_and_its_undo_go_to_the_blocked_account_signed(
    zed, zed_account, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        block_create(account=alice, target=zed_account)
    with django_capture_on_commit_callbacks(execute=True):
        block_delete(account=alice, target=zed_account)
        block_delete(
            account=alice, target=zed_account
        )  # no block: nothing more is sent
    (first, block), (_second, undo) = posted(zed)
    assert first.path == "/users/zed/inbox"
    assert block == {
        "@context": block["@context"],
        "id": f"{ALICE}#blocks/{zed_account.pk}",
        "type": "Block",
        "actor": ALICE,
        "object": ZED,
    }
    assert undo["type"] == "Undo" and undo["actor"] == ALICE
    assert undo["id"] == f"{ALICE}#blocks/{zed_account.pk}/undo"
    assert undo["object"] == {
        "id": block["id"],
        "type": "Block",
        "actor": ALICE,
        "object": ZED,
    }
    params = verify_request(
        method="POST",
        target=first.path,
        headers=first.headers,
        body=first.body,
        public_key_pem=actor_key_get_or_create(account=alice).public_key_pem,
    )
    assert params.key_id == f"{ALICE}#main-key"


def test_blocking_a_follower_also_ends_the_follow_there(
    zed, zed_account, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=zed_account)
    zed.received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        block_create(account=alice, target=zed_account)
    kinds = sorted(
        (d["type"], d["object"]["type"] if isinstance(d["object"], dict) else "")
        for _r, d in posted(zed)
    )
    assert kinds == [("Block", ""), ("Undo", "Follow")]


def test_a_profile_change_sends_the_actor_to_the_followers_once(
    zed, zed_account, alice, django_capture_on_commit_callbacks
):
    from tribune.accounts.services import account_update

    follow_create(account=zed_account, target=alice)
    with django_capture_on_commit_callbacks(execute=True):
        account_update(account=alice, display_name="Alice B.", note="New *bio*")
    with django_capture_on_commit_callbacks(execute=True):
        account_update(account=alice, default_language="fr")  # not on the profile
    ((request, update),) = posted(zed)
    assert request.path == "/inbox"  # the shared inbox
    assert update["type"] == "Update" and update["actor"] == ALICE
    assert update["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    person = update["object"]
    assert person["id"] == ALICE and person["name"] == "Alice B."
    assert "New *bio*" in person["summary"]
    assert person["publicKey"]["owner"] == ALICE
    # What other servers read back from it is the same actor.
    data = parse_actor(person, fetched_url=ALICE)
    assert data.display_name == "Alice B." and data.key_id == f"{ALICE}#main-key"


def test_a_profile_change_without_remote_followers_sends_nothing(
    zed, zed_account, alice, django_capture_on_commit_callbacks
):
    from tribune.accounts.services import account_update

    with django_capture_on_commit_callbacks(execute=True):
        account_update(account=alice, display_name="Alone")
    assert posted(zed) == []


def test_the_instance_actor_is_an_application_with_its_own_key(db):
    response = Client(HTTP_HOST=HOST).get(
        "/actor", HTTP_ACCEPT="application/activity+json"
    )
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["id"] == INSTANCE_ACTOR and document["type"] == "Application"
    assert document["inbox"] == f"{INSTANCE_ACTOR}/inbox"
    assert document["publicKey"]["id"] == f"{INSTANCE_ACTOR}#main-key"
    assert document["publicKey"]["owner"] == INSTANCE_ACTOR
    again = json.loads(Client(HTTP_HOST=HOST).get("/actor").content)
    assert again["publicKey"]["publicKeyPem"] == document["publicKey"]["publicKeyPem"]
    data = parse_actor(document, fetched_url=INSTANCE_ACTOR)
    assert data.bot and data.key_id == f"{INSTANCE_ACTOR}#main-key"


def test_a_forwarded_report_goes_as_a_flag_from_the_instance_actor(
    zed, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks
):
    from tests.federation.test_inbound_statuses import create, note, send

    send(create(note(1)), zed_keys, django_capture_on_commit_callbacks)
    zed.received.clear()
    status_id = _status_id(f"{ZED}/statuses/1")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(alice).post(
            "/api/v1/reports",
            json={
                "account_id": str(zed_account.pk),
                "status_ids": [str(status_id)],
                "comment": "Spam",
                "forward": True,
            },
        )
    assert response.status_code == 200, response.content
    ((request, flag),) = posted(zed)
    assert request.path == "/users/zed/inbox"
    assert flag["type"] == "Flag" and flag["actor"] == INSTANCE_ACTOR
    assert flag["object"] == [ZED, f"{ZED}/statuses/1"] and flag["content"] == "Spam"
    assert "alice" not in json.dumps(flag)  # the reporter is not named
    instance = json.loads(Client(HTTP_HOST=HOST).get("/actor").content)
    params = verify_request(
        method="POST",
        target=request.path,
        headers=request.headers,
        body=request.body,
        public_key_pem=instance["publicKey"]["publicKeyPem"],
    )
    assert params.key_id == f"{INSTANCE_ACTOR}#main-key"


def test_a_report_not_forwarded_sends_nothing(
    zed, zed_account, alice, api_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(alice).post(
            "/api/v1/reports",
            json={"account_id": str(zed_account.pk), "comment": "Spam"},
        )
    assert response.status_code == 200
    assert posted(zed) == []


def _status_id(uri: str) -> int:
    from tribune.statuses.models import Status

    return Status.objects.get(uri=uri).pk


def test_fetches_made_for_no_one_are_signed_by_the_instance_actor(zed, db):
    remote_actor_fetch(ZED)
    (request,) = [r for r in zed.received if r.path == "/users/zed"]
    instance = json.loads(Client(HTTP_HOST=HOST).get("/actor").content)
    params = verify_request(
        method="GET",
        target="/users/zed",
        headers=request.headers,
        body=b"",
        public_key_pem=instance["publicKey"]["publicKeyPem"],
    )
    assert params.key_id == f"{INSTANCE_ACTOR}#main-key"
