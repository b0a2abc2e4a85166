"""Request middleware that belongs to no single interface."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from tribune.core.conf import is_loopback_host, split_host


class HostCheckMiddleware:
    """Answer 400 unless the Host header is the instance's domain or a loopback host.

    Local clients may use any loopback name (127.0.0.0/8, localhost, [::1]) whatever
    the configured domain; every other host is refused before any view runs.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.domain_host = split_host(settings.TRIBUNE_DOMAIN)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
        if split_host(host) != self.domain_host and not is_loopback_host(host):
            if request.path.startswith("/api/") or request.path.startswith("/oauth/"):
                return JsonResponse({"error": "Unknown host"}, status=400)
            return HttpResponse("Unknown host", status=400, content_type="text/plain")
        return self.get_response(request)


class ApiTrailingSlashMiddleware:
    """Route ``/api/v1/instance/`` like ``/api/v1/instance``: some clients (Mastodon.py)
    add a trailing slash to API paths."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/") and request.path_info.endswith("/") and len(request.path_info) > 5:
            request.path_info = request.path_info.rstrip("/")
        return self.get_response(request)
