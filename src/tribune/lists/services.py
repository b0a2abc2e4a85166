"""Writes to lists, with Mastodon's rules (app/models/list.rb, list_account.rb,
Api::V1::ListsController and ListAccountsController): a title of 1 to 256
characters, a replies policy of ``followed``, ``list`` or ``none``, at most 50
lists per account, and members the owner follows (or the owner). Every service
takes the owner and a list id and answers NotFound for a list that is not the
owner's, so no caller can reach another person's list.

Nothing happens after these writes: a list's timeline is read at request time
(``selectors.list_timeline_ids``), so there is no feed to fill or clean.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.ids import parse_id
from tribune.graph.models import Follow
from tribune.lists.models import (
    LISTS_PER_ACCOUNT,
    TITLE_MAX_LENGTH,
    List,
    ListAccount,
    RepliesPolicy,
)


def _clean_title(title: str | None) -> str:
    if title is None or not title.strip():
        raise ValidationFailed(_("Validation failed: Title can't be blank"))
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationFailed(
            _("Validation failed: Title is too long (maximum is %(count)d characters)")
            % {"count": TITLE_MAX_LENGTH})
    return title


def _clean_policy(replies_policy: str) -> str:
    if replies_policy not in RepliesPolicy.values:
        raise ValidationFailed(_("Validation failed: Replies policy is not included in the "
                                 "list"))
    return replies_policy


def _owned_for_update(account: Account, list_id: int | str) -> List:
    """The owner's list, locked for the rest of the transaction (NotFound else)."""
    try:
        return List.objects.select_for_update().get(pk=parse_id(list_id), account=account)
    except (List.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None


@transaction.atomic
def list_create(*, account: Account, title: str | None, replies_policy: str | None = None,
                exclusive: bool | None = None) -> List:
    """Create a list for ``account`` and return it (``replies_policy`` defaults to
    ``list``, ``exclusive`` to false).

    Raises ValidationFailed for a blank title or one over 256 characters, an unknown
    replies policy, and when ``account`` already has 50 lists (Mastodon's messages).
    The owner's row is locked while counting, so two requests at once cannot make
    a 51st list.
    """
    title = _clean_title(title)
    policy = _clean_policy(replies_policy or RepliesPolicy.LIST)
    Account.objects.select_for_update().filter(pk=account.pk).first()
    if List.objects.filter(account=account).count() >= LISTS_PER_ACCOUNT:
        raise ValidationFailed(_("Validation failed: You have reached the maximum number of "
                                 "lists"))
    return List.objects.create(account=account, title=title, replies_policy=policy,
                               exclusive=bool(exclusive))


@transaction.atomic
def list_update(*, account: Account, list_id: int | str, title: str | None = None,
                replies_policy: str | None = None, exclusive: bool | None = None) -> List:
    """Change what is given of one of ``account``'s lists and return it; None leaves
    a field as it is. Raises NotFound for a list that is not ``account``'s and
    ValidationFailed as :func:`list_create` does for the title and policy."""
    found = _owned_for_update(account, list_id)
    changed = []
    if title is not None:
        found.title = _clean_title(title)
        changed.append("title")
    if replies_policy is not None:
        found.replies_policy = _clean_policy(replies_policy)
        changed.append("replies_policy")
    if exclusive is not None:
        found.exclusive = bool(exclusive)
        changed.append("exclusive")
    if changed:
        found.save(update_fields=changed)
    return found


@transaction.atomic
def list_delete(*, account: Account, list_id: int | str) -> None:
    """Delete one of ``account``'s lists with its memberships; NotFound if it is
    not ``account``'s."""
    _owned_for_update(account, list_id).delete()


@transaction.atomic
def list_accounts_add(*, account: Account, list_id: int | str,
                      members: Iterable[Account]) -> list[ListAccount]:
    """Add ``members`` to one of ``account``'s lists and return the new memberships.

    All or nothing, as Mastodon's AddAccountsToListService: raises NotFound for a
    list that is not ``account``'s, and ValidationFailed (nothing added) when one
    of ``members`` is not followed by ``account`` (a pending follow request is not
    enough here) or is already in the list. ``account`` may add itself.
    """
    members = list(dict.fromkeys(members))
    found = _owned_for_update(account, list_id)
    if not members:
        return []
    ids = [member.pk for member in members]
    follows = dict(Follow.objects.filter(account=account, target_id__in=ids)
                   .values_list("target_id", "id"))
    if any(pk != account.pk and pk not in follows for pk in ids):
        raise ValidationFailed(_("Validation failed: Account must be a followed account"))
    if ListAccount.objects.filter(list=found, account_id__in=ids).exists():
        raise ValidationFailed(_("Validation failed: Account has already been taken"))
    rows = [ListAccount(list=found, account_id=pk, follow_id=follows.get(pk)) for pk in ids]
    try:
        with transaction.atomic():
            return ListAccount.objects.bulk_create(rows)
    except IntegrityError:
        # The follow ended meanwhile, or a concurrent request added the same account.
        raise ValidationFailed(_("Validation failed: Account has already been taken")) from None


@transaction.atomic
def list_accounts_remove(*, account: Account, list_id: int | str,
                         members: Iterable[Account]) -> int:
    """Take ``members`` out of one of ``account``'s lists and return how many were
    in it; accounts not in the list are ignored. NotFound for a list that is not
    ``account``'s."""
    found = _owned_for_update(account, list_id)
    deleted, _by_model = ListAccount.objects.filter(
        list=found, account_id__in=[member.pk for member in members]).delete()
    return deleted
