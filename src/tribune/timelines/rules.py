"""Which statuses a home feed holds: one set of rules for every path that writes a
feed, so that a rebuilt feed is the feed fan-out made (docs/adr/0018).

Fan-out on write (one status, its audience), the merge after a follow (one author,
one feed), the re-check after an unfollow or a block, and the rebuild (every status,
one or many feeds) all ask :func:`admits` about a (status, viewer) pair, with the
facts gathered in bulk in whichever direction suits them (a :class:`Graph`). The
feed store then applies the one rule that depends on the feed's own order: a reblog
is not added when one of the feed's newest ``REBLOG_WINDOW`` entries shows its
original (``feeds``); a rebuild plays that rule over its entries in id order
(:func:`collapse`). The read-time merge of celebrities' posts applies the same rules
written as a query (:func:`merged_q`); tests check the two forms agree.

The rules, after Mastodon's ``FeedManager#filter_from_home`` and
``FanOutOnWriteService``:

- one's own statuses are always on one's feed (posts, replies to anyone, reblogs,
  direct messages);
- otherwise the viewer follows the author, and for a direct status is mentioned in
  it (Mastodon's ``deliver_to_mentioned_followers``); a celebrity's statuses other
  than direct ones are merged at read time instead (``TRIBUNE_FANOUT_MAX_FOLLOWERS``);
- nothing by, or reblogging, an account the viewer blocks, is blocked by, or mutes;
- a reblog only if the viewer shows that account's reblogs, and never of the
  viewer's own post;
- a reply only to its own author, to the viewer, or to an account the viewer follows;
- statuses imported from an archive are on no feed (they were not fanned out);
- a public post, not a boost, fit for public timelines, by an author the viewer does
  not follow, when the viewer follows one of its hashtags (Mastodon's
  ``deliver_to_hashtag_followers``; ``trends.selectors.tag_followed_statuses_q``),
  unless a block or mute stands between them. The facts say so only for such posts
  (``Graph.follows_tag``, from ``trends.selectors.tagged_pairs``). A followed author's posts are judged by the rules above.

What the rules cannot know is history: a feed keeps what was admitted under the
graph of its time, and a rebuild does not (a mute that has since ended; a reblog
collapsed under an entry that has since left; an author followed after writing more
than the merge takes, or whose post the merge put below a reblog of it already on
the feed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple, Protocol

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from tribune.accounts.models import Account, Visibility
from tribune.graph.models import Block, Follow, Mute
from tribune.statuses.models import Mention, Status
from tribune.timelines.feeds import REBLOG_WINDOW

FOLLOWER_VISIBILITIES = (Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE)


def is_celebrity(followers_count: int) -> bool:
    """Whether an account with this many followers is merged at read time instead
    of fanned out (more than ``TRIBUNE_FANOUT_MAX_FOLLOWERS``)."""
    return followers_count > settings.TRIBUNE_FANOUT_MAX_FOLLOWERS


class Candidate(NamedTuple):
    """What the rules need of one status: its id, author, visibility, the original
    and its author for a reblog, the account it replies to, and its author's
    followers (for the celebrity rule). A tuple: a rebuild makes hundreds of
    thousands."""

    id: int
    account_id: int
    visibility: str
    reblog_of_id: int | None
    reblog_of_account_id: int | None
    in_reply_to_account_id: int | None
    author_followers: int

    @property
    def entry(self) -> tuple[int, int | None]:
        """The feed entry: ``(status id, reblogged id or None)``."""
        return self.id, self.reblog_of_id


class Graph(Protocol):
    """What the rules need of viewers' ties, gathered in bulk by the caller, and
    ``TRIBUNE_FANOUT_MAX_FOLLOWERS`` as it was when they were."""

    max_followers: int

    def follow(self, viewer_id: int, account_id: int) -> bool | None:
        """None when ``viewer_id`` does not follow ``account_id``; else whether it
        shows that account's reblogs."""

    def hides(self, viewer_id: int, account_id: int) -> bool:
        """Whether a block either way or the viewer's mute in force stands between."""

    def mentioned(self, viewer_id: int, status_id: int) -> bool:
        """Whether the (direct) status mentions the viewer."""

    def follows_tag(self, viewer_id: int, status_id: int) -> bool:
        """Whether the viewer follows a hashtag of the status and the status may
        reach its hashtags' followers (``tag_followed_statuses_q``)."""


def admits(status: Candidate, viewer_id: int, graph: Graph) -> bool:
    """Whether ``status`` belongs on ``viewer_id``'s home feed (the rules above).
    Celebrities' statuses other than direct ones are not admitted: they are merged
    at read time. The viewer is a local account; whether it is active is the
    fan-out's business, not the rules'."""
    author = status.account_id
    if viewer_id == author:
        return True
    shows_reblogs = graph.follow(viewer_id, author)
    if shows_reblogs is None:  # a stranger's: only by a followed hashtag
        return graph.follows_tag(viewer_id, status.id) and not graph.hides(viewer_id, author)
    if status.visibility == Visibility.DIRECT:
        if not graph.mentioned(viewer_id, status.id):
            return False
    elif status.author_followers > graph.max_followers:  # is_celebrity, settings read once
        return False
    if graph.hides(viewer_id, author):
        return False
    if status.reblog_of_id is not None:
        original_author = status.reblog_of_account_id
        if (not shows_reblogs or original_author == viewer_id
                or (original_author is not None and graph.hides(viewer_id, original_author))):
            return False
    target = status.in_reply_to_account_id
    return (target is None or target in (author, viewer_id)
            or graph.follow(viewer_id, target) is not None)


def collapse(entries: Iterable[tuple[int, int | None]]) -> Iterator[tuple[int, int | None]]:
    """The entries, oldest first, that a feed store keeps when they are added in this
    order: a reblog is dropped when one of the ``REBLOG_WINDOW`` entries kept just
    before it shows its original (the original itself or another reblog of it)."""
    last: dict[int, int] = {}  # original -> position of the last kept entry showing it
    kept = 0
    for status_id, reblog_of_id in entries:
        if reblog_of_id is not None and last.get(reblog_of_id, -REBLOG_WINDOW - 1) >= kept - REBLOG_WINDOW:
            continue
        last[reblog_of_id or status_id] = kept
        kept += 1
        yield status_id, reblog_of_id


def _reply_q(*, followed_ids: QuerySet, viewer_id: int) -> Q:
    """The reply rule as a filter on statuses not the viewer's own: not replies,
    replies to their own author, to the viewer, or to an account the viewer follows
    (``followed_ids``: a query of their ids)."""
    return (Q(in_reply_to_account_id__isnull=True) | Q(in_reply_to_account_id=F("account_id"))
            | Q(in_reply_to_account_id__in=followed_ids) | Q(in_reply_to_account_id=viewer_id))


def merged_q(*, viewer_id: int, follows: dict[int, bool], hidden: set[int]) -> Q:
    """:func:`admits` as a filter on statuses by followed celebrities, for the merge
    at read time: ``follows`` maps those celebrities (none of them ``hidden``) to
    whether their reblogs are shown, ``hidden`` holds :meth:`Graph.hides`'s accounts.
    Direct statuses are stored by fan-out, so they are not merged."""
    followed_ids = Follow.objects.filter(account_id=viewer_id).values("target_id")
    q = (Q(account_id__in=list(follows), visibility__in=FOLLOWER_VISIBILITIES)
         & _reply_q(followed_ids=followed_ids, viewer_id=viewer_id)
         & ~Q(reblog_of__account_id__in=hidden | {viewer_id})
         & Q(imported=False))
    no_reblogs = [a for a, show in follows.items() if not show]
    if no_reblogs:
        q &= ~Q(account_id__in=no_reblogs, reblog_of__isnull=False)
    return q


# --- the facts, gathered in bulk --------------------------------------------------------


class ViewersGraph:
    """The ties of a few viewers (a rebuild's batch, or one feed): their follows
    (and, the other way, which of them follow an account), the accounts hidden from
    them, and which direct statuses mention them. Three queries, plus what
    :meth:`note_mentions` is given."""

    def __init__(self, viewer_ids: Iterable[int]) -> None:
        self.max_followers = settings.TRIBUNE_FANOUT_MAX_FOLLOWERS
        viewers = list(viewer_ids)
        self.follows: dict[int, dict[int, bool]] = {v: {} for v in viewers}
        self.followers: dict[int, list[int]] = {}  # account -> the viewers following it
        for viewer, target, show in (Follow.objects.filter(account_id__in=viewers)
                                     .values_list("account_id", "target_id", "show_reblogs")):
            self.follows[viewer][target] = show
            self.followers.setdefault(target, []).append(viewer)
        self.hidden: dict[int, set[int]] = {v: set() for v in viewers}
        for a, b in Block.objects.filter(Q(account_id__in=viewers) | Q(target_id__in=viewers)
                                         ).values_list("account_id", "target_id"):
            if a in self.hidden:
                self.hidden[a].add(b)
            if b in self.hidden:
                self.hidden[b].add(a)
        for a, b in (Mute.objects.filter(account_id__in=viewers)
                     .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
                     .values_list("account_id", "target_id")):
            self.hidden[a].add(b)
        self._mentions: set[tuple[int, int]] = set()
        self._tagged: set[tuple[int, int]] = set()
        self.tag_viewers: dict[int, list[int]] = {}  # status -> viewers following its tags

    def note_mentions(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Record ``(viewer, status)`` pairs where the status mentions the viewer."""
        self._mentions.update(pairs)

    def note_tagged(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Record ``(viewer, status)`` pairs where the viewer follows a hashtag of
        the status and it may reach hashtags' followers (:func:`tagged_pairs`)."""
        for pair in pairs:
            if pair not in self._tagged:
                self._tagged.add(pair)
                self.tag_viewers.setdefault(pair[1], []).append(pair[0])

    def follow(self, viewer_id: int, account_id: int) -> bool | None:
        return self.follows[viewer_id].get(account_id)

    def hides(self, viewer_id: int, account_id: int) -> bool:
        return account_id in self.hidden[viewer_id]

    def mentioned(self, viewer_id: int, status_id: int) -> bool:
        return (viewer_id, status_id) in self._mentions

    def follows_tag(self, viewer_id: int, status_id: int) -> bool:
        return (viewer_id, status_id) in self._tagged


class AudienceGraph:
    """The ties of one status's possible audience (its author's local followers,
    the followers of its hashtags who do not follow the author, and the author):
    who follows the author (and shows their reblogs), who follows the account it
    replies to, who is mentioned, who is hidden from whom. A fixed number of
    queries whatever the audience's size."""

    def __init__(self, status: Candidate, *, followers: dict[int, bool],
                 tag_followers: Iterable[int] = ()) -> None:
        self.max_followers = settings.TRIBUNE_FANOUT_MAX_FOLLOWERS
        self.author = status.account_id
        self.followers = followers
        self.tag_followers = set(tag_followers) - set(followers)
        audience = [*followers, *self.tag_followers]
        self.reply_target = status.in_reply_to_account_id
        self.follow_reply_target: set[int] = set()
        if self.reply_target is not None and audience:
            self.follow_reply_target = set(
                Follow.objects.filter(target_id=self.reply_target, account_id__in=audience)
                .values_list("account_id", flat=True))
        self.mentioned_ids: set[int] = set()
        if status.visibility == Visibility.DIRECT:
            self.mentioned_ids = set(Mention.objects.filter(status_id=status.id)
                                     .values_list("account_id", flat=True))
        authors = {self.author} | ({status.reblog_of_account_id} - {None})
        self.hidden: set[tuple[int, int]] = set()
        if audience:
            self.hidden |= set(Block.objects.filter(account_id__in=audience, target_id__in=authors)
                               .values_list("account_id", "target_id"))
            self.hidden |= {(v, a) for a, v in Block.objects.filter(
                account_id__in=authors, target_id__in=audience).values_list("account_id", "target_id")}
            self.hidden |= set(Mute.objects.filter(account_id__in=audience, target_id__in=authors)
                               .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
                               .values_list("account_id", "target_id"))

    def follow(self, viewer_id: int, account_id: int) -> bool | None:
        if account_id == self.author:
            return self.followers.get(viewer_id)
        if account_id == self.reply_target:
            return True if viewer_id in self.follow_reply_target else None
        return None

    def hides(self, viewer_id: int, account_id: int) -> bool:
        return (viewer_id, account_id) in self.hidden

    def mentioned(self, viewer_id: int, status_id: int) -> bool:
        return viewer_id in self.mentioned_ids

    def follows_tag(self, viewer_id: int, status_id: int) -> bool:
        return viewer_id in self.tag_followers


def candidate_of(status: Status) -> Candidate:
    """The rules' view of a status loaded with ``select_related("account",
    "reblog_of")``."""
    return Candidate(id=status.pk, account_id=status.account_id, visibility=status.visibility,
                     reblog_of_id=status.reblog_of_id,
                     reblog_of_account_id=status.reblog_of.account_id if status.reblog_of_id else None,
                     in_reply_to_account_id=status.in_reply_to_account_id,
                     author_followers=status.account.followers_count)


def candidates(qs: QuerySet, *, limit: int | None = None,
               with_imported: bool = False) -> list[Candidate]:
    """The statuses of ``qs`` as candidates, in the query's order, the first ``limit``
    of them; imported ones are left out unless ``with_imported`` (one query)."""
    if not with_imported:
        qs = qs.filter(imported=False)
    rows = qs.values_list("id", "account_id", "visibility", "reblog_of_id",
                          "reblog_of__account_id", "in_reply_to_account_id",
                          "account__followers_count")
    return [Candidate._make(row) for row in (rows[:limit] if limit is not None else rows)]


def window_candidates(*, viewer_ids: list[int], low: int, high: int,
                      ) -> tuple[list[Candidate], set[tuple[int, int]]]:
    """The statuses with an id in ``[low, high)`` that may belong on the feed of one
    of ``viewer_ids`` (by the viewer or by an account it follows, except a
    celebrity's that are not direct: a necessary condition of :func:`admits`, which
    decides), each once however many of the viewers follow its author, without
    imported ones; and the ``(viewer, status)`` pairs where such a direct status
    mentions one of the viewers. Two queries, each status read once, by the
    authors' ``(account, -id)`` index; no order."""
    if not viewer_ids:
        return [], set()
    status, follow, account = Status._meta.db_table, Follow._meta.db_table, Account._meta.db_table
    mention = Mention._meta.db_table
    marks = ",".join(["%s"] * len(viewer_ids))
    select = (
        f'SELECT s."id", s."account_id", s."visibility", s."reblog_of_id", o."account_id", '
        f's."in_reply_to_account_id", a."followers_count" '
        f'FROM "{status}" s JOIN "{account}" a ON a."id" = s."account_id" '
        f'LEFT JOIN "{status}" o ON o."id" = s."reblog_of_id" '
        f'WHERE s."id" >= %s AND s."id" < %s '
        f'AND NOT s."imported" '
    )
    # Two branches rather than one OR, which would keep the planner off the
    # (account, -id) index; a viewer's status that another viewer follows comes
    # twice, and once is kept below.
    sql = (
        f'{select} AND s."account_id" IN (SELECT "target_id" FROM "{follow}" '
        f'WHERE "account_id" IN ({marks})) AND (a."followers_count" <= %s OR s."visibility" = %s) '
        f'UNION ALL {select} AND s."account_id" IN ({marks})'
    )
    mentions_sql = (
        f'SELECT m."account_id", m."status_id" FROM "{mention}" m '
        f'JOIN "{status}" s ON s."id" = m."status_id" '
        f'WHERE m."account_id" IN ({marks}) AND s."id" >= %s AND s."id" < %s '
        f'AND s."visibility" = %s'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [low, high, *viewer_ids, settings.TRIBUNE_FANOUT_MAX_FOLLOWERS,
                             Visibility.DIRECT, low, high, *viewer_ids])
        new = tuple.__new__  # Candidate._make, without its Python-level call
        statuses = [new(Candidate, row) for row in {row[0]: row for row in cursor.fetchall()}.values()]
        cursor.execute(mentions_sql, [*viewer_ids, low, high, Visibility.DIRECT])
        mentioned = {(v, s) for v, s in cursor.fetchall()}
    return statuses, mentioned

