"""Accounts: the caller's own profile and preferences, other accounts, their
statuses, followers and following, and account search."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from tribune.accounts import selectors as accounts
from tribune.accounts.services import account_image_remove
from tribune.api.auth import ApiError, Scoped, public, read, write
from tribune.api.base import cursor, link_header, offset_param, responses
from tribune.api.filtering import filtered
from tribune.api.presenters import (
    account_out,
    credential_account_out,
    preferences_out,
    statuses_out,
)
from tribune.api.schemas import Account, CredentialAccount, PreferencesOut, Status
from tribune.federation.webfinger import account_resolve
from tribune.graph import selectors as graph
from tribune.media.account_images import account_profile_update
from tribune.oauth.scopes import grants
from tribune.statuses.selectors import account_statuses

router = Router(tags=["accounts"])

ACCOUNTS_DEFAULT, ACCOUNTS_MAX = 40, 80  # Mastodon's page sizes for lists of accounts


class AnyScope(Scoped):
    """A user token holding any one of ``scopes``: verify_credentials takes
    ``read:accounts`` or ``profile`` (Mastodon 4.3, docs: api/oauth-scopes.md)."""

    def __init__(self, *scopes: str):
        super().__init__(None)
        self.any_of = scopes

    def __call__(self, request: HttpRequest):
        viewer = super().__call__(request)
        if not any(grants(viewer.scopes, scope) for scope in self.any_of):
            raise ApiError(403, "This action is outside the authorized scopes")
        return viewer


class SourceIn(Schema):
    privacy: str | None = None
    quote_policy: str | None = None  # Mastodon 4.5
    sensitive: bool | None = None
    language: str | None = None


class CredentialsIn(Schema):
    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    source: SourceIn | None = None


def accounts_page(request, response: HttpResponse, page) -> list[dict]:
    """A page of accounts with its ``Link`` header (shared by the graph lists)."""
    link_header(request, response, page)
    return [account_out(a) for a in page.items]


def account_cursor(max_id, since_id, min_id, limit):
    return cursor(max_id, since_id, min_id, limit, default=ACCOUNTS_DEFAULT, maximum=ACCOUNTS_MAX)


def _credentials(account) -> dict:
    return credential_account_out(
        account, follow_requests_count=graph.follow_requests_count(account=account))


@router.get("/v1/accounts/verify_credentials", response=responses(CredentialAccount),
            auth=AnyScope("read:accounts", "profile"))
def verify_credentials(request):
    """The caller's own account, with its ``source`` (posting defaults)."""
    return _credentials(request.auth.require_account())


@router.api_operation(["PATCH", "PUT"], "/v1/accounts/update_credentials",
                      response=responses(CredentialAccount),
              auth=write("accounts"))
def update_credentials(request, payload: CredentialsIn):
    """Change the caller's profile and posting defaults (form, multipart or JSON);
    ``avatar`` and ``header`` are pictures sent as multipart. A refused picture or
    field answers 422 and changes nothing."""
    # Not File parameters: django-ninja would want a middleware that parses every
    # PUT and PATCH body; api.parser already parsed this one and kept its files.
    files = request.FILES
    source = payload.source or SourceIn()
    account = account_profile_update(
        account=request.auth.require_account(), avatar=files.get("avatar"),
        header=files.get("header"),
        display_name=payload.display_name,
        note=payload.note, locked=payload.locked, bot=payload.bot,
        discoverable=payload.discoverable, indexable=payload.indexable,
        default_visibility=source.privacy, default_sensitive=source.sensitive,
        default_language=source.language, default_quote_policy=source.quote_policy or None,
    )
    return _credentials(account)


@router.delete("/v1/profile/avatar", response=responses(CredentialAccount),
               auth=write("accounts"))
def profile_avatar_delete(request):
    """Go back to the default avatar (Mastodon 4.2)."""
    return _credentials(account_image_remove(account=request.auth.require_account(),
                                             kind="avatar"))


@router.delete("/v1/profile/header", response=responses(CredentialAccount),
               auth=write("accounts"))
def profile_header_delete(request):
    """Go back to the default header (Mastodon 4.2)."""
    return _credentials(account_image_remove(account=request.auth.require_account(),
                                             kind="header"))


@router.get("/v1/preferences", response=responses(PreferencesOut), by_alias=True,
            auth=read("accounts"))
def preferences(request):
    """The caller's posting and reading preferences."""
    return preferences_out(request.auth.require_account())


@router.get("/v1/accounts/lookup", response=responses(Account), auth=public("read:accounts"))
def account_lookup(request, acct: str):
    """The account for ``user`` or ``user@domain``. For a signed-in caller an
    unknown remote one is looked up on its server (WebFinger, then its actor;
    ``federation.webfinger``); visitors get known accounts only, so they cannot
    make the server fetch from anywhere (Mastodon's lookup never fetches). 404
    when there is none."""
    if request.auth.account is None:
        return account_out(accounts.account_lookup(acct=acct))
    return account_out(account_resolve(acct=acct))


@router.get("/v1/accounts/search", response=responses(list[Account]), auth=read("accounts"))
def account_search(request, q: str = "", limit: int | None = None, offset: int = 0,
                   following: bool = False):
    """Local accounts matching ``q`` (40 by default, 80 at most); ``following=true``
    keeps only accounts the caller follows. ``resolve`` is ignored until federation
    can look remote accounts up."""
    found = graph.account_search(
        query=q, viewer=request.auth.require_account(), following=following,
        limit=min(limit if limit and limit > 0 else ACCOUNTS_DEFAULT, ACCOUNTS_MAX),
        offset=offset_param(offset))
    return [account_out(a) for a in found]


@router.get("/v1/accounts/{account_id}", response=responses(Account), auth=public("read:accounts"))
def account_get(request, account_id: str):
    """One account by id."""
    return account_out(accounts.account_get(account_id=account_id))


@router.get("/v1/accounts/{account_id}/statuses", response=responses(list[Status]),
            auth=public("read:statuses"))
def account_statuses_list(
    request, response: HttpResponse, account_id: str, max_id: str | None = None,
    since_id: str | None = None, min_id: str | None = None, limit: int | None = None,
    exclude_replies: bool = False, exclude_reblogs: bool = False, only_media: bool = False,
    pinned: bool = False, tagged: str | None = None,
):
    """An account's statuses that the caller may see (20 by default, 40 at most)."""
    viewer = request.auth.account
    page = account_statuses(
        account=accounts.account_get(account_id=account_id), viewer=viewer,
        cursor=cursor(max_id, since_id, min_id, limit), exclude_replies=exclude_replies,
        exclude_reblogs=exclude_reblogs, only_media=only_media, pinned=pinned,
        tagged=tagged or None)
    link_header(request, response, page)
    return filtered(statuses_out(page.items, viewer), viewer, "account")


@router.get("/v1/accounts/{account_id}/followers", response=responses(list[Account]),
            auth=public("read:accounts"))
def account_followers(request, response: HttpResponse, account_id: str, max_id: str | None = None,
                      since_id: str | None = None, min_id: str | None = None,
                      limit: int | None = None):
    """Accounts following this one, most recent first; page with the ``Link`` header."""
    page = graph.followers_page(account=accounts.account_get(account_id=account_id),
                                viewer=request.auth.account,
                                cursor=account_cursor(max_id, since_id, min_id, limit))
    return accounts_page(request, response, page)


@router.get("/v1/accounts/{account_id}/following", response=responses(list[Account]),
            auth=public("read:accounts"))
def account_following(request, response: HttpResponse, account_id: str, max_id: str | None = None,
                      since_id: str | None = None, min_id: str | None = None,
                      limit: int | None = None):
    """Accounts this one follows, most recent first; page with the ``Link`` header."""
    page = graph.following_page(account=accounts.account_get(account_id=account_id),
                                viewer=request.auth.account,
                                cursor=account_cursor(max_id, since_id, min_id, limit))
    return accounts_page(request, response, page)
