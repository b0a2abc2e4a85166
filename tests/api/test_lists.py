"""Lists through the client API: the lists, their members (form, JSON and query
parameters; paging; ``limit=0``), the lists an account is in, and a list's
timeline with its Link header and a constant number of queries. Every response is
checked against Mastodon's OpenAPI schema by ``tests.conftest.Api``."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.mastodon_schema import check
from tribune.graph.services import follow_create, follow_delete
from tribune.lists.services import list_accounts_add, list_create
from tribune.statuses.services import reblog_create, status_create

pytestmark = pytest.mark.django_db

NOT_FOUND = {"error": "Record not found"}
OUT_OF_SCOPE = {"error": "This action is outside the authorized scopes"}


def links(response) -> dict[str, dict[str, str]]:
    return {rel: {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
            for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.get("Link", ""))}


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()]


def delete_with(api, path: str, **kwargs):
    """DELETE with a body (the test client's ``delete`` sends none by default)."""
    response = api.client.delete(path, **kwargs, **api.headers)
    if response.get("Content-Type", "").startswith("application/json"):
        check("DELETE", path.split("?")[0], response.status_code, response.json())
    return response


def test_lists_crud(alice, bob, api_as):
    a = api_as(alice)
    assert a.get("/api/v1/lists").json() == []
    made = a.post("/api/v1/lists", json={"title": "Friends"})
    assert made.status_code == 200
    friends = made.json()
    assert friends == {"id": friends["id"], "title": "Friends", "replies_policy": "list",
                       "exclusive": False}
    news = a.post("/api/v1/lists", data={"title": "News", "replies_policy": "none",
                                         "exclusive": "true"}).json()
    assert (news["replies_policy"], news["exclusive"]) == ("none", True)
    assert ids(a.get("/api/v1/lists")) == [friends["id"], news["id"]]
    assert a.get(f"/api/v1/lists/{friends['id']}").json() == friends

    changed = a.put(f"/api/v1/lists/{friends['id']}", json={"replies_policy": "followed"})
    assert changed.json() == {**friends, "replies_policy": "followed"}
    changed = a.put(f"/api/v1/lists/{friends['id']}", json={"title": "Close", "exclusive": True})
    assert changed.json() == {**friends, "title": "Close", "replies_policy": "followed",
                              "exclusive": True}

    for response, message in [
        (a.post("/api/v1/lists", json={}), "Validation failed: Title can't be blank"),
        (a.post("/api/v1/lists", json={"title": "x" * 257}),
         "Validation failed: Title is too long (maximum is 256 characters)"),
        (a.put(f"/api/v1/lists/{friends['id']}", json={"replies_policy": "all"}),
         "Validation failed: Replies policy is not included in the list"),
    ]:
        assert (response.status_code, response.json()["error"]) == (422, message)

    # Parameters in the query string with no body at all, as some clients send them.
    renamed = a.client.put(f"/api/v1/lists/{news['id']}?title=Headlines", **a.headers)
    assert (renamed.status_code, renamed.json()["title"]) == (200, "Headlines")
    bare = a.client.post("/api/v1/lists", data="", content_type="application/json", **a.headers)
    assert bare.json()["error"] == "Validation failed: Title can't be blank"
    odd = a.client.put(f"/api/v1/lists/{news['id']}?exclusive=perhaps", **a.headers)
    assert odd.status_code == 422

    b = api_as(bob)  # someone else's list does not exist for bob
    for response in (b.get(f"/api/v1/lists/{friends['id']}"),
                     b.put(f"/api/v1/lists/{friends['id']}", json={"title": "mine"}),
                     b.delete(f"/api/v1/lists/{friends['id']}"),
                     b.get(f"/api/v1/lists/{friends['id']}/accounts"),
                     b.get(f"/api/v1/timelines/list/{friends['id']}"),
                     a.get("/api/v1/lists/12345"), a.get("/api/v1/lists/nonsense")):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert b.get("/api/v1/lists").json() == []

    assert a.delete(f"/api/v1/lists/{friends['id']}").json() == {}
    assert ids(a.get("/api/v1/lists")) == [news["id"]]


def test_scopes_and_visitors(alice, api_as):
    lst = list_create(account=alice, title="Friends")
    reader = api_as(alice, scopes="read:lists")
    assert reader.get("/api/v1/lists").status_code == 200
    assert reader.get(f"/api/v1/timelines/list/{lst.pk}").status_code == 200
    r = reader.post("/api/v1/lists", json={"title": "x"})
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)
    r = api_as(alice, scopes="read:statuses").get(f"/api/v1/lists/{lst.pk}/accounts")
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)
    assert api_as(alice, scopes="write:lists").post(
        "/api/v1/lists", json={"title": "x"}).status_code == 200
    assert api_as(None).get("/api/v1/lists").status_code == 401


def test_fifty_lists_at_most(alice, api_as):
    from tribune.lists.models import List

    List.objects.bulk_create([List(account=alice, title=f"l{i}") for i in range(50)])
    r = api_as(alice).post("/api/v1/lists", json={"title": "one more"})
    assert (r.status_code, r.json()["error"]) == (
        422, "Validation failed: You have reached the maximum number of lists")


def test_members_added_removed_and_paged(alice, bob, carol, make_account, api_as):
    dave = make_account("dave")
    for target in (bob, carol, dave):
        follow_create(account=alice, target=target)
    a = api_as(alice)
    lst = a.post("/api/v1/lists", json={"title": "Friends"}).json()["id"]
    path = f"/api/v1/lists/{lst}/accounts"

    assert a.post(path, data={"account_ids[]": [str(bob.pk), str(carol.pk)]}).json() == {}
    assert a.post(path, json={"account_ids": [str(dave.pk)]}).json() == {}
    assert a.post(path, json={}).json() == {}  # nothing to add, as Mastodon
    newest_first = [str(x.pk) for x in sorted((bob, carol, dave), key=lambda x: -x.pk)]
    assert ids(a.get(path)) == newest_first

    first = a.get(path, {"limit": 2})
    assert ids(first) == newest_first[:2]
    assert links(first)["next"]["max_id"] == newest_first[1]
    second = a.get(path, {"limit": 2, "max_id": newest_first[1]})
    assert ids(second) == newest_first[2:]
    everyone = a.get(path, {"limit": 0})
    assert ids(everyone) == newest_first and "Link" not in everyone

    r = a.post(path, json={"account_ids": [str(bob.pk)]})
    assert (r.status_code, r.json()["error"]) == (
        422, "Validation failed: Account has already been taken")
    stranger = make_account("erin")
    r = a.post(path, json={"account_ids": [str(stranger.pk)]})
    assert (r.status_code, r.json()["error"]) == (
        422, "Validation failed: Account must be a followed account")
    r = a.post(path, json={"account_ids": ["99999999"]})
    assert (r.status_code, r.json()) == (404, NOT_FOUND)

    # Removal: query string, form body and JSON body alike; unknown members ignored.
    assert delete_with(a, f"{path}?account_ids[]={bob.pk}").json() == {}
    assert delete_with(a, path, data=f"account_ids[]={carol.pk}&account_ids[]={stranger.pk}",
                       content_type="application/x-www-form-urlencoded").json() == {}
    assert ids(a.get(path)) == [str(dave.pk)]
    assert delete_with(a, path, data=json.dumps({"account_ids": [str(dave.pk)]}),
                       content_type="application/json").json() == {}
    assert a.get(path).json() == []


def test_lists_of_an_account(alice, bob, carol, api_as):
    follow_create(account=alice, target=bob)
    friends, news = (list_create(account=alice, title=t) for t in ("Friends", "News"))
    list_create(account=alice, title="Empty")
    for lst in (friends, news):
        list_accounts_add(account=alice, list_id=lst.pk, members=[bob])
    follow_create(account=carol, target=bob)
    list_accounts_add(account=carol, list_id=list_create(account=carol, title="Carol's").pk,
                      members=[bob])
    a = api_as(alice)
    assert [x["title"] for x in a.get(f"/api/v1/accounts/{bob.pk}/lists").json()] == [
        "Friends", "News"]
    assert a.get(f"/api/v1/accounts/{carol.pk}/lists").json() == []
    follow_delete(account=alice, target=bob)  # unfollowing takes bob out of both
    assert a.get(f"/api/v1/accounts/{bob.pk}/lists").json() == []
    assert a.get(f"/api/v1/lists/{friends.pk}/accounts").json() == []


def test_list_timeline_pages_with_link_headers(alice, bob, carol, api_as):
    follow_create(account=alice, target=bob)
    lst = list_create(account=alice, title="Friends")
    list_accounts_add(account=alice, list_id=lst.pk, members=[bob])
    posts = [status_create(account=bob, text=f"post {i}") for i in range(3)]
    status_create(account=carol, text="not listed")
    a = api_as(alice)
    path = f"/api/v1/timelines/list/{lst.pk}"
    newest = [str(p.pk) for p in reversed(posts)]
    page = a.get(path, {"limit": 2})
    assert ids(page) == newest[:2]
    assert links(page) == {"next": {"limit": "2", "max_id": newest[1]},
                           "prev": {"limit": "2", "min_id": newest[0]}}
    assert ids(a.get(path, {"max_id": newest[1]})) == newest[2:]
    assert ids(a.get(path, {"min_id": newest[2], "limit": 1})) == [newest[1]]
    assert ids(a.get(path, {"since_id": newest[2]})) == newest[:2]
    polling = a.get(path, {"min_id": newest[0]})
    assert polling.json() == [] and links(polling) == {"prev": {"min_id": newest[0]}}
    r = a.get(path, {"max_id": "abc"})
    assert r.status_code == 422


def test_list_timeline_collapses_a_boost_of_a_post_on_the_page(alice, bob, carol, api_as):
    follow_create(account=alice, target=bob)
    follow_create(account=alice, target=carol)
    lst = list_create(account=alice, title="Friends")
    list_accounts_add(account=alice, list_id=lst.pk, members=[bob, carol])
    original = status_create(account=bob, text="original")
    boost = reblog_create(account=carol, status=original)
    shown = api_as(alice).get(f"/api/v1/timelines/list/{lst.pk}").json()
    assert [s["id"] for s in shown] == [str(original.pk)]
    assert boost.pk  # the boost is collapsed into the original already on the page


def _queries(api, path: str) -> int:
    from django.core.cache import caches

    caches["local"].clear()  # every entity rendered from its rows
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_run_constant_queries(alice, bob, carol, make_account, api_as):
    members = [bob, carol, *(make_account() for _ in range(3))]
    lst = list_create(account=alice, title="Friends")
    for member in members:
        follow_create(account=alice, target=member)
    list_accounts_add(account=alice, list_id=lst.pk, members=members[:2])
    a = api_as(alice)

    def add(n: int) -> None:
        for i in range(n):
            author = members[i % 2]
            post = status_create(account=author, text=f"@alice #q {i}")
            reblog_create(account=members[(i + 1) % 2], status=post)

    timeline, accounts = f"/api/v1/timelines/list/{lst.pk}?limit=40", \
        f"/api/v1/lists/{lst.pk}/accounts?limit=0"
    add(2)
    small = _queries(a, timeline), _queries(a, accounts)
    add(20)
    list_accounts_add(account=alice, list_id=lst.pk, members=members[2:])
    large = _queries(a, timeline), _queries(a, accounts)
    assert small == large, (small, large)
