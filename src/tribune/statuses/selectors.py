"""Reads of statuses. Each selector owns its query shape, so a page of any size
costs the same number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
from tribune.core.pagination import Cursor, Page, paginate
from tribune.core.text import normalize_tag
from tribune.graph.selectors import hidden_account_ids
from tribune.media.models import MediaAttachment
from tribune.statuses.models import (
    Bookmark,
    Favourite,
    Pin,
    Poll,
    PollVote,
    Quote,
    QuoteState,
    Status,
    StatusEdit,
)
from tribune.statuses.policy import can_view, public_q, visible_q

STATUS_RELATED = ("account", "application", "reblog_of", "reblog_of__account",
                  "reblog_of__application",
                  "status_card__card", "reblog_of__status_card__card",  # tribune.links
                  "poll", "reblog_of__poll", "quote", "reblog_of__quote")
STATUS_PREFETCH = ("mentions__account", "tags", "reblog_of__mentions__account",
                   "reblog_of__tags", "media_attachments", "reblog_of__media_attachments")
CONTEXT_LIMIT = 4096
_HAS_MEDIA = Exists(MediaAttachment.objects.filter(status_id=OuterRef("pk")))


def with_relations(qs: QuerySet) -> QuerySet:
    """The one query shape for statuses that are about to be presented."""
    return qs.select_related(*STATUS_RELATED).prefetch_related(*STATUS_PREFETCH)


def status_get_visible(*, status_id: int | str, viewer: Account | None) -> Status:
    """The status if ``viewer`` may see it; NotFound otherwise (Mastodon answers 404
    rather than 403 so private posts are not revealed)."""
    try:
        status = with_relations(Status.objects.all()).get(pk=parse_id(status_id))
    except (Status.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None
    if not can_view(viewer, status):
        raise NotFound(_("Record not found"))
    return status


def status_get_own(*, status_id: int | str, account: Account) -> Status:
    """One of ``account``'s own statuses; NotFound for anyone else's, as Mastodon
    scopes edits, deletes and sources to the caller's statuses."""
    status = status_get_visible(status_id=status_id, viewer=account)
    if status.account_id != account.pk:
        raise NotFound(_("Record not found"))
    return status


def status_poll(status: Status) -> Poll | None:
    """The poll of ``status``, or None (loaded with ``with_relations``)."""
    try:
        return status.poll
    except Poll.DoesNotExist:
        return None


def status_quote(status: Status) -> Quote | None:
    """The quote ``status`` makes, or None (loaded with ``with_relations``)."""
    try:
        return status.quote
    except Quote.DoesNotExist:
        return None


def status_quotes(*, status: Status, viewer: Account, cursor: Cursor) -> Page:
    """The posts quoting ``status`` with an accepted quote that ``viewer`` may see,
    newest quote first (paged by the quote's id, as the Link header carries it)."""
    qs = (Quote.objects.filter(quoted_status=status, state=QuoteState.ACCEPTED)
          .filter(status__in=Status.objects.filter(visible_q(viewer))))
    return paginate(qs, cursor, transform=lambda rows: statuses_by_ids([r.status_id for r in rows]))


def status_by_uri(uri: str) -> Status | None:
    """The status whose ActivityPub id is ``uri``: a local one
    (``https://DOMAIN/users/NAME/statuses/ID``) or a remote one by its stored
    ``uri``; None when none is known. Visibility is the caller's question."""
    from tribune.core.urls import absolute

    prefix = absolute("/users/")
    if uri.startswith(prefix):
        username, sep, status_id = uri[len(prefix):].partition("/statuses/")
        if not sep or not username or "/" in status_id:
            return None
        try:
            pk = parse_id(status_id)
        except (ValueError, TypeError, OverflowError):
            return None
        return (Status.objects.select_related("account")
                .filter(pk=pk, account__domain="", account__username=username).first())
    if not uri:
        return None
    return Status.objects.select_related("account").filter(uri=uri).first()


def statuses_by_ids(ids: list[int]) -> list[Status]:
    """Statuses in the given order (missing ids skipped), with relations loaded."""
    rows = {s.pk: s for s in with_relations(Status.objects.filter(pk__in=ids))}
    return [rows[i] for i in ids if i in rows]


def status_context(*, status: Status, viewer: Account | None) -> tuple[list[Status], list[Status]]:
    """(ancestors oldest first, descendants in thread order) visible to ``viewer``."""
    thread_id = status.thread_id or status.pk
    base = Status.objects.filter(thread_id=thread_id, reblog_of__isnull=True)
    base = base.filter(visible_q(viewer))
    if viewer is not None:
        hidden = hidden_account_ids(viewer.pk)
        base = base.exclude(account_id__in=hidden - {status.account_id})
    rows = {s.pk: s for s in with_relations(base)[:CONTEXT_LIMIT]}
    ancestors: list[Status] = []
    parent_id = status.in_reply_to_id
    while parent_id is not None and parent_id in rows and len(ancestors) < CONTEXT_LIMIT:
        ancestors.append(rows[parent_id])
        parent_id = rows[parent_id].in_reply_to_id
    ancestors.reverse()
    children: dict[int, list[Status]] = {}
    for row in sorted(rows.values(), key=lambda s: s.pk):
        if row.in_reply_to_id is not None:
            children.setdefault(row.in_reply_to_id, []).append(row)
    descendants: list[Status] = []
    stack = list(reversed(children.get(status.pk, [])))
    while stack:  # depth-first, oldest reply first, as Mastodon orders a thread
        node = stack.pop()
        descendants.append(node)
        stack.extend(reversed(children.get(node.pk, [])))
    return ancestors, descendants


def account_statuses(
    *, account: Account, viewer: Account | None, cursor: Cursor,
    exclude_replies: bool = False, exclude_reblogs: bool = False, only_media: bool = False,
    pinned: bool = False, tagged: str | None = None,
) -> Page:
    """An account's statuses visible to ``viewer``, newest first.

    ``exclude_replies`` keeps replies to oneself (threads), as Mastodon does.
    ``only_media`` keeps statuses with media attachments.
    """
    qs = Status.objects.filter(account=account).filter(visible_q(viewer))
    if pinned:
        pins = Pin.objects.filter(account=account).filter(status__in=qs)
        return paginate(pins.select_related("status"), cursor,
                        transform=lambda rows: statuses_by_ids([p.status_id for p in rows]))
    if exclude_replies:
        qs = qs.filter(Q(in_reply_to_id__isnull=True) | Q(in_reply_to_account_id=account.pk))
    if exclude_reblogs:
        qs = qs.filter(reblog_of__isnull=True)
    if only_media:
        qs = qs.filter(_HAS_MEDIA)
    if tagged:
        qs = qs.filter(tags__name=normalize_tag(tagged))
    return paginate(with_relations(qs), cursor)


def public_timeline(*, viewer: Account | None, cursor: Cursor, local: bool = False,
                    remote: bool = False, only_media: bool = False) -> Page:
    """Public statuses, newest first: no reblogs, no replies to others, no hidden
    accounts."""
    qs = Status.objects.filter(public_q(), reblog_of__isnull=True)
    qs = qs.filter(Q(in_reply_to_id__isnull=True) | Q(in_reply_to_account_id=F("account_id")))
    if local:
        qs = qs.filter(account__domain="")
    if remote:
        qs = qs.exclude(account__domain="")
    if only_media:
        qs = qs.filter(_HAS_MEDIA)
    if viewer is None:  # local-only posts are for signed-in local accounts
        qs = qs.filter(local_only=False)
    if viewer is not None:
        qs = qs.exclude(account_id__in=hidden_account_ids(viewer.pk))
    return paginate(with_relations(qs), cursor)


def tag_timeline(*, name: str, viewer: Account | None, cursor: Cursor, local: bool = False,
                 remote: bool = False, only_media: bool = False) -> Page:
    """Public statuses with the hashtag ``name`` (matched by its normalised key)."""
    qs = Status.objects.filter(public_q(), tags__name=normalize_tag(name),
                               reblog_of__isnull=True)
    if local:
        qs = qs.filter(account__domain="")
    if remote:
        qs = qs.exclude(account__domain="")
    if only_media:
        qs = qs.filter(_HAS_MEDIA)
    if viewer is None:  # local-only posts are for signed-in local accounts
        qs = qs.filter(local_only=False)
    if viewer is not None:
        qs = qs.exclude(account_id__in=hidden_account_ids(viewer.pk))
    return paginate(with_relations(qs), cursor)


def _marked(model, *, viewer: Account, cursor: Cursor) -> Page:
    rows = model.objects.filter(account=viewer).filter(
        status__in=Status.objects.filter(visible_q(viewer)))
    return paginate(rows, cursor, transform=lambda rs: statuses_by_ids([r.status_id for r in rs]))


def favourites(*, viewer: Account, cursor: Cursor) -> Page:
    """Statuses the viewer favourited, most recently favourited first (paged by the
    favourite's id, which the Link header carries)."""
    return _marked(Favourite, viewer=viewer, cursor=cursor)


def bookmarks(*, viewer: Account, cursor: Cursor) -> Page:
    """Statuses the viewer bookmarked, most recent first (paged by bookmark id)."""
    return _marked(Bookmark, viewer=viewer, cursor=cursor)


def favourited_by(*, status: Status, viewer: Account | None, cursor: Cursor) -> Page:
    """Accounts that favourited ``status`` (already checked visible), newest first."""
    qs = Favourite.objects.filter(status=status).select_related("account")
    if viewer is not None:
        qs = qs.exclude(account_id__in=hidden_account_ids(viewer.pk))
    return paginate(qs, cursor, transform=lambda rows: [r.account for r in rows])


def reblogged_by(*, status: Status, viewer: Account | None, cursor: Cursor) -> Page:
    """Accounts that reblogged ``status`` publicly enough for ``viewer``, newest first."""
    qs = Status.objects.filter(reblog_of=status).filter(visible_q(viewer)).select_related("account")
    return paginate(qs, cursor, transform=lambda rows: [r.account for r in rows])


def status_history(*, status: Status) -> list[StatusEdit]:
    """Versions of ``status``, oldest first; an unedited status has one, itself."""
    edits = list(status.edits.order_by("created_at", "id"))
    if edits:
        return edits
    return [StatusEdit(status=status, text=status.text, content=status.content,
                       spoiler_text=status.spoiler_text, sensitive=status.sensitive,
                       created_at=status.created_at)]


@dataclass(frozen=True)
class ViewerState:
    """What one viewer has done to a page of statuses, fetched in bulk (one query).

    ``poll_votes`` maps the id of each status whose poll the viewer voted in to the
    option indexes chosen, in order.
    """

    favourited: frozenset[int]
    reblogged: frozenset[int]
    bookmarked: frozenset[int]
    pinned: frozenset[int]
    poll_votes: dict[int, tuple[int, ...]] = field(default_factory=dict)
    # Of the authors asked about in ``with_relations`` (for quotes): whom the
    # viewer follows, blocks or is blocked by, and mutes.
    following: frozenset[int] = frozenset()
    blocked: frozenset[int] = frozenset()
    muted: frozenset[int] = frozenset()

    def with_relations(self, viewer_id: int | None, author_ids: set[int]) -> ViewerState:
        """This state with the viewer's follows, blocks (either way) and unexpired
        mutes among ``author_ids``: one query, none without a viewer or authors."""
        if viewer_id is None or not author_ids:
            return self
        from django.utils import timezone

        from tribune.graph.models import Block, Follow, Mute

        ids = list(author_ids)
        marks = ",".join(["%s"] * len(ids))
        follow, block, mute = (Follow._meta.db_table, Block._meta.db_table,
                               Mute._meta.db_table)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        sql = (f'SELECT 0, "target_id" FROM "{follow}" WHERE "account_id" = %s AND "target_id" IN ({marks}) '
               f'UNION ALL SELECT 1, "target_id" FROM "{block}" WHERE "account_id" = %s AND "target_id" IN ({marks}) '
               f'UNION ALL SELECT 1, "account_id" FROM "{block}" WHERE "target_id" = %s AND "account_id" IN ({marks}) '
               f'UNION ALL SELECT 2, "target_id" FROM "{mute}" WHERE "account_id" = %s AND "target_id" IN ({marks}) '
               f'AND ("expires_at" IS NULL OR "expires_at" > %s)')
        found: tuple[set[int], ...] = (set(), set(), set())
        with connection.cursor() as cursor:
            cursor.execute(sql, [*([viewer_id, *ids] * 4), now])
            for kind, account_id in cursor.fetchall():
                found[kind].add(account_id)
        return replace(self, following=frozenset(found[0]), blocked=frozenset(found[1]),
                       muted=frozenset(found[2]))

    @classmethod
    def empty(cls) -> ViewerState:
        return cls(frozenset(), frozenset(), frozenset(), frozenset())

    @classmethod
    def for_statuses(cls, statuses: list[Status], viewer: Account | None) -> ViewerState:
        if viewer is None or not statuses:
            return cls.empty()
        return cls.for_ids({s.reblog_of_id or s.pk for s in statuses}, viewer.pk)

    @classmethod
    def for_ids(cls, ids: set[int], viewer_id: int | None) -> ViewerState:
        """The viewer's state for the original statuses ``ids``, in one query (a
        UNION ALL of favourites, reblogs, bookmarks, pins and poll votes)."""
        if viewer_id is None or not ids:
            return cls.empty()
        ids = list(ids)
        marks = ",".join(["%s"] * len(ids))
        # Written out rather than as a union of querysets: compiling those took a
        # quarter of a cached home timeline page.
        parts = [
            f'SELECT {kind}, "{column}", CAST(NULL AS INTEGER) FROM "{model._meta.db_table}" '
            f'WHERE "account_id" = %s AND "{column}" IN ({marks})'
            for kind, (model, column) in enumerate(
                [(Favourite, "status_id"), (Status, "reblog_of_id"), (Bookmark, "status_id"),
                 (Pin, "status_id")])]
        votes, polls = PollVote._meta.db_table, Poll._meta.db_table
        parts.append(f'SELECT 4, p."status_id", v."choice" FROM "{votes}" v '
                     f'JOIN "{polls}" p ON p."id" = v."poll_id" '
                     f'WHERE v."account_id" = %s AND p."status_id" IN ({marks})')
        found: tuple[set[int], ...] = (set(), set(), set(), set())
        chosen: dict[int, list[int]] = {}
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), [*([viewer_id, *ids] * 5)])
            for kind, status_id, choice in cursor.fetchall():
                if kind == 4:
                    chosen.setdefault(status_id, []).append(choice)
                else:
                    found[kind].add(status_id)
        return cls(*(frozenset(f) for f in found),
                   poll_votes={k: tuple(sorted(v)) for k, v in chosen.items()})


def tag_search(*, query: str, limit: int = 20, offset: int = 0) -> list:
    """Hashtags whose matching key starts with ``query`` (a leading ``#`` is ignored),
    shortest (closest) first."""
    from django.db.models.functions import Length

    from tribune.statuses.models import Tag

    key = normalize_tag(query.strip().lstrip("#"))
    if not key:
        return []
    return list(Tag.objects.filter(name__startswith=key)
                .order_by(Length("name"), "name")[offset : offset + limit])
