"""Error pages of the interface: styled, translated, with the navigation, so a
wrong link or an expired form is a page a person can recover from.

The client API never sees these: its errors are JSON (``core.middleware``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(("/api/", "/oauth/", "/.well-known/"))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404. A page path with a trailing slash that exists without it is redirected
    there (links copied from elsewhere often carry one)."""
    path = request.path_info
    if (request.method in ("GET", "HEAD") and not _is_api(request)
            and path.endswith("/") and path != "/"):
        try:
            resolve(path.rstrip("/"))
        except Resolver404:
            pass
        else:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(path.rstrip("/") + (f"?{query}" if query else ""))
    return render(request, "web/error.html", {
        "title": _("Page not found"),
        "message": _("This page does not exist, or it is not visible to you."),
    }, status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403."""
    return render(request, "web/error.html", {
        "title": _("Not allowed"),
        "message": str(exception) if exception and str(exception) else
        _("You are not allowed to do this."),
    }, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted with a missing or stale security token (often: signed out and
    in again in another tab). htmx reloads the page to get a fresh token; a plain
    form gets a page that explains what happened."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=403)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "web/error.html", {
        "title": _("This form has expired"),
        "message": _("The page was open for a long time, or you signed in or out in "
                     "another tab. Go back, reload the page and try again."),
    }, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: a page that needs no database and no request context."""
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def reason(error: Exception) -> str:
    """What a page says of a refused action: the service's message (``reason(error)``)
    without the ``Validation failed: `` that the client API keeps for Mastodon's
    apps (Rails' wording), in either language, and with a capital first letter:
    "Validation failed: Choices can't be blank" -> "Choices can't be blank"."""
    text = str(error)
    for prefix in ("Validation failed: ", _("Validation failed: ")):
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix):]
            return text[:1].upper() + text[1:]
    return text
