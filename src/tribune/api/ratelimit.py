"""Mastodon's API rate limits (config/initializers/rack_attack.rb), on Django's cache.

* every API request: 300 per 5 minutes per access token, or per IP without one;
* ``DELETE /api/v1/statuses/:id`` (and unreblog): 30 per 30 minutes per token;
* ``POST /api/v1/accounts`` (sign-up): 5 per 30 minutes per IP.

Each API response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (ISO 8601); past the limit the answer is 429
``{"error": "Too many requests"}``. ``TRIBUNE_RATE_LIMITS=off`` turns it off.
Windows are fixed (they start at multiples of the period), as Rack::Attack's are;
the counting itself is ``core.ratelimit``, shared with the web interface.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from tribune.api.auth import token_from_header
from tribune.core.ratelimit import Limit, client_ip, hit

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


class RateLimitMiddleware:
    """Apply the limits above to ``/api/`` requests."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (not settings.TRIBUNE_RATE_LIMITS or not request.path_info.startswith("/api/")
                or request.method == "OPTIONS"):  # CORS preflights are not API calls
            return self.get_response(request)
        headers = None
        for limit, who in _buckets(request):
            window = hit(limit, who)
            if headers is None or window.exceeded:
                headers = {
                    "X-RateLimit-Limit": str(window.limit),
                    "X-RateLimit-Remaining": str(window.remaining),
                    "X-RateLimit-Reset": datetime.fromtimestamp(window.reset, tz=UTC).isoformat(
                        timespec="milliseconds").replace("+00:00", "Z"),
                }
            if window.exceeded:
                response: HttpResponse = JsonResponse({"error": "Too many requests"}, status=429)
                for key, value in headers.items():
                    response[key] = value
                return response
        response = self.get_response(request)
        for key, value in (headers or {}).items():
            response[key] = value
        return response
