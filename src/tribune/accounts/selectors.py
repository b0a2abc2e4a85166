"""Reads of accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from tribune.accounts.models import Account
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
from tribune.core.urls import absolute


def account_get(*, account_id: int | str) -> Account:
    """The account with this id; NotFound if there is none (or the id is malformed)."""
    try:
        return Account.objects.get(pk=parse_id(account_id), suspended_at__isnull=True)
    except (Account.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("Record not found") from None


def account_lookup(*, acct: str) -> Account:
    """The account for ``user`` or ``user@domain`` (this instance's domain counts as
    local); NotFound otherwise."""
    from django.conf import settings

    acct = acct.strip().lstrip("@")
    username, _, domain = acct.partition("@")
    if domain.lower() == settings.TRIBUNE_DOMAIN.lower():
        domain = ""
    try:
        return Account.objects.get(username__iexact=username, domain__iexact=domain,
                                   suspended_at__isnull=True)
    except Account.DoesNotExist:
        raise NotFound("Record not found") from None


def accounts_by_handles(handles: list[str]) -> dict[str, Account]:
    """Local accounts for mentioned handles, keyed by the lower-cased handle as given.

    Remote handles (``user@domain``) resolve only if the account is already known.
    """
    from django.conf import settings

    found: dict[str, Account] = {}
    for handle in handles:
        username, _, domain = handle.partition("@")
        if domain.lower() == settings.TRIBUNE_DOMAIN.lower():
            domain = ""
        account = Account.objects.filter(
            username__iexact=username, domain__iexact=domain, suspended_at__isnull=True
        ).first()
        if account is not None:
            found[handle.lower()] = account
    return found


def account_profile_url(account: Account) -> str:
    """The account's public profile URL (``/@name`` for local accounts)."""
    return absolute(f"/@{account.username}") if account.is_local else account.url


def account_uri(account: Account) -> str:
    """The account's ActivityPub id (``/users/name`` for local accounts)."""
    return absolute(f"/users/{account.username}") if account.is_local else account.uri


def account_url_for_handle(handle: str) -> str | None:
    """Profile URL for a mentioned handle, or None when no such account is known."""
    account = accounts_by_handles([handle]).get(handle.lower())
    return account_profile_url(account) if account else None


def search_accounts(*, query: str, limit: int = 40, offset: int = 0) -> list[Account]:
    """Accounts whose username starts with ``query`` or whose display name contains
    it (local search)."""
    return list(account_search_queryset(query=query)[offset : offset + limit])


def account_search_queryset(*, query: str) -> QuerySet[Account]:
    """The ordered queryset behind search_accounts: ``user`` or ``user@domain``
    (this instance's domain counts as local), most followed first; empty for an
    empty query."""
    from django.db.models import Q

    query = query.strip().lstrip("@")
    username, _, domain = query.partition("@")
    if not username:
        return Account.objects.none()
    qs = Account.objects.filter(suspended_at__isnull=True).filter(
        Q(username__istartswith=username) | Q(display_name__icontains=username)
    )
    if domain:
        qs = qs.filter(domain__iexact="" if domain.lower() == settings_domain() else domain)
    return qs.order_by("-followers_count", "id")


def accounts_by_ids(ids: list[str] | list[int]) -> list[Account]:
    """The accounts with these ids, in the order given; unknown, suspended and
    malformed ids are skipped (one query)."""
    wanted: list[int] = []
    for raw in ids:
        try:
            wanted.append(parse_id(raw))
        except ValueError:
            continue
    wanted = list(dict.fromkeys(wanted))
    found = {a.pk: a for a in Account.objects.filter(pk__in=wanted, suspended_at__isnull=True)}
    return [found[i] for i in wanted if i in found]


def settings_domain() -> str:
    from django.conf import settings

    return settings.TRIBUNE_DOMAIN.lower()


DEFAULT_AVATAR_PATH = "/avatars/original/missing.png"
DEFAULT_HEADER_PATH = "/headers/original/missing.png"


def account_avatar_url(account: Account) -> str:
    """Absolute avatar URL; Tribune's default image when none is set."""
    return absolute(DEFAULT_AVATAR_PATH)


def account_header_url(account: Account) -> str:
    """Absolute header URL; Tribune's default image when none is set."""
    return absolute(DEFAULT_HEADER_PATH)
