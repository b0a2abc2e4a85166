"""The search page: accounts, hashtags and, for signed-in people, posts matching
the search box's query, through the same selectors as ``/api/v2/search``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from tribune.graph.selectors import account_search
from tribune.search.selectors import CANDIDATES, status_search
from tribune.statuses.selectors import tag_search
from tribune.web.cards import cards_for
from tribune.web.viewer import viewer_of

PAGE = 20  # posts per page
FIRST = 10  # accounts and hashtags shown


def search(request: HttpRequest) -> HttpResponse:
    """``/search?q=...``: the first accounts and hashtags, and a page of posts
    (``offset`` for the next ones; htmx's ``part=more`` gets only the posts).
    Visitors find accounts and hashtags, as through the API."""
    viewer = viewer_of(request)
    query = request.GET.get("q", "").replace("\x00", "").strip()[:500]
    try:
        offset = min(max(int(request.GET.get("offset", "0")), 0), CANDIDATES)
    except ValueError:
        offset = 0
    statuses = status_search(viewer=viewer, query=query, offset=offset, limit=PAGE) \
        if query and viewer else []
    more_url = None
    if len(statuses) == PAGE:
        more_url = request.path + "?" + urlencode({"q": query, "offset": offset + PAGE})
    context = {
        "title": _("Search"), "nav": "search", "query": query, "viewer_can_find": bool(viewer),
        "items": cards_for(statuses, viewer), "item_template": "web/_status.html",
        "more_url": more_url,
        "empty": _("No posts found."),
    }
    if request.htmx and request.GET.get("part") == "more":
        response = render(request, "web/_feed_more.html", context)
    else:
        if query and not offset:
            context["accounts"] = account_search(query=query, viewer=viewer, limit=FIRST)
            context["hashtags"] = tag_search(query=query, limit=FIRST)
        response = render(request, "web/search.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response
