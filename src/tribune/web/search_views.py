"""The search page: accounts, hashtags and, for signed-in people, posts matching
the search box's query, through the same selectors as ``/api/v2/search``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.federation.lookup import looks_like_url, query_resolve
from tribune.graph.selectors import account_search
from tribune.search.selectors import CANDIDATES, status_search
from tribune.statuses.models import Status
from tribune.statuses.selectors import tag_search
from tribune.web.cards import cards_for
from tribune.web.viewer import account_required, viewer_of

PAGE = 20  # posts per page
FIRST = 10  # accounts and hashtags shown


def search(request: HttpRequest) -> HttpResponse:
    """``/search?q=...``: the first accounts and hashtags, and a page of posts
    (``offset`` for the next ones; htmx's ``part=more`` gets only the posts).
    Visitors find accounts and hashtags, as through the API; for signed-in
    people a handle (``@user@domain``) or an address is also looked up on its
    server (``federation.lookup``) and what it names comes first."""
    query = request.GET.get("q", "").replace("\x00", "").strip()[:500]
    return _page(request, query)


def _page(request: HttpRequest, query: str, *, resolve: bool = True) -> HttpResponse:
    viewer = viewer_of(request)
    try:
        offset = min(max(int(request.GET.get("offset", "0")), 0), CANDIDATES)
    except ValueError:
        offset = 0
    first = request.GET.get("part") != "more" and not offset
    found = query_resolve(query, viewer=viewer) if query and viewer and first and resolve \
        else None
    statuses = status_search(viewer=viewer, query=query, offset=offset, limit=PAGE) \
        if query and viewer and not looks_like_url(query) else []
    more_url = None
    if len(statuses) == PAGE:
        more_url = request.path + "?" + urlencode({"q": query, "offset": offset + PAGE})
    if isinstance(found, Status):
        statuses = [found, *(s for s in statuses if s.pk != found.pk)]
    context = {
        "title": _("Search"), "nav": "search", "query": query, "viewer_can_find": bool(viewer),
        "items": cards_for(statuses, viewer), "item_template": "web/_status.html",
        "more_url": more_url,
        "empty": _("No posts found."),
    }
    if request.htmx and not first:
        response = render(request, "web/_feed_more.html", context)
    else:
        if query:
            accounts = account_search(query=query, viewer=viewer, limit=FIRST)
            if isinstance(found, Account):
                accounts = [found, *(a for a in accounts if a.pk != found.pk)][:FIRST]
            context["accounts"] = accounts
            context["hashtags"] = tag_search(query=query, limit=FIRST)
        response = render(request, "web/search.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@account_required
def authorize_interaction(request: HttpRequest) -> HttpResponse:
    """``/authorize_interaction?uri=...``, where another server sends its visitor
    to follow or answer someone from their account here (the OStatus subscribe
    template of our WebFinger answers, as Mastodon's): the account or post that
    ``uri`` names (an address, or ``acct:user@domain``) is opened; when it cannot
    be found, the search page for it says so."""
    query = request.GET.get("uri", "").replace("\x00", "").strip()[:500]
    query = query.removeprefix("acct:")
    found = query_resolve(query, viewer=request.viewer) if query else None
    if isinstance(found, Account):
        return redirect("web:profile", found.acct)
    if isinstance(found, Status):
        return redirect("web:thread", found.account.username, found.pk)
    return _page(request, query, resolve=False)
