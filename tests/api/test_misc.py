"""Markers, search, and the endpoints that answer an empty but valid result."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NOT_FOUND = {"error": "Record not found"}
OUT_OF_SCOPE = {"error": "This action is outside the authorized scopes"}


# --- markers ----------------------------------------------------------------------------


def test_markers_start_empty(alice, api_as):
    api = api_as(alice)
    assert api.get("/api/v1/markers").json() == {}
    r = api.client.get("/api/v1/markers?timeline[]=home&timeline[]=notifications", **api.headers)
    assert (r.status_code, r.json()) == (200, {})


def test_set_markers_with_json_then_a_form(alice, api_as):
    api = api_as(alice)
    r = api.post("/api/v1/markers", json={"home": {"last_read_id": "1000"}})
    assert r.status_code == 200, r.content
    home = r.json()["home"]
    assert list(r.json()) == ["home"]
    assert (home["last_read_id"], home["version"]) == ("1000", 0)
    assert ISO_MS.match(home["updated_at"])
    # Rails-style nested form keys; the home marker moves, notifications is new.
    r = api.post("/api/v1/markers", data={"home[last_read_id]": "2000",
                                          "notifications[last_read_id]": "77"})
    saved = r.json()
    assert (saved["home"]["last_read_id"], saved["home"]["version"]) == ("2000", 1)
    assert (saved["notifications"]["last_read_id"], saved["notifications"]["version"]) == ("77", 0)
    # An integer id in JSON works too; the same position again leaves the version.
    r = api.post("/api/v1/markers", json={"home": {"last_read_id": 2000}})
    assert r.json()["home"]["version"] == 1
    r = api.get("/api/v1/markers", {"timeline[]": ["home", "notifications"]})
    assert r.json() == {"home": saved["home"], "notifications": saved["notifications"]}
    assert list(api.get("/api/v1/markers", {"timeline[]": ["notifications"]}).json()) == [
        "notifications"]
    assert list(api.get("/api/v1/markers", {"timeline": "home"}).json()) == ["home"]


def test_markers_belong_to_their_account(alice, bob, api_as):
    api_as(alice).post("/api/v1/markers", json={"home": {"last_read_id": "5"}})
    assert api_as(bob).get("/api/v1/markers", {"timeline[]": ["home"]}).json() == {}


def test_marker_bad_input(alice, api_as):
    api = api_as(alice)
    r = api.post("/api/v1/markers", json={"home": {"last_read_id": "abc"}})
    assert r.status_code == 422
    assert r.json()["error"] == "Validation failed: Last read id must be an id"
    assert api.get("/api/v1/markers", {"timeline[]": ["home"]}).json() == {}
    # A marker that is not an object is left out, as Mastodon's permitted params do.
    assert api.post("/api/v1/markers", json={"home": "abc"}).json() == {}
    assert api.post("/api/v1/markers", json={}).json() == {}


def test_marker_scopes(alice, api_as):
    r = api_as(alice, scopes="read").post("/api/v1/markers", json={"home": {"last_read_id": "1"}})
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)
    assert api_as(None).get("/api/v1/markers").status_code == 401


# --- search -----------------------------------------------------------------------------


@pytest.fixture
def searchable(alice, bob, make_account, api_as):
    """Accounts starting with "bir" and the hashtags #birds, #birdwatching, #bikes."""
    birdie = make_account("birdie", display_name="Birdie")
    make_account("bird_fan", display_name="Fan")
    api_as(bob).post("/api/v1/statuses", json={"status": "#Birds #birdwatching #bikes"})
    return birdie


def test_search_accounts_and_hashtags(alice, searchable, api_as):
    api = api_as(alice)
    r = api.get("/api/v2/search", {"q": "bir"})
    assert r.status_code == 200, r.content
    result = r.json()
    assert [a["acct"] for a in result["accounts"]] == ["birdie", "bird_fan"]
    assert [t["name"] for t in result["hashtags"]] == ["Birds", "birdwatching"]
    assert result["hashtags"][0]["url"] == "http://127.0.0.1:8000/tags/birds"
    history = result["hashtags"][0]["history"]  # a week, today first (one post today)
    assert len(history) == 7 and (history[0]["uses"], history[0]["accounts"]) == ("1", "1")
    assert {h["uses"] for h in history[1:]} == {"0"}
    assert result["hashtags"][0]["following"] is False
    assert result["statuses"] == []
    assert [t["name"] for t in api.get("/api/v2/search", {"q": "#BIRDW"}).json()["hashtags"]] == [
        "birdwatching"]


def test_search_type_limit_offset_and_following(alice, searchable, api_as):
    api = api_as(alice)
    accounts = api.get("/api/v2/search", {"q": "bir", "type": "accounts"}).json()
    assert accounts["hashtags"] == [] and len(accounts["accounts"]) == 2
    tags = api.get("/api/v2/search", {"q": "bir", "type": "hashtags", "limit": 1, "offset": 1}).json()
    assert (tags["accounts"], [t["name"] for t in tags["hashtags"]]) == ([], ["birdwatching"])
    statuses = api.get("/api/v2/search", {"q": "bir", "type": "statuses"}).json()
    assert statuses == {"accounts": [], "statuses": [], "hashtags": []}
    api.post(f"/api/v1/accounts/{searchable.pk}/follow")
    followed = api.get("/api/v2/search", {"q": "bir", "following": "true"}).json()["accounts"]
    assert [a["acct"] for a in followed] == ["birdie"]
    assert api.get("/api/v2/search", {"q": "bir", "limit": "abc"}).status_code == 422


@pytest.mark.parametrize("path", ["/api/v2/search", "/api/v1/search"])
@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"type": "accounts"}])
def test_search_without_a_query_is_400_as_in_mastodon(alice, api_as, path, params):
    r = api_as(alice).get(path, params)
    assert (r.status_code, r.json()) == (400, {"error": "param is missing or the value is empty: q"})


def test_search_v1_returns_hashtag_names(alice, searchable, api_as):
    r = api_as(alice).get("/api/v1/search", {"q": "bi"})
    assert r.status_code == 200
    assert r.json()["hashtags"] == ["bikes", "Birds", "birdwatching"]
    assert [a["acct"] for a in r.json()["accounts"]] == ["birdie", "bird_fan"]


def test_search_by_visitors_is_first_page_only(searchable, api_as):
    visitor = api_as(None)
    assert len(visitor.get("/api/v2/search", {"q": "bir"}).json()["accounts"]) == 2
    for params in ({"q": "bir", "offset": "1", "type": "accounts"}, {"q": "bir", "resolve": "true"}):
        r = visitor.get("/api/v2/search", params)
        assert r.status_code == 401
        assert r.json() == {"error": "Search queries pagination is not supported without authentication"}


def test_search_hides_blocked_accounts_and_needs_read_search(alice, searchable, api_as):
    api = api_as(alice)
    api.post(f"/api/v1/accounts/{searchable.pk}/block")
    assert [a["acct"] for a in api.get("/api/v2/search", {"q": "bir"}).json()["accounts"]] == [
        "bird_fan"]
    r = api_as(alice, scopes="read:statuses").get("/api/v2/search", {"q": "bir"})
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)


# --- empty but valid ----------------------------------------------------------------------

EMPTY = ["/api/v1/lists", "/api/v1/filters", "/api/v2/filters", "/api/v1/trends",
         "/api/v1/trends/tags", "/api/v1/trends/statuses", "/api/v1/trends/links",
         "/api/v1/conversations", "/api/v1/announcements", "/api/v1/suggestions",
         "/api/v2/suggestions", "/api/v1/followed_tags", "/api/v1/scheduled_statuses",
         "/api/v1/domain_blocks", "/api/v1/endorsements", "/api/v1/featured_tags"]
PUBLIC = {"/api/v1/trends", "/api/v1/trends/tags", "/api/v1/trends/statuses",
          "/api/v1/trends/links"}


@pytest.mark.parametrize("path", EMPTY)
def test_empty_lists(alice, api_as, path):
    api = api_as(alice)
    for variant in (path, path + "/"):
        if path == "/api/v1/filters":
            # The reference schema types this answer as one V1Filter; Mastodon's
            # documentation (methods/filters.md) and servers answer an array.
            r = api.client.get(variant, **api.headers)
        else:
            r = api.get(variant)
        assert (r.status_code, r.json()) == (200, []), variant
    visitor = api_as(None).get(path)
    assert visitor.status_code == (200 if path in PUBLIC else 401)


@pytest.mark.parametrize("path, scope", [
    ("/api/v1/lists", "read:statuses"), ("/api/v1/filters", "read:statuses"),
    ("/api/v1/conversations", "read:accounts"), ("/api/v1/followed_tags", "read:statuses"),
    ("/api/v1/domain_blocks", "read:mutes"), ("/api/v1/announcements", "read:statuses"),
])
def test_empty_lists_still_check_scopes(alice, api_as, path, scope):
    r = api_as(alice, scopes=scope).get(path)
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)


def test_unknown_lists_are_not_found(alice, api_as):
    api = api_as(alice)
    for path in ("/api/v1/lists/1", "/api/v1/lists/notanumber", "/api/v1/timelines/list/1"):
        r = api.get(path)
        assert (r.status_code, r.json()) == (404, NOT_FOUND), path
    assert api_as(None).get("/api/v1/lists/1").status_code == 401
