"""The Redis connection of this process, when ``TRIBUNE_REDIS_URL`` is set."""

from __future__ import annotations

import os
import threading

from django.conf import settings

_lock = threading.Lock()
_client = None
_client_pid: int | None = None
_client_url: str | None = None


def redis_client():
    """A ``redis.Redis`` for ``settings.TRIBUNE_REDIS_URL`` (thread-safe; its own
    connection pool per process, so forked task runners never share sockets).
    Raises RuntimeError when Redis is not configured."""
    global _client, _client_pid, _client_url
    url = settings.TRIBUNE_REDIS_URL
    if not url:
        raise RuntimeError("TRIBUNE_REDIS_URL is not set")
    pid = os.getpid()
    if _client is None or _client_pid != pid or _client_url != url:
        with _lock:
            if _client is None or _client_pid != pid or _client_url != url:
                import redis

                _client = redis.Redis.from_url(url, socket_timeout=10,
                                               health_check_interval=30)
                _client_pid, _client_url = pid, url
    return _client
