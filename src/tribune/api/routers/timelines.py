"""Timelines: home, public, hashtag; favourites and bookmarks."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from tribune.api.auth import public, read
from tribune.api.base import api, cursor, link_header, responses
from tribune.api.entities import load, statuses_json
from tribune.api.filtering import filtered
from tribune.api.presenters import statuses_out
from tribune.api.schemas import Status as StatusSchema
from tribune.statuses import selectors
from tribune.timelines.selectors import collapse_reblogs, home_timeline_ids

router = Router(tags=["timelines"])


def _present(request, response, page, context: str | None = None):
    link_header(request, response, page)
    viewer = request.auth.account
    return filtered(statuses_out(page.items, viewer), viewer, context)


@router.get("/v1/timelines/home", response={**responses(list[StatusSchema]), 206: list[StatusSchema]},
            auth=read("statuses"))
def timeline_home(request, response: HttpResponse, max_id: str | None = None,
                  since_id: str | None = None, min_id: str | None = None, limit: int | None = None):
    """The caller's home timeline (20 by default, 40 at most). 206 Partial Content
    while the feed is being rebuilt after a long absence, as Mastodon answers.

    Assembled from the entity cache (api.entities) and answered as it is: the
    entities are the presenters' (checked against Mastodon's OpenAPI schema by the
    tests), so django-ninja's validation of the response, a third of the cost of
    a page, is skipped here.
    """
    viewer = request.auth.require_account()
    page = home_timeline_ids(viewer=viewer, cursor=cursor(max_id, since_id, min_id, limit))
    entities = load(page.items)
    ids = [pk for pk in page.items
           if pk in entities.rows and not entities.removed_for(pk, viewer.pk)]
    if page.extra["merged"]:
        ids = collapse_reblogs(ids, lambda pk: (pk, entities.rows[pk].reblog_of_id))
    link_header(request, response, page)
    response.status_code = 206 if page.extra["partial"] else 200
    return api.create_response(request, filtered(statuses_json(ids, entities, viewer), viewer,
                                                 "home"),
                               temporal_response=response)


@router.get("/v1/timelines/public", response=responses(list[StatusSchema]), auth=public())
def timeline_public(request, response: HttpResponse, local: bool = False, remote: bool = False,
                    only_media: bool = False, max_id: str | None = None, since_id: str | None = None,
                    min_id: str | None = None, limit: int | None = None):
    """Public statuses, all or ``local`` only."""
    return _present(request, response, selectors.public_timeline(
        viewer=request.auth.account, cursor=cursor(max_id, since_id, min_id, limit),
        local=local, remote=remote, only_media=only_media), "public")


@router.get("/v1/timelines/tag/{hashtag}", response=responses(list[StatusSchema]), auth=public())
def timeline_tag(request, response: HttpResponse, hashtag: str, local: bool = False,
                 remote: bool = False, only_media: bool = False, max_id: str | None = None,
                 since_id: str | None = None, min_id: str | None = None, limit: int | None = None):
    """Public statuses with a hashtag (case- and width-insensitive)."""
    return _present(request, response, selectors.tag_timeline(
        name=hashtag, viewer=request.auth.account, cursor=cursor(max_id, since_id, min_id, limit),
        local=local, remote=remote, only_media=only_media), "public")


@router.get("/v1/favourites", response=responses(list[StatusSchema]), auth=read("favourites"))
def favourites(request, response: HttpResponse, max_id: str | None = None, since_id: str | None = None,
               min_id: str | None = None, limit: int | None = None):
    """Statuses the caller favourited, most recent first; page with the Link header."""
    viewer = request.auth.require_account()
    return _present(request, response, selectors.favourites(
        viewer=viewer, cursor=cursor(max_id, since_id, min_id, limit)))


@router.get("/v1/bookmarks", response=responses(list[StatusSchema]), auth=read("bookmarks"))
def bookmarks(request, response: HttpResponse, max_id: str | None = None, since_id: str | None = None,
              min_id: str | None = None, limit: int | None = None):
    """Statuses the caller bookmarked, most recent first; page with the Link header."""
    viewer = request.auth.require_account()
    return _present(request, response, selectors.bookmarks(
        viewer=viewer, cursor=cursor(max_id, since_id, min_id, limit)))
