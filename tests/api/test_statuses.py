"""Statuses through the client API: create, read, edit, delete and actions."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_create_links_mentions_and_tags(alice, bob, api_as):
    api = api_as(alice)
    r = api.post("/api/v1/statuses", json={"status": "Hi @bob, see #Tribune and #ＴＲＩＢＵＮＥ https://example.org"})
    assert r.status_code == 200, r.content
    status = r.json()
    assert status["account"]["id"] == str(alice.pk)
    assert status["visibility"] == "public"
    assert [m["acct"] for m in status["mentions"]] == ["bob"]
    assert status["mentions"][0]["url"] == "http://127.0.0.1:8000/@bob"
    # Width and case fold to one tag.
    assert status["tags"] == [{"name": "tribune", "url": "http://127.0.0.1:8000/tags/tribune"}]
    assert 'href="http://127.0.0.1:8000/@bob"' in status["content"]
    assert 'href="https://example.org"' in status["content"]
    assert ISO_MS.match(status["created_at"])
    assert status["edited_at"] is None
    assert status["uri"] == f"http://127.0.0.1:8000/users/alice/statuses/{status['id']}"
    assert status["url"] == f"http://127.0.0.1:8000/@alice/{status['id']}"
    assert isinstance(status["id"], str)


def test_form_body_and_idempotency_key(alice, api_as):
    api = api_as(alice)
    first = api.post("/api/v1/statuses", data={"status": "once"}, HTTP_IDEMPOTENCY_KEY="k1")
    again = api.post("/api/v1/statuses", data={"status": "once"}, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    other = api.post("/api/v1/statuses", data={"status": "once"}, HTTP_IDEMPOTENCY_KEY="k2")
    assert other.json()["id"] != first.json()["id"]
    alice.refresh_from_db()
    assert alice.statuses_count == 2


@pytest.mark.parametrize("body, message", [
    ({"status": ""}, "Validation failed: Text can't be blank"),
    ({"status": "   "}, "Validation failed: Text can't be blank"),
    ({"status": "x" * 501}, "Validation failed: Text character limit of 500 exceeded"),
    ({"status": "ok", "visibility": "everyone"}, "Validation failed: Visibility is not included in the list"),
])
def test_create_rejects_bad_input(alice, api_as, body, message):
    r = api_as(alice).post("/api/v1/statuses", json=body)
    assert r.status_code == 422
    assert r.json()["error"] == message
    alice.refresh_from_db()
    assert alice.statuses_count == 0


def test_urls_count_23_characters(alice, api_as):
    url = "https://example.org/" + "a" * 200
    text = "y" * (500 - 24) + " " + url  # 476 + 1 + 23 = 500
    assert api_as(alice).post("/api/v1/statuses", json={"status": text}).status_code == 200


def test_max_characters_follows_setting(alice, api_as, settings):
    settings.TRIBUNE_MAX_CHARACTERS = 10
    api = api_as(alice)
    assert api.post("/api/v1/statuses", json={"status": "0123456789"}).status_code == 200
    assert api.post("/api/v1/statuses", json={"status": "0123456789a"}).status_code == 422
    assert api.get("/api/v2/instance").json()["configuration"]["statuses"]["max_characters"] == 10


def test_reply_and_context(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    root = a.post("/api/v1/statuses", json={"status": "root"}).json()
    reply = b.post("/api/v1/statuses", json={"status": "@alice reply", "in_reply_to_id": root["id"]}).json()
    nested = a.post("/api/v1/statuses", json={"status": "@bob nested", "in_reply_to_id": reply["id"]}).json()
    assert reply["in_reply_to_id"] == root["id"]
    assert reply["in_reply_to_account_id"] == str(alice.pk)
    ctx = a.get(f"/api/v1/statuses/{reply['id']}/context").json()
    assert [s["id"] for s in ctx["ancestors"]] == [root["id"]]
    assert [s["id"] for s in ctx["descendants"]] == [nested["id"]]
    ctx = a.get(f"/api/v1/statuses/{root['id']}/context").json()
    assert ctx["ancestors"] == []
    assert [s["id"] for s in ctx["descendants"]] == [reply["id"], nested["id"]]
    assert a.get(f"/api/v1/statuses/{root['id']}").json()["replies_count"] == 1


def test_reply_to_unknown_status_is_404(alice, api_as):
    r = api_as(alice).post("/api/v1/statuses", json={"status": "x", "in_reply_to_id": "12345"})
    assert r.status_code == 404
    assert r.json() == {"error": "Record not found"}


def test_edit_keeps_history_and_source(alice, api_as):
    api = api_as(alice)
    status = api.post("/api/v1/statuses", json={"status": "first #one", "spoiler_text": ""}).json()
    edited = api.put(f"/api/v1/statuses/{status['id']}", json={"status": "second #two", "spoiler_text": "cw"})
    assert edited.status_code == 200
    body = edited.json()
    assert ISO_MS.match(body["edited_at"])
    assert body["spoiler_text"] == "cw" and body["sensitive"] is True
    assert [t["name"] for t in body["tags"]] == ["two"]
    history = api.get(f"/api/v1/statuses/{status['id']}/history").json()
    assert len(history) == 2
    assert "first" in history[0]["content"] and "second" in history[1]["content"]
    source = api.get(f"/api/v1/statuses/{status['id']}/source").json()
    assert source == {"id": status["id"], "text": "second #two", "spoiler_text": "cw"}


def test_history_of_unedited_status_has_one_version(alice, api_as):
    api = api_as(alice)
    status = api.post("/api/v1/statuses", json={"status": "only"}).json()
    history = api.get(f"/api/v1/statuses/{status['id']}/history").json()
    assert len(history) == 1 and "only" in history[0]["content"]


def test_cannot_edit_or_delete_others(alice, bob, api_as):
    status = api_as(alice).post("/api/v1/statuses", json={"status": "mine"}).json()
    b = api_as(bob)
    # Mastodon looks only among the caller's own statuses: 404, not 403.
    assert b.put(f"/api/v1/statuses/{status['id']}", json={"status": "yours"}).status_code == 404
    assert b.put(f"/api/v1/statuses/{status['id']}", json={"status": "y", "media_ids": [1]}).status_code == 404
    assert b.delete(f"/api/v1/statuses/{status['id']}").status_code == 404
    assert b.get(f"/api/v1/statuses/{status['id']}/source").status_code == 404


def test_delete_returns_source_and_removes_everywhere(alice, bob, api_as, make_account):
    from tribune.graph.services import follow_create

    follow_create(account=bob, target=alice)
    a, b = api_as(alice), api_as(bob)
    status = a.post("/api/v1/statuses", json={"status": "gone soon #bye"}).json()
    b.post(f"/api/v1/statuses/{status['id']}/favourite")
    b.post(f"/api/v1/statuses/{status['id']}/reblog")
    b.post(f"/api/v1/statuses/{status['id']}/bookmark")
    assert status["id"] in [s["id"] for s in b.get("/api/v1/timelines/home").json()]
    deleted = a.delete(f"/api/v1/statuses/{status['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["text"] == "gone soon #bye"
    assert a.get(f"/api/v1/statuses/{status['id']}").status_code == 404
    for path in ["/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/timelines/tag/bye",
                 "/api/v1/bookmarks", "/api/v1/favourites", f"/api/v1/accounts/{bob.pk}/statuses"]:
        page = b.get(path)
        assert page.status_code in (200, 404), path
        if page.status_code == 200:
            ids = {s["id"] for s in page.json()} | {(s.get("reblog") or {}).get("id") for s in page.json()}
            assert status["id"] not in ids, path
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.statuses_count == 0
    assert bob.statuses_count == 0  # the reblog went with it


def test_favourite_reblog_bookmark_pin_round_trip(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    sid = a.post("/api/v1/statuses", json={"status": "like me"}).json()["id"]
    fav = b.post(f"/api/v1/statuses/{sid}/favourite").json()
    assert fav["favourited"] is True and fav["favourites_count"] == 1
    assert b.post(f"/api/v1/statuses/{sid}/favourite").json()["favourites_count"] == 1
    reblog = b.post(f"/api/v1/statuses/{sid}/reblog").json()
    assert reblog["reblog"]["id"] == sid and reblog["reblogged"] is True
    assert reblog["reblog"]["reblogs_count"] == 1
    assert b.post(f"/api/v1/statuses/{sid}/bookmark").json()["bookmarked"] is True
    assert [acc["id"] for acc in a.get(f"/api/v1/statuses/{sid}/favourited_by").json()] == [str(bob.pk)]
    assert [acc["id"] for acc in a.get(f"/api/v1/statuses/{sid}/reblogged_by").json()] == [str(bob.pk)]
    assert b.post(f"/api/v1/statuses/{sid}/unfavourite").json()["favourited"] is False
    unreblogged = b.post(f"/api/v1/statuses/{sid}/unreblog").json()
    assert unreblogged["id"] == sid and unreblogged["reblogged"] is False
    assert unreblogged["reblogs_count"] == 0
    assert b.post(f"/api/v1/statuses/{sid}/unbookmark").json()["bookmarked"] is False
    assert a.post(f"/api/v1/statuses/{sid}/pin").json()["pinned"] is True
    assert b.post(f"/api/v1/statuses/{sid}/pin").status_code == 422
    pinned = a.get(f"/api/v1/accounts/{alice.pk}/statuses", {"pinned": "true"})
    if pinned.status_code == 200:  # the accounts router may land separately
        assert [s["id"] for s in pinned.json()] == [sid]
    assert a.post(f"/api/v1/statuses/{sid}/unpin").json()["pinned"] is False


def test_at_most_five_pins(alice, api_as):
    api = api_as(alice)
    ids = [api.post("/api/v1/statuses", json={"status": f"p{i}"}).json()["id"] for i in range(6)]
    for sid in ids[:5]:
        assert api.post(f"/api/v1/statuses/{sid}/pin").status_code == 200
    r = api.post(f"/api/v1/statuses/{ids[5]}/pin")
    assert r.status_code == 422
    assert "maximum" in r.json()["error"]


def test_reblogging_a_private_post_of_someone_else_is_forbidden(alice, bob, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=bob, target=alice)
    sid = api_as(alice).post("/api/v1/statuses", json={"status": "fo", "visibility": "private"}).json()["id"]
    assert api_as(bob).post(f"/api/v1/statuses/{sid}/reblog").status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/statuses/abc", "/api/v1/statuses/99999999999999999999999",
                                  "/api/v1/statuses/-1", "/api/v1/statuses/1/context"])
def test_malformed_or_unknown_ids_are_404(alice, api_as, path):
    r = api_as(alice).get(path)
    assert r.status_code == 404
    assert r.json() == {"error": "Record not found"}


def test_scopes_and_tokens(alice, api_as):
    from tests.conftest import Api

    read_only = api_as(alice, scopes="read")
    r = read_only.post("/api/v1/statuses", json={"status": "nope"})
    assert r.status_code == 403
    assert r.json() == {"error": "This action is outside the authorized scopes"}
    granular = api_as(alice, scopes="write:statuses")
    assert granular.post("/api/v1/statuses", json={"status": "yes"}).status_code == 200
    assert Api().post("/api/v1/statuses", json={"status": "anon"}).status_code == 401
    bad = Api("not-a-token").get("/api/v1/timelines/home")
    assert bad.status_code == 401
    assert bad.json() == {"error": "The access token is invalid"}


def test_malformed_json_is_a_client_error(alice, api_as):
    api = api_as(alice)
    r = api.client.post("/api/v1/statuses", "{not json", content_type="application/json", **api.headers)
    assert r.status_code in (400, 422)
    assert "error" in r.json()


def test_actions_without_a_body_and_parameters_in_the_query(alice, bob, api_as):
    """Mastodon.py posts reblogs with no body at all; some clients put parameters in
    the query string of a POST."""
    a, b = api_as(alice), api_as(bob)
    sid = a.post("/api/v1/statuses?status=from%20the%20query").json()["id"]
    assert "from the query" in a.get(f"/api/v1/statuses/{sid}").json()["content"]
    r = b.client.post(f"/api/v1/statuses/{sid}/reblog", **b.headers)
    assert r.status_code == 200, r.content
    assert r.json()["reblog"]["id"] == sid
    empty = a.client.post("/api/v1/statuses", **a.headers)
    assert empty.status_code == 422
    assert empty.json()["error"] == "Validation failed: Text can't be blank"


def test_several_statuses_by_id(alice, bob, api_as):
    a = api_as(alice)
    one = a.post("/api/v1/statuses", json={"status": "one"}).json()["id"]
    two = a.post("/api/v1/statuses", json={"status": "two", "visibility": "private"}).json()["id"]
    found = api_as(bob).get(f"/api/v1/statuses?id[]={one}&id[]={two}&id[]=nope")
    assert [s["id"] for s in found.json()] == [one]  # the private one is not bob's to see
    assert [s["id"] for s in a.get(f"/api/v1/statuses?id[]={two}&id[]={one}").json()] == [two, one]
