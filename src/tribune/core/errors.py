"""Domain errors. Services raise these; each interface maps them to its own output
(the API to ``{"error": ...}`` with a status, the web UI to a form error, the CLI to
one line on stderr and a non-zero exit)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose. ``str(exc)`` is user-facing."""


class NotFound(DomainError):
    """The object does not exist or is not visible to the caller (API: 404)."""


class Forbidden(DomainError):
    """The caller may not do this (API: 403)."""


class ValidationFailed(DomainError):
    """The input breaks a rule (API: 422). The message names the rule, as Mastodon's
    ``Validation failed: Text can't be blank`` does."""


class Conflict(DomainError):
    """The request clashes with the current state, e.g. a taken username."""


class RateLimited(DomainError):
    """Too many requests (API: 429 ``{"error": "Too many requests"}``).

    ``limit`` is the budget of the window that was spent and ``reset`` the Unix
    time (seconds) at which it ends, so an interface can say when to try again
    (``Retry-After``, ``X-RateLimit-*``); both are None when unknown.
    """

    def __init__(self, message: str = "Too many requests", *, limit: int | None = None,
                 reset: int | None = None):
        super().__init__(message)
        self.limit = limit
        self.reset = reset


class Unavailable(DomainError):
    """A service Tribune depends on (the media storage, say) cannot be reached just
    now; trying again later may work (API: 503)."""


class Overloaded(Unavailable):
    """This process is at capacity for an expensive kind of work (password hashing,
    ``core.capacity``) and refuses more at once rather than queueing it (API: 503
    with ``Retry-After``). ``retry_after`` is the suggested wait in seconds."""

    retry_after = 1
