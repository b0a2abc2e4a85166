"""Reads of lists: a person's lists, their members, and a list's timeline, each in
a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import F, Q
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, Visibility
from tribune.accounts.selectors import accounts_by_ids
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
from tribune.core.pagination import Cursor, Page, paginate
from tribune.graph.models import Follow
from tribune.graph.selectors import hidden_account_ids
from tribune.lists.models import List, ListAccount, RepliesPolicy
from tribune.statuses.models import Status
from tribune.statuses.policy import visible_q

# What reaches a follower's feed, so a list's (Mastodon's FanOutOnWriteService
# delivers to lists what it delivers to home feeds; direct posts go to neither).
LISTED_VISIBILITIES = [Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE]
EXPORT_CHUNK = 500


def lists_of(*, account: Account) -> list[List]:
    """``account``'s lists, oldest first."""
    return list(List.objects.filter(account=account).order_by("id"))


def list_get(*, account: Account, list_id: int | str) -> List:
    """One of ``account``'s lists; NotFound for anyone else's, an unknown id or a
    malformed one (Mastodon answers 404 for others' lists)."""
    try:
        found = List.objects.get(pk=parse_id(list_id), account=account)
    except (List.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None
    found.account = account  # the owner, already loaded
    return found


def list_by_title(*, account: Account, title: str) -> List | None:
    """``account``'s oldest list titled exactly ``title``, if any (imports find
    lists by title, as Mastodon's ``find_or_create_by(title:)``)."""
    return List.objects.filter(account=account, title=title).order_by("id").first()


def lists_with_member(*, account: Account, member: Account) -> list[List]:
    """``account``'s lists that ``member`` is in, oldest first (none for a
    suspended member, as Mastodon answers)."""
    if member.suspended_at is not None:
        return []
    return list(List.objects.filter(account=account, memberships__account=member)
                .order_by("id"))


def accounts_named(account_ids: Iterable[str | int]) -> list[Account]:
    """The accounts with these ids, in the order given; NotFound when any of them
    is unknown (Mastodon's ``Account.find(account_ids)``)."""
    wanted: list[int] = []
    for raw in account_ids:
        try:
            wanted.append(parse_id(raw))
        except (ValueError, TypeError, OverflowError):
            raise NotFound(_("Record not found")) from None
    found = accounts_by_ids(list(dict.fromkeys(wanted)))
    if len(found) != len(set(wanted)):
        raise NotFound(_("Record not found"))
    return found


def exclusive_member_ids(*, account_id: int) -> set[int]:
    """The accounts in ``account_id``'s exclusive lists, but itself: their posts
    show in those lists and not in its home timeline (Mastodon 4.2's ``exclusive``).
    One query."""
    return set(ListAccount.objects.filter(list__account_id=account_id, list__exclusive=True)
               .exclude(account_id=account_id).values_list("account_id", flat=True))


def member_ids(*, list_: List) -> set[int]:
    """Ids of the accounts in ``list_``."""
    return set(ListAccount.objects.filter(list=list_).values_list("account_id", flat=True))


def list_members_page(*, list_: List, cursor: Cursor | None) -> Page:
    """The accounts in ``list_``, newest account first, paged by account id as
    Mastodon's ``list.accounts.paginate_by_max_id``; suspended accounts are left
    out. ``cursor`` None means every member at once (the API's ``limit=0``)."""
    qs = Account.objects.filter(list_memberships__list=list_, suspended_at__isnull=True)
    if cursor is None:
        return Page(list(qs.order_by("-id")))
    return paginate(qs, cursor)


def memberships_for_export(*, account: Account) -> Iterator[ListAccount]:
    """Every membership of ``account``'s lists with its list and member, list by
    list (oldest first), members in the order they were added."""
    return (ListAccount.objects.filter(list__account=account)
            .select_related("list", "account").order_by("list_id", "id")
            .iterator(chunk_size=EXPORT_CHUNK))


def _replies_q(list_: List) -> Q:
    """Replies a list timeline shows, by its ``replies_policy`` (Mastodon's
    FeedManager#filter_from_list? on top of the home feed's reply rule): never
    replies to accounts the owner does not follow; ``followed`` shows replies to
    any followed account, ``list`` to members of the list, ``none`` none. Posts
    that are not replies, replies to oneself (threads) and replies to the owner
    are always shown."""
    shown = (Q(in_reply_to_account_id__isnull=True) | Q(in_reply_to_account_id=F("account_id"))
             | Q(in_reply_to_account_id=list_.account_id))
    if list_.replies_policy == RepliesPolicy.FOLLOWED:
        shown |= Q(in_reply_to_account_id__in=Follow.objects.filter(
            account_id=list_.account_id).values("target_id"))
    elif list_.replies_policy == RepliesPolicy.LIST:
        shown |= Q(in_reply_to_account_id__in=ListAccount.objects.filter(
            list=list_).values("account_id"))
    return shown


def list_timeline_ids(*, list_: List, cursor: Cursor) -> Page:
    """Ids of the statuses on ``list_``'s timeline for its owner, newest first
    (oldest first for ``min_id``), read at request time in one query: the members'
    posts and boosts that reach a follower's feed and that the owner may see
    (``statuses.policy.visible_q``), without blocked or muted accounts either way
    (authors and boosted authors), boosts of members whose boosts the owner hides,
    boosts of the owner's own posts, suspended authors, and replies the list's
    ``replies_policy`` leaves out. Moderation removals are checked on the rows when
    the page is presented, as for the home timeline.
    """
    owner = list_.account
    hidden = hidden_account_ids(owner.pk)
    members = ListAccount.objects.filter(list=list_)
    qs = (Status.objects.filter(account_id__in=members.values("account_id"),
                                visibility__in=LISTED_VISIBILITIES,
                                account__suspended_at__isnull=True)
          .filter(visible_q(owner, blocked=hidden))
          .filter(_replies_q(list_))
          .exclude(reblog_of__account_id=owner.pk)
          .exclude(reblog_of__isnull=False, account_id__in=members.filter(
              follow__show_reblogs=False).values("account_id")))
    page = paginate(qs.only("id"), cursor)
    page.items = [status.pk for status in page.items]
    return page


def lists_receiving(*, author_id: int, owner_ids: Iterable[int], visibility: str,
                    in_reply_to_account_id: int | None) -> list[int]:
    """The ids of the lists that show a new status of ``author_id`` at once (their
    ``list`` streams get it): lists with the author as a member, owned by one of
    ``owner_ids`` (the accounts whose home feeds admitted it), for the visibilities
    a list shows, and for a reply to another account as the list's replies policy
    says (Mastodon's ``FanOutOnWriteService#deliver_to_lists`` and
    ``FeedManager#filter_from_list?``). Two queries at most."""
    owner_ids = list(owner_ids)
    if not owner_ids or visibility not in LISTED_VISIBILITIES:
        return []
    rows = list(List.objects.filter(account_id__in=owner_ids, memberships__account_id=author_id)
                .values_list("pk", "account_id", "replies_policy"))
    if in_reply_to_account_id is None or in_reply_to_account_id == author_id:
        return [pk for pk, _owner, _policy in rows]
    in_list = set(ListAccount.objects.filter(list_id__in=[r[0] for r in rows],
                                             account_id=in_reply_to_account_id)
                  .values_list("list_id", flat=True))
    followed = set(Follow.objects.filter(account_id__in=[r[1] for r in rows],
                                         target_id=in_reply_to_account_id)
                   .values_list("account_id", flat=True))
    kept = []
    for pk, owner, policy in rows:
        if (policy == RepliesPolicy.LIST and pk in in_list) or (
                policy == RepliesPolicy.FOLLOWED and owner in followed):
            kept.append(pk)
    return kept
