"""Domain events and their publication.

Services publish a frozen dataclass after they write (``publish(StatusCreated(...))``).
Publication registers an on-commit callback that enqueues one background task; the
task hands the event to ``tribune.effects``, the one place that says "after X
happened, do Y". Nothing is enqueued if the transaction rolls back.

``core`` imports nothing of Tribune's, so the task that runs events is registered at
start-up by the effects app (:func:`set_dispatcher`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from django.db import transaction

_EVENTS: dict[str, type[Event]] = {}
_dispatcher: Callable[[str, dict[str, Any]], None] | None = None


@dataclasses.dataclass(frozen=True)
class Event:
    """Base class of domain events: a name and JSON-safe fields (ids, strings)."""

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _EVENTS[cls.__name__] = cls

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def load(name: str, payload: dict[str, Any]) -> Event:
        """Rebuild an event from its class name and payload; KeyError if unknown."""
        return _EVENTS[name](**payload)


def set_dispatcher(dispatcher: Callable[[str, dict[str, Any]], None]) -> None:
    """Install the function that receives ``(event_name, payload)`` after commit."""
    global _dispatcher
    _dispatcher = dispatcher


def publish(event: Event) -> None:
    """Hand ``event`` to the dispatcher once the current transaction commits."""
    name, payload = type(event).__name__, event.payload()

    def send() -> None:
        if _dispatcher is not None:
            _dispatcher(name, payload)

    transaction.on_commit(send, robust=False)


# --- the events -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StatusCreated(Event):
    status_id: int


@dataclasses.dataclass(frozen=True)
class StatusImported(Event):
    """An earlier post brought back from an archive: no fan-out, no notifications."""

    status_id: int


@dataclasses.dataclass(frozen=True)
class StatusUpdated(Event):
    status_id: int


@dataclasses.dataclass(frozen=True)
class PollVoted(Event):
    """``account_id`` voted in poll ``poll_id`` (one call of ``poll_vote``)."""

    poll_id: int
    account_id: int


@dataclasses.dataclass(frozen=True)
class PollRefreshed(Event):
    """The counts of the remote poll of ``status_id`` were replaced by what its
    server sent; ``end_changed`` when its end moved (to be scheduled again)."""

    status_id: int
    end_changed: bool


@dataclasses.dataclass(frozen=True)
class StatusDeleted(Event):
    """``account_id``'s status ``status_id`` is gone; ``reblog_of_id`` is the original
    when it was a reblog (None in payloads queued before the field existed);
    ``local_only`` when it was never sent to other servers. ``reblog_of_uri`` is
    the original's ActivityPub id when the reblog went with its original (which
    can no longer be read then), else ``""``."""

    status_id: int
    account_id: int
    reblog_of_id: int | None = None
    local_only: bool = False
    reblog_of_uri: str = ""


@dataclasses.dataclass(frozen=True)
class Favourited(Event):
    favourite_id: int


@dataclasses.dataclass(frozen=True)
class FavouriteRemoved(Event):
    """``account_id`` no longer favourites ``status_id``."""

    account_id: int
    status_id: int


@dataclasses.dataclass(frozen=True)
class Followed(Event):
    follow_id: int
    from_request: bool = False  # an accepted follow request, already notified


@dataclasses.dataclass(frozen=True)
class FollowRequested(Event):
    follow_request_id: int


@dataclasses.dataclass(frozen=True)
class FollowRequestWithdrawn(Event):
    """``account_id``'s pending request to follow ``target_id`` was withdrawn: by an
    unfollow, or by a block either way."""

    account_id: int
    target_id: int


@dataclasses.dataclass(frozen=True)
class Unfollowed(Event):
    follower_id: int
    target_id: int


@dataclasses.dataclass(frozen=True)
class Blocked(Event):
    account_id: int
    target_id: int


@dataclasses.dataclass(frozen=True)
class FiltersChanged(Event):
    """One of ``account_id``'s filters, or its keywords or statuses, changed (what
    Mastodon's streaming announces as ``filters_changed``)."""

    account_id: int


@dataclasses.dataclass(frozen=True)
class Unblocked(Event):
    """``account_id`` no longer blocks ``target_id``."""

    account_id: int
    target_id: int


@dataclasses.dataclass(frozen=True)
class ProfileUpdated(Event):
    """What another server shows of the local ``account_id`` changed (name, bio,
    pictures, locked, discoverable, aliases...)."""

    account_id: int


@dataclasses.dataclass(frozen=True)
class AccountMoved(Event):
    """``account_id`` (local or remote) moved to the account whose ActivityPub id
    is ``target_uri``: its followers here follow the new account, and a local
    account's move is told to its remote followers' servers (docs/adr/0030)."""

    account_id: int
    target_uri: str


@dataclasses.dataclass(frozen=True)
class EmailConfirmationRequested(Event):
    """Login ``user_id`` is to confirm ``email``: its own address after signing up,
    or a new one it asked for (``change``: the old address also gets a notice).
    ``language`` is the interface language of the request, for the mail."""

    user_id: int
    email: str
    language: str = ""
    change: bool = False


@dataclasses.dataclass(frozen=True)
class PasswordResetRequested(Event):
    """Someone asked for a password-reset link for login ``user_id``."""

    user_id: int
    language: str = ""


@dataclasses.dataclass(frozen=True)
class DomainBlocked(Event):
    """The operator set or changed the policy for ``domain`` to ``severity``."""

    domain: str
    severity: str


@dataclasses.dataclass(frozen=True)
class ReportForwarded(Event):
    """The report ``report_id`` about a remote account is to be sent to its server."""

    report_id: int


@dataclasses.dataclass(frozen=True)
class FollowRejected(Event):
    """``account_id`` turned down ``follower_id``'s follow: a request rejected, or
    a follower removed (Mastodon answers both with a ``Reject``)."""

    account_id: int
    follower_id: int
