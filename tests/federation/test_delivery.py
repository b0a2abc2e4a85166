"""What local accounts do goes out to other servers: posts, edits, deletions,
boosts and favourites, addressed as Mastodon addresses them and delivered once
per shared inbox, to followers, the mentioned and the replied-to."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.federation.peers import actor_document, key_pair
from tests.federation.test_inbox import ZED
from tribune.federation.actors import remote_actor_fetch
from tribune.federation.serializers import PUBLIC
from tribune.graph.services import follow_create
from tribune.statuses.models import Status
from tribune.statuses.services import (
    reblog_create,
    reblog_delete,
    status_create,
    status_delete,
    status_update,
)

ALICE = f"{settings.TRIBUNE_BASE_URL}/users/alice"


def posted(peer):
    return [(r.path, json.loads(r.body)) for r in peer.received if r.method == "POST"]


@pytest.fixture
def followers(zed, alice, db):
    """zed and yan on remote.test (one shared inbox) follow alice."""
    zed.json("/users/yan", actor_document("yan", key_pair()[1]))
    zed.routes["/inbox"] = (202, {}, b"")
    zed.routes["/users/yan/inbox"] = (202, {}, b"")
    accounts = [remote_actor_fetch(ZED).account,
                remote_actor_fetch("https://remote.test/users/yan").account]
    for account in accounts:
        follow_create(account=account, target=alice)
    zed.received.clear()
    return accounts


def test_a_public_post_goes_once_to_the_followers_shared_inbox(
        zed, followers, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        status = status_create(account=alice, text="Hello, <b>fediverse</b>")
    ((path, create),) = posted(zed)
    assert path == "/inbox"
    uri = f"{ALICE}/statuses/{status.pk}"
    assert create["type"] == "Create" and create["id"] == f"{uri}/activity"
    assert create["actor"] == ALICE
    assert create["to"] == [PUBLIC] and create["cc"] == [f"{ALICE}/followers"]
    note = create["object"]
    assert note["id"] == uri and note["attributedTo"] == ALICE
    assert note["content"] == "<p>Hello, &lt;b&gt;fediverse&lt;/b&gt;</p>"


@pytest.mark.parametrize(("visibility", "to", "cc"), [
    ("unlisted", [f"{ALICE}/followers"], [PUBLIC]),
    ("private", [f"{ALICE}/followers"], []),
])
def test_posts_are_addressed_by_visibility(zed, followers, alice, visibility, to, cc,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        status_create(account=alice, text="To some", visibility=visibility)
    ((_path, create),) = posted(zed)
    assert (create["to"], create["cc"]) == (to, cc)


def test_a_direct_post_goes_only_to_the_mentioned(
        zed, followers, alice, settings, django_capture_on_commit_callbacks):
    # far.test has a follower of alice without a shared inbox; it is not mentioned
    from tests.federation import peers

    far, far_server = peers.start("127.0.0.2")
    try:
        settings.TRIBUNE_DEV_PEERS = {**settings.TRIBUNE_DEV_PEERS,
                                      "far.test": (far.address, far.port)}
        far.json("/users/fay", actor_document("fay", key_pair()[1], host="far.test",
                                              endpoints={}))
        far.routes["/users/fay/inbox"] = (202, {}, b"")
        fay = remote_actor_fetch("https://far.test/users/fay").account
        follow_create(account=fay, target=alice)
        with django_capture_on_commit_callbacks(execute=True):
            status_create(account=alice, text="@zed@remote.test just you", visibility="direct")
        ((path, create),) = posted(zed)
        assert path == "/inbox"
        assert create["to"] == [ZED] and create["cc"] == []
        assert create["object"]["tag"][0]["href"] == ZED
        assert posted(far) == []
        with django_capture_on_commit_callbacks(execute=True):
            status_create(account=alice, text="to all my followers")
        assert [p for p, _ in posted(far)] == ["/users/fay/inbox"]  # its personal inbox
    finally:
        far_server.shutdown()
        far_server.server_close()


def test_an_edit_sends_update_and_a_deletion_sends_delete(
        zed, followers, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        status = status_create(account=alice, text="first")
    with django_capture_on_commit_callbacks(execute=True):
        status_update(account=alice, status=status, text="second")
    with django_capture_on_commit_callbacks(execute=True):
        status_delete(account=alice, status=status)
    uri = f"{ALICE}/statuses/{status.pk}"
    _create, (_p1, update), (_p2, delete) = posted(zed)
    assert update["type"] == "Update" and update["actor"] == ALICE
    assert update["object"]["id"] == uri and update["object"]["content"] == "<p>second</p>"
    assert update["object"]["updated"]
    assert delete["type"] == "Delete" and delete["actor"] == ALICE
    assert delete["object"] == {"id": uri, "type": "Tombstone", "atomUri": uri}


def test_a_boost_sends_announce_and_its_undo(zed, followers, alice, bob,
                                             django_capture_on_commit_callbacks):
    status = status_create(account=bob, text="worth sharing")
    with django_capture_on_commit_callbacks(execute=True):
        reblog = reblog_create(account=alice, status=status)
    with django_capture_on_commit_callbacks(execute=True):
        reblog_delete(account=alice, status=status)
    (_p1, announce), (_p2, undo) = posted(zed)
    bob_status = f"{settings.TRIBUNE_BASE_URL}/users/bob/statuses/{status.pk}"
    assert announce["type"] == "Announce" and announce["object"] == bob_status
    assert announce["id"] == f"{ALICE}/statuses/{reblog.pk}/activity"
    assert undo["type"] == "Undo" and undo["object"]["type"] == "Announce"
    assert undo["object"]["id"] == announce["id"] and undo["object"]["object"] == bob_status


def test_a_remote_account_hears_of_nothing_from_a_local_one_it_does_not_follow(
        zed, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        status_create(account=alice, text="nobody out there")
    assert posted(zed) == []


def test_a_delivery_that_may_pass_is_tried_again_later(zed, alice, settings):
    from django_tasks_db.models import DBTaskResult

    from tribune.federation.tasks import RETRY_DELAYS, deliver

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default", "federation"]}}
    zed.routes["/users/zed/inbox"] = (503, {}, b"")
    before = timezone.now()
    deliver.call(account_id=alice.pk, inbox=f"{ZED}/inbox",
                 activity={"type": "Like", "id": "x"}, attempt=2)
    (retry,) = DBTaskResult.objects.all()
    assert retry.queue_name == "federation"
    assert retry.args_kwargs["kwargs"]["attempt"] == 3
    assert retry.run_after >= before + RETRY_DELAYS[1] - timedelta(seconds=1)
    zed.routes["/users/zed/inbox"] = (410, {}, b"")
    deliver.call(account_id=alice.pk, inbox=f"{ZED}/inbox",
                 activity={"type": "Like", "id": "x"})
    assert DBTaskResult.objects.count() == 1  # a final answer is not tried again


def test_a_post_with_a_poll_goes_out_as_a_question(zed, followers, alice,
                                                   django_capture_on_commit_callbacks):
    from tribune.statuses.polls import poll_spec

    with django_capture_on_commit_callbacks(execute=True):
        status = status_create(account=alice, text="Tea or coffee?",
                               poll=poll_spec(options=["Tea", "Coffee"], expires_in=600,
                                              multiple=True))
    ((_path, create),) = posted(zed)
    question = create["object"]
    assert question["type"] == "Question"
    assert [(o["name"], o["replies"]["totalItems"]) for o in question["anyOf"]] == [
        ("Tea", 0), ("Coffee", 0)]
    end = status.poll.expires_at
    assert question["endTime"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert question["votersCount"] == 0 and "closed" not in question


def test_a_boost_of_a_post_deleted_by_its_author_is_undone_with_it(
        zed, followers, alice, bob, django_capture_on_commit_callbacks):
    # ../shared/cases TIM-26: the servers that received alice's boost hear that it
    # is gone when the boosted post goes, though the post can no longer be read.
    status = status_create(account=bob, text="soon gone")
    with django_capture_on_commit_callbacks(execute=True):
        reblog = reblog_create(account=alice, status=status)
    with django_capture_on_commit_callbacks(execute=True):
        status_delete(account=bob, status=status)
    (_p1, announce), (path, undo) = posted(zed)
    bob_status = f"{settings.TRIBUNE_BASE_URL}/users/bob/statuses/{status.pk}"
    assert path == "/inbox"  # the followers' shared inbox
    assert undo == {**undo, "type": "Undo", "actor": ALICE}
    assert undo["object"]["id"] == announce["id"] == f"{ALICE}/statuses/{reblog.pk}/activity"
    assert undo["object"]["type"] == "Announce" and undo["object"]["object"] == bob_status
    assert not Status.objects.filter(pk=reblog.pk).exists()


def test_a_boost_of_a_remote_post_deleted_on_its_server_is_undone(
        zed, zed_keys, followers, alice, django_capture_on_commit_callbacks):
    from tests.federation.test_inbound_statuses import create, note, send

    send(create(note(5)), zed_keys, django_capture_on_commit_callbacks)
    original = Status.objects.get(uri=f"{ZED}/statuses/5")
    with django_capture_on_commit_callbacks(execute=True):
        reblog = reblog_create(account=alice, status=original)
    zed.received.clear()
    send({"id": f"{ZED}/statuses/5#delete", "type": "Delete", "actor": ZED,
          "object": {"id": f"{ZED}/statuses/5", "type": "Tombstone"}}, zed_keys,
         django_capture_on_commit_callbacks)
    [(_path, undo)] = posted(zed)
    assert undo["type"] == "Undo" and undo["actor"] == ALICE
    assert undo["object"]["id"] == f"{ALICE}/statuses/{reblog.pk}/activity"
    assert undo["object"]["object"] == f"{ZED}/statuses/5"
    assert not Status.objects.filter(pk__in=[reblog.pk, original.pk]).exists()
