"""Conversations: direct posts filed per participant by the effects of a new
post (read for the author, unread for the others), blocks and mutes, deletion,
and the client API (validated against Mastodon's schema) with its paging and
query counts."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tribune.conversations.models import AccountConversation
from tribune.conversations.services import conversation_delete, conversation_read
from tribune.core.errors import NotFound
from tribune.graph.services import block_create, mute_create
from tribune.statuses.services import status_create, status_delete

pytestmark = pytest.mark.django_db(transaction=True)


def direct(author, text: str, **extra):
    return status_create(account=author, text=text, visibility="direct", **extra)


def state(account) -> list[tuple[list[str], bool, int]]:
    """(other participants' usernames, unread, last status id) of each of
    ``account``'s conversations, the most recent first."""
    from tribune.accounts.models import Account

    names = dict(Account.objects.values_list("pk", "username"))
    return [(sorted(names[pk] for pk in row.participant_ids), row.unread, row.last_status_id)
            for row in AccountConversation.objects.filter(account=account)
            .order_by("-last_status_id")]


def test_a_direct_post_is_read_for_its_author_and_unread_for_the_mentioned(alice, bob, carol):
    first = direct(alice, "@bob @carol the plan for Saturday")
    assert state(alice) == [(["bob", "carol"], False, first.pk)]
    assert state(bob) == [(["alice", "carol"], True, first.pk)]
    assert state(carol) == [(["alice", "bob"], True, first.pk)]

    answer = direct(bob, "@alice @carol sounds good", in_reply_to_id=first.pk)
    assert state(alice) == [(["bob", "carol"], True, answer.pk)]
    assert state(bob) == [(["alice", "carol"], False, answer.pk)]
    assert state(carol) == [(["alice", "bob"], True, answer.pk)]


def test_other_participants_or_another_thread_make_another_conversation(alice, bob, carol):
    first = direct(alice, "@bob hello")
    aside = direct(alice, "@bob @carol hello both", in_reply_to_id=first.pk)
    elsewhere = direct(alice, "@bob a new subject")
    assert state(alice) == [(["bob"], False, elsewhere.pk), (["bob", "carol"], False, aside.pk),
                            (["bob"], False, first.pk)]
    assert len(state(bob)) == 3


def test_public_posts_and_mentions_make_no_conversation(alice, bob):
    status_create(account=alice, text="@bob in public", visibility="public")
    status_create(account=alice, text="@bob followers only", visibility="private")
    assert not AccountConversation.objects.exists()


def test_a_note_to_oneself_shows_oneself(alice, api_as):
    note = direct(alice, "remember the milk")
    assert state(alice) == [([], False, note.pk)]
    body = api_as(alice).get("/api/v1/conversations").json()
    assert [a["username"] for a in body[0]["accounts"]] == ["alice"]


def test_blocks_and_muted_notifications_keep_it_out_as_for_notifications(alice, bob, carol,
                                                                           make_account):
    dave = make_account("dave")
    block_create(account=bob, target=alice)
    mute_create(account=carol, target=alice)  # notifications muted too (the default)
    mute_create(account=dave, target=alice, notifications=False)
    direct(alice, "@bob @carol @dave anyone there?")
    assert state(bob) == [] and state(carol) == []
    assert [u for u, _unread, _last in state(dave)] == [["alice", "bob", "carol"]]
    assert len(state(alice)) == 1


def test_deleting_the_last_post_goes_back_to_the_one_before(alice, bob):
    first = direct(alice, "@bob one")
    second = direct(bob, "@alice two", in_reply_to_id=first.pk)
    status_delete(account=bob, status=second)
    assert state(alice) == [(["bob"], True, first.pk)]
    assert state(bob) == [(["alice"], False, first.pk)]  # unread stays as it was
    status_delete(account=alice, status=first)
    assert not AccountConversation.objects.exists()


def test_read_and_delete_touch_only_ones_own(alice, bob):
    direct(alice, "@bob one")
    mine = AccountConversation.objects.get(account=bob)
    with pytest.raises(NotFound):
        conversation_read(account=alice, conversation_id=mine.pk)
    with pytest.raises(NotFound):
        conversation_delete(account=alice, conversation_id=mine.pk)
    with pytest.raises(NotFound):
        conversation_read(account=bob, conversation_id="not-an-id")
    assert conversation_read(account=bob, conversation_id=mine.pk).unread is False
    conversation_delete(account=bob, conversation_id=mine.pk)
    assert state(bob) == [] and len(state(alice)) == 1


def test_running_the_effects_twice_changes_nothing(alice, bob):
    from tribune.conversations.services import conversation_add_status

    first = direct(alice, "@bob once")
    conversation_read(account=bob, conversation_id=AccountConversation.objects.get(
        account=bob).pk)
    assert conversation_add_status(status_id=first.pk) == 2
    assert state(bob) == [(["alice"], False, first.pk)]
    assert state(alice) == [(["bob"], False, first.pk)]


# --- the client API -----------------------------------------------------------------


def links(response) -> dict[str, dict[str, list[str]]]:
    return {rel: parse_qs(urlparse(url).query)
            for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.get("Link", ""))}


def test_api_lists_reads_and_deletes(alice, bob, api_as):
    first = direct(alice, "@bob hi Bob")
    api = api_as(bob)
    r = api.get("/api/v1/conversations")
    assert r.status_code == 200
    [entity] = r.json()
    assert entity["unread"] is True
    assert [a["acct"] for a in entity["accounts"]] == ["alice"]
    assert entity["last_status"]["id"] == str(first.pk)
    assert entity["last_status"]["visibility"] == "direct"

    r = api.post(f"/api/v1/conversations/{entity['id']}/read")
    assert r.status_code == 200 and r.json()["unread"] is False
    assert api.get("/api/v1/conversations").json()[0]["unread"] is False

    assert api_as(alice).post(f"/api/v1/conversations/{entity['id']}/read").status_code == 404
    assert api.delete("/api/v1/conversations/123").json() == {"error": "Record not found"}
    assert api.delete(f"/api/v1/conversations/{entity['id']}").json() == {}
    assert api.get("/api/v1/conversations").json() == []
    assert len(api_as(alice).get("/api/v1/conversations").json()) == 1


def test_api_scopes(alice, bob, api_as):
    direct(alice, "@bob hi")
    row = AccountConversation.objects.get(account=bob)
    reader = api_as(bob, scopes="read:statuses")
    assert reader.get("/api/v1/conversations").status_code == 200
    assert reader.post(f"/api/v1/conversations/{row.pk}/read").status_code == 403
    writer = api_as(bob, scopes="write:conversations")
    assert writer.get("/api/v1/conversations").status_code == 403
    assert writer.post(f"/api/v1/conversations/{row.pk}/read").status_code == 200


def test_api_pages_by_last_status_with_link_headers(alice, bob, api_as):
    posts = [direct(alice, f"@bob subject {i}") for i in range(5)]
    api = api_as(bob)
    r = api.get("/api/v1/conversations", {"limit": 2})
    assert [c["last_status"]["id"] for c in r.json()] == [str(p.pk) for p in posts[:2:-1]][:2]
    assert links(r)["next"]["max_id"] == [str(posts[3].pk)]
    assert links(r)["prev"]["min_id"] == [str(posts[4].pk)]
    r = api.get("/api/v1/conversations", {"limit": 2, "max_id": posts[3].pk})
    assert [c["last_status"]["id"] for c in r.json()] == [str(posts[2].pk), str(posts[1].pk)]
    r = api.get("/api/v1/conversations", {"min_id": posts[1].pk, "limit": 2})
    assert [c["last_status"]["id"] for c in r.json()] == [str(posts[3].pk), str(posts[2].pk)]
    r = api.get("/api/v1/conversations", {"since_id": posts[3].pk})
    assert [c["last_status"]["id"] for c in r.json()] == [str(posts[4].pk)]
    assert api.get("/api/v1/conversations", {"max_id": "x"}).status_code == 422


def test_a_page_costs_the_same_queries_whatever_its_size(alice, bob, carol, make_account,
                                                         api_as):
    others = [make_account(f"friend{i}") for i in range(3)]
    api = api_as(bob)
    direct(alice, "@bob first")
    api.get("/api/v1/conversations")  # warm the caches
    with CaptureQueriesContext(connection) as small:
        assert len(api.get("/api/v1/conversations").json()) == 1
    for i, friend in enumerate(others):
        direct(friend, f"@bob @carol @alice news {i}")
        direct(carol, f"@bob @{friend.username} more {i}")
    with CaptureQueriesContext(connection) as large:
        assert len(api.get("/api/v1/conversations").json()) == 7
    assert len(large) == len(small)
