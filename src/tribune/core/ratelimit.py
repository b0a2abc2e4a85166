"""Fixed-window request counters on Django's cache, shared by the interfaces.

A window starts at a multiple of the period (as Rack::Attack's do, which Mastodon
uses), so a client that spends its budget waits at most one period. Each interface
decides what to count and what a refused request looks like (the API answers JSON
429; the web interface shows a form error with 429). ``hit`` and ``peek`` only
count; whether limits apply at all (``settings.TRIBUNE_RATE_LIMITS``) is the
caller's check. ``spend`` is for services: it checks the setting itself and raises
``RateLimited``, so that every interface calling the service is limited alike.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tribune.core.errors import RateLimited


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

    def headers(self) -> dict[str, str]:
        """Mastodon's ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
        ``X-RateLimit-Reset`` (ISO 8601 with milliseconds, UTC) for this window."""
        reset = datetime.fromtimestamp(self.reset, tz=UTC)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
        }

    def retry_after(self, *, now: float | None = None) -> int:
        """Whole seconds until the window ends (at least 1), for ``Retry-After``."""
        now = time.time() if now is None else now
        return max(1, math.ceil(self.reset - now))


# Backends whose incr is atomic and leaves the key's expiry as it was.
_KEEPS_EXPIRY_ON_INCR = (RedisCache, LocMemCache)


def _key(limit: Limit, who: str, window: int) -> str:
    return f"ratelimit:{limit.name}:{who}:{window}"


def hit(limit: Limit, who: str, *, now: float | None = None) -> Window:
    """Count one event for ``who`` (any string naming the client: an IP, a token
    hash) and return the window including it. Over the limit when ``exceeded``."""
    now = time.time() if now is None else now
    window = int(now // limit.period) * limit.period
    key = _key(limit, who, window)
    # Kept until the window has ended (and a little longer, for clocks apart).
    timeout = max(1, math.ceil(window + limit.period - now)) + 5
    if isinstance(caches["default"], _KEEPS_EXPIRY_ON_INCR):  # (``cache`` is a proxy)
        try:
            count = cache.incr(key)  # one write in the usual case: the key exists
        except ValueError:  # the window's first event, or another's at once
            count = 1 if cache.add(key, 1, timeout=timeout) else cache.incr(key)
    else:
        # Django's generic incr (the database and file caches) is a get and a set
        # with the cache's default timeout, which would end a window longer than
        # that early; this is the same get and set, with the window's own timeout.
        count = cache.get(key, 0) + 1
        cache.set(key, count, timeout=timeout)
    return Window(limit=limit.limit, count=count, reset=window + limit.period)


def peek(limit: Limit, who: str, *, now: float | None = None) -> Window:
    """The current window for ``who`` without counting anything; a caller refuses
    before doing expensive work when ``remaining`` is 0 (the budget is spent)."""
    now = time.time() if now is None else now
    window = int(now // limit.period) * limit.period
    count = cache.get(_key(limit, who, window), 0)
    return Window(limit=limit.limit, count=count, reset=window + limit.period)


def spend(limit: Limit, who: str) -> Window:
    """Count one event for ``who`` and return its window; raise ``RateLimited``
    (with the window's limit and reset) when that event is over the limit. With
    ``settings.TRIBUNE_RATE_LIMITS`` off nothing is counted or refused. For the
    per-account budgets services enforce (Mastodon's ``RateLimiter`` families)."""
    if not settings.TRIBUNE_RATE_LIMITS:
        return peek(limit, who)
    window = hit(limit, who)
    if window.exceeded:
        raise RateLimited(_("Too many requests"), limit=window.limit, reset=window.reset)
    return window


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``value`` as an IP address (IPv4-mapped IPv6 as IPv4), None if it is not one."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address, networks) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_ip(request: HttpRequest) -> str:
    """The address the request came from: ``REMOTE_ADDR``, unless that is one of
    ``settings.TRIBUNE_TRUSTED_PROXIES``; then the right-most ``X-Forwarded-For``
    entry that is not itself a trusted proxy (each proxy appends the address it
    saw, so entries left of that one are whatever the client sent: MDN,
    "X-Forwarded-For", Security and privacy concerns). If that entry is not an IP
    address, ``REMOTE_ADDR``; if every entry is a trusted proxy, the left-most.
    Addresses come back in their compressed form; "unknown" without any."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    networks = getattr(settings, "TRIBUNE_TRUSTED_PROXIES", ())
    remote_address = _address(remote)
    if not networks or remote_address is None or not _trusted(remote_address, networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded.strip():
        return remote
    client = remote_address
    for entry in reversed(forwarded.split(",")):
        address = _address(entry)
        if address is None:
            return remote
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def digest(value: str) -> str:
    """A short, cache-key-safe stand-in for user input (usernames, tokens)."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]
