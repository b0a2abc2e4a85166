"""What a status looks like to one viewer: the rows a template needs, built for a
whole page at once so a page costs a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from tribune.accounts.models import Account, Visibility
from tribune.statuses.models import Status
from tribune.statuses.policy import can_reblog
from tribune.statuses.selectors import ViewerState


@dataclass(frozen=True)
class Card:
    """One status as shown: ``status`` is the row in the list (maybe a reblog),
    ``shown`` the post whose content is displayed (the reblogged one, or itself)."""

    status: Status
    shown: Status
    favourited: bool
    reblogged: bool
    bookmarked: bool
    own: bool
    can_reblog: bool
    pinned: bool = False
    can_pin: bool = False

    @property
    def reblogged_by(self) -> Account | None:
        return self.status.account if self.status.reblog_of_id else None

    @property
    def key(self) -> int:
        """The row's id, used for pagination and the DOM id."""
        return self.status.pk


def cards_for(statuses: list[Status], viewer: Account | None) -> list[Card]:
    """Cards for ``statuses`` (already loaded with ``with_relations``), in order."""
    state = ViewerState.for_statuses(statuses, viewer)
    cards = []
    for status in statuses:
        shown = status.reblog_of if status.reblog_of_id else status
        cards.append(Card(
            status=status, shown=shown,
            favourited=shown.pk in state.favourited,
            reblogged=shown.pk in state.reblogged,
            bookmarked=shown.pk in state.bookmarked,
            own=viewer is not None and shown.account_id == viewer.pk,
            can_reblog=viewer is not None and can_reblog(viewer, shown),
            pinned=shown.pk in state.pinned,
            can_pin=(viewer is not None and shown.account_id == viewer.pk
                     and shown.visibility != Visibility.DIRECT),
        ))
    return cards
