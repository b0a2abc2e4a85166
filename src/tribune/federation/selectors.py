"""Reads for the read side of federation: which actor or post a request names, and
the pages of an actor's collections. Only what anyone may see is returned: an
unsigned fetch is a visitor (``statuses.policy``), so followers-only and direct
posts are never here (docs/adr/0022).

Each page is a constant number of queries: the rows with what their documents
need (``serializers``' prefetch list), and one count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_lookup, account_uri
from tribune.accounts.services import USERNAME_MAX, USERNAME_RE
from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.ids import parse_id
from tribune.core.pagination import Cursor, Page, paginate
from tribune.graph.models import Follow
from tribune.statuses.models import Mention, Pin, Status
from tribune.statuses.policy import OPEN, can_view, visible_q

COLLECTION_PAGE_SIZE = 20  # Mastodon's page size for outbox and follows


def local_actor_get(*, username: str) -> Account:
    """The local account ``username`` (any case) that anyone may see; NotFound
    for an unknown, remote, suspended or not yet approved one, and for a name no
    account could have."""
    if len(username) > USERNAME_MAX or not USERNAME_RE.match(username):
        raise NotFound(_("Record not found"))
    return account_lookup(acct=username)


def _domain_matches(domain: str) -> bool:
    return domain.lower() == settings.TRIBUNE_DOMAIN.lower()


def actor_by_resource(resource: str) -> Account:
    """The local account a WebFinger ``resource`` names (RFC 7033 §4.1): its
    ``acct:NAME@DOMAIN`` URI (``NAME@DOMAIN`` without the scheme too, as Mastodon
    accepts), its actor id ``https://DOMAIN/users/NAME`` or its profile page
    ``https://DOMAIN/@NAME``.

    Raises ValidationFailed for a missing or malformed resource (a 400, RFC 7033
    §4.2) and NotFound for another domain or an account nobody may see.
    """
    resource = (resource or "").strip()
    if not resource or len(resource) > 500:
        raise ValidationFailed(_("The resource parameter is missing or malformed."))
    if resource.lower().startswith(("https://", "http://")):
        parts = urlsplit(resource)
        if not _domain_matches(parts.netloc):
            raise NotFound(_("Record not found"))
        path = unquote(parts.path)
        for prefix in ("/users/", "/@"):
            if path.startswith(prefix) and "/" not in path[len(prefix):]:
                return local_actor_get(username=path[len(prefix):])
        raise NotFound(_("Record not found"))
    acct = resource[5:] if resource.lower().startswith("acct:") else resource
    username, at, domain = unquote(acct).lstrip("@").rpartition("@")
    if not at or not username or not domain:
        raise ValidationFailed(_("The resource parameter is missing or malformed."))
    if not _domain_matches(domain):
        raise NotFound(_("Record not found"))
    return local_actor_get(username=username)


def _documented(qs: QuerySet[Status]) -> QuerySet[Status]:
    """``qs`` with what ``serializers.note``/``create``/``announce`` read."""
    return qs.select_related("account", "in_reply_to__account", "reblog_of__account", "poll",
                             "quote__quoted_status__account") \
        .prefetch_related(Prefetch("mentions", queryset=Mention.objects.select_related("account")),
                          "tags", "media_attachments")


def _public_statuses(account: Account) -> QuerySet[Status]:
    """The account's posts a visitor may see: public and unlisted, not removed,
    and boosts only of public or unlisted posts."""
    return Status.objects.filter(visible_q(None), account=account) \
        .filter(Q(reblog_of__isnull=True) | Q(reblog_of__visibility__in=OPEN,
                                              reblog_of__account__suspended_at__isnull=True))


def public_status_get(*, account: Account, status_id: str) -> Status:
    """The post ``status_id`` of ``account`` if a visitor may see it (public or
    unlisted; ``statuses.policy.can_view`` with no viewer), with what its
    documents need; NotFound otherwise (unknown, malformed, someone else's,
    followers-only, direct, removed, deleted)."""
    try:
        pk = parse_id(status_id)
    except ValueError:
        raise NotFound(_("Record not found")) from None
    status = _documented(Status.objects.filter(account=account, pk=pk)).first()
    if status is None or not can_view(None, status):
        raise NotFound(_("Record not found"))
    return status


def outbox_total(*, account: Account) -> int:
    """How many posts the outbox holds (those a visitor may see)."""
    return _public_statuses(account).count()


def outbox_page(*, account: Account, cursor: Cursor) -> Page:
    """One page of the account's visible posts and boosts, newest first, by
    ``max_id``/``min_id`` (``core.pagination``): two queries and the prefetches."""
    return paginate(_documented(_public_statuses(account)), cursor)


@dataclass(frozen=True)
class ActorPage:
    """One page of a followers or following collection: the actors' ids (newest
    follow first), ``total`` and whether a later page exists."""

    items: list[str]
    total: int
    has_next: bool


def _visible_accounts_q(prefix: str) -> Q:
    return Q(**{f"{prefix}__suspended_at__isnull": True,
                f"{prefix}__approval_request__isnull": True})


def follows_page(*, account: Account, direction: str, page: int) -> ActorPage:
    """Page ``page`` (from 1) of the actors following ``account``
    (``direction="followers"``) or that it follows (``"following"``), 20 to a
    page: two queries. Accounts nobody may see are left out, and so are remote
    accounts with no known id."""
    if direction == "followers":
        qs, other = Follow.objects.filter(target=account), "account"
    else:
        qs, other = Follow.objects.filter(account=account), "target"
    qs = qs.filter(_visible_accounts_q(other)).exclude(**{f"{other}__domain__gt": "",
                                                          f"{other}__uri": ""})
    total = qs.count()
    start = (page - 1) * COLLECTION_PAGE_SIZE
    rows = list(qs.select_related(other).order_by("-id")[start:start + COLLECTION_PAGE_SIZE + 1])
    items = [account_uri(getattr(row, other)) for row in rows[:COLLECTION_PAGE_SIZE]]
    return ActorPage(items=items, total=total, has_next=len(rows) > COLLECTION_PAGE_SIZE)


def featured_statuses(*, account: Account) -> list[Status]:
    """The account's pinned posts a visitor may see, most recently pinned first
    (Mastodon's featured collection): one query and the prefetches."""
    pins = Pin.objects.filter(account=account, status__account=account,
                              status__visibility__in=OPEN, status__removed_at__isnull=True,
                              status__reblog_of__isnull=True) \
        .select_related("status__account", "status__in_reply_to__account",
                        "status__quote__quoted_status__account") \
        .prefetch_related(Prefetch("status__mentions",
                                   queryset=Mention.objects.select_related("account")),
                          "status__tags", "status__media_attachments") \
        .order_by("-created_at", "-id")
    return [pin.status for pin in pins]


@dataclass(frozen=True)
class Usage:
    """NodeInfo's ``usage``: local accounts anyone may see (``users``), those
    active in the last 30 and 180 days, and their posts (``local_posts``)."""

    users: int
    active_month: int
    active_halfyear: int
    local_posts: int


def nodeinfo_usage() -> Usage:
    """The instance's usage for NodeInfo, in one query. Activity is
    ``Account.active_at`` (kept to the hour), 30 and 180 days back as Mastodon
    counts them; posts are the accounts' ``statuses_count``."""
    now = timezone.now()
    row = Account.objects.filter(domain="", suspended_at__isnull=True,
                                 approval_request__isnull=True).aggregate(
        users=Count("id"),
        month=Count("id", filter=Q(active_at__gte=now - timedelta(days=30))),
        halfyear=Count("id", filter=Q(active_at__gte=now - timedelta(days=180))),
        posts=Sum("statuses_count"))
    return Usage(users=row["users"], active_month=row["month"],
                 active_halfyear=row["halfyear"], local_posts=row["posts"] or 0)
