"""Rendered entities cached under their row's version (ADR 0013).

A home timeline page shows 20 statuses that many other pages show too. The client
API keeps each status's viewer-independent Status entity, and each account's
Account entity, in a cache keyed by ``(kind, id, version)`` and adds only the
viewer's own state per request, as Mastodon's ``cache_collection`` does.

``version`` is a column of the row that every write of something an entity shows
sets to a fresh :func:`new_version`, in the same UPDATE (or ``save()``) as the
change. Readers first read the versions of the rows they show (one light query),
so they can never be handed an entity older than the row: an old entry is simply
never asked for again and ages out. Nothing is ever invalidated, so any cache
will do: the ``entities`` alias is Redis when the instance has one (all web
processes share the entries) and each process's own memory otherwise.

``core`` knows no models: callers pass ids and versions.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.core.cache import caches

ALIAS = "entities"
SHAPE = 2  # bump when an entity's shape changes, so entries of the old shape are not read
STATUS, ACCOUNT = "s", "a"


def new_version() -> int:
    """A fresh row version: 62 random bits, so two writers, in any processes, never
    give two states of a row the same version (a counter read-then-incremented
    could)."""
    return secrets.randbits(62)


def _key(kind: str, pk: int, version: int) -> str:
    return f"{kind}{SHAPE}:{pk}:{version}"


def get_kinds(wanted: dict[str, Iterable[tuple[int, int]]]) -> dict[str, dict[int, Any]]:
    """The cached entries for ``(id, version)`` pairs of several kinds
    (:data:`STATUS`, :data:`ACCOUNT`) in one cache round trip: by kind, the cached
    entries by id; pairs not cached are left out."""
    keys = {_key(kind, pk, version): (kind, pk)
            for kind, versions in wanted.items() for pk, version in versions}
    found: dict[str, dict[int, Any]] = {kind: {} for kind in wanted}
    if keys:
        for key, value in caches[ALIAS].get_many(list(keys)).items():
            kind, pk = keys[key]
            found[kind][pk] = value
    return found


def set_many(kind: str, entries: dict[tuple[int, int], Any]) -> None:
    """Store rendered entries of ``kind`` by ``(id, version)``."""
    if entries:
        caches[ALIAS].set_many({_key(kind, pk, version): v
                                for (pk, version), v in entries.items()})
