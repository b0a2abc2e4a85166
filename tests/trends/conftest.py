from __future__ import annotations

import pytest

from tests.timelines.feed_stores import STORES, using_store


@pytest.fixture(params=STORES)
def store_kind(request, settings):
    """The test's services write to the database feed store, then to the Redis one."""
    with using_store(request.param, settings):
        yield request.param
