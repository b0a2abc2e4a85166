"""The scale benchmarks' floor view (``TRIBUNE_BENCHMARK_FLOOR``): absent by
default, one query, a body of the requested size."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def test_floor_is_not_routed_by_default(client):
    assert client.get("/_bench/floor", {"account": 1, "bytes": 100},
                      HTTP_HOST="localhost").status_code == 404


def test_floor_answers_the_newest_statuses_padded_to_the_size(alice, bob):
    from tribune.api.floor import floor
    from tribune.statuses.services import status_create

    made = [status_create(account=alice, text=f"post {n}").pk for n in range(3)]
    status_create(account=bob, text="not alice's")
    request = RequestFactory().get("/_bench/floor", {"account": alice.pk, "bytes": 5000})
    with CaptureQueriesContext(connection) as queries:
        response = floor(request)
    body = response.content.decode()
    assert len(queries) == 1
    assert response.status_code == 200
    assert [item["id"] for item in json.loads(body)] == [str(i) for i in sorted(made, reverse=True)]
    # Each of the 3 items is padded by the same whole number of characters.
    assert 5000 - 3 < len(body) <= 5000


def test_floor_refuses_bad_parameters():
    from tribune.api.floor import floor

    factory = RequestFactory()
    for params in ({"account": "x"}, {"account": 1, "bytes": -1}, {"account": 1, "bytes": 10**7}):
        response = floor(factory.get("/_bench/floor", params))
        assert response.status_code == 400
        assert "error" in json.loads(response.content)
