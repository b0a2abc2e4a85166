"""Explore (trending hashtags and posts), following a hashtag from its page, the
list of followed hashtags in the settings, and the staff's review of trends
(docs/adr/0031). Reads through ``trends.selectors``, writes through
``trends.services``, as ``/api/v1/trends``, ``/api/v1/tags`` and
``/api/v1/admin/trends`` do."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tribune.core.errors import DomainError, NotFound
from tribune.core.pagination import Cursor, Page
from tribune.graph.selectors import hidden_account_ids
from tribune.trends.models import Review
from tribune.trends.selectors import (
    followed_tags_page,
    statuses_for_review,
    tags_for_review,
    trending_statuses,
    trending_tags,
)
from tribune.trends.services import (
    tag_follow,
    tag_unfollow,
    trend_status_review,
    trend_tag_review,
)
from tribune.web.actions import _error_page
from tribune.web.cards import cards_for
from tribune.web.pages import _feed
from tribune.web.viewer import (
    account_required,
    redirect_back,
    staff_required,
    viewer_of,
)

EXPLORE_TAGS, EXPLORE_STATUSES = 10, 20
REVIEW_PAGE = 50


def explore(request: HttpRequest) -> HttpResponse:
    """``/explore``: hashtags and posts trending now, as ``/api/v1/trends`` lists
    them; a signed-in person does not see posts by accounts hidden from them."""
    viewer = viewer_of(request)
    statuses = trending_statuses(
        limit=EXPLORE_STATUSES,
        hidden=hidden_account_ids(viewer.pk) if viewer else set(),
    )
    return render(
        request,
        "web/explore.html",
        {
            "title": _("Explore"),
            "nav": "explore",
            "tags": trending_tags(limit=EXPLORE_TAGS),
            "items": cards_for(statuses, viewer),
            "item_template": "web/_status.html",
            "empty": _("Nothing is trending right now."),
        },
    )


@require_POST
@account_required
def tag_follow_action(request: HttpRequest, name: str, action: str) -> HttpResponse:
    """Follow or unfollow the hashtag ``name`` (the button on its page)."""
    service = {"follow": tag_follow, "unfollow": tag_unfollow}.get(action)
    if service is None:
        raise Http404
    try:
        tag = service(account=request.viewer, name=name)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return _error_page(request, exc)
    return redirect_back(request, f"/tags/{tag.name}")


@account_required
def followed_tags(request: HttpRequest) -> HttpResponse:
    """The hashtags the viewer follows, most recently followed first, each with an
    Unfollow button (a settings tab)."""

    def fetch(cursor: Cursor) -> Page:
        return followed_tags_page(account=request.viewer, cursor=cursor)

    return _feed(
        request,
        template="web/accounts.html",
        cards=False,
        poll=False,
        fetch=fetch,
        context={
            "title": _("Followed hashtags"),
            "nav": "settings",
            "item_template": "web/_followed_tag.html",
            "tab": "followed_tags",
            "empty": _("You are not following any hashtags."),
        },
    )


@staff_required
def trends_review(request: HttpRequest) -> HttpResponse:
    """``/moderation/trends``: hashtags and posts waiting for review, highest score
    first, each with Approve and Reject buttons, and those already approved."""
    viewer = viewer_of(request)
    pending_statuses = statuses_for_review(review=Review.PENDING, limit=REVIEW_PAGE)
    return render(
        request,
        "web/trends_review.html",
        {
            "title": _("Trends to review"),
            "nav": "moderation",
            "pending_tags": tags_for_review(review=Review.PENDING, limit=REVIEW_PAGE),
            "approved_tags": tags_for_review(review=Review.APPROVED, limit=REVIEW_PAGE),
            "pending_statuses": list(
                zip(
                    pending_statuses,
                    cards_for([t.status for t in pending_statuses], viewer),
                    strict=True,
                )
            ),
        },
    )


@require_POST
@staff_required
def trends_review_action(
    request: HttpRequest, kind: str, item_id: str, decision: str
) -> HttpResponse:
    """Approve or reject one hashtag (``kind`` "tags") or post ("statuses")."""
    service = {"tags": trend_tag_review, "statuses": trend_status_review}.get(kind)
    if service is None or decision not in ("approve", "reject"):
        raise Http404
    key = "tag_id" if kind == "tags" else "status_id"
    try:
        service(
            reviewer=viewer_of(request), approve=decision == "approve", **{key: item_id}
        )
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return _error_page(request, exc)
    return redirect_back(request, "/moderation/trends")
