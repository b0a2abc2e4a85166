"""User-facing OAuth texts: error descriptions and what each scope allows.

The error descriptions are Doorkeeper's, which Mastodon returns; oauthlib leaves
most of its errors without one.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ERROR_DESCRIPTIONS: dict[str, Promise] = {
    "invalid_request": _(
        "The request is missing a required parameter, includes an unsupported "
        "parameter value, or is otherwise malformed."
    ),
    "invalid_client": _(
        "Client authentication failed due to unknown client, no client "
        "authentication included, or unsupported authentication method."
    ),
    "invalid_grant": _(
        "The provided authorization grant is invalid, expired, revoked, does not "
        "match the redirection URI used in the authorization request, or was issued "
        "to another client."
    ),
    "unauthorized_client": _(
        "The client is not authorized to perform this request using this method."
    ),
    "unsupported_grant_type": _(
        "The authorization grant type is not supported by the authorization server."
    ),
    "invalid_scope": _("The requested scope is invalid, unknown, or malformed."),
    "access_denied": _(
        "The resource owner or authorization server denied the request."
    ),
    "unsupported_response_type": _(
        "The authorization server does not support this response type."
    ),
    "unsupported_token_type": _(
        "The authorization server does not support the revocation of the presented "
        "token type."
    ),
    "server_error": _(
        "The authorization server encountered an unexpected condition which "
        "prevented it from fulfilling the request."
    ),
    "temporarily_unavailable": _(
        "The authorization server is currently unable to handle the request due to "
        "a temporary overloading or maintenance of the server."
    ),
}

SCOPE_DESCRIPTIONS: dict[str, Promise] = {
    "read": _("Read all your account's data"),
    "write": _("Modify all your account's data"),
    "follow": _("Modify account relationships"),
    "push": _("Receive your push notifications"),
    "profile": _("Read only your account's profile information"),
    "admin:read": _("Read all data on the server"),
    "admin:write": _("Modify all data on the server"),
}


def error_description(error: str, description: str | None = None) -> str:
    """``description`` if there is one, else the standard text for ``error``."""
    return description or str(
        ERROR_DESCRIPTIONS.get(error, ERROR_DESCRIPTIONS["invalid_request"])
    )


def scope_description(scope: str) -> str:
    """What a top-level scope allows, in words; "" for a granular one
    (``read:statuses``), which the consent page shows by its name alone."""
    return str(SCOPE_DESCRIPTIONS.get(scope, ""))
