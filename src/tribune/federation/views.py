"""The read side of federation over HTTP: what other servers fetch from us
(docs/adr/0022). Each view parses, calls one selector (and the key service for
actors), and presents a ``documents`` document. Unknown or hidden things are 404,
malformed parameters 400; nothing here is served to a visitor that
``statuses.policy`` would not show one."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from tribune.accounts.instance import registration_mode
from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.ids import parse_id
from tribune.core.pagination import Cursor
from tribune.federation import documents, selectors
from tribune.federation import inbox as inbox_service
from tribune.federation.keys import actor_key_get_or_create
from tribune.federation.negotiation import wants_activitystreams
from tribune.federation.serializers import actor_id
from tribune.federation.serializers import status_id as object_id

MAX_FOLLOWS_PAGE = 10_000  # deeper pages are refused (400), not counted through


def _json(document, *, content_type: str = documents.ACTIVITY_JSON,
          status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(document, ensure_ascii=False), status=status,
                        content_type=content_type)


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _negotiated(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ["Accept"])
    return response


@require_safe
def webfinger(request: HttpRequest) -> HttpResponse:
    """``/.well-known/webfinger?resource=...`` (RFC 7033 §4): the JRD of a local
    account; 400 for a missing or malformed resource, 404 for anything else we do
    not serve. Any origin may read it (§5, CORS)."""
    try:
        account = selectors.actor_by_resource(request.GET.get("resource", ""))
        response = _json(documents.webfinger(account), content_type=documents.JRD_JSON)
    except ValidationFailed as error:
        response = _error(400, str(error))
    except NotFound as error:
        response = _error(404, str(error))
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def host_meta(request: HttpRequest) -> HttpResponse:
    """``/.well-known/host-meta`` (RFC 6415): the WebFinger template."""
    response = HttpResponse(documents.host_meta(), content_type=documents.XRD_XML)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def nodeinfo_links(request: HttpRequest) -> HttpResponse:
    """``/.well-known/nodeinfo``: links to the NodeInfo documents."""
    response = _json(documents.nodeinfo_links(), content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def nodeinfo(request: HttpRequest, version: str) -> HttpResponse:
    """``/nodeinfo/2.0`` and ``/nodeinfo/2.1``; 404 for other versions."""
    if version not in documents.NODEINFO_VERSIONS:
        return _error(404, _("Record not found"))
    # Mastodon counts sign-ups by approval as open (only "none" is closed).
    document = documents.nodeinfo(version, usage=selectors.nodeinfo_usage(),
                                  open_registrations=registration_mode() in ("open", "approval"))
    response = _json(document, content_type=documents.nodeinfo_content_type(version))
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def instance_actor(request: HttpRequest) -> HttpResponse:
    """``/actor``: the instance actor's document (``instance_actor``), to every
    client (Mastodon serves it the same way, so keys can be fetched without a
    signature); docs/adr/0029."""
    from tribune.federation.instance_actor import instance_actor_document

    return _negotiated(_json(instance_actor_document()))


@require_safe
def actor(request: HttpRequest, username: str) -> HttpResponse:
    """``/users/NAME``: the actor document to ActivityStreams clients, a redirect
    to the profile page (``/@NAME``) for browsers; 404 for accounts we do not
    serve."""
    try:
        account = selectors.local_actor_get(username=username)
    except NotFound as error:
        return _negotiated(_error(404, str(error)))
    if not wants_activitystreams(request.headers.get("Accept")):
        return _negotiated(HttpResponseRedirect(f"/@{account.username}"))
    key = actor_key_get_or_create(account=account)
    return _negotiated(_json(documents.actor(account, public_key_pem=key.public_key_pem)))


@require_safe
def status(request: HttpRequest, username: str, status_id: str) -> HttpResponse:
    """``/users/NAME/statuses/ID``: the post's ``Note`` to ActivityStreams clients
    (public and unlisted posts only), a redirect to its page for browsers (which
    decides what the visitor may see). A boost's id leads to the boosted post."""
    try:
        account = selectors.local_actor_get(username=username)
        if not wants_activitystreams(request.headers.get("Accept")):
            return _negotiated(HttpResponseRedirect(f"/@{account.username}/{status_id}"))
        post = selectors.public_status_get(account=account, status_id=status_id)
    except NotFound as error:
        return _negotiated(_error(404, str(error)))
    if post.reblog_of_id is not None:
        return _negotiated(HttpResponseRedirect(object_id(post.reblog_of)))
    return _negotiated(_json(documents.status_object(post)))


@require_safe
def status_activity(request: HttpRequest, username: str, status_id: str) -> HttpResponse:
    """``/users/NAME/statuses/ID/activity``: the ``Create`` (or a boost's
    ``Announce``) of a public or unlisted post; 404 otherwise."""
    try:
        account = selectors.local_actor_get(username=username)
        post = selectors.public_status_get(account=account, status_id=status_id)
    except NotFound as error:
        return _error(404, str(error))
    return _json(documents.activity(post))


def _optional_id(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name)
    return None if value in (None, "") else parse_id(value)


@require_safe
def outbox(request: HttpRequest, username: str) -> HttpResponse:
    """``/users/NAME/outbox``: the collection, or with ``page`` one page of 20
    activities by ``max_id``/``min_id`` (400 for malformed ids)."""
    try:
        account = selectors.local_actor_get(username=username)
    except NotFound as error:
        return _error(404, str(error))
    if "page" not in request.GET:
        total = selectors.outbox_total(account=account)
        return _json(documents.outbox_collection(account, total=total))
    try:
        max_id, min_id = _optional_id(request, "max_id"), _optional_id(request, "min_id")
    except ValueError:
        return _error(400, _("max_id and min_id must be ids."))
    page = selectors.outbox_page(account=account, cursor=Cursor(max_id=max_id, min_id=min_id))
    params = {k: v for k, v in (("max_id", max_id), ("min_id", min_id)) if v is not None}
    return _json(documents.outbox_page(
        account, statuses=page.items, page_id_params=params,
        next_max_id=page.next_max_id if page.items else None,
        prev_min_id=page.prev_min_id if page.items else None))


def _follows(request: HttpRequest, username: str, direction: str) -> HttpResponse:
    try:
        account = selectors.local_actor_get(username=username)
    except NotFound as error:
        return _error(404, str(error))
    collection_id = f"{actor_id(account)}/{direction}"
    raw_page = request.GET.get("page")
    if raw_page is None:
        first = selectors.follows_page(account=account, direction=direction, page=1)
        return _json(documents.follows_collection(collection_id, total=first.total))
    try:
        page = parse_id(raw_page)
    except ValueError:
        page = 0
    if not 1 <= page <= MAX_FOLLOWS_PAGE:
        return _error(400, _("page must be a number from 1 to %(max)d.")
                      % {"max": MAX_FOLLOWS_PAGE})
    actors = selectors.follows_page(account=account, direction=direction, page=page)
    return _json(documents.follows_page(collection_id, page=page, actors=actors))


@require_safe
def followers(request: HttpRequest, username: str) -> HttpResponse:
    """``/users/NAME/followers``: ``totalItems``, and with ``page=N`` the actors."""
    return _follows(request, username, "followers")


@require_safe
def following(request: HttpRequest, username: str) -> HttpResponse:
    """``/users/NAME/following``: ``totalItems``, and with ``page=N`` the actors."""
    return _follows(request, username, "following")


@require_safe
def featured(request: HttpRequest, username: str) -> HttpResponse:
    """``/users/NAME/collections/featured``: the pinned public and unlisted posts."""
    try:
        account = selectors.local_actor_get(username=username)
    except NotFound as error:
        return _error(404, str(error))
    return _json(documents.featured(account, statuses=selectors.featured_statuses(account=account)))


@csrf_exempt
@require_POST
def inbox(request: HttpRequest, username: str | None = None) -> HttpResponse:
    """``POST /inbox`` (shared) and ``/users/NAME/inbox``: a signed activity from
    another server (docs/adr/0023). 202 once its signature and actor check out,
    whether or not Tribune acts on its type; 401 with ``{"error": ...}`` for a
    missing or bad signature, 400 for a body that is not an activity, 413 for one
    over 1 MiB, 503 when the signing key cannot be fetched now; 404 for a user
    inbox of an account we do not serve."""
    if username is not None:
        try:
            selectors.local_actor_get(username=username)
        except NotFound as error:
            return _error(404, str(error))
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > inbox_service.MAX_BODY:
        return _error(413, f"the body is over {inbox_service.MAX_BODY} bytes")
    try:
        inbox_service.inbox_receive(method=request.method or "POST",
                                    target=request.get_full_path(),
                                    headers=request.headers, body=request.body)
    except inbox_service.InboxRefused as refused:
        return _error(refused.status, str(refused))
    return HttpResponse(status=202)
