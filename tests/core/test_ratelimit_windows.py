"""Rate-limit counters (tribune.core.ratelimit.hit) live exactly as long as their
window, on every cache backend: Django's generic ``incr`` (database and file
caches) re-sets a key with the cache's default timeout (300 s), which ended the
30-minute sign-up window after five quiet minutes."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from tribune.core.ratelimit import Limit, _key, hit


def _seconds_left(key: str) -> float:
    """How long the cache keeps ``key``, asked of the backend's own storage."""
    backend = caches["default"]
    full = backend.make_key(key)
    if isinstance(backend, RedisCache):
        return backend._cache.get_client(full).ttl(full)
    if isinstance(backend, DatabaseCache):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT expires FROM {backend._table} WHERE cache_key = %s", [full])
            (expires,), = cursor.fetchall()
        if isinstance(expires, str):  # SQLite hands back text
            expires = datetime.fromisoformat(expires)
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return expires.timestamp() - time.time()
    return backend._expire_info[full] - time.time()


def test_a_long_window_is_counted_until_it_ends(db):
    limit = Limit("test_long_window", 5, 1800)
    now = time.time()
    window = int(now // limit.period) * limit.period
    counts = [hit(limit, "ip:192.0.2.7").count for _ in range(3)]
    assert counts == [1, 2, 3]
    left = _seconds_left(_key(limit, "ip:192.0.2.7", window))
    until_the_end = window + limit.period - now
    assert math.ceil(until_the_end) - 2 <= left <= math.ceil(until_the_end) + 6
