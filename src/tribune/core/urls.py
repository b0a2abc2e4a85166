"""Absolute URLs of the instance (``https://DOMAIN/...``, or ``http://`` for loopback
domains and debug mode; see the README)."""

from __future__ import annotations

from django.conf import settings


def absolute(path: str) -> str:
    """``path`` (starting with ``/``) as an absolute URL on this instance."""
    return settings.TRIBUNE_BASE_URL + path
