"""Reads of conversations: a page of one account's conversations with their
participants and last statuses, in a fixed number of queries."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.conversations.models import AccountConversation
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
from tribune.core.pagination import Cursor, Page, paginate
from tribune.statuses.selectors import STATUS_PREFETCH, STATUS_RELATED


def _with_participants(rows: list[AccountConversation], account: Account) -> None:
    """Set ``participants`` (Accounts, in id order) on each row, from one query. A
    conversation with oneself shows oneself, as Mastodon's
    ``AccountConversation#participant_accounts`` does."""
    wanted = {pk for row in rows for pk in row.participant_ids}
    found = {a.pk: a for a in Account.objects.filter(pk__in=wanted)} if wanted else {}
    for row in rows:
        people = [found[pk] for pk in row.participant_ids if pk in found]
        row.participants = people or [account]


def _base(account: Account):
    return (AccountConversation.objects.filter(account=account, last_status__isnull=False)
            .select_related(*(f"last_status__{r}" for r in STATUS_RELATED))
            .prefetch_related(*(f"last_status__{p}" for p in STATUS_PREFETCH)))


def conversations_page(*, account: Account, cursor: Cursor) -> Page:
    """``account``'s conversations, the one with the newest status first, paged by
    the id of their last status (``max_id``, ``since_id``, ``min_id`` are status ids,
    as Mastodon's ``to_a_paginated_by_id``). Each row has ``participants`` and its
    ``last_status`` loaded; five queries whatever the page size."""
    page = paginate(_base(account), cursor, key="last_status_id")
    _with_participants(page.items, account)
    return page


def conversation_get(*, account: Account, conversation_id: int | str) -> AccountConversation:
    """One of ``account``'s conversations with its participants and last status;
    NotFound for anyone else's, an unknown or a malformed id."""
    try:
        row = _base(account).get(pk=parse_id(conversation_id))
    except (AccountConversation.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None
    _with_participants([row], account)
    return row

