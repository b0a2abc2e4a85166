"""Status entities assembled from the entity cache (core.entity_cache, ADR 0013).

A page of statuses costs one query for the rows' versions (and the facts that
decide who may see them), one read of the entity cache, and one query for the
viewer's state, whatever the page shows; statuses and accounts not cached at
their current version are rendered from their rows (the ``statuses_by_ids``
query shape) and cached.

Cached per status: :func:`tribune.api.presenters.status_shared` (no account, no
viewer's fields); per account: the Account entity. What a status shows from other
rows (attachments, mentions, hashtags, its card) changes only with the status's
own version: by an edit, ``links.services`` renewing it with a card, or
``media.services.media_update`` with an attachment's alt text; and its quote's state
(``statuses.services``: revoked, or the quoted post deleted). The statuses a page
quotes are loaded in a second round of the same shape, only when it has quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from tribune.accounts.models import Account
from tribune.api.presenters import (
    account_out,
    quoted_id,
    relation_authors,
    status_entity,
    status_shared,
)
from tribune.core import entity_cache
from tribune.statuses.models import Status
from tribune.statuses.policy import removal_hides
from tribune.statuses.selectors import ViewerState, statuses_by_ids


@dataclass(frozen=True)
class Row:
    """What the current row of a status says, read with its version: its author,
    whether a moderation decision removed it, and its reblogged original."""

    account_id: int
    removed: bool
    reblog_of_id: int | None
    # Its author is suspended (read for statuses shown inside a quote).
    suspended: bool = False


@dataclass
class Entities:
    """A page's statuses (and reblogged originals): their rows by id, the shared
    part of their Status entities by id, and their authors' Account entities."""

    rows: dict[int, Row]
    shared: dict[int, dict[str, Any]]
    accounts: dict[int, dict[str, Any]]

    def removed_for(self, status_id: int, viewer_id: int | None) -> bool:
        """``statuses.policy.removed_for`` on the rows: a removed status, or a
        reblog of one, is hidden from everyone but its author."""
        row = self.rows[status_id]
        original = self.rows.get(row.reblog_of_id) if row.reblog_of_id else None
        if original is not None and removal_hides(viewer_id, author_id=original.account_id,
                                                  removed=original.removed):
            return True
        return removal_hides(viewer_id, author_id=row.account_id, removed=row.removed)


def _versions(ids: list[int]) -> list[tuple]:
    """``(id, version, account_id, account's version, removed, reblog_of_id, its
    version, its account_id, that account's version, it removed, the author
    suspended)`` per status of ``ids`` that exists. Written out: through the ORM, compiling this query cost
    more than running it, on every page."""
    if not ids:
        return []
    statuses, accounts = Status._meta.db_table, Account._meta.db_table
    marks = ",".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT s."id", s."version", s."account_id", a."version", s."removed_at", '
            f'o."id", o."version", o."account_id", oa."version", o."removed_at", '
            f'a."suspended_at" '
            f'FROM "{statuses}" s JOIN "{accounts}" a ON a."id" = s."account_id" '
            f'LEFT JOIN "{statuses}" o ON o."id" = s."reblog_of_id" '
            f'LEFT JOIN "{accounts}" oa ON oa."id" = o."account_id" '
            f'WHERE s."id" IN ({marks})', ids)
        return cursor.fetchall()


def load(ids: list[int]) -> Entities:
    """The entities of the statuses ``ids`` (missing ids are left out) and of the
    statuses they (or their reblogged originals) quote: one query for the rows and
    their versions, one cache read, and the ``statuses_by_ids`` query shape plus one
    account query for whatever is not cached at its version; the same again for
    the quoted statuses not already among them, only when there are some."""
    entities = _load(ids)
    quoted = {q for data in entities.shared.values() if (q := quoted_id(data))}
    quoted -= entities.rows.keys()
    if quoted:
        more = _load(sorted(quoted))
        entities.rows.update(more.rows)
        entities.shared.update(more.shared)
        entities.accounts.update(more.accounts)
    return entities


def _load(ids: list[int]) -> Entities:
    rows: dict[int, Row] = {}
    status_versions: dict[int, int] = {}
    account_versions: dict[int, int] = {}
    for (pk, version, account_id, account_version, removed_at, original_id, original_version,
         original_account_id, original_account_version, original_removed_at,
         suspended_at) in _versions(ids):
        rows[pk] = Row(account_id, removed_at is not None, original_id, suspended_at is not None)
        status_versions[pk] = version
        account_versions[account_id] = account_version
        if original_id is not None:
            rows[original_id] = Row(original_account_id, original_removed_at is not None, None)
            status_versions[original_id] = original_version
            account_versions[original_account_id] = original_account_version
    cached = entity_cache.get_kinds({entity_cache.STATUS: status_versions.items(),
                                     entity_cache.ACCOUNT: account_versions.items()})
    shared, accounts = cached[entity_cache.STATUS], cached[entity_cache.ACCOUNT]
    missing = [pk for pk in status_versions if pk not in shared]
    if missing:
        fresh_statuses, fresh_accounts = {}, {}
        for status in statuses_by_ids(missing):
            shared[status.pk] = status_shared(status)
            fresh_statuses[status.pk, status.version] = shared[status.pk]
            author = status.account
            if author.pk not in accounts:
                accounts[author.pk] = account_out(author)
                fresh_accounts[author.pk, author.version] = accounts[author.pk]
        entity_cache.set_many(entity_cache.STATUS, fresh_statuses)
        entity_cache.set_many(entity_cache.ACCOUNT, fresh_accounts)
    missing_accounts = [pk for pk in account_versions if pk not in accounts]
    if missing_accounts:
        fresh_accounts = {}
        for account in Account.objects.filter(pk__in=missing_accounts):
            accounts[account.pk] = account_out(account)
            fresh_accounts[account.pk, account.version] = accounts[account.pk]
        entity_cache.set_many(entity_cache.ACCOUNT, fresh_accounts)
    return Entities(rows=rows, shared=shared, accounts=accounts)


def statuses_json(ids: list[int], entities: Entities, viewer: Account | None) -> list[dict[str, Any]]:
    """Status entities for ``ids`` in that order, with the viewer's state (one
    query); ids whose row or original is gone are left out."""
    viewer_id = viewer.pk if viewer else None
    present = [pk for pk in ids if pk in entities.shared and pk in entities.rows]
    originals = {entities.rows[pk].reblog_of_id or pk for pk in present}
    originals &= entities.shared.keys()
    quoted = {q for pk in originals if (q := quoted_id(entities.shared[pk]))
              and q in entities.shared and q in entities.rows}
    state = ViewerState.for_ids(originals | quoted, viewer_id)
    state = state.with_relations(viewer_id, relation_authors(
        [(entities.rows[pk].account_id, entities.shared[pk]) for pk in originals | quoted],
        {entities.rows[q].account_id for q in quoted}, viewer_id))

    def entity(pk: int, original: dict[str, Any] | None = None, *,
               nested: bool = False) -> dict[str, Any]:
        author_id = entities.rows[pk].account_id
        q = None if nested else quoted_id(entities.shared[pk])
        if q is not None and q not in quoted:
            q = None
        return status_entity(
            entities.shared[pk], entities.accounts[author_id], author_id=author_id,
            state=state, viewer_id=viewer_id, original=original, nested=nested,
            quoted=entity(q, nested=True) if q is not None else None,
            quoted_author_id=entities.rows[q].account_id if q is not None else None,
            quoted_removed=q is not None and (entities.removed_for(q, viewer_id)
                                              or entities.rows[q].suspended))

    out = []
    for pk in present:
        original_id = entities.rows[pk].reblog_of_id
        if original_id is None:
            out.append(entity(pk))
        elif original_id in entities.shared:
            out.append(entity(pk, entity(original_id)))
    return out
