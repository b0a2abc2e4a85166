"""Pages that show lists and single posts. Each view reads through selectors, builds
cards for the whole page at once, and renders one template; an htmx request for
``part=more`` (older items) or ``part=new`` (newer items, polled) gets only the list
fragment, so "load more" keeps the reader's position and new posts arrive without a
reload. Without JavaScript the same links are plain page links."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import wraps

import regex
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_lookup, account_moved_to
from tribune.core.errors import NotFound
from tribune.core.pagination import Cursor, Page
from tribune.core.text import normalize_tag
from tribune.graph import selectors as graph
from tribune.lists.selectors import lists_of, lists_with_member
from tribune.moderation.selectors import rule_list
from tribune.notifications.selectors import notifications as notification_list
from tribune.statuses import selectors as statuses
from tribune.timelines.selectors import home_timeline, markers
from tribune.timelines.services import markers_set
from tribune.trends.selectors import is_following_tag
from tribune.web.cards import cards_for, shown_cards
from tribune.web.forms import ComposeForm
from tribune.web.viewer import account_required, cursor_of, viewer_of

NEW_LIMIT = 40
# A hashtag's name as core.text.HASHTAG_RE finds it: letters, marks, digits and
# underscores, with at least one letter.
TAG_NAME_RE = regex.compile(r"(?=[\p{L}\p{M}\p{N}_]*\p{L})[\p{L}\p{M}\p{N}_]+")


def _page_query(cursor_key: int | None, name: str) -> str:
    return f"?{name}={cursor_key}" if cursor_key else ""


def _feed(request: HttpRequest, *, fetch: Callable[[Cursor], Page], template: str,
          context: dict, poll: bool = True, cards: bool = True,
          filter_context: str | None = None) -> HttpResponse:
    """Render a paged list page, or just its fragment for htmx.

    ``fetch`` maps a cursor to a Page; items are statuses (``cards=True``) or
    whatever the item template expects. With ``filter_context`` the viewer's
    filters of that context apply (hidden posts left out, warned ones collapsed).
    """
    viewer = viewer_of(request)
    part = request.GET.get("part") if request.htmx else None
    cursor = cursor_of(request, limit=NEW_LIMIT if part == "new" else 20)
    page = fetch(cursor)
    if not cards:
        items = page.items
    elif filter_context is not None:
        items = shown_cards(page.items, viewer, filter_context)
    else:
        items = cards_for(page.items, viewer)
    # Polling asks for what is newer than the newest item shown; an empty first
    # page polls from 0, so the first post to arrive is not missed.
    newest = page.prev_min_id if page.items else (cursor.min_id or 0)
    context = {
        **context,
        "items": items,
        "more_url": (request.path + _page_query(page.next_max_id, "max_id")
                     if page.items and len(page.items) >= cursor.limit else None),
        "poll_url": f"{request.path}?min_id={newest}" if poll else None,
        "item_template": context.get("item_template", "web/_status.html"),
        "partial": page.extra.get("partial", False),
    }
    if part == "more":
        response = render(request, "web/_feed_more.html", context)
    elif part == "new":
        response = render(request, "web/_feed_new.html", context)
    else:
        response = render(request, template, context)
    # The same URL answers a page or a fragment; caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def home(request: HttpRequest) -> HttpResponse:
    """``/``: the home timeline when signed in, the landing page for a visitor."""
    viewer = viewer_of(request)
    if viewer is None:
        if request.htmx:
            # A home timeline still polling after its person signed out elsewhere:
            # reload the whole page (it becomes the landing page) instead of
            # swapping the landing page into the feed.
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return landing(request)
    return _feed(request, template="web/timeline.html",
                 fetch=lambda c: home_timeline(viewer=viewer, cursor=c), filter_context="home",
                 context={"title": _("Home"), "nav": "home", "compose": ComposeForm(viewer),
                          "empty": _("Your home timeline is empty. Follow people to see "
                                     "their posts here.")})


def _about_context() -> dict:
    from django.contrib.auth import get_user_model

    from tribune.accounts.instance import registration_mode

    users = get_user_model().objects.filter(is_active=True, account__isnull=False).count()
    return {"rules": rule_list(), "user_count": users,
            "registration_mode": registration_mode()}


def about(request: HttpRequest) -> HttpResponse:
    """``/about``: what this server is, its rules, how to join or connect an app
    (the instance API's ``source_url`` points here unless configured), and the
    servers it limits or suspends with their public reasons."""
    from tribune.accounts.selectors import domain_blocks_list

    blocks = [b for b in domain_blocks_list() if b.severity in ("silence", "suspend")]
    return render(request, "web/about.html", {"title": _("About this server"),
                                              "domain_blocks": blocks, **_about_context()})


def landing(request: HttpRequest) -> HttpResponse:
    """What this server is, its rules, how to join, and its latest public posts."""
    page = statuses.public_timeline(viewer=None, cursor=Cursor(limit=20), local=True)
    return render(request, "web/landing.html", {
        "title": _("Welcome"), **_about_context(),
        "items": cards_for(page.items, None), "item_template": "web/_status.html",
        "more_url": reverse("web:local") + _page_query(page.next_max_id, "max_id")
        if page.items else None,
    })


def local(request: HttpRequest) -> HttpResponse:
    """The local timeline: public posts of this server's accounts."""
    viewer = viewer_of(request)
    return _feed(request, template="web/timeline.html",
                 fetch=lambda c: statuses.public_timeline(viewer=viewer, cursor=c, local=True),
                 filter_context="public",
                 context={"title": _("Local timeline"), "nav": "local",
                          "compose": ComposeForm(viewer) if viewer else None,
                          "empty": _("Nobody has posted publicly yet.")})


def tag(request: HttpRequest, name: str) -> HttpResponse:
    """Public posts with one hashtag."""
    key = normalize_tag(name)
    if not TAG_NAME_RE.fullmatch(key):
        raise Http404  # not something a post could carry as a hashtag
    viewer = viewer_of(request)
    tag_following = None  # the Follow/Unfollow button, for a signed-in person
    if viewer is not None:
        tag_following = is_following_tag(account=viewer, name=key)
    return _feed(request, template="web/timeline.html",
                 fetch=lambda c: statuses.tag_timeline(name=key, viewer=viewer, cursor=c),
                 filter_context="public",
                 context={"title": f"#{key}", "nav": "tag", "tag_name": key,
                          "tag_following": tag_following,
                          "compose": ComposeForm(viewer, initial_text=f"#{key} ")
                          if viewer else None,
                          "empty": _("No posts with this hashtag yet.")})


def _marked_page(selector, *, title: str, nav: str, empty: str, doc: str):
    """A view of the statuses the viewer marked (bookmarks, favourites), most
    recently marked first."""

    @account_required
    def view(request: HttpRequest) -> HttpResponse:
        return _feed(request, template="web/timeline.html", poll=False,
                     fetch=lambda c: selector(viewer=request.viewer, cursor=c),
                     context={"title": title, "nav": nav, "empty": empty})

    view.__doc__ = doc
    return view


bookmarks = _marked_page(statuses.bookmarks, title=gettext_lazy("Bookmarks"), nav="bookmarks",
                         empty=gettext_lazy("You have not bookmarked any posts yet."),
                         doc="Statuses the viewer bookmarked.")
favourites = _marked_page(statuses.favourites, title=gettext_lazy("Favourites"), nav="favourites",
                          empty=gettext_lazy("You have not favourited any posts yet."),
                          doc="Statuses the viewer favourited.")


@account_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The viewer's notifications, each with the post it is about."""
    viewer = request.viewer

    def fetch(cursor: Cursor) -> Page:
        page = notification_list(viewer=viewer, cursor=cursor)
        if page.items and cursor.max_id is None:
            _mark_notifications_read(viewer, page.items[0].pk)
        with_status = [n.status for n in page.items if n.status_id]
        by_id = {c.status.pk: c for c in cards_for(with_status, viewer, "notifications")}
        page.items = [(n, by_id.get(n.status_id)) for n in page.items
                      if n.status_id is None or not by_id[n.status_id].hidden]
        return page

    return _feed(request, template="web/timeline.html", fetch=fetch, cards=False,
                 context={"title": _("Notifications"), "nav": "notifications",
                          "item_template": "web/_notification.html",
                          "empty": _("No notifications yet.")})


def _mark_notifications_read(viewer: Account, newest_id: int) -> None:
    """Move the notifications marker forward to ``newest_id`` (never back), as
    Mastodon's web interface does when the column is read; apps see the same marker."""
    current = markers(account=viewer, timelines=["notifications"]).get("notifications")
    if current is None or current.last_read_id < newest_id:
        markers_set(account=viewer, positions={"notifications": newest_id})


@account_required
def follow_requests(request: HttpRequest) -> HttpResponse:
    """Accounts asking to follow the viewer, to accept or reject."""
    return _feed(request, template="web/timeline.html", poll=False, cards=False,
                 fetch=lambda c: graph.follow_requests_page(account=request.viewer, cursor=c),
                 context={"title": _("Follow requests"), "nav": "follow_requests",
                          "item_template": "web/_follow_request.html",
                          "empty": _("No pending follow requests.")})


def _account_or_404(username: str) -> Account:
    try:
        account = account_lookup(acct=username)
    except NotFound:
        raise Http404 from None
    if account.suspended_at is not None:
        raise Http404
    return account


def profile(request: HttpRequest, username: str, tab: str = "posts") -> HttpResponse:
    """A profile: header, relationship buttons and one tab (posts, posts and
    replies, followers, following)."""
    account = _account_or_404(username)
    viewer = viewer_of(request)
    relationship = None
    if viewer is not None and viewer.pk != account.pk:
        relationship = graph.relationships(viewer=viewer, target_ids=[account.pk])[0]
    lists_choice = None  # the viewer's lists, each with whether the account is in it
    if relationship is not None and relationship.following:
        inside = {found.pk for found in lists_with_member(account=viewer, member=account)}
        lists_choice = [(found, found.pk in inside) for found in lists_of(account=viewer)]
    context = {"title": f"{account.display_name or account.username} (@{account.acct})",
               "account": account, "relationship": relationship, "tab": tab,
               "lists_choice": lists_choice,
               "moved_to": account_moved_to(account),
               "nav": "profile" if viewer and viewer.pk == account.pk else "",
               "empty": _("Nothing to show here.")}
    if tab in ("followers", "following"):
        fetch_accounts = graph.followers_page if tab == "followers" else graph.following_page
        return _feed(request, template="web/profile.html", cards=False, poll=False,
                     fetch=lambda c: fetch_accounts(account=account, viewer=viewer, cursor=c),
                     context={**context, "item_template": "web/_account.html"})
    pinned = []
    if tab == "posts" and not cursor_of(request).has_cursor and not request.htmx:
        pins = statuses.account_statuses(account=account, viewer=viewer, cursor=Cursor(limit=5),
                                         pinned=True)
        pinned = shown_cards(pins.items, viewer, "account")
    return _feed(request, template="web/profile.html", poll=False, filter_context="account",
                 fetch=lambda c: statuses.account_statuses(
                     account=account, viewer=viewer, cursor=c,
                     exclude_replies=(tab == "posts")),
                 context={**context, "pinned": pinned})


class _Moved(Exception):
    """The post lives under another author's URL."""

    def __init__(self, url: str):
        self.url = url


def _status_page_or_404(request: HttpRequest, username: str, status_id: str):
    """The post at ``/@username/<id>`` if the viewer may see it. Raises Http404, or
    _Moved when the id is right but the name is not the author's ``acct``
    (``username``, or ``username@domain`` for a remote author)."""
    try:
        status = statuses.status_get_visible(status_id=status_id, viewer=viewer_of(request))
    except NotFound:
        raise Http404 from None
    if status.reblog_of_id:
        raise Http404
    if status.account.acct.lower() != username.lower():
        suffix = request.path_info.split(f"/{status.pk}", 1)[1]
        raise _Moved(f"/@{status.account.acct}/{status.pk}{suffix}")
    return status


def canonical(view):
    """Answer _Moved with a permanent redirect to the post's own URL."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _Moved as moved:
            return HttpResponsePermanentRedirect(moved.url)

    return wrapper


@canonical
def interactions(request: HttpRequest, username: str, status_id: str,
                 kind: str) -> HttpResponse:
    """Who favourited (``kind="favourites"``) or boosted (``"reblogs"``) a post."""
    status = _status_page_or_404(request, username, status_id)
    viewer = viewer_of(request)
    selector = statuses.favourited_by if kind == "favourites" else statuses.reblogged_by
    title = _("Favourited by") if kind == "favourites" else _("Boosted by")
    return _feed(request, template="web/accounts.html", cards=False, poll=False,
                 fetch=lambda c: selector(status=status, viewer=viewer, cursor=c),
                 context={"title": title, "item_template": "web/_account.html",
                          "back_url": reverse("web:thread", args=[status.account.username,
                                                                  status.pk]),
                          "empty": _("Nobody yet.")})


@account_required
def blocks(request: HttpRequest) -> HttpResponse:
    """Accounts the viewer blocks, each with an Unblock button."""
    return _feed(request, template="web/accounts.html", cards=False, poll=False,
                 fetch=lambda c: graph.blocks_page(account=request.viewer, cursor=c),
                 context={"title": _("Blocked accounts"), "nav": "settings",
                          "item_template": "web/_account.html", "undo": "unblock", "tab": "blocks",
                          "empty": _("You are not blocking anyone.")})


@account_required
def mutes(request: HttpRequest) -> HttpResponse:
    """Accounts the viewer mutes, each with an Unmute button."""
    def fetch(cursor: Cursor) -> Page:
        page = graph.mutes_page(account=request.viewer, cursor=cursor)
        page.items = [mute.target for mute in page.items]
        return page

    return _feed(request, template="web/accounts.html", cards=False, poll=False, fetch=fetch,
                 context={"title": _("Muted accounts"), "nav": "settings",
                          "item_template": "web/_account.html", "undo": "unmute", "tab": "mutes",
                          "empty": _("You are not muting anyone.")})


@canonical
def thread(request: HttpRequest, username: str, status_id: str) -> HttpResponse:
    """One post with the posts it answers and the replies to it, and a reply box."""
    viewer = viewer_of(request)
    status = _status_page_or_404(request, username, status_id)
    ancestors, descendants = statuses.status_context(status=status, viewer=viewer)
    cards = cards_for([*ancestors, status, *descendants], viewer, "thread")
    # The post asked for is shown as it is, whatever the filters say of it.
    focus = dataclasses.replace(cards[len(ancestors)], filtered=(), hidden=False)
    compose = None
    if viewer is not None:
        compose = ComposeForm(viewer, in_reply_to=status)
    return render(request, "web/thread.html", {
        "title": _("Post by %(name)s") % {"name": status.account.display_name
                                           or status.account.username},
        "ancestors": [c for c in cards[: len(ancestors)] if not c.hidden], "focus": focus,
        "descendants": [c for c in cards[len(ancestors) + 1:] if not c.hidden],
        "compose": compose,
    })


@canonical
def history(request: HttpRequest, username: str, status_id: str) -> HttpResponse:
    """A post's versions, newest first."""
    status = _status_page_or_404(request, username, status_id)
    versions = list(reversed(statuses.status_history(status=status)))
    return render(request, "web/history.html", {
        "title": _("Edit history"), "status": status, "versions": versions,
    })
