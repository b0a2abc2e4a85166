"""Mastodon's OAuth scopes (docs: api/oauth-scopes.md).

Scopes are hierarchical: ``read`` grants every ``read:*``; the deprecated ``follow``
grants the follow/block/mute read and write scopes; ``profile`` grants only
verify_credentials.
"""

from __future__ import annotations

READ = ["accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists",
        "mutes", "notifications", "search", "statuses"]
WRITE = ["accounts", "blocks", "bookmarks", "conversations", "favourites", "filters",
         "follows", "lists", "media", "mutes", "notifications", "reports", "statuses"]
ADMIN = ["accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks",
         "email_domain_blocks", "canonical_email_blocks"]

ALL: list[str] = (
    ["read", "write", "follow", "push", "profile", "admin:read", "admin:write"]
    + [f"read:{s}" for s in READ]
    + [f"write:{s}" for s in WRITE]
    + [f"admin:read:{s}" for s in ADMIN]
    + [f"admin:write:{s}" for s in ADMIN]
)

_FOLLOW_GRANTS = {"read:follows", "write:follows", "read:blocks", "write:blocks",
                  "read:mutes", "write:mutes"}


def grants(token_scopes: set[str], required: str) -> bool:
    """Whether a token holding ``token_scopes`` may use an endpoint needing ``required``.

    ``required`` is one scope such as ``read:statuses`` or ``write:follows``.
    """
    if required in token_scopes:
        return True
    parts = required.split(":")
    # read:statuses is granted by read; admin:read:accounts by admin:read.
    for depth in range(1, len(parts)):
        if ":".join(parts[:depth]) in token_scopes:
            return True
    if required in _FOLLOW_GRANTS and "follow" in token_scopes:
        return True
    return required == "profile" and False


def parse(scope_string: str | None, default: str = "read") -> list[str]:
    """Space- or plus-separated scopes as a de-duplicated list; unknown ones kept so
    the caller can reject them."""
    raw = (scope_string or default).replace("+", " ").split()
    return list(dict.fromkeys(raw))
