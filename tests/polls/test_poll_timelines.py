"""Polls in timelines: the entity cache (docs/adr/0013) never serves old counts
or another viewer's votes, and a page of polls costs a constant number of
queries. Fan-out runs after commit, so these tests commit."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.polls.test_poll_api import _post_poll

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_cached_timeline_shows_new_votes(alice, bob, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=bob, target=alice)
    created = _post_poll(api_as(alice))
    bob_api = api_as(bob)
    first = bob_api.get("/api/v1/timelines/home").json()
    assert first[0]["poll"]["votes_count"] == 0  # now cached at this version
    bob_api.post(f"/api/v1/polls/{created['poll']['id']}/votes", json={"choices": [0]})
    again = bob_api.get("/api/v1/timelines/home").json()[0]["poll"]
    assert (again["votes_count"], again["voted"], again["own_votes"]) == (1, True, [0])
    # Another viewer's page from the same cache entry carries that viewer's state only.
    alice_view = api_as(alice).get("/api/v1/timelines/home").json()[0]["poll"]
    assert (alice_view["voted"], alice_view["own_votes"]) == (True, [])


def _query_count(api, path: str) -> int:
    caches["local"].clear()
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_a_timeline_of_polls_runs_constant_queries(alice, bob, carol, api_as):
    """The home and public timelines run as many queries for 2 polls as for 14;
    the polls are made once for both."""
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    a, b = api_as(alice), api_as(bob)
    paths = ["/api/v1/timelines/home?limit=40", "/api/v1/timelines/public?limit=40"]

    def add(n):
        for _ in range(n):
            poll_id = _post_poll(b)["poll"]["id"]
            a.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]})
            reblog = api_as(carol).post("/api/v1/statuses", json={"status": "no poll"})
            assert reblog.status_code == 200

    add(2)
    small = {path: _query_count(a, path) for path in paths}
    add(12)
    large = {path: _query_count(a, path) for path in paths}
    assert small == large
