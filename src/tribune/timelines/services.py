"""Fan-out on write and feed maintenance, called from tribune.effects."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, Visibility
from tribune.core.errors import ValidationFailed
from tribune.core.ids import parse_id
from tribune.graph.models import Block, Follow, Mute
from tribune.statuses.models import Mention, Status
from tribune.timelines.feeds import feed_store
from tribune.timelines.models import Marker, MarkerTimeline


def fanout_status(*, status_id: int) -> int:
    """Put a new status on the home feeds that should show it; returns how many.

    Audience: the author, and followers for public/unlisted/private statuses; for
    direct statuses the author and mentioned local accounts. Followers who block or
    mute the author (or, for a reblog, the original author) are skipped in bulk, and
    so are followers who turned reblogs off. Replies reach followers of the author
    only when they also follow the replied-to account (Mastodon's FeedManager).
    A status that is gone, or deleted before its entries are written (a reblog undone
    at once), reaches nobody: the result is 0.
    """
    status = Status.objects.select_related("reblog_of").filter(pk=status_id).first()
    if status is None:
        return 0
    author = status.account_id
    original = status.reblog_of
    authors = {author} | ({original.account_id} if original else set())
    if status.visibility == Visibility.DIRECT:
        audience = set(Mention.objects.filter(status=status, account__domain="")
                       .values_list("account_id", flat=True))
    else:
        followers = Follow.objects.filter(target_id=author, account__domain="")
        if original is not None:
            followers = followers.filter(show_reblogs=True)
        audience = set(followers.values_list("account_id", flat=True))
        if status.in_reply_to_account_id and status.in_reply_to_account_id != author:
            also = set(Follow.objects.filter(target_id=status.in_reply_to_account_id,
                                             account_id__in=audience)
                       .values_list("account_id", flat=True))
            mentioned = set(Mention.objects.filter(status=status).values_list("account_id", flat=True))
            audience = also | (audience & mentioned)
    excluded = set(Block.objects.filter(account_id__in=audience, target_id__in=authors)
                   .values_list("account_id", flat=True))
    excluded |= set(Block.objects.filter(target_id__in=audience, account_id__in=authors)
                    .values_list("target_id", flat=True))
    excluded |= set(Mute.objects.filter(account_id__in=audience, target_id__in=authors)
                    .values_list("account_id", flat=True))
    audience = (audience - excluded) | {author}
    if original is not None and original.account_id in audience and original.account_id != author:
        audience.discard(original.account_id)  # nobody needs their own post boosted at them
    if not feed_add_status(status_id=status.pk, reblog_of_id=status.reblog_of_id,
                           account_ids=audience):
        return 0
    return len(audience)


def feed_add_status(*, status_id: int, reblog_of_id: int | None,
                    account_ids: Iterable[int]) -> bool:
    """Put one status on the home feeds of ``account_ids`` in a transaction of its own.

    Returns False, writing nothing, when the status was deleted since the caller read
    it: foreign keys are checked at commit (they are deferred on SQLite and
    PostgreSQL), so the entries fail then, with IntegrityError. Any other
    IntegrityError (say, an account that does not exist) is raised. Call it outside
    a transaction, as effects do; inside one, the check waits for the outer commit.
    """
    try:
        with transaction.atomic():
            feed_store().add(status_id=status_id, reblog_of_id=reblog_of_id,
                             account_ids=account_ids)
    except IntegrityError:
        if Status.objects.filter(pk=status_id).exists():
            raise
        return False
    return True


def unfanout_status(*, status_id: int) -> None:
    """Take a deleted status (and reblogs of it) off every feed."""
    feed_store().remove_status(status_id=status_id)


def feed_forget_author(*, feed_account_id: int, author_id: int) -> None:
    """After an unfollow or block: ``author_id``'s statuses leave the feed."""
    feed_store().remove_account_from(feed_account_id=feed_account_id, author_id=author_id)


def feed_merge_author(*, feed_account_id: int, author_id: int, limit: int = 40) -> None:
    """After a follow: the author's ``limit`` most recent public, unlisted and private
    statuses enter the feed; one deleted meanwhile is skipped."""
    ids = (Status.objects.filter(account_id=author_id,
                                 visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE])
           .order_by("-id").values_list("id", "reblog_of_id")[:limit])
    for status_id, reblog_of_id in ids:
        feed_add_status(status_id=status_id, reblog_of_id=reblog_of_id,
                        account_ids=[feed_account_id])


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
