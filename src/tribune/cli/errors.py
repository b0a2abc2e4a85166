"""Errors of the command line, and how any error is told in one line."""

from __future__ import annotations


class CliError(Exception):
    """A failure the command explains itself; ``str(exc)`` is the whole message."""


def explained(exc: BaseException) -> bool:
    """Whether ``exc`` is a refusal that says all there is to say (a CliError, a
    domain rule, a management command's or a configuration's error): told in one
    line even with ``TRIBUNE_DEBUG=1``, which shows the traceback of others."""
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management.base import CommandError

    from tribune.core.errors import DomainError

    return isinstance(exc, CliError | DomainError | CommandError | ImproperlyConfigured)


def describe(exc: BaseException) -> str:
    """``exc`` as one readable line (no traceback)."""
    from django.db import DatabaseError

    message = " ".join(str(exc).split())
    if explained(exc):
        return message or type(exc).__name__
    if isinstance(exc, DatabaseError) and "no such table" in message:
        return f"the database is not set up ({message}); run `tribune migrate` first"
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
