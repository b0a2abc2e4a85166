"""Filters: the caller's keyword and status filters (Mastodon's
Api::V2::FiltersController, Filters::KeywordsController, Filters::StatusesController,
and the V1 endpoints over keywords, Api::V1::FiltersController;
docs.joinmastodon.org/methods/filters/).

Parameters come from the query string, a form (``context[]``,
``keywords_attributes[][keyword]``) or JSON alike; they are read as one dict so
that a sent ``expires_in`` of null (never) differs from one not sent.
"""

from __future__ import annotations

from typing import Any

from ninja import Router

from tribune.api.auth import ApiError, read, write
from tribune.api.base import responses
from tribune.api.filtering import (
    filter_out,
    filter_status_out,
    keyword_out,
    v1_filter_out,
)
from tribune.api.parser import checked_body_params
from tribune.filters import selectors, services
from tribune.filters.models import FilterAction

router = Router(tags=["filters"])

RAILS_FALSE = {"0", "f", "false", "off", "no", ""}


def _params(request) -> dict[str, Any]:
    try:
        return checked_body_params(request)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def _flag(value: Any) -> bool | None:
    """A boolean as Rails reads one (``"0"``, ``"false"``, ``"off"``... are false)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() not in RAILS_FALSE
    raise ApiError(422, "Validation failed: expected a boolean")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ApiError(422, "Validation failed: expected text")


def _context(value: Any) -> list[str] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ApiError(422, "Validation failed: Context contains invalid values")
    return values


def _keywords(value: Any) -> list[dict[str, Any]]:
    """``keywords_attributes`` as a list of entries: a list, or Rails' indexed form
    (``keywords_attributes[0][keyword]``), each entry's fields made plain."""
    if value in (None, ""):
        return []
    if isinstance(value, dict):
        try:
            value = [value[key] for key in sorted(value, key=int)]
        except ValueError:
            value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ApiError(422, "Validation failed: keywords_attributes must be a list")
    return [
        {
            "id": entry.get("id"),
            "keyword": _text(entry.get("keyword")),
            "whole_word": _flag(entry.get("whole_word")),
            "_destroy": _flag(entry.get("_destroy")),
        }
        for entry in value
    ]


def _expires(params: dict[str, Any]) -> Any:
    value = params.get("expires_in", services.UNSET)
    if isinstance(value, bool | list | dict):
        raise ApiError(422, "Validation failed: Expires in is not a number")
    return value


# --- v2 filters ---------------------------------------------------------------------


@router.get(
    "/v2/filters", response=responses(list[dict[str, Any]]), auth=read("filters")
)
def filters_list(request):
    """The caller's filters, oldest first, with their keywords and statuses."""
    return [
        filter_out(f)
        for f in selectors.filters_of(account=request.auth.require_account())
    ]


@router.post("/v2/filters", response=responses(dict[str, Any]), auth=write("filters"))
def filters_create(request):
    """Create a filter (``title``, ``context[]``, ``filter_action``, ``expires_in``
    seconds, ``keywords_attributes[]``)."""
    account = request.auth.require_account()
    params = _params(request)
    expires = _expires(params)
    found = services.filter_create(
        account=account,
        title=_text(params.get("title")),
        context=_context(params.get("context")),
        filter_action=_text(params.get("filter_action")),
        expires_in=None if expires is services.UNSET else expires,
        keywords_attributes=_keywords(params.get("keywords_attributes")),
    )
    return filter_out(selectors.filter_get(account=account, filter_id=found.pk))


@router.get(
    "/v2/filters/{filter_id}", response=responses(dict[str, Any]), auth=read("filters")
)
def filters_get(request, filter_id: str):
    """One of the caller's filters."""
    return filter_out(
        selectors.filter_get(
            account=request.auth.require_account(), filter_id=filter_id
        )
    )


@router.put(
    "/v2/filters/{filter_id}", response=responses(dict[str, Any]), auth=write("filters")
)
def filters_update(request, filter_id: str):
    """Change a filter; what is not sent stays. ``keywords_attributes[]`` entries
    with an ``id`` change that keyword, or remove it with ``_destroy``."""
    account = request.auth.require_account()
    params = _params(request)
    services.filter_update(
        account=account,
        filter_id=filter_id,
        title=_text(params.get("title")),
        context=_context(params.get("context")),
        filter_action=_text(params.get("filter_action")),
        expires_in=_expires(params),
        keywords_attributes=_keywords(params.get("keywords_attributes")),
    )
    return filter_out(selectors.filter_get(account=account, filter_id=filter_id))


@router.delete(
    "/v2/filters/{filter_id}", response=responses(dict[str, Any]), auth=write("filters")
)
def filters_delete(request, filter_id: str):
    """Delete a filter with its keywords and statuses."""
    services.filter_delete(account=request.auth.require_account(), filter_id=filter_id)
    return {}


# --- keywords -------------------------------------------------------------------------


@router.get(
    "/v2/filters/{filter_id}/keywords",
    response=responses(list[dict[str, Any]]),
    auth=read("filters"),
)
def keywords_list(request, filter_id: str):
    """A filter's keywords."""
    found = selectors.filter_get(
        account=request.auth.require_account(), filter_id=filter_id
    )
    return [keyword_out(k) for k in found.keywords.all()]


@router.post(
    "/v2/filters/{filter_id}/keywords",
    response=responses(dict[str, Any]),
    auth=write("filters"),
)
def keywords_create(request, filter_id: str):
    """Add a keyword (``keyword``, ``whole_word``) to a filter."""
    params = _params(request)
    return keyword_out(
        services.filter_keyword_create(
            account=request.auth.require_account(),
            filter_id=filter_id,
            keyword=_text(params.get("keyword")),
            whole_word=_flag(params.get("whole_word")),
        )
    )


@router.get(
    "/v2/filters/keywords/{keyword_id}",
    response=responses(dict[str, Any]),
    auth=read("filters"),
)
def keywords_get(request, keyword_id: str):
    """One keyword of the caller's filters."""
    return keyword_out(
        selectors.filter_keyword_get(
            account=request.auth.require_account(), keyword_id=keyword_id
        )
    )


@router.put(
    "/v2/filters/keywords/{keyword_id}",
    response=responses(dict[str, Any]),
    auth=write("filters"),
)
def keywords_update(request, keyword_id: str):
    """Change a keyword's phrase or ``whole_word``."""
    params = _params(request)
    return keyword_out(
        services.filter_keyword_update(
            account=request.auth.require_account(),
            keyword_id=keyword_id,
            keyword=_text(params.get("keyword")),
            whole_word=_flag(params.get("whole_word")),
        )
    )


@router.delete(
    "/v2/filters/keywords/{keyword_id}",
    response=responses(dict[str, Any]),
    auth=write("filters"),
)
def keywords_delete(request, keyword_id: str):
    """Remove a keyword from its filter."""
    services.filter_keyword_delete(
        account=request.auth.require_account(), keyword_id=keyword_id
    )
    return {}


# --- statuses -------------------------------------------------------------------------


@router.get(
    "/v2/filters/{filter_id}/statuses",
    response=responses(list[dict[str, Any]]),
    auth=read("filters"),
)
def statuses_list(request, filter_id: str):
    """A filter's statuses."""
    found = selectors.filter_get(
        account=request.auth.require_account(), filter_id=filter_id
    )
    return [filter_status_out(s) for s in found.statuses.all()]


@router.post(
    "/v2/filters/{filter_id}/statuses",
    response=responses(dict[str, Any]),
    auth=write("filters"),
)
def statuses_create(request, filter_id: str):
    """Add a status (``status_id``) to a filter."""
    params = _params(request)
    return filter_status_out(
        services.filter_status_create(
            account=request.auth.require_account(),
            filter_id=filter_id,
            status_id=_text(params.get("status_id")),
        )
    )


@router.get(
    "/v2/filters/statuses/{filter_status_id}",
    response=responses(dict[str, Any]),
    auth=read("filters"),
)
def statuses_get(request, filter_status_id: str):
    """One filtered status of the caller's filters."""
    return filter_status_out(
        selectors.filter_status_get(
            account=request.auth.require_account(), filter_status_id=filter_status_id
        )
    )


@router.delete(
    "/v2/filters/statuses/{filter_status_id}",
    response=responses(dict[str, Any]),
    auth=write("filters"),
)
def statuses_delete(request, filter_status_id: str):
    """Remove a status from its filter; the answer is the removed FilterStatus
    (Mastodon's documentation for this endpoint)."""
    account = request.auth.require_account()
    gone = filter_status_out(
        selectors.filter_status_get(account=account, filter_status_id=filter_status_id)
    )
    services.filter_status_delete(account=account, filter_status_id=filter_status_id)
    return gone


# --- v1: one filter per keyword ---------------------------------------------------------


@router.get(
    "/v1/filters", response=responses(list[dict[str, Any]]), auth=read("filters")
)
def v1_filters_list(request):
    """Every keyword of the caller's filters as a V1 filter."""
    return [
        v1_filter_out(k, f)
        for f in selectors.filters_of(account=request.auth.require_account())
        for k in f.keywords.all()
    ]


def _v1(account, keyword_id) -> dict[str, Any]:
    row = selectors.filter_keyword_get(account=account, keyword_id=keyword_id)
    return v1_filter_out(row, row.filter)


@router.post("/v1/filters", response=responses(dict[str, Any]), auth=write("filters"))
def v1_filters_create(request):
    """Create a V1 filter: a filter titled by ``phrase`` with it as one keyword;
    ``irreversible`` makes it a ``hide`` filter."""
    account = request.auth.require_account()
    params = _params(request)
    phrase, expires = _text(params.get("phrase")), _expires(params)
    whole_word = _flag(params.get("whole_word"))
    found = services.filter_create(
        account=account,
        title=phrase,
        context=_context(params.get("context")),
        filter_action=FilterAction.HIDE
        if _flag(params.get("irreversible"))
        else FilterAction.WARN,
        expires_in=None if expires is services.UNSET else expires,
        keywords_attributes=[
            {
                "keyword": phrase,
                "whole_word": True if whole_word is None else whole_word,
            }
        ],
    )
    return _v1(account, found.keywords.get().pk)


@router.get(
    "/v1/filters/{keyword_id}", response=responses(dict[str, Any]), auth=read("filters")
)
def v1_filters_get(request, keyword_id: str):
    """One V1 filter (a keyword of the caller's filters)."""
    return _v1(request.auth.require_account(), keyword_id)


@router.put(
    "/v1/filters/{keyword_id}",
    response=responses(dict[str, Any]),
    auth=write("filters"),
)
def v1_filters_update(request, keyword_id: str):
    """Change a V1 filter: the keyword's ``phrase`` and ``whole_word``, and its
    filter's ``context``, ``irreversible`` and ``expires_in``."""
    account = request.auth.require_account()
    params = _params(request)
    row = selectors.filter_keyword_get(account=account, keyword_id=keyword_id)
    irreversible = _flag(params.get("irreversible"))
    services.filter_update(
        account=account,
        filter_id=row.filter_id,
        context=_context(params.get("context")),
        filter_action=(
            None
            if irreversible is None
            else FilterAction.HIDE
            if irreversible
            else FilterAction.WARN
        ),
        expires_in=_expires(params),
        keywords_attributes=[
            {
                "id": row.pk,
                "keyword": _text(params.get("phrase")),
                "whole_word": _flag(params.get("whole_word")),
            }
        ],
    )
    return _v1(account, keyword_id)


@router.delete(
    "/v1/filters/{keyword_id}",
    response=responses(dict[str, Any]),
    auth=write("filters"),
)
def v1_filters_delete(request, keyword_id: str):
    """Delete a V1 filter: the keyword (Mastodon's Api::V1::FiltersController
    destroys the keyword, leaving its filter)."""
    services.filter_keyword_delete(
        account=request.auth.require_account(), keyword_id=keyword_id
    )
    return {}
