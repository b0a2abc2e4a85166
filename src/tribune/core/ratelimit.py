"""Fixed-window request counters on Django's cache, shared by the interfaces.

A window starts at a multiple of the period (as Rack::Attack's do, which Mastodon
uses), so a client that spends its budget waits at most one period. Each interface
decides what to count and what a refused request looks like (the API answers JSON
429; the web interface shows a form error with 429); this module only counts.
Whether limits apply at all (``settings.TRIBUNE_RATE_LIMITS``) is the caller's check.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` counted events per ``period`` seconds for one ``name``."""

    name: str
    limit: int
    period: int


@dataclass(frozen=True)
class Window:
    """One client's count in the current window; ``reset`` is when the window ends
    (Unix seconds)."""

    limit: int
    count: int
    reset: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(self.limit - self.count, 0)


def _key(limit: Limit, who: str, window: int) -> str:
    return f"ratelimit:{limit.name}:{who}:{window}"


def hit(limit: Limit, who: str, *, now: float | None = None) -> Window:
    """Count one event for ``who`` (any string naming the client: an IP, a token
    hash) and return the window including it. Over the limit when ``exceeded``."""
    now = time.time() if now is None else now
    window = int(now // limit.period) * limit.period
    key = _key(limit, who, window)
    cache.add(key, 0, timeout=limit.period + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=limit.period + 5)
        count = 1
    return Window(limit=limit.limit, count=count, reset=window + limit.period)


def peek(limit: Limit, who: str, *, now: float | None = None) -> Window:
    """The current window for ``who`` without counting anything; a caller refuses
    before doing expensive work when ``remaining`` is 0 (the budget is spent)."""
    now = time.time() if now is None else now
    window = int(now // limit.period) * limit.period
    count = cache.get(_key(limit, who, window), 0)
    return Window(limit=limit.limit, count=count, reset=window + limit.period)


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, as the web server saw it."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def digest(value: str) -> str:
    """A short, cache-key-safe stand-in for user input (usernames, tokens)."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]
