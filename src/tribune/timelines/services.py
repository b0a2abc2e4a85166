"""Fan-out on write and feed maintenance, called from tribune.effects, and the
rebuild of home feeds (returning accounts, restores); every path that writes a feed
asks the rules of tribune.timelines.rules which statuses belong on it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, Visibility
from tribune.core.errors import ValidationFailed
from tribune.core.ids import datetime_to_min_id, parse_id
from tribune.graph.models import Follow
from tribune.statuses.models import Mention, Status
from tribune.timelines.feeds import MAX_ITEMS, REBLOG_WINDOW, FeedStore, feed_store
from tribune.timelines.models import FeedStoreStamp, Marker, MarkerTimeline
from tribune.timelines.rules import (
    AudienceGraph,
    Candidate,
    ViewersGraph,
    admits,
    candidate_of,
    candidates,
    collapse,
    is_celebrity,
    window_candidates,
)
from tribune.trends.selectors import tag_followers, tagged_pairs

ACTIVITY_RESOLUTION = timedelta(hours=1)  # active_at is kept to the hour, as Mastodon does
REBUILD_FLAG_SECONDS = 600  # a rebuild that has not finished by then is not waited for


def rebuild_flag_key(account_id: int) -> str:
    """The cache key present while ``account_id``'s home feed is being rebuilt."""
    return f"feed:rebuilding:{account_id}"


def active_cutoff() -> datetime:
    """Local accounts last active before this instant get no fan-out."""
    return timezone.now() - timedelta(days=settings.TRIBUNE_FEED_ACTIVE_DAYS)


def fanout_status(*, status_id: int) -> int:
    """Put a new status on the home feeds that should show it; returns how many
    (``len`` of :func:`fanout_status_to`)."""
    return len(fanout_status_to(status_id=status_id))


def fanout_status_to(*, status_id: int) -> set[int]:
    """Put a new status on the home feeds that should show it; returns the ids of
    the accounts whose feeds received it (their ``user`` streams get the update).

    Who: :func:`home_audience`. A status that is gone, or deleted before its
    entries are written (a reblog undone at once), reaches nobody: the result is
    empty.
    """
    status, audience = home_audience(status_id=status_id)
    if status is None or not audience:
        return set()
    if not feed_add_status(status_id=status.pk, reblog_of_id=status.reblog_of_id,
                           account_ids=audience):
        return set()
    return audience


def home_audience(*, status_id: int) -> tuple[Status | None, set[int]]:
    """The status and the ids of the accounts whose home feeds should show it,
    without writing anything (an edit's ``status.update`` goes to the same people).

    Who: the author, if local, and those of the author's local followers that
    :func:`rules.admits` admits (for a direct status, the mentioned ones; replies,
    reblogs, blocks and mutes as the rules say), and, for a public post, the local
    followers of its hashtags (``trends.selectors.tag_followers``: active ones who
    do not follow the author, whatever the author's followers; Mastodon's
    ``deliver_to_hashtag_followers``), blocks and mutes filtered in bulk by the
    same rules.

    Two rules keep the cost flat (docs/adr/0011-scale-out.md): followers inactive for
    ``TRIBUNE_FEED_ACTIVE_DAYS`` are skipped (their feed is rebuilt when they come
    back, ``account_seen``), and an author with more than
    ``TRIBUNE_FANOUT_MAX_FOLLOWERS`` followers is not fanned out at all but for
    direct statuses: followers read their statuses at read time
    (``selectors.home_timeline``). The facts are gathered set by set: a fixed number
    of queries whatever the audience's size. ``(None, set())`` for a status that
    is gone.
    """
    status = (Status.objects.select_related("reblog_of", "account")
              .filter(pk=status_id).first())
    if status is None:
        return None, set()
    candidate = candidate_of(status)
    followers: dict[int, bool] = {}
    direct = status.visibility == Visibility.DIRECT
    if direct or not is_celebrity(status.account.followers_count):
        rows = Follow.objects.filter(target_id=status.account_id, account__domain="",
                                     account__active_at__gte=active_cutoff())
        if direct:  # only the mentioned may get it: no need to look at the others
            rows = rows.filter(account_id__in=Mention.objects.filter(status_id=status.pk)
                               .values("account_id"))
        followers = dict(rows.values_list("account_id", "show_reblogs"))
    tagged = set() if direct else tag_followers(status=status, active_since=active_cutoff())
    graph = AudienceGraph(candidate, followers=followers, tag_followers=tagged)
    audience = {v for v in (*followers, *graph.tag_followers) if admits(candidate, v, graph)}
    if status.account.is_local:
        audience.add(status.account_id)  # one's own, always (rules.admits)
    return status, audience


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
    """After an unfollow or a block between the two: the entries of
    ``feed_account_id``'s feed that involve ``author_id`` (by them, reblogging them,
    replying to them) are judged again by :func:`rules.admits`, and those no longer
    admitted leave the feed. So an unfollow takes the author's statuses and the
    replies to them, but not a followed account's reblog of them; a block takes the
    reblogs too. A fixed number of queries."""
    store = feed_store()
    ids = [s for s, _ in store.entries(account_id=feed_account_id)]
    involved: list[Candidate] = []
    for start in range(0, len(ids), 500):
        involved += candidates(
            Status.objects.filter(pk__in=ids[start : start + 500])
            .filter(Q(account_id=author_id) | Q(reblog_of__account_id=author_id)
                    | Q(in_reply_to_account_id=author_id)), with_imported=True)
    if not involved:
        return
    graph = _viewer_graph(feed_account_id, involved)
    store.discard(account_id=feed_account_id,
                  entries=[c.entry for c in involved if not admits(c, feed_account_id, graph)])


def feed_merge_author(*, feed_account_id: int, author_id: int, limit: int = 40) -> None:
    """After a follow: the author's ``limit`` most recent statuses, and the ``limit``
    most recent replies to them by accounts the feed's owner follows (kept out until
    now by the reply rule), enter the feed, oldest first, where :func:`rules.admits`
    admits them (a celebrity's are merged at read time instead, but for direct ones);
    one deleted meanwhile is skipped (Mastodon's ``FeedManager#merge_into_home``).
    Four queries, then one write per status."""
    latest = candidates(Status.objects.filter(account_id=author_id).order_by("-id"), limit=limit)
    latest += candidates(Status.objects.filter(
        in_reply_to_account_id=author_id,
        account_id__in=Follow.objects.filter(account_id=feed_account_id).values("target_id"),
    ).exclude(account_id=author_id).order_by("-id"), limit=limit)
    if not latest:
        return
    graph = _viewer_graph(feed_account_id, latest)
    for candidate in sorted(latest):
        if admits(candidate, feed_account_id, graph):
            feed_add_status(status_id=candidate.id, reblog_of_id=candidate.reblog_of_id,
                            account_ids=[feed_account_id])


def _viewer_graph(viewer_id: int, statuses: list[Candidate]) -> ViewersGraph:
    """One viewer's ties, with the mentions of it among ``statuses``' direct ones."""
    graph = ViewersGraph([viewer_id])
    graph.note_tagged(tagged_pairs(viewer_ids=[viewer_id], status_ids=[c.id for c in statuses]))
    direct = [c.id for c in statuses if c.visibility == Visibility.DIRECT]
    if direct:
        graph.note_mentions((viewer_id, s) for s in Mention.objects.filter(
            account_id=viewer_id, status_id__in=direct).values_list("status_id", flat=True))
    return graph


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


REBUILDING_ALL = "feed:rebuilding:all"  # cache key present while feeds_check's rebuild runs


def feeds_check() -> bool:
    """Make sure the configured feed store holds the instance's current home feeds,
    and start rebuilding them if it does not; returns True when a rebuild started.
    ``tribune serve`` calls it as it starts.

    The database records the stamp of the store that holds the current feeds
    (``FeedStoreStamp``; ``FeedStore.stamp``). It differs from the
    configured store's when the instance switched stores (the database's to
    Redis or back: the new one holds no feeds or old ones) or when Redis lost its
    data. Then the store forgets what it holds and gets a new stamp, which is
    recorded; every read of a home timeline is partial (206) until a task has
    rebuilt the feeds of the accounts active within ``TRIBUNE_FEED_ACTIVE_DAYS``
    (:func:`active_feeds_rebuild`; the others are rebuilt when they return).
    """
    store = feed_store()
    if FeedStoreStamp.objects.filter(pk=1, value=store.stamp()).exists():
        return False
    FeedStoreStamp.objects.get_or_create(pk=1, defaults={"value": ""})
    with transaction.atomic():
        # Several processes starting at once: the first to lock the row rebuilds,
        # the others find its stamp (SQLite's writes are serialised anyway).
        recorded = FeedStoreStamp.objects.select_for_update().get(pk=1)
        if recorded.value == store.stamp():
            return False
        if not Status.objects.exists():  # a new instance: no feed to build
            recorded.value = store.restamp()
            recorded.save(update_fields=["value"])
            return False
        recorded.value = store.restamp()
        recorded.save(update_fields=["value"])
        cache.set(REBUILDING_ALL, 1, timeout=REBUILD_FLAG_SECONDS)
        from tribune.timelines.tasks import rebuild_active_home_feeds

        transaction.on_commit(rebuild_active_home_feeds.enqueue, robust=True)
    return True


def feeds_restamp() -> None:
    """Record the configured store as the one holding the current feeds, after it
    forgot what it held; for a rebuild of every active feed that follows at once
    (a restore's)."""
    FeedStoreStamp.objects.update_or_create(pk=1, defaults={"value": feed_store().restamp()})


def active_feeds_rebuild(on_batch: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the home feed of every local account active within
    ``TRIBUNE_FEED_ACTIVE_DAYS`` (:func:`feeds_rebuild`, which calls ``on_batch``
    with the feeds done and their total after each batch; the others are rebuilt
    when they come back, as usual), then clear :func:`feeds_check`'s flag; returns
    how many feeds."""
    ids = list(Account.objects.filter(domain="", active_at__gte=active_cutoff())
               .order_by("id").values_list("id", flat=True))
    feeds_rebuild(account_ids=ids, on_batch=on_batch)
    cache.delete(REBUILDING_ALL)
    return len(ids)


def feed_rebuild(*, account_id: int) -> int:
    """Rebuild one account's home feed (:func:`feeds_rebuild`); returns the entries
    written."""
    return feeds_rebuild(account_ids=[account_id])


REBUILD_BATCH = 200  # feeds computed and written together (about 60 MiB)
FIRST_WINDOW = timedelta(hours=1)  # the newest statuses looked at first
SETTLING = 2 * REBLOG_WINDOW  # the oldest admitted entries, whose collapse may depend on older ones


def feeds_rebuild(*, account_ids: Iterable[int],
                  on_batch: Callable[[int, int], None] | None = None) -> int:
    """Make each account's home feed what fan-out on write would have made it: the
    newest ``MAX_ITEMS`` statuses :func:`rules.admits` admits, reblogs collapsed as
    the feed store collapses them when they come in id order (:func:`rules.collapse`);
    then clear the rebuild flags. Returns the entries written.

    Set-based: feeds are computed ``REBUILD_BATCH`` at a time, going back in time by
    windows of status ids (``FIRST_WINDOW``, then as far as the feeds still short of
    entries need at their rate), each window two queries for the whole batch that
    read each status once, however many of the batch follow its author; each batch
    is written at once (``FeedStore.replace``). Statuses newer than the rebuild's
    start are left to fan-out, so a feed rebuilt while its owner is active loses
    nothing written meanwhile. Memory is bounded by a batch's feeds.
    """
    ids = list(dict.fromkeys(account_ids))
    floor = Status.objects.aggregate(oldest=Min("id"))["oldest"]
    newest = Status.objects.aggregate(newest=Max("id"))["newest"] or 0
    below = max(datetime_to_min_id(timezone.now()), newest + 1)
    store = feed_store()
    written = 0
    for start in range(0, len(ids), REBUILD_BATCH):
        batch = ids[start : start + REBUILD_BATCH]
        feeds = {a: [] for a in batch} if floor is None else _feeds_compute(batch, floor, below)
        written += _feeds_write(store, feeds, below)
        cache.delete_many([rebuild_flag_key(a) for a in batch])
        if on_batch is not None:
            on_batch(start + len(batch), len(ids))
    return written


def _feeds_compute(viewers: list[int], floor: int, below: int
                   ) -> dict[int, list[tuple[int, int | None]]]:
    """The rebuilt feeds of ``viewers``: for each, its entries oldest first."""
    graph = ViewersGraph(viewers)
    admitted: dict[int, list[tuple[int, int | None]]] = {v: [] for v in viewers}  # newest first
    pending = set(viewers)
    span = (FIRST_WINDOW // timedelta(milliseconds=1)) << 16  # ids of that much time
    high = below
    while pending and high > floor:
        low = max(high - span, floor)
        statuses, mentioned = window_candidates(viewer_ids=sorted(pending), low=low, high=high)
        graph.note_mentions(mentioned)
        tagged = tagged_pairs(viewer_ids=sorted(pending), low=low, high=high)
        graph.note_tagged(tagged)
        known = {s.id for s in statuses}
        extra = {s for _, s in tagged} - known  # posts by strangers with followed tags
        listed = sorted(extra)
        for start in range(0, len(listed), 500):
            statuses += candidates(Status.objects.filter(pk__in=listed[start : start + 500]))
        statuses.sort(reverse=True)  # by id, newest first
        for status in statuses:
            author = status.account_id
            for viewer in dict.fromkeys((*graph.followers.get(author, ()), author,
                                         *graph.tag_viewers.get(status.id, ()))):
                if viewer in pending and admits(status, viewer, graph):
                    admitted[viewer].append(status.entry)
        pending = {v for v in pending if not _enough(admitted[v])}
        span = _next_span(span, below - low, [len(admitted[v]) for v in pending])
        high = low
    return {v: list(collapse(reversed(entries)))[-MAX_ITEMS:] for v, entries in admitted.items()}


def _next_span(span: int, covered: int, counts: list[int]) -> int:
    """How far back the next window reaches, in ids: as far as three in four of the
    feeds still short of entries (``counts`` of them so far, over ``covered``) will
    need at the rate they got them, and at most eight times ``span`` (twice it when
    none has any yet), so that a window reads little beyond what the feeds use."""
    need = MAX_ITEMS + SETTLING
    rates = sorted(n for n in counts if n)
    if not rates or len(rates) < len(counts) / 4:
        return span * 2
    slowest_quarter = rates[len(rates) // 4]  # three feeds in four get more than this
    wanted = int(covered * (need / slowest_quarter - 1) * 1.25)
    return max(min(wanted, span * 8), span // 2, 1)


def _enough(admitted: list[tuple[int, int | None]]) -> bool:
    """Whether ``admitted`` (newest first) gives ``MAX_ITEMS`` entries whose collapse
    no older status can change: that many kept above the oldest ``SETTLING``."""
    if len(admitted) < MAX_ITEMS + SETTLING:
        return False
    settled_above = admitted[-SETTLING][0]
    kept = sum(1 for s, _ in collapse(reversed(admitted)) if s > settled_above)
    return kept >= MAX_ITEMS


def _feeds_write(store: FeedStore, feeds: dict[int, list[tuple[int, int | None]]], below: int) -> int:
    """Write the rebuilt ``feeds``; a status deleted since it was read is left out
    (the database store's foreign keys refuse it at commit: once, the survivors are
    written again). Returns the entries written."""
    try:
        store.replace(feeds=feeds, below=below)
    except IntegrityError:
        ids = {s for entries in feeds.values() for s, _ in entries}
        kept = set()
        listed = list(ids)
        for start in range(0, len(listed), 500):
            kept |= set(Status.objects.filter(pk__in=listed[start : start + 500])
                        .values_list("pk", flat=True))
        feeds = {a: [e for e in entries if e[0] in kept] for a, entries in feeds.items()}
        store.replace(feeds=feeds, below=below)
    return sum(len(entries) for entries in feeds.values())


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
