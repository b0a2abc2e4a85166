"""Fan-out on write and feed maintenance, called from tribune.effects."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, Visibility
from tribune.core.errors import ValidationFailed
from tribune.core.ids import parse_id
from tribune.graph.models import Block, Follow
from tribune.graph.selectors import active_mutes
from tribune.statuses.models import Mention, Status
from tribune.timelines.feeds import MAX_ITEMS, feed_store
from tribune.timelines.models import Marker, MarkerTimeline

ACTIVITY_RESOLUTION = timedelta(hours=1)  # active_at is kept to the hour, as Mastodon does
REBUILD_FLAG_SECONDS = 600  # a rebuild that has not finished by then is not waited for
REBUILD_SIZE = MAX_ITEMS


def rebuild_flag_key(account_id: int) -> str:
    """The cache key present while ``account_id``'s home feed is being rebuilt."""
    return f"feed:rebuilding:{account_id}"


def is_celebrity(followers_count: int) -> bool:
    """Whether an account with this many followers is merged at read time instead
    of fanned out (more than ``TRIBUNE_FANOUT_MAX_FOLLOWERS``)."""
    return followers_count > settings.TRIBUNE_FANOUT_MAX_FOLLOWERS


def active_cutoff() -> datetime:
    """Local accounts last active before this instant get no fan-out."""
    return timezone.now() - timedelta(days=settings.TRIBUNE_FEED_ACTIVE_DAYS)


def fanout_status(*, status_id: int) -> int:
    """Put a new status on the home feeds that should show it; returns how many.

    Audience: the author, and followers for public/unlisted/private statuses; for
    direct statuses the author and mentioned local accounts. Followers who block or
    mute the author (or, for a reblog, the original author) are skipped in bulk, and
    so are followers who turned reblogs off. Replies reach followers of the author
    only when they also follow the replied-to account (Mastodon's FeedManager).

    Two rules keep the cost flat (docs/adr/0011-scale-out.md): followers inactive for
    ``TRIBUNE_FEED_ACTIVE_DAYS`` are skipped (their feed is rebuilt when they come
    back, ``account_seen``), and an author with more than
    ``TRIBUNE_FANOUT_MAX_FOLLOWERS`` followers is not fanned out at all: followers
    read their statuses at read time (``selectors.home_timeline``). Every step is a
    set operation: a fixed number of queries whatever the audience's size.

    A status that is gone, or deleted before its entries are written (a reblog undone
    at once), reaches nobody: the result is 0.
    """
    status = (Status.objects.select_related("reblog_of", "account")
              .filter(pk=status_id).first())
    if status is None:
        return 0
    author = status.account_id
    original = status.reblog_of
    authors = {author} | ({original.account_id} if original else set())
    if status.visibility == Visibility.DIRECT:
        audience = set(Mention.objects.filter(status=status, account__domain="")
                       .values_list("account_id", flat=True))
    elif is_celebrity(status.account.followers_count):
        audience = set()
    else:
        # One query: active local followers, less those who block or mute the
        # author (or the reblogged author) and those the author blocks. Those sets
        # are small and indexed, so they are subqueries, never lists of followers.
        followers = (Follow.objects.filter(target_id=author, account__domain="",
                                           account__active_at__gte=active_cutoff())
                     .exclude(account_id__in=Block.objects.filter(target_id__in=authors)
                              .values("account_id"))
                     .exclude(account_id__in=Block.objects.filter(account_id__in=authors)
                              .values("target_id"))
                     .exclude(account_id__in=active_mutes().filter(target_id__in=authors)
                              .values("account_id")))
        if original is not None:
            followers = followers.filter(show_reblogs=True)
        audience = set(followers.values_list("account_id", flat=True))
        if status.in_reply_to_account_id and status.in_reply_to_account_id != author:
            also = set(Follow.objects.filter(target_id=status.in_reply_to_account_id,
                                             account_id__in=followers.values("account_id"))
                       .values_list("account_id", flat=True))
            mentioned = set(Mention.objects.filter(status=status).values_list("account_id", flat=True))
            audience = also | (audience & mentioned)
    if status.visibility == Visibility.DIRECT and audience:
        excluded = set(Block.objects.filter(account_id__in=audience, target_id__in=authors)
                       .values_list("account_id", flat=True))
        excluded |= set(Block.objects.filter(target_id__in=audience, account_id__in=authors)
                        .values_list("target_id", flat=True))
        excluded |= set(active_mutes().filter(account_id__in=audience, target_id__in=authors)
                        .values_list("account_id", flat=True))
        audience -= excluded
    if status.account.is_local:
        audience.add(author)
    if original is not None and original.account_id in audience and original.account_id != author:
        audience.discard(original.account_id)  # nobody needs their own post boosted at them
    if not audience or not feed_add_status(status_id=status.pk, reblog_of_id=status.reblog_of_id,
                                           account_ids=audience):
        return 0
    return len(audience)


def feed_add_status(*, status_id: int, reblog_of_id: int | None,
                    account_ids: Iterable[int]) -> bool:
    """Put one status on the home feeds of ``account_ids``, in transactions of their
    own of the store's ``chunk`` feeds each (pausing between them on SQLite).

    Returns False when the status was deleted since the caller read it: foreign keys
    are checked at commit (they are deferred on SQLite and PostgreSQL), so a chunk's
    entries fail then, with IntegrityError, and the deletion took earlier chunks'
    entries with it. Any other
    IntegrityError (say, an account that does not exist) is raised. Call it outside
    a transaction, as effects do; inside one, the check waits for the outer commit.
    """
    account_ids = list(account_ids)
    store = feed_store()
    chunk = store.chunk
    # One transaction per chunk: on SQLite a transaction holds the only write lock,
    # so 10,000 entries in one would keep every other writer waiting for all of them.
    for start in range(0, len(account_ids), chunk):
        began = time.monotonic()
        try:
            with transaction.atomic():
                store.add(status_id=status_id, reblog_of_id=reblog_of_id,
                          account_ids=account_ids[start : start + chunk])
        except IntegrityError:
            if Status.objects.filter(pk=status_id).exists():
                raise
            return False
        pause = store.pause_after(time.monotonic() - began)
        if pause > 0 and start + chunk < len(account_ids):
            time.sleep(pause)
    return True


def unfanout_status(*, status_id: int, account_id: int | None = None,
                    reblog_of_id: int | None = None) -> None:
    """Take a deleted status off the feeds that may show it: its author's and their
    local followers' (the database store also takes reblogs of it off every feed;
    elsewhere the reader skips statuses that no longer exist)."""
    audience: list[int] = []
    if account_id is not None:
        audience = [account_id, *Follow.objects.filter(target_id=account_id, account__domain="")
                    .values_list("account_id", flat=True)]
    feed_store().remove_status(status_id=status_id, reblog_of_id=reblog_of_id,
                               account_ids=audience)


def feed_forget_author(*, feed_account_id: int, author_id: int) -> None:
    """After an unfollow or block: ``author_id``'s statuses leave the feed."""
    feed_store().remove_account_from(feed_account_id=feed_account_id, author_id=author_id)


def feed_merge_author(*, feed_account_id: int, author_id: int, limit: int = 40) -> None:
    """After a follow: the author's ``limit`` most recent public, unlisted and private
    statuses enter the feed (a celebrity's are merged at read time instead); one
    deleted meanwhile is skipped."""
    followers = (Account.objects.filter(pk=author_id)
                 .values_list("followers_count", flat=True).first())
    if followers is None or is_celebrity(followers):
        return
    ids = (Status.objects.filter(account_id=author_id,
                                 visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE])
           .order_by("-id").values_list("id", "reblog_of_id")[:limit])
    for status_id, reblog_of_id in ids:
        feed_add_status(status_id=status_id, reblog_of_id=reblog_of_id,
                        account_ids=[feed_account_id])


def account_seen(*, account: Account) -> bool:
    """Record that ``account`` (local) is using the server now; call it on each
    signed-in request. Writes at most once an hour per account (Mastodon's
    ``User#update_sign_in!`` resolution).

    An account returning after ``TRIBUNE_FEED_ACTIVE_DAYS`` or more got no fan-out
    meanwhile, so its home feed is rebuilt: the rebuild flag is set (the API answers
    206 and the web page says it is catching up while it is present) and a task
    rebuilds the feed. Returns True when a rebuild was started. Compare-and-set on
    ``active_at``, so concurrent requests start one rebuild.
    """
    if not account.is_local:
        return False
    now = timezone.now()
    last = account.active_at
    if last is not None and now - last < ACTIVITY_RESOLUTION:
        return False
    updated = Account.objects.filter(pk=account.pk, active_at=last).update(active_at=now)
    account.active_at = now
    if not updated or (last is not None and last >= now - timedelta(days=settings.TRIBUNE_FEED_ACTIVE_DAYS)):
        return False
    cache.set(rebuild_flag_key(account.pk), 1, timeout=REBUILD_FLAG_SECONDS)
    from tribune.timelines.tasks import rebuild_home_feed

    transaction.on_commit(lambda: rebuild_home_feed.enqueue(account_id=account.pk), robust=True)
    return True


def feed_rebuild(*, account_id: int) -> int:
    """Fill ``account_id``'s home feed again from the newest statuses of the accounts
    it follows (and its own): up to MAX_ITEMS, with the fan-out's rules for
    replies, reblogs, blocks and mutes; then clear the rebuild flag. Celebrities
    are left out, as they are merged at read time. Returns the entries written.
    A fixed number of queries."""
    from tribune.graph.selectors import hidden_account_ids

    follows = Follow.objects.filter(account_id=account_id)
    follows = follows.exclude(target__followers_count__gt=settings.TRIBUNE_FANOUT_MAX_FOLLOWERS)
    followed = dict(follows.values_list("target_id", "show_reblogs"))
    hidden = hidden_account_ids(account_id)
    authors = (set(followed) | {account_id}) - hidden
    no_reblogs = [a for a, show in followed.items() if not show]
    rows = (Status.objects.filter(account_id__in=authors,
                                  visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED,
                                                  Visibility.PRIVATE])
            .filter(reply_shown_q(followed_ids=set(followed), viewer_id=account_id))
            .exclude(reblog_of__account_id__in=hidden | {account_id})
            .exclude(account_id__in=no_reblogs, reblog_of__isnull=False)
            .order_by("-id").values_list("id", "reblog_of_id")[:REBUILD_SIZE])
    entries = list(rows)
    store = feed_store()
    store.add_many(account_id=account_id, entries=entries)
    cache.delete(rebuild_flag_key(account_id))
    return len(entries)


def reply_shown_q(*, followed_ids, viewer_id: int) -> Q:
    """Statuses a home feed shows as far as replies go: not replies, replies to
    their own author, replies to an account the viewer follows (``followed_ids``: a
    set of ids or a query of them), or to the viewer (Mastodon's FeedManager)."""
    return (Q(in_reply_to_account_id__isnull=True) | Q(in_reply_to_account_id=F("account_id"))
            | Q(in_reply_to_account_id__in=followed_ids) | Q(in_reply_to_account_id=viewer_id))


def markers_set(*, account: Account, positions: dict[str, int | str]) -> dict[str, Marker]:
    """Save ``account``'s reading position per timeline (``{"home": status_id,
    "notifications": notification_id}``) and return the saved markers.

    A marker whose position changes gets ``version + 1``; setting the same position
    again changes nothing. Raises ValidationFailed for an unknown timeline or an id
    that is not an integer.
    """
    cleaned: dict[str, int] = {}
    for timeline, raw in positions.items():
        if timeline not in MarkerTimeline.values:
            raise ValidationFailed(
                _("Validation failed: Timeline %(timeline)s is not included in the list")
                % {"timeline": timeline})
        try:
            cleaned[timeline] = parse_id(raw)
        except (TypeError, ValueError):
            raise ValidationFailed(_("Validation failed: Last read id must be an id")) from None
        if not 0 <= cleaned[timeline] < 2**63:
            raise ValidationFailed(_("Validation failed: Last read id is out of range"))
    saved: dict[str, Marker] = {}
    with transaction.atomic():
        for timeline, last_read_id in cleaned.items():
            marker, created = Marker.objects.select_for_update().get_or_create(
                account=account, timeline=timeline, defaults={"last_read_id": last_read_id})
            if not created and marker.last_read_id != last_read_id:
                marker.last_read_id = last_read_id
                marker.version += 1
                marker.save(update_fields=["last_read_id", "version", "updated_at"])
            saved[timeline] = marker
    return saved
