"""Reply controls and local-only posts in the server-rendered interface: the
compose form's choices, the mark on a post, and a thread that says why its reply
box is missing."""

from __future__ import annotations

import pytest
from django.test import Client

from tribune.graph.services import follow_create
from tribune.statuses.models import ReplyPolicy, Status
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(account.user)
    return client


def test_the_compose_form_chooses_who_may_reply_and_keeps_a_post_local(alice):
    response = client_for(alice).post("/statuses", {
        "text": "just for the people here", "visibility": "public",
        "reply_policy": "mentioned", "local_only": "on"})
    assert response.status_code in (302, 303), response.content
    made = Status.objects.get(account=alice)
    assert (made.reply_policy, made.local_only) == (ReplyPolicy.MENTIONED, True)
    html = client_for(alice).get(f"/@alice/{made.pk}").content.decode()
    assert "This server only" in html and "Mentioned people can reply" in html


def test_a_bad_reply_policy_is_a_form_error_and_posts_nothing(alice):
    response = client_for(alice).post("/statuses", {
        "text": "x", "visibility": "public", "reply_policy": "friends"})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Status.objects.exists()


def test_a_thread_says_who_may_reply_instead_of_a_reply_box(alice, bob, carol):
    follow_create(account=bob, target=alice)
    made = status_create(account=alice, text="among friends",
                         reply_policy=ReplyPolicy.FOLLOWERS)
    refused = client_for(carol).get(f"/@alice/{made.pk}").content.decode()
    assert "Only followers of the author can reply to this post." in refused
    assert 'id="compose"' not in refused
    allowed = client_for(bob).get(f"/@alice/{made.pk}").content.decode()
    assert 'id="compose"' in allowed
    assert "Only followers of the author" not in allowed
    # Sent anyway (an old page), the reply is refused with the same reason.
    response = client_for(carol).post("/statuses", {
        "text": "@alice hi", "visibility": "public", "in_reply_to_id": str(made.pk)})
    assert response.status_code == 422
    assert "Only followers of the author can reply to this post." in response.content.decode()
    assert not Status.objects.filter(account=carol).exists()


def test_visitors_get_no_local_only_post(alice):
    made = status_create(account=alice, text="kept at home", local_only=True)
    visitor = Client(HTTP_HOST="localhost")
    assert visitor.get(f"/@alice/{made.pk}").status_code == 404
    assert "kept at home" not in visitor.get("/@alice").content.decode()
    assert "kept at home" in client_for(alice).get("/@alice").content.decode()
