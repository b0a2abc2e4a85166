"""Full-text search over statuses (docs/adr/0020).

Who finds what follows Mastodon 4.2 (https://docs.joinmastodon.org/user/network/#search
and ``StatusesSearchService``): a signed-in searcher finds the statuses they
wrote, favourited, bookmarked, boosted, voted in or are mentioned in (``Status#searchable_by``), and the
public posts of accounts that opted in (``indexable``); never what
``statuses.policy`` hides from them, nor accounts they block, mute or are blocked
by, nor suspended ones. Visitors find no statuses.
"""

from __future__ import annotations

from dataclasses import replace

from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from tribune.accounts.models import Account
from tribune.graph.selectors import hidden_account_ids
from tribune.media.models import MediaAttachment
from tribune.search.models import Score, StatusDocument
from tribune.search.query import SearchQuery, parse
from tribune.statuses.models import Bookmark, Favourite, Mention, PollVote, Status
from tribune.statuses.policy import public_q, visible_q
from tribune.statuses.selectors import statuses_by_ids

# Results are ranked among the newest matches the searcher may find, at most this
# many: the work of a query is bounded whatever the word (docs/adr/0020).
CANDIDATES = 1000
# Newest first by the index's own key, so that FTS5 walks its document lists from
# the end and stops after CANDIDATES (ordering by statuses_status.id would make
# SQLite sort every match first).
NEWEST = RawSQL("search_status.rowid", ()).desc()


def findable_q(viewer: Account, *, hidden: set[int]) -> Q:
    """A filter for the statuses ``viewer`` may find by search: visible to them
    (``visible_q``, with ``hidden``: the accounts they block, mute or are blocked
    by), by an account not suspended, and their own, one they interacted with
    (favourited, bookmarked, boosted, mentioned in, voted in its poll: Mastodon's
    ``Status#searchable_by``), or public and by an ``indexable`` account, outside
    reduced reach (``public_q``)."""
    me = viewer.pk
    interacted = (
        Exists(Favourite.objects.filter(account_id=me, status_id=OuterRef("pk")))
        | Exists(Bookmark.objects.filter(account_id=me, status_id=OuterRef("pk")))
        | Exists(Mention.objects.filter(account_id=me, status_id=OuterRef("pk")))
        | Exists(Status.objects.filter(account_id=me, reblog_of_id=OuterRef("pk")))
        | Exists(PollVote.objects.filter(account_id=me, poll__status_id=OuterRef("pk")))
    )
    return (visible_q(viewer, blocked=hidden) & Q(account__suspended_at__isnull=True)
            & (Q(account_id=me) | (public_q() & Q(account__indexable=True)) | interacted))


def _author_id(query: SearchQuery, viewer: Account) -> int | None:
    """The local account ``from:`` names (``me``: the searcher); 0 for nobody."""
    if query.author == "me":
        return viewer.pk
    found = (Account.objects.annotate(handle=Lower("username"))
             .filter(handle=query.author.lower(), domain="").values_list("pk", flat=True)
             .first())
    return found or 0


def _operators_q(query: SearchQuery) -> Q:
    q = Q()
    if query.has_media is not None:
        with_media = Exists(MediaAttachment.objects.filter(status_id=OuterRef("pk")))
        q &= with_media if query.has_media else ~with_media
    if query.is_reply is not None:
        q &= Q(in_reply_to_account_id__isnull=not query.is_reply)
    if query.is_sensitive is not None:
        q &= Q(sensitive=query.is_sensitive)
    if query.language:
        q &= Q(language__iexact=query.language)
    if query.before:
        q &= Q(created_at__lt=query.before)
    if query.after:
        q &= Q(created_at__gte=query.after)
    return q


def status_search(*, viewer: Account | None, query: str, account_id: int | None = None,
                  offset: int = 0, limit: int = 20, max_id: int | None = None,
                  min_id: int | None = None) -> list[Status]:
    """The statuses ``viewer`` may find (``findable_q``) matching ``query`` (the
    search box's language, ``query.parse``), best first: ranked by relevance
    (bm25 on SQLite, ts_rank on PostgreSQL) among the ``CANDIDATES`` newest
    matches, newest first among equals; ``offset`` and ``limit`` page through that
    order (Mastodon's search pages by offset). ``account_id`` keeps one author's;
    ``max_id`` and ``min_id`` keep statuses older or newer than those ids
    (Mastodon's StatusesSearchService bounds ids the same way).

    Returns [] for a visitor (Mastodon shows statuses to signed-in searchers only)
    and for a query without a word. Never raises for any text: words reach the
    index quoted (``query``). Queries: the hidden accounts, the ``from:`` account
    if any, the candidates, then ``statuses_by_ids``' constant few, whatever the
    page size.
    """
    parsed = parse(query)
    if viewer is None or parsed.empty or limit <= 0 or offset >= CANDIDATES:
        return []
    if parsed.author:
        author = _author_id(parsed, viewer)
        if account_id is not None and account_id != author:
            return []
        account_id = author
    qs = (Status.objects.filter(findable_q(viewer, hidden=hidden_account_ids(viewer.pk)))
          .filter(_operators_q(parsed)))
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if max_id is not None:
        qs = qs.filter(pk__lt=max_id)
    if min_id is not None:
        qs = qs.filter(pk__gt=min_id)
    if account_id is None or connection.vendor == "sqlite":
        # FTS5 intersects the author's token with the words (query.fts5_expression).
        parsed = replace(parsed, account_id=account_id)
        qs = (qs.filter(search_document__document__matches=parsed)
              .annotate(score=Score("search_document__document", parsed)).order_by(NEWEST))
    else:
        # One author's on PostgreSQL: walk their statuses newest first on
        # (account, -id) and check each one's document, rather than every match of
        # a common word.
        entry = (StatusDocument.objects.filter(status_id=OuterRef("pk"), document__matches=parsed)
                 .annotate(score=Score("document", parsed)).values("score")[:1])
        qs = qs.annotate(score=Subquery(entry)).filter(score__isnull=False).order_by("-pk")
    candidates = list(qs.values_list("pk", "score")[:CANDIDATES])
    candidates.sort(key=lambda row: (-row[1], -row[0]))
    return statuses_by_ids([pk for pk, _score in candidates[offset:offset + limit]])
