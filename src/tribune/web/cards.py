"""What a status looks like to one viewer: the rows a template needs, built for a
whole page at once so a page costs a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from tribune.accounts.models import Account, Visibility
from tribune.filters.matching import FilterMatch, ViewerFilters, hides, searchable_text
from tribune.filters.selectors import viewer_filters
from tribune.statuses.models import Poll, QuotePolicy, QuoteState, Status
from tribune.statuses.policy import (
    OPEN,
    can_reblog,
    quote_allowed,
    removal_hides,
    reply_refusals,
)
from tribune.statuses.polls import poll_expired
from tribune.statuses.selectors import (
    ViewerState,
    status_poll,
    status_quote,
    statuses_by_ids,
)


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
class QuoteView:
    """The post a status quotes, as one viewer sees it: ``quoted`` when it may be
    shown (``state`` ``accepted``, or ``muted_account``: shown folded), else None
    with the state saying why (Mastodon 4.5's QuoteStateEnum: ``deleted``,
    ``revoked``, ``blocked_account``, ``unauthorized``...)."""

    state: str
    quoted: Status | None
    quoted_account_id: int | None

    @property
    def removed_by_author(self) -> bool:
        return self.state in (QuoteState.DELETED, QuoteState.REVOKED)


def _quote_view(status: Status, quoted: dict[int, Status], state: ViewerState,
                viewer: Account | None) -> QuoteView | None:
    """The same rules as the API's ``quote_out`` on rows."""
    quote = status_quote(status)
    if quote is None:
        return None
    if quote.state != QuoteState.ACCEPTED or quote.quoted_status_id is None:
        state_name = QuoteState.DELETED if quote.state == QuoteState.ACCEPTED else quote.state
        return QuoteView(state_name, None, quote.quoted_account_id)
    target = quoted.get(quote.quoted_status_id)
    viewer_id = viewer.pk if viewer else None
    if target is None:
        return QuoteView("unauthorized", None, quote.quoted_account_id)
    if target.account_id in state.blocked:
        return QuoteView("blocked_account", None, target.account_id)
    readable = (target.visibility in OPEN or viewer_id == target.account_id
                or (target.visibility == "private" and target.account_id in state.following))
    if (not readable or (target.local_only and viewer_id is None)
            or target.account.suspended_at is not None
            or removal_hides(viewer_id, author_id=target.account_id,
                             removed=target.removed_at is not None)):
        return QuoteView("unauthorized", None, target.account_id)
    if target.account_id in state.muted:
        return QuoteView("muted_account", target, target.account_id)
    return QuoteView(QuoteState.ACCEPTED, target, target.account_id)


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
    # The post it quotes (None when it quotes none), whether the viewer may quote
    # it, and whether the viewer, as the quoted post's author, may detach it.
    quote: QuoteView | None = None
    can_quote: bool = False
    can_detach: bool = False

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
    shown_all = [s.reblog_of if s.reblog_of_id else s for s in statuses]
    wanted = [q.quoted_status_id for s in shown_all if (q := status_quote(s)) is not None
              and q.state == QuoteState.ACCEPTED and q.quoted_status_id is not None]
    quoted = {s.pk: s for s in statuses_by_ids(wanted)} if wanted else {}
    state = ViewerState.for_statuses(statuses, viewer)
    viewer_id = viewer.pk if viewer else None
    authors = {s.account_id for s in quoted.values()} | {
        s.account_id for s in shown_all
        if s.quote_approval_policy == QuotePolicy.FOLLOWERS and s.account_id != viewer_id}
    state = state.with_relations(viewer_id, authors)
    refusals = reply_refusals(viewer, shown_all) if viewer is not None else {}
    filters = viewer_filters(viewer) if context is not None else ViewerFilters(())
    cards = []
    for status in statuses:
        shown = status.reblog_of if status.reblog_of_id else status
        matches = _filter_matches(status, filters, context) if filters else []
        quote = _quote_view(shown, quoted, state, viewer)
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
            quote=quote,
            can_quote=quote_allowed(viewer_id=viewer_id, author_id=shown.account_id,
                                    visibility=shown.visibility,
                                    policy=shown.quote_approval_policy,
                                    following=shown.account_id in state.following),
            can_detach=(viewer_id is not None and quote is not None
                        and quote.state == QuoteState.ACCEPTED
                        and quote.quoted_account_id == viewer_id
                        and shown.account_id != viewer_id),
        ))
    return cards


def shown_cards(statuses: list[Status], viewer: Account | None, context: str) -> list[Card]:
    """:func:`cards_for` in a filter ``context``, without the cards a hide filter
    matches."""
    return [card for card in cards_for(statuses, viewer, context) if not card.hidden]
