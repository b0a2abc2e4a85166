"""Two real Tribune servers federating: ``a.test`` on 127.0.0.2 and ``b.test``
on 127.0.0.3, each a `tribune serve` with its own data and task workers, reaching
each other through ``TRIBUNE_DEV_PEERS``, driven by Mastodon.py as apps drive
them. alice@a.test follows bob@b.test (the Accept comes back), bob posts and
alice's home timeline shows it, alice's reply threads under it on both servers,
her favourite and boost count on both, bob's edit reaches a.test and his
deletion removes the post there. Then bob, following alice now, blocks her:
the follows end on both servers and her later posts no longer reach him."""

from __future__ import annotations

import time

import pytest
from mastodon import Mastodon, MastodonNotFoundError

from tests.e2e.conftest import free_port, start_server, stop_server

PASSWORD = "correct-horse-battery-staple"
WAIT = 120.0  # seconds: a bound for deliveries on a loaded machine, not a measure


def eventually(check, what: str):
    """Poll ``check`` until it returns a truthy value: deliveries run on the task
    workers of the other server."""
    deadline = time.monotonic() + WAIT
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not in time: {what}"
        time.sleep(0.3)


def client(server, username: str) -> Mastodon:
    token = server.accounts(username)[username]
    return Mastodon(access_token=token, api_base_url=server.base_url)


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    """a.test and b.test, shared by the tests of this file (each uses accounts of
    its own): starting a pair of servers costs more than the test that follows."""
    tmp_path = tmp_path_factory.mktemp("two-instances")
    port_a, port_b = free_port("127.0.0.2"), free_port("127.0.0.3")
    peers = f"a.test=127.0.0.2:{port_a},b.test=127.0.0.3:{port_b}"
    started = []
    try:
        for name, address, port in (("a", "127.0.0.2", port_a), ("b", "127.0.0.3", port_b)):
            data_dir = tmp_path / name
            data_dir.mkdir()
            process, server, log = start_server(
                data_dir, host=address, port=port, TRIBUNE_DOMAIN=f"{name}.test",
                TRIBUNE_DEBUG="1", TRIBUNE_DEV_PEERS=peers)
            started.append((process, server, log))
        yield started[0][1], started[1][1]
    finally:
        for process, server, log in started:
            text = stop_server(process, log, server.data_dir)
            assert "Traceback" not in text, text[-4000:]


def test_two_instances_follow_post_reply_like_boost_edit_and_delete(instances):
    server_a, server_b = instances
    alice, bob = client(server_a, "alice"), client(server_b, "bob")

    # alice finds bob through WebFinger and follows him; b.test accepts
    bob_on_a = alice.account_lookup("bob@b.test")
    assert bob_on_a["acct"] == "bob@b.test" and bob_on_a["url"] == "https://b.test/@bob"
    relationship = alice.account_follow(bob_on_a["id"])
    assert relationship["requested"] is True and relationship["following"] is False
    eventually(lambda: alice.account_relationships(bob_on_a["id"])[0]["following"],
               "the Accept of the follow")
    assert bob.account_verify_credentials()["followers_count"] == 1
    assert [a["acct"] for a in bob.account_followers(bob.me()["id"])] == ["alice@a.test"]

    # bob posts; it reaches alice's home timeline on a.test
    post = bob.status_post("Hello from <b>b.test</b>")
    post_uri = f"https://b.test/users/bob/statuses/{post['id']}"
    assert post["uri"] == post_uri

    def on_a_home():
        return next((s for s in alice.timeline_home() if s["uri"] == post_uri), None)

    post_on_a = eventually(on_a_home, "bob's post in alice's home timeline")
    assert post_on_a["content"] == "<p>Hello from &lt;b&gt;b.test&lt;/b&gt;</p>"
    assert post_on_a["account"]["acct"] == "bob@b.test"

    # alice replies on a.test: it threads under bob's post on both servers
    reply = alice.status_post("@bob@b.test Welcome!", in_reply_to_id=post_on_a["id"])
    reply_uri = f"https://a.test/users/alice/statuses/{reply['id']}"
    assert [s["id"] for s in alice.status_context(post_on_a["id"])["descendants"]] == [reply["id"]]
    replies_on_b = eventually(
        lambda: bob.status_context(post["id"])["descendants"], "the reply on b.test")
    assert [s["uri"] for s in replies_on_b] == [reply_uri]
    assert replies_on_b[0]["in_reply_to_id"] == post["id"]
    assert replies_on_b[0]["account"]["acct"] == "alice@a.test"

    # alice favourites and boosts it: both count on both servers
    alice.status_favourite(post_on_a["id"])
    alice.status_reblog(post_on_a["id"])
    on_a = alice.status(post_on_a["id"])
    assert (on_a["favourites_count"], on_a["reblogs_count"]) == (1, 1)
    def counts_on_b():
        status = bob.status(post["id"])
        return (status["favourites_count"], status["reblogs_count"],
                status["replies_count"]) == (1, 1, 1)

    eventually(counts_on_b, "the favourite, boost and reply counted on b.test")
    eventually(lambda: {n["type"] for n in bob.notifications()} == {
        "follow", "favourite", "reblog", "mention"}, "bob's notifications")

    # bob edits: the new text reaches a.test
    bob.status_update(post["id"], status="Hello again from b.test")
    eventually(lambda: "Hello again" in alice.status(post_on_a["id"])["content"],
               "the edit on a.test")
    assert alice.status(post_on_a["id"])["edited_at"] is not None

    # bob deletes: a.test removes it, from the timeline too
    bob.status_delete(post["id"])

    def gone_from_a():
        try:
            alice.status(post_on_a["id"])
        except MastodonNotFoundError:
            return True
        return False

    eventually(gone_from_a, "the deletion on a.test")
    assert post_uri not in [s["uri"] for s in alice.timeline_home()]

    _a_block_on_b_stops_delivery(server_b, alice, bob)


def _a_block_on_b_stops_delivery(server_b, alice: Mastodon, bob: Mastodon) -> None:
    """bob@b.test follows alice@a.test and sees her posts; he blocks her: a.test
    ends the follows both ways (the Block's effect there), and what she posts
    next reaches carol@b.test, who still follows her, but not bob."""
    carol = client(server_b, "carol")
    alice_on_b = bob.account_lookup("alice@a.test")
    carol.account_follow(carol.account_lookup("alice@a.test")["id"])
    bob.account_follow(alice_on_b["id"])
    eventually(lambda: bob.account_relationships(alice_on_b["id"])[0]["following"]
               and carol.account_relationships(alice_on_b["id"])[0]["following"],
               "bob's and carol's follows of alice accepted")
    bob_on_a = alice.account_lookup("bob@b.test")
    assert alice.account_relationships(bob_on_a["id"])[0]["followed_by"] is True

    before = alice.status_post("Before the block")

    def home_uris(who: Mastodon) -> list[str]:
        return [s["uri"] for s in who.timeline_home()]

    before_uri = f"https://a.test/users/alice/statuses/{before['id']}"
    eventually(lambda: before_uri in home_uris(bob) and before_uri in home_uris(carol),
               "alice's post in bob's and carol's home timelines")

    bob.account_block(alice_on_b["id"])
    relationship_on_b = bob.account_relationships(alice_on_b["id"])[0]
    assert relationship_on_b["blocking"] is True
    assert (relationship_on_b["following"], relationship_on_b["followed_by"]) == (False, False)

    def follows_gone_on_a() -> bool:
        relationship = alice.account_relationships(bob_on_a["id"])[0]
        return relationship["followed_by"] is False and relationship["following"] is False

    eventually(follows_gone_on_a, "the follows both ways ended on a.test")
    assert "bob@b.test" not in [a["acct"] for a in alice.account_followers(alice.me()["id"])]

    after = alice.status_post("After the block")
    after_uri = f"https://a.test/users/alice/statuses/{after['id']}"
    eventually(lambda: after_uri in home_uris(carol), "alice's next post reaches carol")
    assert after_uri not in home_uris(bob)


def test_a_move_from_a_to_b_carries_the_followers(instances):
    server_a, server_b = instances
    ann, cora = client(server_a, "ann"), client(server_b, "cora")
    client(server_b, "ben")

    # cora on b.test follows ann on a.test
    ann_on_b = cora.account_lookup("ann@a.test")
    cora.account_follow(ann_on_b["id"])
    eventually(lambda: cora.account_relationships(ann_on_b["id"])[0]["following"],
               "the Accept of cora's follow")
    assert ann.account_verify_credentials()["followers_count"] == 1

    # ben on b.test names ann as his other account; ann moves to ben
    named = server_b.cli("account", "aliases", "ben", "https://a.test/users/ann")
    assert named.returncode == 0, named.stderr
    moved = server_a.cli("account", "move", "ann", "https://b.test/users/ben")
    assert moved.returncode == 0, moved.stderr

    # b.test takes the Move: cora now follows ben and no longer ann
    ben_on_b = cora.account_lookup("ben")

    def cora_follows_ben():
        (to_ben,) = cora.account_relationships(ben_on_b["id"])
        (to_ann,) = cora.account_relationships(ann_on_b["id"])
        return to_ben["following"] and not to_ann["following"]

    eventually(cora_follows_ben, "cora's follow moved from ann to ben")
    assert cora.account(ann_on_b["id"])["moved"]["acct"] == "ben"
    eventually(lambda: ann.account_verify_credentials()["followers_count"] == 0,
               "the Undo of cora's follow on a.test")
