"""Request helpers shared by the interface's views: who is looking, which page of a
list they asked for, where to send them back to."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from tribune.accounts.models import Account
from tribune.core.ids import parse_id
from tribune.core.pagination import Cursor

PAGE_SIZE = 20


def viewer_of(request: HttpRequest) -> Account | None:
    """The signed-in person's account, or None for a visitor (or a staff login that
    has no public account)."""
    user = request.user
    if not user.is_authenticated:
        return None
    try:
        return user.account
    except ObjectDoesNotExist:
        return None


def account_required(view):
    """Send visitors to the sign-in page and back; the view gets ``request.viewer``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        viewer = viewer_of(request)
        if viewer is None:
            if request.headers.get("HX-Request"):
                # An in-place action after signing out elsewhere: send the whole
                # page to the sign-in form rather than swapping it into a post.
                current = urlsplit(request.headers.get("HX-Current-URL", ""))
                back = current.path + (f"?{current.query}" if current.query else "")
                login = redirect_to_login(back or "/")
                response = HttpResponse(status=204)
                response["HX-Redirect"] = login["Location"]
                return response
            return redirect_to_login(request.get_full_path())
        request.viewer = viewer
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view):
    """Visitors go to the sign-in page and back; signed-in people who are not staff
    get the 403 page (not a second sign-in form)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _id_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name)
    if not raw:
        return None
    try:
        return parse_id(raw)
    except (TypeError, ValueError, OverflowError):
        return None  # a mangled link shows the first page rather than an error


def cursor_of(request: HttpRequest, *, limit: int = PAGE_SIZE) -> Cursor:
    """The page a list view was asked for: ``max_id`` (older) or ``min_id`` (newer)."""
    return Cursor(max_id=_id_param(request, "max_id"), min_id=_id_param(request, "min_id"),
                  limit=limit)


def safe_next(request: HttpRequest, fallback: str = "/") -> str:
    """Where to return after a plain form post: ``next`` if it is on this site, else
    the Referer if it is, else ``fallback``."""
    for candidate in (request.POST.get("next"), request.GET.get("next"),
                      request.headers.get("Referer")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return fallback


def redirect_back(request: HttpRequest, fallback: str = "/") -> HttpResponseRedirect:
    """303 to :func:`safe_next`, so a reload does not post again."""
    response = HttpResponseRedirect(safe_next(request, fallback))
    response.status_code = 303
    return response
