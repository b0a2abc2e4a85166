"""What a status looks like to one viewer: the rows a template needs, built for a
whole page at once so a page costs a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from tribune.accounts.models import Account, Visibility
from tribune.filters.matching import FilterMatch, ViewerFilters, hides, searchable_text
from tribune.filters.selectors import viewer_filters
from tribune.statuses.models import Poll, Status
from tribune.statuses.policy import can_reblog, reply_refusals
from tribune.statuses.polls import poll_expired
from tribune.statuses.selectors import ViewerState, status_poll


@dataclass(frozen=True)
class PollOptionView:
    """One option as shown: its index (the value voted), title, votes and share of
    the voters in whole percent (None while totals are hidden)."""

    index: int
    title: str
    votes: int | None
    percent: int | None
    chosen: bool


@dataclass(frozen=True)
class PollView:
    """A status's poll as one viewer sees it: whether they may still vote, whether
    the results show (after voting, at the end, to the author, or to visitors who
    cannot vote) and whether the totals are hidden until the end."""

    poll: Poll
    options: list[PollOptionView]
    expired: bool
    voted: bool
    can_vote: bool
    show_results: bool
    totals_hidden: bool

    @property
    def input_type(self) -> str:
        return "checkbox" if self.poll.multiple else "radio"


def poll_view(status: Status, viewer: Account | None, own_votes: tuple[int, ...] | None) -> PollView | None:
    """The :class:`PollView` of ``status``'s poll for ``viewer``, or None. Shares are
    of the voters, as Mastodon's interface counts them (on a multiple-choice poll
    they may add up to more than 100)."""
    poll = status_poll(status)
    if poll is None:
        return None
    expired = poll_expired(poll)
    own = viewer is not None and status.account_id == viewer.pk
    voted = own_votes is not None
    totals_hidden = poll.hide_totals and not expired and not own
    denominator = poll.voters_count if poll.multiple else poll.votes_count
    options = []
    for index, title in enumerate(poll.options):
        votes = poll.tallies[index] if index < len(poll.tallies) else 0
        percent = round(100 * votes / denominator) if denominator else 0
        options.append(PollOptionView(
            index=index, title=title, votes=None if totals_hidden else votes,
            percent=None if totals_hidden else percent,
            chosen=voted and index in (own_votes or ())))
    can_vote = viewer is not None and not own and not voted and not expired
    return PollView(poll=poll, options=options, expired=expired, voted=voted,
                    can_vote=can_vote, show_results=not can_vote, totals_hidden=totals_hidden)


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
    poll: PollView | None = None
    # Why the viewer may not reply (the post's reply policy), None when it may.
    reply_refusal: str | None = None
    # The titles of the viewer's warn (or blur) filters it matches, and whether a
    # hide filter of the page's context matches it (the page leaves it out).
    filtered: tuple[str, ...] = ()
    hidden: bool = False

    @property
    def reblogged_by(self) -> Account | None:
        return self.status.account if self.status.reblog_of_id else None

    @property
    def key(self) -> int:
        """The row's id, used for pagination and the DOM id."""
        return self.status.pk


def _filter_matches(status: Status, filters: ViewerFilters,
                    context: str | None) -> list[FilterMatch]:
    """What ``filters`` say of a post as shown (a boost by its original)."""
    shown = status.reblog_of if status.reblog_of_id else status
    poll = status_poll(shown)
    text = searchable_text(
        spoiler_text=shown.spoiler_text or "", content_html=shown.content or "",
        poll_options=poll.options if poll is not None else (),
        media_descriptions=[m.description for m in shown.media_attachments.all()])
    return filters.match(text=text, status_ids={status.pk, shown.pk}, context=context)


def cards_for(statuses: list[Status], viewer: Account | None,
              context: str | None = None) -> list[Card]:
    """Cards for ``statuses`` (already loaded with ``with_relations``), in order.

    With a filter ``context`` (``home``, ``public``, ``thread``, ``account``,
    ``notifications``) the viewer's filters of that context are applied, compiled
    once for the page: a card says which warn filters it matches and whether a
    hide filter matches it (the caller leaves such cards out)."""
    state = ViewerState.for_statuses(statuses, viewer)
    shown_all = [s.reblog_of if s.reblog_of_id else s for s in statuses]
    refusals = reply_refusals(viewer, shown_all) if viewer is not None else {}
    filters = viewer_filters(viewer) if context is not None else ViewerFilters(())
    cards = []
    for status in statuses:
        shown = status.reblog_of if status.reblog_of_id else status
        matches = _filter_matches(status, filters, context) if filters else []
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
            poll=poll_view(shown, viewer, state.poll_votes.get(shown.pk)),
            reply_refusal=refusals.get(shown.pk),
            filtered=tuple(m.filter.title for m in matches),
            hidden=hides(matches),
        ))
    return cards


def shown_cards(statuses: list[Status], viewer: Account | None, context: str) -> list[Card]:
    """:func:`cards_for` in a filter ``context``, without the cards a hide filter
    matches."""
    return [card for card in cards_for(statuses, viewer, context) if not card.hidden]
