"""Request middleware that belongs to no single interface."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

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


class NulCharacterMiddleware:
    """Refuse a NUL character (``%00``) in the path or the query string.

    PostgreSQL's text cannot hold NUL (psycopg refuses to send it), so such a value
    reaching a query would end in a 500 there, where SQLite took it; nothing a
    Mastodon client or the web interface sends needs one (Django's form fields
    refuse it too: ``ProhibitNullCharactersValidator``). A path with NUL names
    nothing: 404. A query parameter with NUL: 400. ``/api/`` and ``/oauth/`` answer
    Mastodon's ``{"error": ...}`` JSON. Bodies are checked where they are read:
    the API's parser and the OAuth token endpoints refuse NUL in any parameter,
    and the web's forms do.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            if _speaks_json(request):
                return JsonResponse({"error": "Record not found"}, status=404)
            raise Http404("no path holds a NUL character")
        if any("\x00" in key or any("\x00" in value for value in values)
               for key, values in request.GET.lists()):
            if _speaks_json(request):
                return JsonResponse({"error": "Query parameters must not contain NUL "
                                              "characters"}, status=400)
            raise BadRequest("query parameters must not contain NUL characters")
        return self.get_response(request)


def _speaks_json(request: HttpRequest) -> bool:
    return request.path_info.startswith(("/api/", "/oauth/"))


MAX_QUERY_STRING = 16384
_DRAIN_CHUNK = 64 * 1024


def _drain(request: HttpRequest) -> None:
    """Read what the view left of the request body, so a keep-alive connection is
    not left holding it (the next request would be parsed from its remains)."""
    if getattr(request, "_read_started", False) or hasattr(request, "_body"):
        return
    try:
        while request.read(_DRAIN_CHUNK):
            pass
    except Exception:
        pass


class ApiRequestMiddleware:
    """Smooth over how Mastodon clients call ``/api/`` and ``/oauth/``.

    * ``/api/v1/instance/`` is routed like ``/api/v1/instance`` and
      ``/oauth/authorize/`` like ``/oauth/authorize`` (Mastodon.py and toot add a
      trailing slash to some paths);
    * ``HEAD`` on an API path is answered like ``GET`` without a body;
    * a POST/PUT/PATCH without a body (``POST /api/v1/statuses/1/reblog``) is read as
      an empty JSON object, so its parameters come from the query string alone;
    * a query string longer than MAX_QUERY_STRING bytes is refused with 414;
    * any API error answered outside the API's own handlers (405 from routing, say)
      is turned into Mastodon's ``{"error": ...}`` JSON, never an HTML page (CLI-16);
    * an unread request body is drained before the response goes out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        is_api = path.startswith("/api/")
        if not is_api and not path.startswith("/oauth/"):
            return self.get_response(request)
        if path.endswith("/") and path.count("/") > 2:
            request.path_info = path.rstrip("/")
        if not is_api:
            response = self.get_response(request)
            _drain(request)
            return response
        if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING:
            _drain(request)
            return JsonResponse({"error": "URI Too Long"}, status=414)
        head = request.method == "HEAD"
        if head:
            request.method = "GET"
        if request.method in ("POST", "PUT", "PATCH") and request.META.get("CONTENT_LENGTH", "") in ("", "0"):
            request._body = b"{}"  # type: ignore[attr-defined]
            request.META["CONTENT_TYPE"] = "application/json"
        response = self.get_response(request)
        _drain(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            replacement = JsonResponse({"error": response.reason_phrase}, status=response.status_code)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    replacement[header] = response[header]
            response = replacement
        if head:
            response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response
