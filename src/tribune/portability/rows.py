"""The shape of an import once its file is read: numbered rows to apply."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Outcome = tuple[str, str]  # (RowResult, reason)


@dataclass
class Step:
    """One row of an import: ``item`` names it on the results page; ``apply``
    does it inside the row's transaction and says how it went. ``prepare`` runs
    before that transaction (media processing, which stores files), ``discard``
    undoes what it prepared when the row fails."""

    item: str
    apply: Callable[[Any], Outcome]
    prepare: Callable[[], Any] | None = None
    discard: Callable[[Any], None] | None = None


@dataclass
class Plan:
    """What a file holds, ready to apply: its rows (numbered from 1, applied in
    the order given), and for ``overwrite`` the function that removes what the
    file does not name, returning how many it removed."""

    total: int
    steps: Iterable[tuple[int, Step]]
    remove_others: Callable[[], int] | None = None
