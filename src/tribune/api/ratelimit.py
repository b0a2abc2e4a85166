"""Mastodon's API rate limits (config/initializers/rack_attack.rb), on Django's cache.

Counted here, per request, before any view runs:

* every API request: 300 per 5 minutes per access token, or per IP without one;
* ``DELETE /api/v1/statuses/:id`` (and unreblog): 30 per 30 minutes per account;
* ``POST /api/v1/accounts`` (sign-up): 5 per 30 minutes per IP.

Counted by the services, per account, whatever the interface (Mastodon's
``RateLimiter`` families): new statuses and reblogs, 300 per 3 hours
(``statuses.services.POSTING``); reports, 400 per day
(``moderation.services.REPORTING``). Their endpoints offer that window with
``note_window``.

Each API response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (ISO 8601) of the most limited window that applied, as
Mastodon's ``RateLimitHeaders`` picks it; past a limit the answer is 429
``{"error": "Too many requests"}`` with ``Retry-After`` (seconds).
``TRIBUNE_RATE_LIMITS=off`` turns it off. Windows are fixed (they start at
multiples of the period), as Rack::Attack's are; the counting itself is
``core.ratelimit``, shared with the web interface.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from tribune.api.auth import token_from_header
from tribune.core.errors import RateLimited
from tribune.core.ratelimit import Limit, Window, client_ip, hit

API = Limit("api", 300, 300)
DELETES = Limit("deletes", 30, 1800)
# The web sign-up form counts into the same bucket (web/throttle.py).
SIGN_UPS = Limit("sign_ups", 5, 1800)


def _account_key(token: str | None) -> str | None:
    """``account:<user id>`` for a known token (one indexed query), else None."""
    if not token:
        return None
    from oauth2_provider.models import get_access_token_model

    user_id = (get_access_token_model().objects
               .filter(token_checksum=hashlib.sha256(token.encode()).hexdigest())
               .values_list("user_id", flat=True).first())
    return f"user:{user_id}" if user_id else None


def _buckets(request: HttpRequest) -> list[tuple[Limit, str]]:
    token = token_from_header(request)
    who = ("token:" + hashlib.sha256(token.encode()).hexdigest()[:32]) if token else (
        "ip:" + client_ip(request))
    buckets = [(API, who)]
    path = request.path_info.rstrip("/")
    deleting = (request.method == "DELETE" and path.startswith("/api/v1/statuses/")) or (
        request.method == "POST" and path.endswith("/unreblog"))
    if deleting:
        # Per account, not per token: new tokens must not buy more deletions.
        buckets.append((DELETES, _account_key(token) or who))
    if request.method == "POST" and path == "/api/v1/accounts":
        buckets.append((SIGN_UPS, "ip:" + client_ip(request)))
    return buckets


def note_window(request: HttpRequest, window: Window) -> None:
    """Offer ``window`` (one counted by a service) for this response's
    ``X-RateLimit-*`` headers; the most limited window wins (Mastodon's
    ``override_rate_limit_headers``)."""
    noted = getattr(request, "rate_limit_windows", None)
    if noted is None:
        noted = request.rate_limit_windows = []  # type: ignore[attr-defined]
    noted.append(window)


def refused(error: RateLimited) -> Window:
    """The spent window a service's RateLimited describes."""
    return Window(limit=error.limit or 0, count=(error.limit or 0) + 1, reset=error.reset or 0)


def too_many_requests(window: Window) -> HttpResponse:
    """Mastodon's 429: ``{"error": "Too many requests"}`` with the spent window's
    headers and ``Retry-After``."""
    response = JsonResponse({"error": "Too many requests"}, status=429)
    for key, value in window.headers().items():
        response[key] = value
    response["Retry-After"] = str(window.retry_after())
    return response


class RateLimitMiddleware:
    """Apply the limits above to ``/api/`` requests and set the headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (not settings.TRIBUNE_RATE_LIMITS or not request.path_info.startswith("/api/")
                or request.method == "OPTIONS"):  # CORS preflights are not API calls
            return self.get_response(request)
        counted = []
        for limit, who in _buckets(request):
            window = hit(limit, who)
            if window.exceeded:
                return too_many_requests(window)
            counted.append(window)
        response = self.get_response(request)
        # Windows the view noted come first, so a tie goes to the one it chose.
        windows = getattr(request, "rate_limit_windows", []) + counted
        tightest = min(windows, key=lambda w: w.remaining)
        for key, value in tightest.headers().items():
            response[key] = value
        return response
