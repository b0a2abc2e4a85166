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


def poll_expired(poll: Poll, now: datetime | None = None) -> bool:
    """Whether ``poll`` has ended (at ``now``, by default the present)."""
    return poll.expires_at is not None and poll.expires_at <= (now or timezone.now())


def poll_vote(*, account: Account, poll: Poll, choices: list) -> Poll:
    """Vote in ``poll`` as ``account`` for the option indexes ``choices`` (from 0)
    and return the poll with its new counts (Mastodon's ``POST
    /api/v1/polls/:id/votes``).

    One call per voter: a single-choice poll takes one index, a multiple-choice poll
    one or more distinct ones. The counts are recomputed from the votes under a lock
    of the poll row, so concurrent voters are all counted. Raises NotFound (404)
    when the poll's status is not visible to ``account``, ValidationFailed (422)
    for one's own poll, an ended poll, a second vote, no choice, an index that is
    not an option or several indexes in a single-choice poll, and Forbidden while a
    moderation decision restricts ``account``.
    """
    from tribune.statuses.services import ensure_can_act

    ensure_can_act(account)
    status = poll.status
    if not can_view(account, status):
        raise NotFound(_("Record not found"))
    indexes = _choices(choices)
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
        if PollVote.objects.filter(poll=locked, account=account).exists():
            raise ValidationFailed(_("Validation failed: You have already voted on this poll"))
        PollVote.objects.bulk_create([PollVote(poll=locked, account=account, choice=i)
                                      for i in indexes])
        _recount(locked)
    return locked


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
