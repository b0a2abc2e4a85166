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
    """Too many requests (API: 429)."""


class Unavailable(DomainError):
    """A service Tribune depends on (the media storage, say) cannot be reached just
    now; trying again later may work (API: 503)."""
