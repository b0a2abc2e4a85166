"""The client-api cases from real-world reports (CLI-12 to CLI-16)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _walk_ids(value, path=""):
    """Yield (path, value) for every ``id`` and ``*_id`` key in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" or key.endswith("_id"):
                yield f"{path}.{key}", item
            yield from _walk_ids(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_ids(item, f"{path}[{index}]")


def test_cli12_ids_are_strings_and_sort_by_length_then_text(alice, bob, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    a, b = api_as(alice), api_as(bob)
    root = b.post("/api/v1/statuses", json={"status": "@alice hi"}).json()["id"]
    a.post("/api/v1/statuses", json={"status": "@bob reply", "in_reply_to_id": root})
    a.post(f"/api/v1/statuses/{root}/reblog")
    for path in ("/api/v1/timelines/home", "/api/v1/notifications", f"/api/v1/accounts/{bob.pk}/statuses"):
        body = api_as(alice).get(path).json()
        found = list(_walk_ids(body))
        assert found, path
        for where, value in found:
            assert (value is None and where.endswith(("in_reply_to_id", "in_reply_to_account_id"))) or (
                isinstance(value, str) and value.isdigit()), (path, where, value)
    home = a.get("/api/v1/timelines/home").json()
    ids = [s["id"] for s in home]
    assert ids == sorted(ids, key=lambda i: (len(i), i), reverse=True)


def test_cli13_empty_and_short_pages_keep_links(alice, bob, api_as):
    from tribune.graph.services import block_create

    a, b = api_as(alice), api_as(bob)
    mine = [a.post("/api/v1/statuses", json={"status": f"a{i}"}).json()["id"] for i in range(3)]
    for i in range(15):
        b.post("/api/v1/statuses", json={"status": f"b{i}"})
    block_create(account=alice, target=bob)
    # (a) polling past the newest item: empty, yet prev to keep polling.
    r = a.get("/api/v1/timelines/home", {"min_id": mine[-1]})
    assert r.json() == [] and 'rel="prev"' in r["Link"]
    # (b)/(c) a page filtered below its limit still links to older items.
    page = a.get("/api/v1/timelines/public", {"limit": 2})
    assert [s["id"] for s in page.json()] == [mine[2], mine[1]]
    assert 'rel="next"' in page["Link"]


def test_cli14_exclusive_bounds_single_and_full_pages(alice, api_as):
    a = api_as(alice)
    only = a.post("/api/v1/statuses", json={"status": "one"}).json()["id"]
    page = a.get("/api/v1/timelines/home", {"limit": 1})
    assert f"max_id={only}" in page["Link"] and f"min_id={only}" in page["Link"]
    assert a.get("/api/v1/timelines/home", {"max_id": only}).json() == []
    more = [a.post("/api/v1/statuses", json={"status": f"n{i}"}).json()["id"] for i in range(4)]
    everything = [only, *more]
    seen, params = [], {"limit": 5}
    for _ in range(5):
        r = a.get("/api/v1/timelines/home", params)
        if not r.json():
            break
        seen += [s["id"] for s in r.json()]
        params = {"limit": 5, "max_id": re.search(r"max_id=(\d+)", r["Link"]).group(1)}
    assert seen == list(reversed(everything))


def test_cli15_timestamps_and_null_dates(make_account, api_as):
    fresh = make_account("fresh")
    api = api_as(fresh)
    me = api.get("/api/v1/accounts/verify_credentials").json()
    assert ISO_MS.match(me["created_at"])
    assert me["last_status_at"] is None
    status = api.post("/api/v1/statuses", json={"status": "first"}).json()
    assert ISO_MS.match(status["created_at"]) and status["edited_at"] is None
    me = api.get("/api/v1/accounts/verify_credentials").json()
    assert re.match(r"^\d{4}-\d\d-\d\d$", me["last_status_at"])


def test_cli16_errors_are_json(alice, api_as, settings):
    from tests.conftest import Api

    cases = [
        (Api("bad-token").get("/api/v1/timelines/home"), 401),
        (api_as(alice).get("/api/v1/statuses/123"), 404),
        (api_as(alice).post("/api/v1/statuses", json={"status": "x" * 600}), 422),
        (api_as(alice).client.patch("/api/v1/timelines/home"), 405),
        (api_as(alice).client.get("/api/v1/no/such/endpoint"), 404),
    ]
    for response, status in cases:
        assert response.status_code == status
        assert response["Content-Type"].startswith("application/json")
        assert isinstance(response.json()["error"], str)


@pytest.mark.rate_limits
def test_cli16_rate_limit_is_json_with_headers(alice, api_as, settings):
    settings.TRIBUNE_RATE_LIMITS = True
    api = api_as(alice)
    first = api.get("/api/v1/timelines/home")
    assert first["X-RateLimit-Limit"] == "300"
    assert first["X-RateLimit-Remaining"] == "299"
    assert ISO_MS.match(first["X-RateLimit-Reset"])
    for _ in range(299):
        api.client.get("/api/v1/instance", **api.headers)
    limited = api.get("/api/v1/timelines/home")
    assert limited.status_code == 429
    assert limited.json() == {"error": "Too many requests"}
    assert limited["X-RateLimit-Remaining"] == "0"
    # Another token has its own budget.
    assert api_as(alice).get("/api/v1/timelines/home").status_code == 200


def test_overlong_and_overfull_query_strings_are_json_errors(alice, api_as):
    api = api_as(alice)
    long = api.client.get("/api/v1/timelines/public?local=" + "x" * 20000, **api.headers)
    assert long.status_code == 414 and long.json() == {"error": "URI Too Long"}
    many = "&".join(f"id[]={i}" for i in range(1500))
    full = api.client.get(f"/api/v1/accounts/relationships?{many}", **api.headers)
    assert full.status_code == 400
    assert full["Content-Type"].startswith("application/json") and "error" in full.json()


def test_search_offsets_are_bounded(alice, api_as):
    """A huge offset once overflowed the database's integer (found by schemathesis)."""
    api = api_as(alice)
    for path in ("/api/v1/accounts/search?q=a&offset=66727065623782899712",
                 "/api/v2/search?q=a&type=accounts&offset=66727065623782899712"):
        r = api.get(path)
        assert r.status_code == 422, path
    assert api.get("/api/v1/accounts/search?q=al&offset=0").json()[0]["username"] == "alice"
