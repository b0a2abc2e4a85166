"""Posts as objects at ``/users/NAME/statuses/ID`` and their activities at
``.../activity``: public and unlisted only to an unsigned fetch."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.federation.conftest import AS, LD
from tribune.accounts.models import Account
from tribune.core.urls import absolute
from tribune.federation.serializers import CONTEXT, PUBLIC
from tribune.statuses.models import Status
from tribune.statuses.services import reblog_create, status_create, status_delete


def url(status, suffix: str = "") -> str:
    return f"/users/{status.account.username}/statuses/{status.pk}{suffix}"


@pytest.mark.parametrize("accept", [AS, LD])
def test_a_public_post_is_served_as_its_note(peer, alice, bob, accept):
    post = status_create(account=alice, text="Hello @bob #harbour", language="en")
    response = peer.get(url(post), HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/activity+json"
    assert "Accept" in response["Vary"]
    body = response.json()
    note_id = absolute(f"/users/alice/statuses/{post.pk}")
    assert body["@context"] == CONTEXT
    assert (body["id"], body["type"], body["attributedTo"], body["url"]) == (
        note_id, "Note", absolute("/users/alice"), absolute(f"/@alice/{post.pk}"))
    assert body["to"] == [PUBLIC]
    assert body["cc"] == [absolute("/users/alice/followers"), absolute("/users/bob")]
    assert body["content"] == post.content and body["contentMap"] == {"en": post.content}
    assert {t["type"] for t in body["tag"]} == {"Mention", "Hashtag"}


def test_an_unlisted_post_is_served_too(peer, alice):
    post = status_create(account=alice, text="quietly", visibility="unlisted")
    body = peer.get(url(post), HTTP_ACCEPT=AS).json()
    assert body["to"] == [absolute("/users/alice/followers")]
    assert body["cc"] == [PUBLIC]


@pytest.mark.parametrize("visibility", ["private", "direct"])
def test_followers_only_and_direct_posts_are_404_to_an_unsigned_fetch(peer, alice, bob,
                                                                      visibility):
    post = status_create(account=alice, text="@bob not for everyone", visibility=visibility)
    for suffix in ("", "/activity"):
        response = peer.get(url(post, suffix), HTTP_ACCEPT=AS)
        assert response.status_code == 404
        assert "not for everyone" not in response.content.decode()


def test_a_removed_post_or_a_suspended_author_is_404(peer, alice, bob):
    removed = status_create(account=alice, text="taken down")
    Status.objects.filter(pk=removed.pk).update(removed_at=timezone.now())
    assert peer.get(url(removed), HTTP_ACCEPT=AS).status_code == 404
    post = status_create(account=bob, text="by someone suspended")
    Account.objects.filter(pk=bob.pk).update(suspended_at=timezone.now())
    assert peer.get(url(post), HTTP_ACCEPT=AS).status_code == 404
    assert peer.get(url(post, "/activity")).status_code == 404


def test_a_deleted_post_is_404(peer, alice):
    post = status_create(account=alice, text="gone soon")
    path = url(post)
    status_delete(account=alice, status=post)
    assert peer.get(path, HTTP_ACCEPT=AS).status_code == 404
    assert peer.get(f"{path}/activity").status_code == 404


def test_a_post_under_another_authors_name_is_404(peer, alice, bob):
    post = status_create(account=alice, text="mine")
    assert peer.get(f"/users/bob/statuses/{post.pk}", HTTP_ACCEPT=AS).status_code == 404


@pytest.mark.parametrize("status_id", ["abc", "-1", "1.5", "9" * 30, "%00"])
def test_malformed_ids_are_404_not_errors(peer, alice, status_id):
    assert peer.get(f"/users/alice/statuses/{status_id}", HTTP_ACCEPT=AS).status_code == 404
    assert peer.get(f"/users/alice/statuses/{status_id}/activity").status_code == 404


def test_the_activity_is_the_create(peer, alice):
    post = status_create(account=alice, text="made here")
    response = peer.get(url(post, "/activity"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/activity+json"
    body = response.json()
    note_id = absolute(f"/users/alice/statuses/{post.pk}")
    assert (body["@context"], body["id"], body["type"], body["actor"]) == (
        CONTEXT, f"{note_id}/activity", "Create", absolute("/users/alice"))
    assert body["object"]["id"] == note_id and "@context" not in body["object"]


def test_a_boost_is_an_announce_and_its_id_leads_to_the_original(peer, alice, bob):
    original = status_create(account=bob, text="worth sharing")
    boost = reblog_create(account=alice, status=original)
    body = peer.get(url(boost, "/activity")).json()
    assert (body["type"], body["actor"], body["object"]) == (
        "Announce", absolute("/users/alice"), absolute(f"/users/bob/statuses/{original.pk}"))
    response = peer.get(url(boost), HTTP_ACCEPT=AS)
    assert (response.status_code, response["Location"]) == (
        302, absolute(f"/users/bob/statuses/{original.pk}"))


@pytest.mark.parametrize("accept", [None, "text/html", "*/*", "application/json"])
def test_browsers_are_sent_to_the_post_page(peer, alice, accept):
    post = status_create(account=alice, text="see the page")
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    response = peer.get(f"/users/Alice/statuses/{post.pk}", **headers)
    assert (response.status_code, response["Location"]) == (302, f"/@alice/{post.pk}")
