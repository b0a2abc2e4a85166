"""Timelines: home fan-out, public, hashtag, favourites, bookmarks; pagination."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True)


def links(response) -> dict[str, dict[str, list[str]]]:
    """rel -> query parameters of each Link header entry."""
    out = {}
    for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.get("Link", "")):
        out[rel] = parse_qs(urlparse(url).query)
    return out


def ids(response) -> list[str]:
    return [s["id"] for s in response.json()]


def test_home_has_own_and_followed_posts_not_others(alice, bob, carol, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    a, b, c = api_as(alice), api_as(bob), api_as(carol)
    mine = a.post("/api/v1/statuses", json={"status": "mine"}).json()["id"]
    bobs = b.post("/api/v1/statuses", json={"status": "bob's"}).json()["id"]
    carols = c.post("/api/v1/statuses", json={"status": "carol's"}).json()["id"]
    home = ids(a.get("/api/v1/timelines/home"))
    assert home == [bobs, mine]
    assert carols not in home


def test_follow_brings_recent_posts_and_unfollow_removes_them(alice, bob, api_as):
    from tribune.graph.services import follow_create, follow_delete

    bobs = api_as(bob).post("/api/v1/statuses", json={"status": "before follow"}).json()["id"]
    follow_create(account=alice, target=bob)
    a = api_as(alice)
    assert ids(a.get("/api/v1/timelines/home")) == [bobs]
    follow_delete(account=alice, target=bob)
    assert ids(a.get("/api/v1/timelines/home")) == []


def test_reblog_reaches_followers_of_the_reblogger(alice, bob, carol, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    sid = api_as(carol).post("/api/v1/statuses", json={"status": "carol says"}).json()["id"]
    reblog = api_as(bob).post(f"/api/v1/statuses/{sid}/reblog").json()
    home = api_as(alice).get("/api/v1/timelines/home").json()
    assert [s["id"] for s in home] == [reblog["id"]]
    assert home[0]["reblog"]["id"] == sid
    assert home[0]["account"]["id"] == str(bob.pk)


def test_public_and_tag_timelines(alice, bob, api_as):
    a = api_as(alice)
    pub = a.post("/api/v1/statuses", json={"status": "hello #Café"}).json()["id"]
    a.post("/api/v1/statuses", json={"status": "quiet #café", "visibility": "unlisted"})
    a.post("/api/v1/statuses", json={"status": "friends #café", "visibility": "private"})
    anon = api_as(None)
    assert ids(anon.get("/api/v1/timelines/public", {"local": "true"})) == [pub]
    assert ids(anon.get("/api/v1/timelines/tag/CAFÉ")) == [pub]
    assert ids(anon.get("/api/v1/timelines/tag/cafe")) == [pub]  # diacritics fold
    assert ids(anon.get("/api/v1/timelines/tag/cafes")) == []
    assert ids(anon.get("/api/v1/timelines/public", {"remote": "true"})) == []


def test_public_timeline_hides_blocked_and_muted(alice, bob, carol, api_as):
    from tribune.graph.services import block_create, mute_create

    bobs = api_as(bob).post("/api/v1/statuses", json={"status": "bob"}).json()["id"]
    carols = api_as(carol).post("/api/v1/statuses", json={"status": "carol"}).json()["id"]
    block_create(account=alice, target=bob)
    mute_create(account=alice, target=carol)
    assert ids(api_as(alice).get("/api/v1/timelines/public")) == []
    assert set(ids(api_as(None).get("/api/v1/timelines/public"))) == {bobs, carols}


def test_favourites_and_bookmarks_are_paged_by_when_marked(alice, bob, api_as):
    b, a = api_as(bob), api_as(alice)
    first = b.post("/api/v1/statuses", json={"status": "one"}).json()["id"]
    second = b.post("/api/v1/statuses", json={"status": "two"}).json()["id"]
    a.post(f"/api/v1/statuses/{second}/favourite")
    a.post(f"/api/v1/statuses/{first}/favourite")  # favourited last: comes first
    page = a.get("/api/v1/favourites", {"limit": 1})
    assert ids(page) == [first]
    nxt = links(page)["next"]["max_id"][0]
    assert nxt != first  # the cursor is the favourite's id, not the status id
    assert ids(a.get("/api/v1/favourites", {"limit": 1, "max_id": nxt})) == [second]
    a.post(f"/api/v1/statuses/{first}/bookmark")
    assert ids(a.get("/api/v1/bookmarks")) == [first]


def test_pagination_of_45_posts_loses_and_repeats_nothing(alice, api_as):
    a = api_as(alice)
    posted = [a.post("/api/v1/statuses", json={"status": f"n{i}"}).json()["id"] for i in range(45)]
    seen, page = [], a.get("/api/v1/timelines/home", {"limit": 20})
    while True:
        seen += ids(page)
        nxt = links(page).get("next")
        if not page.json():
            assert nxt is None
            assert "prev" in links(page)  # an empty page still lets clients poll
            break
        page = a.get("/api/v1/timelines/home", {"limit": 20, "max_id": nxt["max_id"][0]})
    assert seen == list(reversed(posted))
    # And back up with prev (min_id) from the oldest page: the bounds are exclusive.
    back = a.get("/api/v1/timelines/home", {"limit": 20, "min_id": posted[4]})
    assert ids(back) == list(reversed(posted[5:25]))
    prev = links(back)["prev"]["min_id"][0]
    assert prev == posted[24]
    assert ids(a.get("/api/v1/timelines/home", {"since_id": posted[40]})) == list(reversed(posted[41:]))


def test_link_headers_keep_other_parameters(alice, api_as):
    a = api_as(alice)
    for i in range(3):
        a.post("/api/v1/statuses", json={"status": f"#t {i}"})
    page = a.get("/api/v1/timelines/public", {"local": "true", "limit": 2})
    assert links(page)["next"]["local"] == ["true"]
    assert links(page)["next"]["limit"] == ["2"]


def test_one_item_page_uses_distinct_cursors(alice, api_as):
    a = api_as(alice)
    only = a.post("/api/v1/statuses", json={"status": "alone"}).json()["id"]
    page = a.get("/api/v1/timelines/home")
    rels = links(page)
    assert rels["next"]["max_id"] == [only] and rels["prev"]["min_id"] == [only]
    assert ids(a.get("/api/v1/timelines/home", {"max_id": only})) == []
    assert ids(a.get("/api/v1/timelines/home", {"min_id": only})) == []


def test_empty_polling_page_keeps_prev(alice, api_as):
    a = api_as(alice)
    newest = a.post("/api/v1/statuses", json={"status": "x"}).json()["id"]
    page = a.get("/api/v1/timelines/home", {"min_id": newest})
    assert page.json() == []
    assert links(page) == {"prev": {"min_id": [newest]}}


@pytest.mark.parametrize("params", [{"limit": "abc"}, {"max_id": "abc"}, {"min_id": "1e9"},
                                    {"since_id": "99999999999999999999999"}, {"local": "maybe"}])
def test_bad_paging_parameters_are_422(alice, api_as, params):
    r = api_as(alice).get("/api/v1/timelines/public", params)
    assert r.status_code == 422
    assert "error" in r.json()


def _query_count(api, path) -> int:
    from django.core.cache import caches

    caches["local"].clear()  # every entity rendered from its rows; the feed trimmed
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(path).status_code == 200
    return len(ctx.captured_queries)


TIMELINES = ["/api/v1/timelines/home?limit=40", "/api/v1/timelines/public?limit=40",
             "/api/v1/timelines/tag/q?limit=40", "/api/v1/favourites?limit=40",
             "/api/v1/bookmarks?limit=40"]


def test_timelines_run_constant_queries(alice, bob, carol, api_as):
    """Each timeline runs as many queries for a page of 2 posts as for a full page.
    The posts are made once for all the timelines: each one sees them all."""
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    follow_create(account=alice, target=carol)
    a, b, c = api_as(alice), api_as(bob), api_as(carol)

    def add(n):
        for i in range(n):
            author = (b, c)[i % 2]
            sid = author.post("/api/v1/statuses", json={"status": f"@alice @carol #q {i}"}).json()["id"]
            a.post(f"/api/v1/statuses/{sid}/favourite")
            a.post(f"/api/v1/statuses/{sid}/bookmark")
            reblog = c.post(f"/api/v1/statuses/{sid}/reblog")
            assert reblog.status_code == 200

    add(2)
    small = {path: _query_count(a, path) for path in TIMELINES}
    add(20)
    large = {path: _query_count(a, path) for path in TIMELINES}
    assert small == large
