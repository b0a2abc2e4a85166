"""Local-only posts never leave the instance (no delivery, no ActivityPub
document, not in the outbox), and a post's reply policy holds for replies that
arrive from other servers too."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.federation.test_delivery import followers, posted  # noqa: F401 (fixture)
from tests.federation.test_inbound_statuses import create, note, send
from tribune.graph.services import follow_create
from tribune.statuses.models import ReplyPolicy, Status
from tribune.statuses.services import (
    reblog_create,
    status_create,
    status_delete,
    status_update,
)

ALICE = f"{settings.TRIBUNE_BASE_URL}/users/alice"
ACTIVITY_JSON = "application/activity+json"


def test_a_local_only_post_its_edit_boost_and_deletion_are_sent_nowhere(
        zed, followers, alice, bob, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        kept = status_create(account=alice, text="@zed@remote.test between us here",
                             local_only=True)
        status_update(account=alice, status=kept, text="edited, still here")
        reblog_create(account=alice, status=status_create(account=bob, text="bob's, here",
                                                          local_only=True))
        status_delete(account=alice, status=kept)
    assert posted(zed) == []
    with django_capture_on_commit_callbacks(execute=True):
        status_create(account=alice, text="out loud")
    assert [activity["type"] for _path, activity in posted(zed)] == ["Create"]


def test_a_local_only_post_has_no_activitypub_document_and_is_not_in_the_outbox(
        peer, alice):
    kept = status_create(account=alice, text="kept at home", local_only=True)
    shared = status_create(account=alice, text="for everyone")
    response = peer.get(f"/users/alice/statuses/{kept.pk}", HTTP_ACCEPT=ACTIVITY_JSON)
    assert response.status_code == 404
    assert peer.get(f"/users/alice/statuses/{shared.pk}",
                    HTTP_ACCEPT=ACTIVITY_JSON).status_code == 200
    outbox = peer.get("/users/alice/outbox", {"page": "true"}).json()
    assert [item["object"]["id"] for item in outbox["orderedItems"]] == [
        f"{ALICE}/statuses/{shared.pk}"]
    assert peer.get("/users/alice/outbox").json()["totalItems"] == 1


@pytest.mark.parametrize("policy", [ReplyPolicy.FOLLOWERS, ReplyPolicy.MENTIONED])
def test_a_remote_reply_the_policy_leaves_out_is_not_stored(
        zed_keys, zed_account, alice, django_capture_on_commit_callbacks, policy):
    parent = status_create(account=alice, text="among friends", reply_policy=policy)
    send(create(note(7, "<p>Uninvited</p>", inReplyTo=f"{ALICE}/statuses/{parent.pk}")),
         zed_keys, django_capture_on_commit_callbacks)
    assert not Status.objects.filter(uri=f"{zed_account.uri}/statuses/7").exists()
    parent.refresh_from_db()
    assert parent.replies_count == 0


def test_a_remote_follower_may_reply_to_a_followers_reply_post(
        zed_keys, zed_account, alice, django_capture_on_commit_callbacks):
    follow_create(account=zed_account, target=alice)
    parent = status_create(account=alice, text="among friends",
                           reply_policy=ReplyPolicy.FOLLOWERS)
    send(create(note(8, "<p>Invited</p>", inReplyTo=f"{ALICE}/statuses/{parent.pk}")),
         zed_keys, django_capture_on_commit_callbacks)
    stored = Status.objects.get(uri=f"{zed_account.uri}/statuses/8")
    assert stored.in_reply_to_id == parent.pk
