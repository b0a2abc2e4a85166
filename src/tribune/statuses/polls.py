"""Polls: their rules, creation with a status, votes and their end.

A poll is part of its status: made in ``status_create``'s transaction, changed or
removed by ``status_update``, deleted with the status. The rules are Mastodon's
(app/validators/poll_validator.rb, vote_validator.rb; docs: methods/statuses,
methods/polls), with the limits ``/api/v1/instance`` announces as
``configuration.polls`` (:data:`POLL_LIMITS`).

Every change of what a poll shows renews its status's row version, so the API's
entity cache (docs/adr/0013) never serves old counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.entity_cache import new_version
from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.events import PollRefreshed, PollVoted, publish
from tribune.statuses.models import Poll, PollVote, Status
from tribune.statuses.policy import can_view

# Mastodon's defaults (PollValidator; configuration.polls of /api/v2/instance).
MAX_OPTIONS = 4
MAX_OPTION_CHARACTERS = 50
MIN_EXPIRATION = 300  # seconds
MAX_EXPIRATION = 2_629_746  # seconds: one average month
POLL_LIMITS = {"max_options": MAX_OPTIONS, "max_characters_per_option": MAX_OPTION_CHARACTERS,
               "min_expiration": MIN_EXPIRATION, "max_expiration": MAX_EXPIRATION}

_TRUE = {"1", "true", "on", "yes", "t"}


def _flag(value) -> bool:
    """A boolean parameter as clients send it: a JSON boolean or a form string."""
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return bool(value)


@dataclass(frozen=True)
class PollSpec:
    """A poll as asked for: option titles in order, its duration in seconds, whether
    several options may be chosen and whether totals are hidden until it ends."""

    options: tuple[str, ...]
    expires_in: int
    multiple: bool = False
    hide_totals: bool = False


def poll_spec(*, options, expires_in, multiple=False, hide_totals=False) -> PollSpec:
    """Check a requested poll (``poll[options][]``, ``poll[expires_in]``,
    ``poll[multiple]``, ``poll[hide_totals]`` of ``POST /api/v1/statuses``) and
    return it as a :class:`PollSpec`.

    ``options``: 2 to 4 distinct non-empty titles of at most 50 characters each;
    ``expires_in``: whole seconds from 300 to 2,629,746 (a number or its digits).
    Raises ValidationFailed (422) with Mastodon's messages otherwise.
    """
    if not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options):
        raise ValidationFailed(_("Validation failed: Poll options must be a list of texts"))
    titles = tuple(o.strip() for o in options)
    if len(titles) < 2:
        raise ValidationFailed(_("Validation failed: Poll must have at least 2 options"))
    if len(titles) > MAX_OPTIONS:
        raise ValidationFailed(_("Validation failed: Poll cannot have more than %(max)d options")
                               % {"max": MAX_OPTIONS})
    if any(not t for t in titles):
        raise ValidationFailed(_("Validation failed: Poll options cannot be blank"))
    if any(len(t) > MAX_OPTION_CHARACTERS for t in titles):
        raise ValidationFailed(
            _("Validation failed: Poll options cannot be longer than %(max)d characters each")
            % {"max": MAX_OPTION_CHARACTERS})
    if len({t.casefold() for t in titles}) != len(titles):
        raise ValidationFailed(_("Validation failed: Poll options must not contain duplicate items"))
    try:
        seconds = int(str(expires_in).strip()) if not isinstance(expires_in, bool) else None
    except (TypeError, ValueError):
        seconds = None
    if seconds is None:
        raise ValidationFailed(_("Validation failed: Poll duration must be a number of seconds"))
    if seconds < MIN_EXPIRATION:
        raise ValidationFailed(_("Validation failed: Poll duration is too short (at least "
                                 "%(min)d seconds)") % {"min": MIN_EXPIRATION})
    if seconds > MAX_EXPIRATION:
        raise ValidationFailed(_("Validation failed: Poll duration is too long (at most "
                                 "%(max)d seconds)") % {"max": MAX_EXPIRATION})
    return PollSpec(options=titles, expires_in=seconds, multiple=_flag(multiple),
                    hide_totals=_flag(hide_totals))


def poll_create_for(*, status: Status, spec: PollSpec, now: datetime) -> Poll:
    """Make the poll of ``status``, a new status being written: call inside its
    transaction (``status_create``)."""
    return Poll.objects.create(
        status=status, options=list(spec.options), tallies=[0] * len(spec.options),
        multiple=spec.multiple, hide_totals=spec.hide_totals,
        expires_at=now + timedelta(seconds=spec.expires_in), created_at=now)


def poll_replace_for(*, status: Status, spec: PollSpec | None, now: datetime) -> bool:
    """Give the edited ``status`` the poll ``spec`` (None: no poll), as Mastodon's
    UpdateStatusService does: other options or another ``multiple`` drop every vote
    and the end-of-poll notice; the duration counts again from ``now``. Call inside
    the edit's transaction. Returns True when the poll's end changed (its end must
    be scheduled again)."""
    poll = Poll.objects.select_for_update().filter(status=status).first()
    if spec is None:
        if poll is not None:
            poll.delete()
        return False
    if poll is None:
        poll_create_for(status=status, spec=spec, now=now)
        return True
    if list(spec.options) != poll.options or spec.multiple != poll.multiple:
        poll.votes.all().delete()
        poll.tallies = [0] * len(spec.options)
        poll.votes_count = poll.voters_count = 0
    poll.options = list(spec.options)
    poll.multiple = spec.multiple
    poll.hide_totals = spec.hide_totals
    poll.expires_at = now + timedelta(seconds=spec.expires_in)
    poll.ended_notified_at = None
    poll.save()
    return True


# An archive's poll may come from a server with other limits (statuses.importing).
MAX_IMPORTED_OPTIONS = 20
MAX_IMPORTED_OPTION_CHARACTERS = 500


@dataclass(frozen=True)
class PollResults:
    """A poll as an archive keeps it (an ActivityStreams ``Question``): option
    titles with their vote counts, whether several could be chosen, when it ended
    (or ends) and how many people voted."""

    options: tuple[str, ...]
    tallies: tuple[int, ...]
    multiple: bool
    ends_at: datetime
    voters_count: int


def poll_results(*, options: list, tallies: list, multiple: bool, ends_at: datetime,
                 voters_count: int | None) -> PollResults:
    """Check an archived poll: 2 to :data:`MAX_IMPORTED_OPTIONS` non-empty titles
    (cut at :data:`MAX_IMPORTED_OPTION_CHARACTERS`), a count of at least 0 each,
    an aware end time. ``voters_count`` None (an archive without it) counts the
    votes, which is right for a single-choice poll. Raises ValidationFailed with a
    message for the person whose import it is."""
    if (not isinstance(options, list) or not 2 <= len(options) <= MAX_IMPORTED_OPTIONS
            or len(tallies) != len(options)):
        raise ValidationFailed(_("The poll's choices cannot be read."))
    titles = tuple(str(o).strip()[:MAX_IMPORTED_OPTION_CHARACTERS] for o in options)
    if not all(titles) or not all(isinstance(t, int) and t >= 0 for t in tallies):
        raise ValidationFailed(_("The poll's choices cannot be read."))
    if timezone.is_naive(ends_at):
        raise ValidationFailed(_("The poll's end has no time zone."))
    votes = sum(tallies)
    voters = voters_count if isinstance(voters_count, int) and voters_count >= 0 else votes
    return PollResults(options=titles, tallies=tuple(tallies), multiple=bool(multiple),
                       ends_at=ends_at, voters_count=voters)


def poll_import_for(*, status: Status, results: PollResults) -> Poll:
    """Give an imported post (``statuses.importing``, inside its transaction) its
    poll, closed with the archive's counts: the voters are not known here, so no
    one may vote again, and its end notifies no one (it is marked notified). A poll
    still running in the archive ends now."""
    ended = min(results.ends_at, timezone.now())
    return Poll.objects.create(
        status=status, options=list(results.options), tallies=list(results.tallies),
        multiple=results.multiple, expires_at=ended, votes_count=sum(results.tallies),
        voters_count=results.voters_count, ended_notified_at=ended,
        created_at=status.created_at)


# A remote server's counts, bounded so that the sum of 20 options still fits the
# columns (PositiveIntegerField: 2**31 - 1 on every database).
MAX_REMOTE_TALLY = 100_000_000


@dataclass(frozen=True)
class RemotePoll:
    """A poll as another server tells it (an ActivityStreams ``Question``):
    option titles with their vote counts, whether several may be chosen, its end
    (None: it never ends, which Mastodon allows for remote polls) and how many
    people voted."""

    options: tuple[str, ...]
    tallies: tuple[int, ...]
    multiple: bool
    expires_at: datetime | None
    voters_count: int


def poll_remote(*, options: list, tallies: list, multiple: bool,
                expires_at: datetime | None, voters_count: int | None) -> RemotePoll:
    """Check a poll of another server: 1 to :data:`MAX_IMPORTED_OPTIONS` titles,
    each a non-blank text of at most :data:`MAX_IMPORTED_OPTION_CHARACTERS`
    characters (refused, not cut, since a vote names its option by title), a
    whole count of at least 0 each (above :data:`MAX_REMOTE_TALLY`: that many),
    an aware end or None. ``voters_count`` None, or not a count, is the sum of
    the tallies (right for a single-choice poll). Raises ValidationFailed; the
    rules are Mastodon's PollValidator loosened as Mastodon loosens them for
    remote polls (no duration or option limits of its own), bounded here."""
    if (not isinstance(options, list | tuple) or not 1 <= len(options) <= MAX_IMPORTED_OPTIONS
            or not isinstance(tallies, list | tuple) or len(tallies) != len(options)):
        raise ValidationFailed(_("The poll's choices cannot be read."))
    if not all(isinstance(o, str) and o.strip()
               and len(o.strip()) <= MAX_IMPORTED_OPTION_CHARACTERS for o in options):
        raise ValidationFailed(_("The poll's choices cannot be read."))
    if not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in tallies):
        raise ValidationFailed(_("The poll's counts cannot be read."))
    if expires_at is not None and timezone.is_naive(expires_at):
        raise ValidationFailed(_("The poll's end has no time zone."))
    counts = tuple(min(t, MAX_REMOTE_TALLY) for t in tallies)
    voters = (min(voters_count, MAX_REMOTE_TALLY) if isinstance(voters_count, int)
              and not isinstance(voters_count, bool) and voters_count >= 0 else sum(counts))
    return RemotePoll(options=tuple(o.strip() for o in options), tallies=counts,
                      multiple=bool(multiple), expires_at=expires_at, voters_count=voters)


def poll_remote_create_for(*, status: Status, poll: RemotePoll, now: datetime) -> Poll:
    """Give a remote post being stored (``statuses.remote``, inside its
    transaction) its poll with its server's counts."""
    return Poll.objects.create(
        status=status, options=list(poll.options), tallies=list(poll.tallies),
        multiple=poll.multiple, expires_at=poll.expires_at, votes_count=sum(poll.tallies),
        voters_count=poll.voters_count, created_at=now, last_fetched_at=now)


# Seconds before a remote poll's counts may be read from its server again.
REMOTE_POLL_STALE_AFTER = 60


def poll_possibly_stale(poll: Poll, *, now: datetime | None = None) -> bool:
    """Whether a remote poll's counts may have changed on its server since they
    were read: they were last read before the poll ended (or it has no end) and
    over ``REMOTE_POLL_STALE_AFTER`` seconds ago (Mastodon's
    ``Poll#possibly_stale?``). Always False for a local poll, whose counts are
    the votes here."""
    if poll.status.account.is_local:
        return False
    now = now or timezone.now()
    read = poll.last_fetched_at
    if read is not None and poll.expires_at is not None and read >= poll.expires_at:
        return False
    return (now - (read or poll.created_at)).total_seconds() > REMOTE_POLL_STALE_AFTER


def poll_remote_refresh(*, account: Account, status: Status, poll: RemotePoll) -> Poll:
    """Replace the counts and end of the remote ``status``'s poll by what its
    author ``account``'s server now says (an ``Update`` of its ``Question``,
    which Mastodon sends as votes arrive; ActivityPub::ProcessStatusUpdateService)
    and return the poll. Local votes are kept; other options or another
    ``multiple`` drop them, as Mastodon does. A post stored without a poll gets
    it. Raises NotFound when ``account`` is not the remote author."""
    if status.account_id != account.pk or account.is_local or status.reblog_of_id:
        raise NotFound(_("Record not found"))
    with transaction.atomic():
        stored = Poll.objects.select_for_update().filter(status=status).first()
        if stored is None:
            stored = poll_remote_create_for(status=status, poll=poll, now=timezone.now())
            end_changed = True
        else:
            if list(poll.options) != stored.options or poll.multiple != stored.multiple:
                stored.votes.all().delete()
            end_changed = stored.expires_at != poll.expires_at
            stored.options = list(poll.options)
            stored.multiple = poll.multiple
            stored.tallies = list(poll.tallies)
            stored.votes_count = sum(poll.tallies)
            stored.voters_count = poll.voters_count
            stored.expires_at = poll.expires_at
            stored.last_fetched_at = timezone.now()
            stored.save(update_fields=["options", "multiple", "tallies", "votes_count",
                                       "voters_count", "expires_at", "last_fetched_at"])
        Status.objects.filter(pk=status.pk).update(version=new_version())
        publish(PollRefreshed(status_id=status.pk, end_changed=end_changed))
    return stored


def poll_expired(poll: Poll, now: datetime | None = None) -> bool:
    """Whether ``poll`` has ended (at ``now``, by default the present)."""
    return poll.expires_at is not None and poll.expires_at <= (now or timezone.now())


def poll_vote(*, account: Account, poll: Poll, choices: list, adding: bool = False) -> Poll:
    """Vote in ``poll`` as ``account`` for the option indexes ``choices`` (from 0)
    and return the poll with its new counts (Mastodon's ``POST
    /api/v1/polls/:id/votes``; a vote of another server's account arrives through
    the inbox, docs/adr/0036).

    One call per voter: a single-choice poll takes one index, a multiple-choice poll
    one or more distinct ones. With ``adding`` (the votes of a remote account,
    which Mastodon's VoteService sends one choice per activity), a voter may add
    choices it has not made yet to a multiple-choice poll. The counts of a local
    poll are recomputed from the votes under a lock of the poll row, so concurrent
    voters are all counted; a remote poll's counts are its server's, so the vote
    is added to them (as Mastodon does) until the server's next ``Update``
    replaces them. Publishes ``PollVoted``. Raises NotFound (404) when the poll's
    status is not visible to ``account``, ValidationFailed (422) for one's own
    poll, an ended poll, a second vote, no choice, an index that is not an option,
    several indexes in a single-choice poll, or a remote account voting in a
    remote poll (it votes on that poll's server), and Forbidden while a moderation
    decision restricts ``account``.
    """
    from tribune.statuses.services import ensure_can_act

    ensure_can_act(account)
    status = poll.status
    if not can_view(account, status):
        raise NotFound(_("Record not found"))
    indexes = _choices(choices)
    remote_poll = not status.account.is_local
    if remote_poll and not account.is_local:
        raise ValidationFailed(_("Validation failed: This poll is not on this server"))
    with transaction.atomic():
        locked = Poll.objects.select_for_update().filter(pk=poll.pk).first()
        if locked is None:
            raise NotFound(_("Record not found"))
        if status.account_id == account.pk:
            raise ValidationFailed(_("Validation failed: You cannot vote in your own polls"))
        if poll_expired(locked):
            raise ValidationFailed(_("Validation failed: The poll has already ended"))
        if any(i >= len(locked.options) for i in indexes):
            raise ValidationFailed(_("Validation failed: The chosen vote option does not exist"))
        if len(indexes) > 1 and not locked.multiple:
            raise ValidationFailed(_("Validation failed: This poll accepts only one choice"))
        made = set(PollVote.objects.filter(poll=locked, account=account)
                   .values_list("choice", flat=True))
        if made and not (adding and locked.multiple and not made & set(indexes)):
            raise ValidationFailed(_("Validation failed: You have already voted on this poll"))
        PollVote.objects.bulk_create([PollVote(poll=locked, account=account, choice=i)
                                      for i in indexes])
        if remote_poll:
            _add_votes(locked, indexes)
        else:
            _recount(locked)
        publish(PollVoted(poll_id=locked.pk, account_id=account.pk))
    return locked


def _add_votes(poll: Poll, indexes: list[int]) -> None:
    """Add one local voter's first ``indexes`` to a remote ``poll``'s counts and
    renew its status's version; inside the vote's transaction, with the row
    locked."""
    tallies = list(poll.tallies) + [0] * (len(poll.options) - len(poll.tallies))
    for index in indexes:
        tallies[index] += 1
    poll.tallies = tallies
    poll.votes_count += len(indexes)
    poll.voters_count += 1
    poll.save(update_fields=["tallies", "votes_count", "voters_count"])
    Status.objects.filter(pk=poll.status_id).update(version=new_version())


def _choices(choices) -> list[int]:
    """Distinct option indexes, in the order given; ValidationFailed otherwise."""
    if not isinstance(choices, list | tuple) or not choices:
        raise ValidationFailed(_("Validation failed: Choices can't be blank"))
    indexes: list[int] = []
    for choice in choices:
        try:
            index = int(str(choice).strip()) if not isinstance(choice, bool) else -1
        except (TypeError, ValueError):
            index = -1
        if index < 0:
            raise ValidationFailed(_("Validation failed: The chosen vote option does not exist"))
        if index not in indexes:
            indexes.append(index)
    return indexes


def _recount(poll: Poll) -> None:
    """Set ``poll``'s counts from its votes and renew its status's version; inside
    the vote's transaction, with the poll row locked."""
    tallies = [0] * len(poll.options)
    for row in PollVote.objects.filter(poll=poll).values("choice").annotate(n=Count("id")):
        if row["choice"] < len(tallies):
            tallies[row["choice"]] = row["n"]
    poll.tallies = tallies
    poll.votes_count = sum(tallies)
    poll.voters_count = (PollVote.objects.filter(poll=poll)
                         .values("account_id").distinct().count())
    poll.save(update_fields=["tallies", "votes_count", "voters_count"])
    Status.objects.filter(pk=poll.status_id).update(version=new_version())


def poll_end_claim(*, poll_id: int, now: datetime | None = None) -> tuple[Poll, list[int]] | None:
    """Mark the end of poll ``poll_id`` as notified and return the poll with the ids
    of its voters, or None when there is nothing to notify: the poll is gone, has
    not ended at ``now``, or was claimed before (so notices go out once however many
    times the end-of-poll task runs). Call inside the transaction that sends the
    notifications, so a failure leaves the poll unclaimed."""
    now = now or timezone.now()
    claimed = Poll.objects.filter(pk=poll_id, ended_notified_at__isnull=True,
                                  expires_at__lte=now).update(ended_notified_at=now)
    if not claimed:
        return None
    poll = Poll.objects.select_related("status").get(pk=poll_id)
    voters = sorted(set(PollVote.objects.filter(poll=poll).values_list("account_id", flat=True)))
    return poll, voters


def poll_get_visible(*, poll_id: int | str, viewer: Account | None) -> Poll:
    """The poll ``poll_id`` if ``viewer`` may see its status; NotFound otherwise."""
    from tribune.core.ids import parse_id

    try:
        poll = Poll.objects.select_related("status__account").get(pk=parse_id(poll_id))
    except (Poll.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None
    if not can_view(viewer, poll.status):
        raise NotFound(_("Record not found"))
    return poll


def own_votes(*, poll: Poll, viewer: Account | None) -> list[int] | None:
    """The option indexes ``viewer`` chose in ``poll`` (empty if none; None for no
    viewer)."""
    if viewer is None:
        return None
    return sorted(PollVote.objects.filter(poll=poll, account=viewer).values_list("choice", flat=True))
