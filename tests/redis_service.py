"""The Redis that tests which need one use: the run's own (TRIBUNE_REDIS_URL), else
a local server's database 12, or the one ``TRIBUNE_TEST_REDIS_URL`` names (moved
by the xdist worker's index: tests/xdist_services.py); without one they skip, or
fail under TRIBUNE_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os

import pytest

from tests.mastodon_schema import require_services
from tests.xdist_services import shifted

LOCAL_REDIS = shifted(
    os.environ.get("TRIBUNE_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
)


def redis_url_or_skip(settings) -> str:
    """A Redis URL that answers PING, for ``settings`` (pytest-django's fixture)."""
    import redis

    url = settings.TRIBUNE_REDIS_URL or LOCAL_REDIS
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        reason = f"no Redis at {url} ({exc})"
        if require_services():
            pytest.fail(f"{reason} (TRIBUNE_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(reason)
    return url
