"""The NinjaAPI instance, its error mapping and shared endpoint helpers."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tribune.api.auth import ApiError
from tribune.api.parser import MastodonParser
from tribune.api.presenters import VERSION
from tribune.api.ratelimit import note_window, refused, too_many_requests
from tribune.api.schemas import Error
from tribune.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    Overloaded,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from tribune.core.ids import parse_id
from tribune.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor, Page
from tribune.core.urls import absolute

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Tribune client API (Mastodon-compatible)",
    version=VERSION,
    parser=MastodonParser(),
    urls_namespace="api",
    docs_url=None,
    openapi_url="/openapi.json",
)

DOMAIN_STATUS = {NotFound: 404, Forbidden: 403, ValidationFailed: 422, Conflict: 422,
                 RateLimited: 429, Unavailable: 503}


def error_response(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """Mastodon's error body; 422s also carry ``details`` (its ValidationError entity)."""
    body: dict[str, Any] = {"error": message}
    if status == 422:
        body["details"] = {}
    return api.create_response(request, body, status=status)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return error_response(request, exc.status, exc.message)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return error_response(request, DOMAIN_STATUS.get(type(exc), 422), str(exc))


@api.exception_handler(RateLimited)
def _rate_limited(request, exc: RateLimited):
    # A service's per-account budget (statuses, reports) is spent: Mastodon's 429.
    window = refused(exc)
    note_window(request, window)
    return too_many_requests(window)


@api.exception_handler(Overloaded)
def _overloaded(request, exc: Overloaded):
    # No password-hashing slot free in this process: come back in a moment.
    response = error_response(request, 503, str(exc))
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    parts = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload", "params")]
        parts.append(f"{'.'.join(loc) or 'parameters'} {err.get('msg', 'is invalid')}")
    return error_response(request, 422, "Validation failed: " + "; ".join(parts))


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return error_response(request, 401, "The access token is invalid")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return error_response(request, exc.status_code, str(exc.message))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(request, 404, "Record not found")


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return error_response(request, 413, "Request body is too large")


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc):
    # E.g. more than DATA_UPLOAD_MAX_NUMBER_FIELDS parameters: the client's fault.
    return error_response(request, 400, "Bad request")


@api.exception_handler(MultiPartParserError)
def _malformed_multipart(request, exc):
    # E.g. "Content-Type: multipart/form-data" without a boundary.
    return error_response(request, 400, "Malformed multipart body")


@api.exception_handler(BadRequest)
def _bad_request(request, exc):
    return error_response(request, 400, str(exc) or "Bad request")


@api.exception_handler(Exception)
def _unexpected(request, exc):
    logger.exception("unexpected error in %s %s", request.method, request.path)
    return error_response(request, 500, "Internal server error")


ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 413: Error, 414: Error, 422: Error,
          429: Error, 503: Error}


def responses(schema: Any, status: int = 200) -> dict[int, Any]:
    """A ninja ``response=`` mapping: ``schema`` for success plus Mastodon's errors."""
    return {status: schema, **ERRORS}


def cursor(max_id: str | None, since_id: str | None, min_id: str | None, limit: int | None,
           *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Cursor:
    """A validated Cursor; ids that are not integers give 422 (never a 500)."""

    def as_id(name: str, value: str | None) -> int | None:
        if value in (None, ""):
            return None
        try:
            return parse_id(value)
        except ValueError:
            raise ApiError(422, f"Validation failed: {name} must be an id") from None

    if limit is None or limit <= 0:
        limit = default
    return Cursor(max_id=as_id("max_id", max_id), since_id=as_id("since_id", since_id),
                  min_id=as_id("min_id", min_id), limit=min(limit, maximum))


MAX_OFFSET = 10_000


def offset_param(offset: int | None) -> int:
    """A validated search ``offset``: 0 when absent, 422 beyond MAX_OFFSET (deep
    offsets are slow and no client pages that far)."""
    if offset is None or offset <= 0:
        return 0
    if offset > MAX_OFFSET:
        raise ApiError(422, f"Validation failed: offset must be at most {MAX_OFFSET}")
    return offset


def link_header(request: HttpRequest, response: HttpResponse, page: Page) -> None:
    """Set RFC 8288 ``Link`` next/prev for ``page``, keeping the other query
    parameters. ``next`` only when the page has items; ``prev`` whenever there is a
    key to poll from (CLI-13, CLI-14)."""
    params = [(k, v) for k, values in request.GET.lists() for v in values
              if k not in ("max_id", "min_id", "since_id")]
    path = absolute(request.path)
    links = []
    if page.next_max_id is not None:
        links.append(f'<{path}?{urlencode([*params, ("max_id", page.next_max_id)])}>; rel="next"')
    if page.prev_min_id is not None:
        links.append(f'<{path}?{urlencode([*params, ("min_id", page.prev_min_id)])}>; rel="prev"')
    if links:
        response["Link"] = ", ".join(links)
