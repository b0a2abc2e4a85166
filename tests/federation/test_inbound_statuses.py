"""Posts, boosts and favourites from another server: stored through the same
services as the API's, threaded, counted and notified; and the checks that keep
one server (or one actor) from speaking for another."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.federation.test_inbox import HOST, ZED, post
from tribune.accounts.models import Account
from tribune.federation.serializers import PUBLIC
from tribune.graph.services import follow_create, follow_request_authorize
from tribune.notifications.models import Notification
from tribune.statuses.models import Favourite, Status
from tribune.statuses.services import status_create

ALICE = f"{settings.TRIBUNE_BASE_URL}/users/alice"
YAN = "https://remote.test/users/yan"


@pytest.fixture
def alice_follows_zed(alice, zed_account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=zed_account)
        follow_request_authorize(account=zed_account, requester=alice)
    return zed_account


def note(number: int, content: str = "<p>Hello</p>", *, author: str = ZED, **extra) -> dict:
    uri = f"{author}/statuses/{number}"
    return {"id": uri, "type": "Note", "attributedTo": author, "content": content,
            "published": "2026-11-30T10:00:00Z", "to": [PUBLIC], "cc": [f"{author}/followers"],
            "url": f"https://remote.test/@{author.rsplit('/', 1)[1]}/{number}", **extra}


def create(obj, *, actor: str = ZED) -> dict:
    return {"id": f"{obj['id'] if isinstance(obj, dict) else obj}/activity", "type": "Create",
            "actor": actor, "to": [PUBLIC], "object": obj}


def send(activity, keys, capture, *, path="/inbox"):
    with capture(execute=True):
        response = post(path, activity, private_pem=keys[0],
                        key_id=f"{activity['actor']}#main-key")
    assert response.status_code == 202, response.content
    return response


def test_a_followed_accounts_post_is_stored_sanitised_and_in_the_home_feed(
        zed_keys, alice, alice_follows_zed, api_as, django_capture_on_commit_callbacks):
    hostile = ('<p>Hi <script>alert(1)</script><a href="javascript:alert(2)" '
               'onclick="x()">there</a><img src=x onerror=alert(3)></p>')
    send(create(note(1, hostile)), zed_keys, django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    assert status.account == alice_follows_zed
    assert status.content == '<p>Hi <a rel="nofollow noopener noreferrer">there</a></p>'
    assert status.url == "https://remote.test/@zed/1" and status.visibility == "public"
    home = api_as(alice).get("/api/v1/timelines/home").json()
    assert [s["uri"] for s in home] == [f"{ZED}/statuses/1"]
    assert home[0]["account"]["acct"] == "zed@remote.test"
    # the web page shows it with the same safe HTML
    client = Client(HTTP_HOST=HOST)
    client.force_login(alice.user)
    page = client.get("/").content.decode()
    assert "there</a>" in page and "alert(" not in page and "onerror" not in page
    assert 'href="/@zed@remote.test"' in page  # the author's profile here, not a local zed
    assert client.get("/@zed@remote.test").status_code == 200


def test_a_post_delivered_twice_is_stored_once(zed_keys, zed_account,
                                              django_capture_on_commit_callbacks):
    for _ in range(2):
        send(create(note(1)), zed_keys, django_capture_on_commit_callbacks)
    assert Status.objects.filter(uri=f"{ZED}/statuses/1").count() == 1
    zed_account.refresh_from_db()
    assert zed_account.statuses_count == 1


def test_a_note_on_another_host_is_refused(zed_keys, zed_account,
                                           django_capture_on_commit_callbacks):
    forged = note(1) | {"id": "https://elsewhere.test/users/zed/statuses/1"}
    send(create(forged), zed_keys, django_capture_on_commit_callbacks)
    assert not Status.objects.exists()


def test_a_note_attributed_to_someone_else_is_refused(
        zed_keys, zed_account, yan, django_capture_on_commit_callbacks):
    send(create(note(1, author=YAN) | {"id": f"{ZED}/statuses/1"}), zed_keys,
         django_capture_on_commit_callbacks)
    send(create(note(2) | {"attributedTo": YAN}), zed_keys, django_capture_on_commit_callbacks)
    assert not Status.objects.exists()


def test_a_create_cannot_take_over_someone_elses_post(
        zed_keys, yan_keys, zed_account, yan, django_capture_on_commit_callbacks):
    send(create(note(1, "<p>yan's words</p>", author=YAN), actor=YAN), yan_keys,
         django_capture_on_commit_callbacks)
    uri = f"{YAN}/statuses/1"
    # zed sends a Create with yan's post's id, attributed to itself
    send(create(note(1, "<p>zed's words</p>") | {"id": uri}), zed_keys,
         django_capture_on_commit_callbacks)
    (status,) = Status.objects.all()
    assert status.account == yan and status.content == "<p>yan's words</p>"


def test_a_reply_threads_under_a_local_post_and_notifies_its_author(
        zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    parent = status_create(account=alice, text="A question")
    reply = note(5, "<p>An answer</p>", inReplyTo=f"{ALICE}/statuses/{parent.pk}",
                 tag=[{"type": "Mention", "href": ALICE, "name": "@alice"}])
    send(create(reply), zed_keys, django_capture_on_commit_callbacks)
    stored = Status.objects.get(uri=f"{ZED}/statuses/5")
    assert stored.in_reply_to == parent and stored.thread_id == parent.pk
    parent.refresh_from_db()
    assert parent.replies_count == 1
    context = api_as(alice).get(f"/api/v1/statuses/{parent.pk}/context").json()
    assert [s["id"] for s in context["descendants"]] == [str(stored.pk)]
    assert Notification.objects.filter(account=alice, from_account=zed_account,
                                       type="mention", status=stored).exists()


def test_an_unknown_parent_is_fetched_from_its_origin(
        zed, zed_keys, zed_account, yan, django_capture_on_commit_callbacks):
    zed.json("/users/yan/statuses/1", {"@context": "https://www.w3.org/ns/activitystreams",
                                       **note(1, "<p>the start</p>", author=YAN)})
    send(create(note(2, inReplyTo=f"{YAN}/statuses/1")), zed_keys,
         django_capture_on_commit_callbacks)
    parent = Status.objects.get(uri=f"{YAN}/statuses/1")
    assert parent.account == yan and parent.content == "<p>the start</p>"
    reply = Status.objects.get(uri=f"{ZED}/statuses/2")
    assert reply.in_reply_to == parent and reply.thread_id == parent.pk


def test_parents_are_fetched_to_a_bounded_depth(zed, zed_keys, zed_account,
                                                django_capture_on_commit_callbacks):
    from tribune.federation.notes import MAX_PARENT_DEPTH

    # a chain of 10 posts, each replying to the one before
    for number in range(1, 11):
        extra = {"inReplyTo": f"{ZED}/statuses/{number - 1}"} if number > 1 else {}
        zed.json(f"/users/zed/statuses/{number}", note(number, **extra))
    send(create(note(11, inReplyTo=f"{ZED}/statuses/10")), zed_keys,
         django_capture_on_commit_callbacks)
    assert Status.objects.count() == 1 + MAX_PARENT_DEPTH


def test_an_update_by_its_author_edits_the_post(zed_keys, zed_account,
                                                django_capture_on_commit_callbacks):
    send(create(note(1, "<p>first</p>")), zed_keys, django_capture_on_commit_callbacks)
    edited = note(1, "<p>second</p>", updated="2026-11-30T11:00:00Z")
    send({"id": f"{ZED}/statuses/1#updates/1", "type": "Update", "actor": ZED,
          "object": edited}, zed_keys, django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    assert status.content == "<p>second</p>" and status.edited_at is not None
    assert [e.content for e in status.edits.order_by("created_at")] == [
        "<p>first</p>", "<p>second</p>"]


def test_an_update_or_delete_by_another_actor_changes_nothing(
        zed_keys, yan_keys, zed_account, yan, django_capture_on_commit_callbacks):
    send(create(note(1, "<p>zed's</p>")), zed_keys, django_capture_on_commit_callbacks)
    uri = f"{ZED}/statuses/1"
    send({"type": "Update", "actor": YAN, "id": f"{YAN}#u",
          "object": note(1, "<p>yan's now</p>") | {"attributedTo": YAN}},
         yan_keys, django_capture_on_commit_callbacks)
    send({"type": "Delete", "actor": YAN, "id": f"{YAN}#d",
          "object": {"id": uri, "type": "Tombstone"}}, yan_keys,
         django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=uri)
    assert status.content == "<p>zed's</p>" and status.edited_at is None


def test_a_delete_by_its_author_removes_the_post_from_the_home_feed(
        zed_keys, alice, alice_follows_zed, api_as, django_capture_on_commit_callbacks):
    send(create(note(1)), zed_keys, django_capture_on_commit_callbacks)
    assert len(api_as(alice).get("/api/v1/timelines/home").json()) == 1
    send({"id": f"{ZED}/statuses/1#delete", "type": "Delete", "actor": ZED,
          "object": {"id": f"{ZED}/statuses/1", "type": "Tombstone"}}, zed_keys,
         django_capture_on_commit_callbacks)
    assert not Status.objects.exists()
    assert api_as(alice).get("/api/v1/timelines/home").json() == []


def test_a_boost_and_its_undo_count_and_notify(zed_keys, zed_account, alice,
                                               django_capture_on_commit_callbacks):
    status = status_create(account=alice, text="Boost me")
    uri = f"{ALICE}/statuses/{status.pk}"
    announce = {"id": f"{ZED}/statuses/9/activity", "type": "Announce", "actor": ZED,
                "to": [PUBLIC], "cc": [ALICE], "object": uri}
    send(announce, zed_keys, django_capture_on_commit_callbacks)
    status.refresh_from_db()
    assert status.reblogs_count == 1
    assert Notification.objects.filter(account=alice, type="reblog").count() == 1
    send({"id": f"{ZED}/statuses/9/undo", "type": "Undo", "actor": ZED, "object": announce},
         zed_keys, django_capture_on_commit_callbacks)
    status.refresh_from_db()
    assert status.reblogs_count == 0
    assert not Notification.objects.filter(account=alice, type="reblog").exists()


def test_an_embedded_object_of_another_actor_is_fetched_from_its_origin(
        zed, zed_keys, zed_account, yan, django_capture_on_commit_callbacks):
    real = note(3, "<p>what yan wrote</p>", author=YAN)
    zed.json("/users/yan/statuses/3", real)
    inline = real | {"content": "<p>words put in yan's mouth</p>"}
    send({"id": f"{ZED}/boosts/1", "type": "Announce", "actor": ZED, "to": [PUBLIC],
          "object": inline}, zed_keys, django_capture_on_commit_callbacks)
    original = Status.objects.get(uri=f"{YAN}/statuses/3")
    assert original.content == "<p>what yan wrote</p>" and original.account == yan
    assert original.reblogs_count == 1


def test_a_like_and_its_undo_count_and_notify(zed_keys, zed_account, alice,
                                              django_capture_on_commit_callbacks):
    status = status_create(account=alice, text="Like me")
    like = {"id": f"{ZED}#likes/1", "type": "Like", "actor": ZED,
            "object": f"{ALICE}/statuses/{status.pk}"}
    send(like, zed_keys, django_capture_on_commit_callbacks)
    status.refresh_from_db()
    assert status.favourites_count == 1
    assert Favourite.objects.filter(account=zed_account, status=status).exists()
    assert Notification.objects.filter(account=alice, type="favourite").exists()
    send({"id": f"{ZED}#likes/1/undo", "type": "Undo", "actor": ZED, "object": like},
         zed_keys, django_capture_on_commit_callbacks)
    status.refresh_from_db()
    assert status.favourites_count == 0
    assert not Notification.objects.filter(account=alice, type="favourite").exists()


def test_a_like_of_another_servers_post_is_not_counted_here(
        zed_keys, zed_account, django_capture_on_commit_callbacks):
    # zed's own post, known here: its count is zed's server's, as in Mastodon.
    send(create(note(31)), zed_keys, django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/31")
    send({"id": f"{ZED}#likes/31", "type": "Like", "actor": ZED,
          "object": status.uri}, zed_keys, django_capture_on_commit_callbacks)
    status.refresh_from_db()
    assert status.favourites_count == 0
    assert not Favourite.objects.exists()


def test_local_posts_cannot_be_deleted_or_edited_from_outside(
        zed_keys, zed_account, alice, django_capture_on_commit_callbacks):
    status = status_create(account=alice, text="mine")
    uri = f"{ALICE}/statuses/{status.pk}"
    send({"type": "Delete", "actor": ZED, "id": f"{ZED}#d", "object": uri}, zed_keys,
         django_capture_on_commit_callbacks)
    send({"type": "Update", "actor": ZED, "id": f"{ZED}#u",
          "object": note(1) | {"id": uri}}, zed_keys, django_capture_on_commit_callbacks)
    status.refresh_from_db()
    assert status.content == "<p>mine</p>"


def test_unsupported_types_are_still_202(zed_keys, zed_account,
                                         django_capture_on_commit_callbacks):
    send({"type": "Question", "actor": ZED, "id": f"{ZED}#q"}, zed_keys,
         django_capture_on_commit_callbacks)
    send(create({"id": f"{ZED}/q/1", "type": "Question", "attributedTo": ZED}), zed_keys,
         django_capture_on_commit_callbacks)
    send({"type": "Update", "actor": ZED, "id": f"{ZED}#p",
          "object": {"id": ZED, "type": "Person"}}, zed_keys,
         django_capture_on_commit_callbacks)
    assert not Status.objects.exists()
    assert Account.objects.filter(uri=ZED).exists()


def test_a_local_reply_and_favourite_go_to_the_remote_author(
        zed, zed_keys, zed_account, alice, django_capture_on_commit_callbacks):
    import json

    from tribune.statuses.services import favourite_create, favourite_delete

    zed.routes["/inbox"] = (202, {}, b"")
    send(create(note(1)), zed_keys, django_capture_on_commit_callbacks)
    remote_post = Status.objects.get(uri=f"{ZED}/statuses/1")
    zed.received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reply = status_create(account=alice, text="@zed@remote.test agreed",
                              in_reply_to_id=remote_post.pk)
        favourite_create(account=alice, status=remote_post)
    with django_capture_on_commit_callbacks(execute=True):
        favourite_delete(account=alice, status=remote_post)
    sent = {json.loads(r.body)["type"]: (r.path, json.loads(r.body))
            for r in zed.received if r.method == "POST"}
    path, created = sent["Create"]
    assert path == "/inbox"  # zed's server's shared inbox
    assert created["object"]["inReplyTo"] == f"{ZED}/statuses/1"
    assert created["object"]["id"] == f"{ALICE}/statuses/{reply.pk}"
    path, like = sent["Like"]
    assert path == "/users/zed/inbox" and like["object"] == f"{ZED}/statuses/1"
    _path, undo = sent["Undo"]
    assert undo["object"]["type"] == "Like" and undo["object"]["id"] == like["id"]
