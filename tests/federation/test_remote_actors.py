"""Remote actors fetched from a real server on loopback, checked and stored as
accounts with their keys; keys found by ``keyId``."""

from __future__ import annotations

import pytest

from tests.federation.peers import actor_document, key_pair
from tribune.accounts.models import Account
from tribune.federation.actors import ActorError, remote_actor_fetch, remote_key_get
from tribune.federation.models import RemoteActor

ZED = "https://remote.test/users/zed"


@pytest.fixture(scope="module")
def zed_keys():
    return key_pair()


def test_an_actor_is_stored_as_a_remote_account_with_its_key(db, remote, zed_keys):
    _private, public = zed_keys
    remote.json("/users/zed", actor_document(
        "zed", public, summary='<p onmouseover="x()">Hi</p><script>alert(1)</script>',
        manuallyApprovesFollowers=True, type="Service"))
    actor = remote_actor_fetch(ZED)
    account = Account.objects.get(uri=ZED)
    assert (account.username, account.domain, account.acct) == ("zed", "remote.test",
                                                                 "zed@remote.test")
    assert account.user_id is None and not account.is_local
    assert account.display_name == "Zed" and account.url == "https://remote.test/@zed"
    assert account.locked is True and account.bot is True
    assert account.note_html == "<p>Hi</p>"
    assert actor.account_id == account.pk
    assert actor.key_id == f"{ZED}#main-key" and actor.public_key_pem == public
    assert actor.inbox == f"{ZED}/inbox" and actor.shared_inbox == "https://remote.test/inbox"
    assert actor.followers_url == f"{ZED}/followers"


def test_fetching_again_updates_the_same_account(db, remote, zed_keys):
    _private, public = zed_keys
    remote.json("/users/zed", actor_document("zed", public))
    first = remote_actor_fetch(ZED)
    remote.json("/users/zed", actor_document("zed", public, name="Zed Again"))
    second = remote_actor_fetch(ZED)
    assert second.pk == first.pk
    assert Account.objects.filter(domain="remote.test").count() == 1
    assert Account.objects.get(uri=ZED).display_name == "Zed Again"


def test_a_redirect_on_the_same_host_is_followed(db, remote, zed_keys):
    _private, public = zed_keys
    remote.routes["/@zed"] = (302, {"Location": ZED}, b"")
    remote.json("/users/zed", actor_document("zed", public))
    assert remote_actor_fetch("https://remote.test/@zed").account.uri == ZED


@pytest.mark.parametrize(("change", "reason"), [
    ({"id": "https://victim.test/users/zed"}, "served by another host"),
    ({"type": "Note"}, "not an actor"),
    ({"preferredUsername": None}, "no preferredUsername"),
    ({"inbox": "javascript:x"}, "no inbox"),
    ({"publicKey": None}, "no public key"),
    ({"publicKey": {"id": f"{ZED}#main-key", "owner": "https://remote.test/users/al",
                    "publicKeyPem": "x"}}, "no public key"),
    ({"publicKey": {"id": "https://victim.test/k", "owner": ZED, "publicKeyPem": "x"}},
     "no public key"),
    ({"preferredUsername": "a b"}, "not a remote account"),
])
def test_unacceptable_actors_are_refused_and_nothing_is_stored(db, remote, zed_keys, change,
                                                               reason):
    _private, public = zed_keys
    remote.json("/users/zed", {**actor_document("zed", public), **change})
    with pytest.raises(ActorError, match=reason):
        remote_actor_fetch(ZED)
    assert not Account.objects.filter(domain__in=["remote.test", "victim.test"]).exists()
    assert not RemoteActor.objects.exists()


def test_a_server_that_cannot_answer_now_is_a_temporary_failure(db, remote):
    remote.json("/users/zed", {"error": "busy"}, status=503)
    with pytest.raises(ActorError) as error:
        remote_actor_fetch(ZED)
    assert error.value.temporary is True


def test_a_stored_key_is_found_without_a_request_and_refetched_when_asked(db, remote,
                                                                          zed_keys):
    _private, public = zed_keys
    remote.json("/users/zed", actor_document("zed", public))
    key_id = f"{ZED}#main-key"
    assert remote_key_get(key_id).account.uri == ZED
    assert [r.path for r in remote.received] == ["/users/zed"]
    assert remote_key_get(key_id).account.uri == ZED
    assert len(remote.received) == 1
    _other_private, other_public = key_pair()
    remote.json("/users/zed", actor_document("zed", other_public))
    assert remote_key_get(key_id, refresh=True).public_key_pem == other_public
    assert len(remote.received) == 2
    assert RemoteActor.objects.get().public_key_pem == other_public


def test_a_key_document_leads_to_its_owner_who_must_list_it(db, remote, zed_keys):
    _private, public = zed_keys
    key_id = f"{ZED}/main-key"
    remote.json("/users/zed/main-key", {"id": key_id, "type": "Key", "owner": ZED,
                                        "publicKeyPem": public})
    document = actor_document("zed", public)
    document["publicKey"] = {"id": key_id, "owner": ZED, "publicKeyPem": public}
    remote.json("/users/zed", document)
    assert remote_key_get(key_id).key_id == key_id


def test_a_key_claiming_an_actor_that_does_not_list_it_is_refused(db, remote, zed_keys):
    _private, public = zed_keys
    key_id = "https://remote.test/keys/1"
    remote.json("/keys/1", {"id": key_id, "type": "Key", "owner": ZED, "publicKeyPem": public})
    remote.json("/users/zed", actor_document("zed", public))
    with pytest.raises(ActorError, match="does not list"):
        remote_key_get(key_id)
    assert not RemoteActor.objects.exists()


def test_a_key_claiming_an_actor_of_another_host_is_refused(db, remote, zed_keys):
    _private, public = zed_keys
    key_id = "https://remote.test/keys/1"
    remote.json("/keys/1", {"id": key_id, "type": "Key",
                            "owner": "https://victim.test/users/bob", "publicKeyPem": public})
    with pytest.raises(ActorError, match="not a key of an actor on its host"):
        remote_key_get(key_id)
    assert [r.path for r in remote.received] == ["/keys/1"]


def stub(key_id: str, owner: str, public: str) -> dict:
    """An actor stub served at a key's URL, as GoToSocial serves ``<actor>/main-key``."""
    return {"id": owner, "type": "Person", "preferredUsername": "zed",
            "publicKey": {"id": key_id, "owner": owner, "publicKeyPem": public}}


def test_an_actor_stub_at_the_key_url_leads_to_the_full_actor(db, remote, zed_keys):
    _private, public = zed_keys
    key_id = f"{ZED}/main-key"
    remote.json("/users/zed/main-key", stub(key_id, ZED, public))
    remote.json("/users/zed", actor_document("zed", public) | {
        "publicKey": {"id": key_id, "owner": ZED, "publicKeyPem": public}})
    actor = remote_key_get(key_id)
    assert (actor.key_id, actor.inbox) == (key_id, f"{ZED}/inbox")
    assert [r.path for r in remote.received] == ["/users/zed/main-key", "/users/zed"]


@pytest.mark.parametrize("owner, error", [
    (ZED, "does not list"),  # the full actor names another key
    ("https://victim.test/users/bob", "not a key of an actor on its host"),
])
def test_an_actor_stub_is_checked_as_a_key_document(db, remote, zed_keys, owner, error):
    _private, public = zed_keys
    key_id = f"{ZED}/main-key"
    remote.json("/users/zed/main-key", stub(key_id, owner, public))
    remote.json("/users/zed", actor_document("zed", public))  # lists ZED#main-key only
    with pytest.raises(ActorError, match=error):
        remote_key_get(key_id)
    assert not RemoteActor.objects.exists()


def test_a_taken_handle_is_refused(db, remote, zed_keys):
    _private, public = zed_keys
    remote.json("/users/zed", actor_document("zed", public))
    remote_actor_fetch(ZED)
    remote.json("/people/zed", actor_document("zed", public) | {
        "id": "https://remote.test/people/zed",
        "publicKey": {"id": "https://remote.test/people/zed#k",
                      "owner": "https://remote.test/people/zed", "publicKeyPem": public}})
    with pytest.raises(ActorError, match="already taken"):
        remote_actor_fetch("https://remote.test/people/zed")
    assert Account.objects.filter(domain="remote.test").count() == 1


def test_a_remote_bio_is_bounded_and_stays_sanitised(remote, zed_keys, db):
    """A federated string has a length limit: a 200,000-character ``summary`` is
    not stored whole nor sent in every Account entity (a tester's report)."""
    from tests.federation.peers import actor_document
    from tribune.accounts.services import REMOTE_NOTE_HTML_MAX
    from tribune.federation.actors import remote_actor_fetch

    huge = "<p>" + "word " * 40_000 + "<script>alert(1)</script></p>"
    remote.json("/users/zed", actor_document("zed", zed_keys[1], summary=huge))
    account = remote_actor_fetch("https://remote.test/users/zed").account
    assert 0 < len(account.note_html) <= REMOTE_NOTE_HTML_MAX + len("</p>")
    assert account.note_html.startswith("<p>word word") and "<script" not in account.note_html


def _collection(path: str, total) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams",
            "id": f"https://remote.test{path}", "type": "OrderedCollection",
            "totalItems": total, "first": f"https://remote.test{path}?page=1"}


def test_a_remote_profile_shows_the_counts_of_its_server(
        db, remote, zed_keys, alice, api_as, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cache.clear()
    remote.json("/users/zed", actor_document("zed", zed_keys[1],
                                             following="https://remote.test/users/zed/following"))
    remote.json("/users/zed/outbox", _collection("/users/zed/outbox", 1234))
    remote.json("/users/zed/followers", _collection("/users/zed/followers", 56))
    remote.json("/users/zed/following", _collection("/users/zed/following", "7"))  # not a count
    with django_capture_on_commit_callbacks(execute=True):
        account = remote_actor_fetch(ZED).account
    shown = api_as(alice).get(f"/api/v1/accounts/{account.pk}").json()
    assert (shown["statuses_count"], shown["followers_count"], shown["following_count"]) == (
        1234, 56, 0)
    # Read again at most once an hour: a second fetch asks nothing more.
    asked = len(remote.received)
    with django_capture_on_commit_callbacks(execute=True):
        remote_actor_fetch(ZED)
    assert len(remote.received) == asked + 1  # the actor document alone


def test_collections_on_another_host_are_not_read(db, remote, zed_keys,
                                                  django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cache.clear()
    remote.json("/users/zed", actor_document(
        "zed", zed_keys[1], outbox="https://elsewhere.test/outbox",
        followers="https://elsewhere.test/followers"))
    with django_capture_on_commit_callbacks(execute=True):
        account = remote_actor_fetch(ZED).account
    assert [r.path for r in remote.received] == ["/users/zed"]
    account.refresh_from_db()
    assert (account.statuses_count, account.followers_count) == (0, 0)
