"""The answer when this process has no password-hashing slot free
(``core.capacity``): 503 with ``Retry-After``, at once, instead of a request that
waits its turn until the client gives up.

The API answers ``Overloaded`` itself (JSON, ``api.base``) and so do the OAuth token
and revocation endpoints (``oauth.views``); every other page that checks or sets a
password (signing in, signing up, the password settings, the operators' admin)
gets the styled 503 page from here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tribune.core.errors import Overloaded


def busy_page(request: HttpRequest, error: Overloaded) -> HttpResponse:
    """The 503 page for ``error``, with its ``Retry-After``."""
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse({"error": str(error)}, status=503)
    else:
        response = render(request, "web/error.html", {
            "title": _("The server is busy"),
            "message": _("Many people are signing up or signing in right now. Please "
                         "try again in a moment."),
        }, status=503)
    response["Retry-After"] = str(error.retry_after)
    return response


class OverloadMiddleware:
    """Turn an ``Overloaded`` raised by a view into ``busy_page``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, Overloaded):
            return busy_page(request, exception)
        return None
