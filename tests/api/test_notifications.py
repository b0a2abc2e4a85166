"""Notifications through the client API: what creates them, filters, paging,
dismissing, the unread count and query counts."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True)

NOT_FOUND = {"error": "Record not found"}
OUT_OF_SCOPE = {"error": "This action is outside the authorized scopes"}


def links(response) -> dict[str, dict[str, list[str]]]:
    return {rel: parse_qs(urlparse(url).query)
            for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.get("Link", ""))}


def summary(response) -> list[tuple[str, str, str | None]]:
    """(type, sender acct, status id) of each notification, newest first."""
    assert response.status_code == 200, response.content
    return [(n["type"], n["account"]["acct"], (n["status"] or {}).get("id"))
            for n in response.json()]


def post(api, text: str, **extra) -> str:
    r = api.post("/api/v1/statuses", json={"status": text, **extra})
    assert r.status_code == 200, r.content
    return r.json()["id"]


@pytest.fixture
def busy_alice(alice, bob, carol, make_account, api_as):
    """Alice's notifications of every kind, from bob, carol and dave; returns
    (expected summary newest first, ids by name)."""
    lock_follower = make_account("dave")
    a, b, c, d = api_as(alice), api_as(bob), api_as(carol), api_as(lock_follower)
    first = post(a, "a post to react to")
    b.post(f"/api/v1/accounts/{alice.pk}/follow")
    mention = post(c, "@alice hello")
    b.post(f"/api/v1/statuses/{first}/favourite")
    c.post(f"/api/v1/statuses/{first}/reblog")
    a.patch("/api/v1/accounts/update_credentials", json={"locked": True})
    d.post(f"/api/v1/accounts/{alice.pk}/follow")
    expected = [
        ("follow_request", "dave", None),
        ("reblog", "carol", first),
        ("favourite", "bob", first),
        ("mention", "carol", mention),
        ("follow", "bob", None),
    ]
    return expected, {"first": first, "mention": mention}


def test_each_kind_of_notification_with_its_account_and_status(alice, busy_alice, api_as):
    expected, _ = busy_alice
    r = api_as(alice).get("/api/v1/notifications")
    assert summary(r) == expected
    by_type = {n["type"]: n for n in r.json()}
    assert by_type["mention"]["status"]["content"].startswith("<p>")
    assert by_type["favourite"]["status"]["account"]["acct"] == "alice"
    assert by_type["follow"]["status"] is None
    for n in r.json():
        assert n["group_key"] == f"ungrouped-{n['id']}"
        assert isinstance(n["id"], str)


def test_update_notification_reaches_those_who_favourited_or_reblogged(alice, bob, carol, api_as):
    a = api_as(alice)
    sid = post(a, "first draft")
    api_as(bob).post(f"/api/v1/statuses/{sid}/favourite")
    api_as(carol).post(f"/api/v1/statuses/{sid}/reblog")
    assert a.put(f"/api/v1/statuses/{sid}", json={"status": "second draft"}).status_code == 200
    for viewer in (bob, carol):
        r = api_as(viewer).get("/api/v1/notifications", {"types[]": ["update"]})
        assert summary(r) == [("update", "alice", sid)]
        assert "second draft" in r.json()[0]["status"]["content"]


def test_status_notification_for_notify_followers(alice, bob, api_as):
    api_as(bob).post(f"/api/v1/accounts/{alice.pk}/follow", json={"notify": True})
    sid = post(api_as(alice), "news")
    assert summary(api_as(bob).get("/api/v1/notifications")) == [("status", "alice", sid)]


def test_types_and_exclude_types_filters(alice, busy_alice, api_as):
    expected, _ = busy_alice
    api = api_as(alice)
    # Rails-style arrays in the query string.
    r = api.client.get("/api/v1/notifications?types[]=follow&types[]=mention", **api.headers)
    assert summary(r) == [e for e in expected if e[0] in ("follow", "mention")]
    r = api.get("/api/v1/notifications", {"exclude_types[]": ["follow", "follow_request", "reblog"]})
    assert summary(r) == [e for e in expected if e[0] in ("favourite", "mention")]
    # A single value without brackets, and an unknown type that matches nothing.
    assert summary(api.get("/api/v1/notifications", {"types": "favourite"})) == [expected[2]]
    assert summary(api.get("/api/v1/notifications", {"types[]": ["nonsense"]})) == []


def test_account_id_filter(alice, bob, busy_alice, api_as):
    expected, _ = busy_alice
    api = api_as(alice)
    r = api.get("/api/v1/notifications", {"account_id": bob.pk})
    assert summary(r) == [e for e in expected if e[1] == "bob"]
    assert summary(api.get("/api/v1/notifications", {"account_id": "notanumber"})) == []


def test_paging_with_link_headers(alice, busy_alice, api_as):
    expected, _ = busy_alice
    api = api_as(alice)
    seen, params = [], {"limit": "2"}
    while True:
        r = api.get("/api/v1/notifications", params)
        page = summary(r)
        if not page:
            break
        assert len(page) <= 2
        seen += page
        params = {k: v[0] for k, v in links(r)["next"].items()}
        assert params["limit"] == "2"
    assert seen == expected
    newest = api.get("/api/v1/notifications").json()[0]["id"]
    r = api.get("/api/v1/notifications", {"min_id": newest})
    assert r.json() == []
    assert links(r)["prev"]["min_id"] == [newest]  # keep polling from here (CLI-13)


def test_bad_parameters_are_422_not_500(alice, api_as):
    api = api_as(alice)
    for params in ({"limit": "abc"}, {"max_id": "abc"}, {"since_id": "1.5"}, {"min_id": "x"}):
        r = api.get("/api/v1/notifications", params)
        assert r.status_code == 422, params
        assert r.json()["error"].startswith("Validation failed")


def test_one_notification_dismiss_and_clear(alice, bob, busy_alice, api_as):
    expected, _ = busy_alice
    api = api_as(alice)
    listed = api.get("/api/v1/notifications").json()
    one = listed[1]
    assert api.get(f"/api/v1/notifications/{one['id']}").json() == one
    # Someone else's notification is not found, and neither is a malformed id.
    other = api_as(bob)
    for path in (f"/api/v1/notifications/{one['id']}", "/api/v1/notifications/notanumber"):
        r = other.get(path)
        assert (r.status_code, r.json()) == (404, NOT_FOUND)
    r = other.post(f"/api/v1/notifications/{one['id']}/dismiss")
    assert (r.status_code, r.json()) == (404, NOT_FOUND)
    r = api.post(f"/api/v1/notifications/{one['id']}/dismiss")
    assert (r.status_code, r.json()) == (200, {})
    assert summary(api.get("/api/v1/notifications")) == expected[:1] + expected[2:]
    assert api.get(f"/api/v1/notifications/{one['id']}").status_code == 404
    assert api.post("/api/v1/notifications/clear/").json() == {}
    assert api.get("/api/v1/notifications").json() == []


def test_notifications_from_a_blocked_account_are_hidden(alice, bob, carol, api_as):
    a, b = api_as(alice), api_as(bob)
    sid = post(a, "hello")
    b.post(f"/api/v1/statuses/{sid}/favourite")
    post(api_as(carol), "@alice hi")
    assert [n[1] for n in summary(a.get("/api/v1/notifications"))] == ["carol", "bob"]
    a.post(f"/api/v1/accounts/{bob.pk}/block")
    assert [n[1] for n in summary(a.get("/api/v1/notifications"))] == ["carol"]
    a.post(f"/api/v1/accounts/{bob.pk}/unblock")
    # Unblocking shows them again; muting (with notifications) hides them.
    assert [n[1] for n in summary(a.get("/api/v1/notifications"))] == ["carol", "bob"]
    a.post(f"/api/v1/accounts/{carol.pk}/mute")
    assert [n[1] for n in summary(a.get("/api/v1/notifications"))] == ["bob"]
    a.post(f"/api/v1/accounts/{carol.pk}/mute", json={"notifications": False})
    assert [n[1] for n in summary(a.get("/api/v1/notifications"))] == ["carol", "bob"]


def test_unread_count_follows_the_notifications_marker(alice, busy_alice, api_as):
    expected, _ = busy_alice
    api = api_as(alice)
    assert api.get("/api/v1/notifications/unread_count").json() == {"count": len(expected)}
    listed = api.get("/api/v1/notifications").json()
    api.post("/api/v1/markers", json={"notifications": {"last_read_id": listed[2]["id"]}})
    assert api.get("/api/v1/notifications/unread_count").json() == {"count": 2}
    assert api.get("/api/v1/notifications/unread_count", {"limit": "1"}).json() == {"count": 1}
    r = api.get("/api/v1/notifications/unread_count", {"types[]": ["reblog"]})
    assert r.json() == {"count": 1}


def test_query_count_does_not_grow_with_the_page(alice, make_account, api_as):
    from tribune.graph.services import follow_create
    from tribune.statuses.services import favourite_create, status_create

    def add(n: int):
        status = status_create(account=alice, text="a post")
        for _ in range(n):
            fan = make_account()
            follow_create(account=fan, target=alice)
            favourite_create(account=fan, status=status)
            status_create(account=fan, text="@alice hey")

    api = api_as(alice)

    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            r = api.get("/api/v1/notifications", {"limit": str(limit)})
        assert len(r.json()) == limit
        return len(ctx.captured_queries)

    add(2)  # 6 notifications
    small = queries(5)
    add(10)  # 36 notifications
    assert queries(30) == small


def test_scopes_and_tokens(alice, api_as):
    reader = api_as(alice, scopes="read")
    for path in ("/api/v1/notifications/clear", "/api/v1/notifications/1/dismiss"):
        r = reader.post(path)
        assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)
        assert api_as(None).post(path).status_code == 401
    r = api_as(alice, scopes="read:statuses").get("/api/v1/notifications")
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)
    for path in ("/api/v1/notifications", "/api/v1/notifications/unread_count",
                 "/api/v1/notifications/1"):
        assert api_as(None).get(path).status_code == 401
    assert api_as(alice, scopes="read:notifications").get("/api/v1/notifications").status_code == 200
