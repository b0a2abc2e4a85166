"""Lists: the caller's lists, their members, the lists an account is in, and a
list's timeline (Mastodon's Api::V1::ListsController, Lists::AccountsController,
Accounts::ListsController and Timelines::ListController)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.http import HttpResponse
from ninja import Router, Schema
from pydantic import ValidationError as PydanticValidationError

from tribune.accounts.selectors import account_get
from tribune.api.auth import ApiError, read, write
from tribune.api.base import api, cursor, link_header, responses
from tribune.api.entities import load, statuses_json
from tribune.api.filtering import filtered
from tribune.api.parser import fold
from tribune.api.presenters import list_out
from tribune.api.routers.accounts import account_cursor, accounts_page
from tribune.api.schemas import Account
from tribune.api.schemas import List as ListSchema
from tribune.api.schemas import Status as StatusSchema
from tribune.lists import selectors, services
from tribune.timelines.selectors import collapse_reblogs

router = Router(tags=["lists"])
S = TypeVar("S", bound=Schema)


class ListIn(Schema):
    title: str | None = None
    replies_policy: str | None = None
    exclusive: bool | None = None


class AccountIdsIn(Schema):
    # ``account_ids[]=1&account_ids[]=2`` (query or form), a JSON array, or one id.
    account_ids: list[str | int] | str | int | None = None


def _sent(request, payload: S | None, schema: type[S]) -> S:
    """The parameters sent: the body's, or the query string's when there is no body
    (a DELETE usually), as Mastodon reads either; django-ninja reads a body schema
    from the body only."""
    if payload is not None:
        return payload
    try:
        return schema.model_validate(fold(request.GET))
    except PydanticValidationError:
        raise ApiError(422, "Validation failed: the parameters are not valid") from None


def _account_ids(request, payload: AccountIdsIn | None) -> list[str | int]:
    """The ids sent in ``account_ids[]`` (a list, or one id)."""
    value = _sent(request, payload, AccountIdsIn).account_ids
    if value is None or value == "":
        return []
    if isinstance(value, str | int):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return value
    raise ApiError(422, "Validation failed: account_ids must be a list of ids")


@router.get("/v1/lists", response=responses(list[ListSchema]), auth=read("lists"))
def lists(request):
    """The caller's lists, oldest first."""
    return [list_out(found) for found in selectors.lists_of(account=request.auth.require_account())]


@router.post("/v1/lists", response=responses(ListSchema), auth=write("lists"))
def list_create(request, payload: ListIn | None = None):
    """Create a list (``title``; ``replies_policy`` followed, list or none; ``exclusive``)."""
    payload = _sent(request, payload, ListIn)
    return list_out(services.list_create(
        account=request.auth.require_account(), title=payload.title,
        replies_policy=payload.replies_policy, exclusive=payload.exclusive))


@router.get("/v1/lists/{list_id}", response=responses(ListSchema), auth=read("lists"))
def list_get(request, list_id: str):
    """One of the caller's lists."""
    return list_out(selectors.list_get(account=request.auth.require_account(), list_id=list_id))


@router.put("/v1/lists/{list_id}", response=responses(ListSchema), auth=write("lists"))
def list_update(request, list_id: str, payload: ListIn | None = None):
    """Change a list's title, replies policy or exclusivity; what is not sent stays."""
    payload = _sent(request, payload, ListIn)
    return list_out(services.list_update(
        account=request.auth.require_account(), list_id=list_id, title=payload.title,
        replies_policy=payload.replies_policy, exclusive=payload.exclusive))


@router.delete("/v1/lists/{list_id}", response=responses(dict[str, Any]), auth=write("lists"))
def list_delete(request, list_id: str):
    """Delete a list."""
    services.list_delete(account=request.auth.require_account(), list_id=list_id)
    return {}


@router.get("/v1/lists/{list_id}/accounts", response=responses(list[Account]),
            auth=read("lists"))
def list_accounts(request, response: HttpResponse, list_id: str, max_id: str | None = None,
                  since_id: str | None = None, min_id: str | None = None,
                  limit: int | None = None):
    """The accounts in a list (40 by default, 80 at most; ``limit=0`` for all at
    once, without a ``Link`` header, as Mastodon answers)."""
    found = selectors.list_get(account=request.auth.require_account(), list_id=list_id)
    paging = None if limit == 0 else account_cursor(max_id, since_id, min_id, limit)
    return accounts_page(request, response, selectors.list_members_page(list_=found,
                                                                        cursor=paging))


@router.post("/v1/lists/{list_id}/accounts", response=responses(dict[str, Any]),
             auth=write("lists"))
def list_accounts_add(request, list_id: str, payload: AccountIdsIn | None = None):
    """Add the accounts ``account_ids[]`` (all followed by the caller) to a list."""
    services.list_accounts_add(account=request.auth.require_account(), list_id=list_id,
                               members=selectors.accounts_named(_account_ids(request, payload)))
    return {}


@router.delete("/v1/lists/{list_id}/accounts", response=responses(dict[str, Any]),
               auth=write("lists"))
def list_accounts_remove(request, list_id: str, payload: AccountIdsIn | None = None):
    """Remove the accounts ``account_ids[]`` from a list (others are ignored)."""
    services.list_accounts_remove(account=request.auth.require_account(), list_id=list_id,
                                  members=selectors.accounts_named(_account_ids(request, payload)))
    return {}


@router.get("/v1/accounts/{account_id}/lists", response=responses(list[ListSchema]),
            auth=read("lists"))
def account_lists(request, account_id: str):
    """The caller's lists that hold the account."""
    found = selectors.lists_with_member(account=request.auth.require_account(),
                                        member=account_get(account_id=account_id))
    return [list_out(lst) for lst in found]


@router.get("/v1/timelines/list/{list_id}", response=responses(list[StatusSchema]),
            auth=read("lists"), tags=["timelines"])
def timeline_list(request, response: HttpResponse, list_id: str, max_id: str | None = None,
                  since_id: str | None = None, min_id: str | None = None,
                  limit: int | None = None):
    """A list's timeline (20 by default, 40 at most), read at request time.

    Assembled from the entity cache and answered as it is, as the home timeline
    is (the entities are the presenters', checked against Mastodon's schema by
    the tests)."""
    viewer = request.auth.require_account()
    found = selectors.list_get(account=viewer, list_id=list_id)
    page = selectors.list_timeline_ids(list_=found, cursor=cursor(max_id, since_id, min_id,
                                                                  limit))
    entities = load(page.items)
    ids = [pk for pk in page.items
           if pk in entities.rows and not entities.removed_for(pk, viewer.pk)]
    ids = collapse_reblogs(ids, lambda pk: (pk, entities.rows[pk].reblog_of_id))
    link_header(request, response, page)
    return api.create_response(request, filtered(statuses_json(ids, entities, viewer), viewer,
                                                 "home"),
                               temporal_response=response)
